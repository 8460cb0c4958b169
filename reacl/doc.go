// Package reacl reads, writes and translates Windows security descriptors:
// SIDs (MS-DTYP 2.4.2), the self-relative binary SECURITY_DESCRIPTOR
// (2.4.6, what GetNamedSecurityInfo returns and what AD keeps in
// nTSecurityDescriptor) and SDDL (2.5.1). It is the core of ReACL: after a
// device moves to the target domain, the same people must keep the same
// access through their target-domain SIDs.
//
// The package is pure: no I/O, no logging, no imports from adshift but
// the leaf package adid (SIDs and GUIDs). The
// device agent reads descriptors through the platform API, hands the bytes
// here, and writes back what it gets.
//
// # Pieces
//
//   - SID and GUID: package adid's comparable values (usable as map keys);
//     adid owns their string and binary forms (adid.ParseSID, String,
//     adid.DecodeSID, AppendBinary, adid.ParseGUID). Here: well-known SIDs
//     and the 66 SDDL aliases, domain-relative ones (DA, DU, EA, LA, …)
//     resolved against a Domain (ParseSIDAlias, Domain.Alias).
//   - Descriptor, ACL, ACE: ParseBinary / AppendBinary (self-relative,
//     canonical layout), ParseSDDL / Descriptor.SDDL (canonical text).
//     Every ACE type of MS-DTYP is read; unknown types and callback data
//     are carried intact. Conditional expressions (XA, XD, ZA, XU) compile
//     to and from their binary token form; resource attribute claims (RA)
//     to and from CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1.
//   - Translator: the ADMT modes add, replace and remove over a Map of
//     source to target SIDs (objectSid and sIDHistory of matched users and
//     groups), for owner, group, DACL, SACL and the SIDs inside conditional
//     expressions, keeping ACE order; a Report of what changed and which
//     source-domain SIDs had no mapping; Rollback restores the original
//     bytes exactly from a Record.
//
// # Conformance
//
// The tests compare this package with Samba's own implementation
// (python3-samba 4.17: security.descriptor.from_sddl, ndr_pack, ndr_unpack,
// as_sddl) through one python3 process fed JSON lines: 3,000 random
// descriptors (seeded, REACL_SEED), all 676 two-letter alias candidates,
// Windows defaults written down from their well-known form (C:\Users\<name>,
// C:\Windows, registry hives, services, printers, shares, an AD user
// object; no Windows host is reachable here to capture them), the default nTSecurityDescriptor
// values Samba writes when provisioning a DC (samba.descriptor), and, when
// the lab is up, every nTSecurityDescriptor of both lab DCs (25,483 values
// when last run, 50 of them distinct: seeded objects share their class's
// default descriptor, so each distinct value is checked once), on which the translation modes are also checked against
// each other: add is idempotent, remove after add equals replace, and the
// reversed map undoes both. Our binary equals Samba's byte for byte and our
// SDDL parses to the descriptor Samba parses, except where Samba 4.17 and
// MS-DTYP disagree; there we follow the spec (TestSambaDisagreements):
//
//   - Samba's from_sddl gives every ACL revision 4; Windows and the spec
//     use 2 unless the ACL holds an object ACE.
//   - Samba reads FA as 0x1ff; the spec says FILE_ALL_ACCESS, 0x1f01ff.
//   - Samba reads decimal, octal and "0X" rights as 0, and silently
//     accepts (and drops) numeric ACE flags, which the spec has none of.
//   - Samba 4.17 does not parse ML, XA, XD, ZA, XU, RA or SP ACEs, the
//     NR/NW/NX and KA/KR/KW/KX rights, the CR ACE flag, NO_ACCESS_CONTROL,
//     hex identifier authorities, or ACL flags directly followed by the
//     next component ("D:PS:…").
//   - Samba's NDR drops the application data of callback ACEs (their
//     conditional expression); its as_sddl crashes on an ML ACE.
//   - Samba accepts a descriptor without SE_SELF_RELATIVE; we refuse it.
//
// Conditional expressions and claims could not be checked against Samba
// 4.17; their tests assemble the expected tokens from MS-DTYP 2.4.4.17 by
// hand. The claim byte layout we write is our own canonical one (NDR-style
// alignment); any layout is read.
//
// # Robustness
//
// Parsers never panic and never allocate more than a small multiple of
// their input: every offset, count and length is checked against the bytes
// present before use (an ACL claiming 65,535 ACEs in 20 bytes is refused
// before anything is allocated), and nesting in conditional expressions is
// bounded. FuzzParseBinary and FuzzParseSDDL check that whatever parses
// re-encodes to a fixed point and formats to SDDL that parses back to the
// same descriptor; their corpus is kept in testdata/fuzz.
//
// Fuzzing (one worker, -parallel 1, on the shared 2-core CI machine):
//
//   - FuzzParseBinary: 20 min (6.9 M executions) and 10 min (4.9 M) during
//     development, then 26.5 min (15.5 M) on the final code, no failure.
//     (One final-code run ended after 6.5 min when its worker exited with
//     status 2 and no panic message, as a Go process does on SIGINT; the
//     input it kept passes on every re-run and stays in the corpus.) It
//     found one bug: a resource attribute claim of an unknown value type
//     with no values was formatted as "T\x00" and could not be read back;
//     claims of unknown type are now refused.
//   - FuzzParseSDDL: 40 min (29.4 M executions) on the final code, no
//     failure. Earlier runs found two bugs within seconds: ParseGUID
//     indexed past the end of a 36-character string with a dash out of
//     place (a panic), and a conditional expression whose last UTF-16 unit
//     ends in a zero byte lost that byte to padding (padding is now
//     recognised at a token boundary instead of by stripping zeros).
//   - Review, not fuzzing, found that formatting a chain of thousands of
//     operators was quadratic and that claim value offsets could all point
//     at one long string; TestConditionHostileSize pins both down.
//
// The 1,469 inputs the fuzzers kept are in testdata/fuzz and run with every
// go test.
//
// # Performance
//
// A Translator reuses its buffers: translating a typical file descriptor
// (8 ACEs, 3 mapped, binary in and out) allocates nothing and takes about
// 2 µs of CPU (see BENCHMARKS.md, section "reacl").
package reacl
