package estate

import (
	"encoding/binary"

	"github.com/adshift/adshift/adid"
)

// newGUID builds a version-4 (random) GUID from two random words, which
// become its string digits read left to right.
func newGUID(hi, lo uint64) adid.GUID {
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], hi)
	binary.BigEndian.PutUint64(u[8:], lo)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return adid.GUIDFromUUID(u)
}

// DomainSID returns S-1-5-21-a-b-c, the SID of a domain.
func DomainSID(a, b, c uint32) adid.SID {
	s, _ := adid.NewSID(5, 21, a, b, c) // 4 sub-authorities: cannot fail
	return s
}

// accountSID returns the SID of the account with relative ID rid in the
// domain d (a DomainSID).
func accountSID(d adid.SID, rid uint32) adid.SID {
	s, _ := d.Child(rid) // a domain SID has room for a RID
	return s
}

// sidBytes returns the binary form of s, as objectSid holds it.
func sidBytes(s adid.SID) []byte {
	b, _ := s.MarshalBinary() // never fails
	return b
}
