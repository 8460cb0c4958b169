"""SID oracle for package adid: Samba's own dom_sid (python3-samba).

Reads one JSON object from stdin:
  {"strings": [S, ...], "binary": [H, ...]}
and writes one JSON object to stdout:
  {"strings": [{"str": str(dom_sid(S)), "hex": ndr_pack(...).hex()} or {"err": E}, ...],
   "binary":  [{"str": str(ndr_unpack(dom_sid, H))} or {"err": E}, ...]}
"""
import json
import sys

from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack


def from_string(s):
    try:
        sid = security.dom_sid(s)
        return {"str": str(sid), "hex": ndr_pack(sid).hex()}
    except Exception as e:  # Samba raises TypeError or ValueError
        return {"err": "%s: %s" % (type(e).__name__, e)}


def from_binary(h):
    try:
        return {"str": str(ndr_unpack(security.dom_sid, bytes.fromhex(h)))}
    except Exception as e:
        return {"err": "%s: %s" % (type(e).__name__, e)}


req = json.load(sys.stdin)
json.dump({"strings": [from_string(s) for s in req["strings"]],
           "binary": [from_binary(h) for h in req["binary"]]}, sys.stdout)
