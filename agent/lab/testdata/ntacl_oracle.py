# Samba's own xattr_NTACL codec (python3-samba), answering JSON lines for
# ntacl_test.go:
#   {"op": "pack", "sd": HEX, "version": 1-4, "desc": STR, "hash": HEX, "sys": HEX, "time": INT}
#       -> {"blob": HEX}
#   {"op": "unpack", "blob": HEX} -> {"version": INT, "sd": HEX}   (sd packed alone)
#   {"op": "read", "path": PATH}  -> the same for the file's security.NTACL xattr
import json
import os
import sys

from samba.dcerpc import security, xattr
from samba.ndr import ndr_pack, ndr_unpack

for line in sys.stdin:
    req = json.loads(line)
    try:
        if req["op"] == "pack":
            sd = ndr_unpack(security.descriptor, bytes.fromhex(req["sd"]))
            v = req["version"]
            n = xattr.NTACL()
            n.version = v
            if v == 1:
                n.info = sd
            else:
                h = {2: xattr.security_descriptor_hash_v2, 3: xattr.security_descriptor_hash_v3,
                     4: xattr.security_descriptor_hash_v4}[v]()
                h.sd = sd
                size = 16 if v == 2 else 64
                h.hash = list(bytes.fromhex(req.get("hash", ""))[:size].ljust(size, b"\0"))
                if v >= 3:
                    h.hash_type = 1
                if v == 4:
                    h.description = req.get("desc", "")
                    h.time = req.get("time", 0)
                    h.sys_acl_hash = list(bytes.fromhex(req.get("sys", "")).ljust(64, b"\0"))
                n.info = h
            resp = {"blob": ndr_pack(n).hex()}
        else:
            if req["op"] == "read":
                blob = os.getxattr(req["path"], xattr.XATTR_NTACL_NAME, follow_symlinks=False)
            else:
                blob = bytes.fromhex(req["blob"])
            n = ndr_unpack(xattr.NTACL, blob)
            sd = n.info if n.version == 1 else n.info.sd
            resp = {"version": n.version, "sd": ndr_pack(sd).hex()}
    except Exception as e:  # reported, the test decides
        resp = {"err": str(e)}
    sys.stdout.write(json.dumps(resp) + "\n")
    sys.stdout.flush()
