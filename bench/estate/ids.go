package estate

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// GUID is an objectGUID held in the byte order of its canonical string
// ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" read left to right).
type GUID [16]byte

// String returns the canonical lower-case form, as AD tools show it.
func (g GUID) String() string {
	const hexdigits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range g {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexdigits[c>>4], hexdigits[c&0xf]
		j += 2
	}
	return string(b[:])
}

// Wire returns the 16 bytes as AD stores and exports objectGUID: the first
// three groups little-endian (Microsoft GUID layout), the last two as read.
func (g GUID) Wire() []byte {
	w := make([]byte, 16)
	w[0], w[1], w[2], w[3] = g[3], g[2], g[1], g[0]
	w[4], w[5] = g[5], g[4]
	w[6], w[7] = g[7], g[6]
	copy(w[8:], g[8:])
	return w
}

// newGUID builds a version-4 (random) GUID from two random words.
func newGUID(hi, lo uint64) GUID {
	var g GUID
	binary.BigEndian.PutUint64(g[:8], hi)
	binary.BigEndian.PutUint64(g[8:], lo)
	g[6] = g[6]&0x0f | 0x40 // version 4
	g[8] = g[8]&0x3f | 0x80 // RFC 4122 variant
	return g
}

// SID is a security identifier: revision 1, an identifier authority and
// sub-authorities, e.g. S-1-5-21-a-b-c-RID.
type SID struct {
	Authority uint64 // 48 bits
	Sub       []uint32
}

// DomainSID returns S-1-5-21-a-b-c, the SID of a domain.
func DomainSID(a, b, c uint32) SID {
	return SID{Authority: 5, Sub: []uint32{21, a, b, c}}
}

// WithRID returns the SID of the account with relative ID rid in the
// domain s.
func (s SID) WithRID(rid uint32) SID {
	sub := make([]uint32, len(s.Sub), len(s.Sub)+1)
	copy(sub, s.Sub)
	return SID{Authority: s.Authority, Sub: append(sub, rid)}
}

// String returns the "S-1-5-21-…" form.
func (s SID) String() string {
	var b strings.Builder
	b.WriteString("S-1-")
	b.WriteString(strconv.FormatUint(s.Authority, 10))
	for _, x := range s.Sub {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	}
	return b.String()
}

// Binary returns the MS-DTYP 2.4.2.2 binary form: revision (1), the
// sub-authority count, the 48-bit authority big-endian, then each
// sub-authority as a little-endian uint32.
func (s SID) Binary() []byte {
	b := make([]byte, 8+4*len(s.Sub))
	b[0] = 1
	b[1] = byte(len(s.Sub))
	for i := range 6 {
		b[2+i] = byte(s.Authority >> (8 * (5 - i)))
	}
	for i, x := range s.Sub {
		binary.LittleEndian.PutUint32(b[8+4*i:], x)
	}
	return b
}
