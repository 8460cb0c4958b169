"""Conformance oracle for reacl: Samba's own security descriptor code.

Reads JSON lines on stdin, answers one JSON line per request on stdout:
  {"op": "sddl", "sddl": S}  -> from_sddl(S, domain) packed with ndr_pack
  {"op": "bin", "hex": H}    -> ndr_unpack(security.descriptor, H), re-packed
                                (with "nosddl": "1", no as_sddl)
  {"op": "defaults"}         -> Samba's default nTSecurityDescriptor values
Each answer carries "hex" (ndr_pack output) and "sddl" (as_sddl(domain)),
or "err". argv[1] is the domain SID.
"""
import json
import sys

from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
import samba.descriptor as sdmod

dom = security.dom_sid(sys.argv[1])


def answer(sd, sddl=True):
    # as_sddl is optional: Samba 4.17 segfaults formatting an ML ACE.
    a = {"hex": ndr_pack(sd).hex()}
    if sddl:
        a["sddl"] = sd.as_sddl(dom)
    return a


def defaults():
    out = []
    for name in sorted(dir(sdmod)):
        if not (name.startswith("get_") and name.endswith("_descriptor")):
            continue
        fn = getattr(sdmod, name)
        try:
            b = fn(dom)
        except TypeError:
            continue
        if isinstance(b, str):
            sd = security.descriptor.from_sddl(b, dom)
        else:
            sd = ndr_unpack(security.descriptor, b)
        a = answer(sd)
        a["name"] = name
        out.append(a)
    return {"defaults": out}


for line in sys.stdin:
    req = json.loads(line)
    try:
        op = req["op"]
        if op == "sddl":
            res = answer(security.descriptor.from_sddl(req["sddl"], dom))
        elif op == "bin":
            res = answer(ndr_unpack(security.descriptor, bytes.fromhex(req["hex"])),
                         sddl=not req.get("nosddl"))
        elif op == "defaults":
            res = defaults()
        else:
            res = {"err": "unknown op " + op}
    except Exception as e:  # Samba raises plain tuples wrapped in RuntimeError/ValueError
        res = {"err": str(e)}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
