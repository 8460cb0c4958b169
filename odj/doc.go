// Package odj reads and writes offline domain join (ODJ) provisioning
// blobs: what `djoin.exe /provision /savefile` and Samba's `net offlinejoin
// provision savefile=` write, and what `djoin /requestodj` and `net
// offlinejoin requestodj` apply on a device that cannot see a domain
// controller. adshift provisions the computer account over LDAPS and builds
// the blob here, so no Windows host, RPC or Samba is needed.
//
// The package is pure: no I/O, no logging, no imports from adshift other
// than adid, the project's one SID and GUID codec (adid.SID, adid.GUID).
// The ad provider gathers the facts and writes the file.
//
// # Format
//
// ProvisionData is ODJ_PROVISION_DATA of Microsoft's ODJ IDL, marshalled
// in NDR (little-endian, NDR32) inside a type serialization version 1
// header (MS-RPCE 2.2.6), as a unique pointer — the form Samba's ndrdump
// names ODJ_PROVISION_DATA_serialized_ptr. Each ODJ_BLOB's bytes are again
// a serialization: an ODJ_WIN7BLOB (Win7Blob: domain, machine name and
// password, DNS domain info with NetBIOS, DNS and forest names, GUID and
// SID; DC info with UNC name, address, flags and sites; options) or an
// OP_PACKAGE (Package: a part collection whose join provider part holds the
// same ODJ_WIN7BLOB and whose join provider 3 part holds the account's RID
// and SID). Parts of other types, blobs of other formats, extensions and
// encrypted part collections are carried intact, byte for byte. New builds
// exactly the layout Samba 4.17 and Windows Server 2019 write.
//
// The file (EncodeFile, DecodeFile) is a UTF-16LE byte order mark, the
// base64 of the NDR as UTF-16LE text and a terminating zero unit — Samba's
// files are byte for byte that.
//
// The machine password is a Secret: it formats, marshals and prints as
// "(sensitive)" everywhere; only Secret.UTF16LE and Secret.Units give it
// out.
//
// # Conformance
//
// Tests check the package against Samba's own ODJ code: a blob Samba wrote
// (testdata/samba-4.17.odj) decodes field by field and re-encodes to the
// same bytes, New given its facts writes those bytes exactly, and Samba's
// ndrdump parses every blob variant adshift writes with nothing left over
// and shows the values written. With the lab up, the ad provider's tests
// go further: blobs from `net offlinejoin provision` against the target DC
// decode to what the DC holds, and blobs adshift provisions are applied by
// `net offlinejoin requestodj` and pass `net ads testjoin`.
//
// Deliberate limits: only little-endian serializations are read (Windows
// and Samba write no other); an empty but non-null string decodes as ""
// and is written back as a null pointer; an LSA string's maximum length is
// written as its length plus the terminator.
//
// # Robustness
//
// Decode never panics and allocates at most a small multiple of its input:
// every count and length is checked against the bytes present before
// anything is made from it (a blob count of 2^30 in 2 KiB is refused before
// allocation), inputs over MaxSize are refused, and the type structure is
// not recursive, so nesting is bounded. Referent IDs are never followed —
// a unique pointer's referent is the next deferred data — so pointer loops
// cannot be expressed. FuzzDecode and FuzzReadFile check that whatever
// decodes re-encodes to a fixed point; their kept corpus is in
// testdata/fuzz and runs with every go test (how long they ran: BENCHMARKS.md).
package odj
