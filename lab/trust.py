#!/usr/bin/python3
"""trust.py SMBCONF add|remove PARTNER FLATNAME [DIRECTION] — a trustedDomain object in a local DC database.

Samba refuses to create LSA objects over LDAP ("LSA objectclasses cannot be
created or changed over LDAP"), and `samba-tool domain trust create`
between the two loopback lab DCs fails (see the team's notes). What adshift
reads of a trust is the trustedDomain object under CN=System of the trusting
domain, so the lab writes that object through Samba's own module stack,
as the system. No keys are set: the trust does not authenticate anything;
it is there for discovery. DIRECTION is trustDirection: 1 inbound,
2 outbound (the default: this domain trusts PARTNER), 3 both.
"""
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

conf, op, partner, flat = sys.argv[1:5]
direction = sys.argv[5] if len(sys.argv) > 5 else "2"
lp = LoadParm()
lp.load(conf)
db = SamDB(url=lp.samdb_url(), lp=lp, session_info=system_session())
dn = ldb.Dn(db, "CN=%s,CN=System,%s" % (partner, db.domain_dn()))
exists = len(db.search(base=dn.parent(), scope=ldb.SCOPE_ONELEVEL, expression="(cn=%s)" % ldb.binary_encode(partner), attrs=["1.1"])) == 1
if op == "add":
    if exists:
        db.delete(dn)
    db.add({
        "dn": dn,
        "objectClass": "trustedDomain",
        "trustPartner": partner,
        "flatName": flat,
        "trustDirection": direction,
        "trustType": "2",
        "trustAttributes": "4",
    })
elif op == "remove":
    if exists:
        db.delete(dn)
else:
    sys.exit("usage: trust.py SMBCONF add|remove PARTNER FLATNAME [DIRECTION]")
