package reacl

import "github.com/adshift/adshift/adid"

// SID is a Windows security identifier (MS-DTYP 2.4.2). Package adid owns
// its string and binary forms (adid.ParseSID, adid.DecodeSID, String,
// AppendBinary); reacl only adds the SDDL aliases (ParseSIDAlias,
// Domain.Alias).
type SID = adid.SID

// GUID is a GUID in wire byte order (MS-DTYP 2.3.4.2), as object ACEs
// carry object types; package adid owns its forms (adid.ParseGUID, String).
type GUID = adid.GUID

// appendSID appends the binary form of s to b.
func appendSID(b []byte, s SID) []byte {
	b, _ = s.AppendBinary(b) // never fails
	return b
}
