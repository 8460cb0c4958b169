// Package adid is the one codec for the identifiers Windows and Active
// Directory give objects: security identifiers (SID, MS-DTYP 2.4.2) and
// GUIDs (MS-DTYP 2.3.4), in their string and binary forms. Every package
// that reads or writes objectSid, sIDHistory, objectGUID or the SIDs and
// GUIDs inside a security descriptor goes through it.
//
// The package is pure and a leaf: no I/O, no imports beyond the standard
// library, so that providers, the security-descriptor engine (reacl) and
// the benchmark estate can all import it.
//
// # SIDs
//
// SID is a small comparable value. ParseSID reads the string form
// "S-1-5-21-…" (MS-DTYP 2.4.2.1): the identifier authority in decimal or,
// with "0x", in hexadecimal, whatever its size. String writes it as
// MS-DTYP and Windows do: decimal below 2^32, else "0x" and twelve
// lower-case hex digits ("S-1-0x010000000000-21"). DecodeSID and
// SID.AppendBinary are the binary form (2.4.2.2): revision, sub-authority
// count, the 48-bit authority big-endian, then each sub-authority as a
// little-endian uint32.
//
// Both parsers follow MS-DTYP where Samba is more lenient: the revision
// must be 1 (Samba accepts any byte, Windows' IsValidSid does not), at most
// 15 sub-authorities, and decimal numbers without leading zeros (Samba
// reads an authority "010" as octal). Nothing panics on input
// (FuzzParseSID, FuzzDecodeSID). TestSamba compares both forms with
// python3-samba's security.dom_sid (4.17): 440 strings and 420 binary SIDs
// (a table and seeded random ones, many with authorities near and above
// 2^32) agree on every binary form; Samba writes authorities from 2^32-1
// up in short hex ("S-1-0x10000000000-21"), which ParseSID reads.
//
// # GUIDs
//
// GUID holds the 16 bytes in wire order, as AD stores objectGUID and as
// security descriptors carry object types: Data1, Data2 and Data3
// little-endian. String writes the lower-case form AD tools show
// ("bf967aba-0de6-11d0-a285-00aa003049e2"); ParseGUID reads it in either
// case. GUIDFromUUID and GUID.UUID convert from and to RFC 4122 byte order
// (the string's digits read left to right), which google/uuid uses.
package adid
