package reacl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// MaxSubAuthorities is the largest SubAuthorityCount MS-DTYP 2.4.2 allows.
const MaxSubAuthorities = 15

// ErrInvalidSID reports a SID string or binary SID that does not follow
// MS-DTYP 2.4.2.
var ErrInvalidSID = errors.New("invalid SID")

// SID is a Windows security identifier (MS-DTYP 2.4.2). It is a small
// comparable value: use it directly as a map key and compare it with ==.
// The zero SID (revision 0, no authority, no sub-authorities) means "no SID".
type SID struct {
	rev  byte
	n    byte
	auth [6]byte // big-endian 48-bit identifier authority
	sub  [MaxSubAuthorities]uint32
}

// NewSID builds a revision-1 SID from an identifier authority (48 bits) and
// its sub-authorities. It fails for more than MaxSubAuthorities or an
// authority that does not fit in 48 bits.
func NewSID(authority uint64, subs ...uint32) (SID, error) {
	var s SID
	if len(subs) > MaxSubAuthorities {
		return s, fmt.Errorf("%w: %d sub-authorities (max %d)", ErrInvalidSID, len(subs), MaxSubAuthorities)
	}
	if authority>>48 != 0 {
		return s, fmt.Errorf("%w: identifier authority %#x exceeds 48 bits", ErrInvalidSID, authority)
	}
	s.rev = 1
	s.n = byte(len(subs))
	s.setAuthority(authority)
	copy(s.sub[:], subs)
	return s, nil
}

// MustSID is ParseSID for constants known to be valid; it panics otherwise
// and must only be used with literal strings in package-level tables.
func MustSID(str string) SID {
	s, err := ParseSID(str)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *SID) setAuthority(a uint64) {
	for i := 5; i >= 0; i-- {
		s.auth[i] = byte(a)
		a >>= 8
	}
}

// IsZero reports whether s is the zero SID ("no SID").
func (s SID) IsZero() bool { return s == SID{} }

// Revision returns the SID revision byte (1 for every SID Windows issues).
func (s SID) Revision() byte { return s.rev }

// Authority returns the 48-bit identifier authority.
func (s SID) Authority() uint64 {
	var a uint64
	for _, b := range s.auth {
		a = a<<8 | uint64(b)
	}
	return a
}

// SubAuthorities returns a copy of the sub-authorities.
func (s SID) SubAuthorities() []uint32 {
	out := make([]uint32, s.n)
	copy(out, s.sub[:s.n])
	return out
}

// Len returns the number of bytes of the binary form.
func (s SID) Len() int { return 8 + 4*int(s.n) }

// RID returns the last sub-authority, or 0 and false when there is none.
func (s SID) RID() (uint32, bool) {
	if s.n == 0 {
		return 0, false
	}
	return s.sub[s.n-1], true
}

// Domain returns s without its last sub-authority: the domain SID of an
// account SID. It returns false when s has no sub-authority.
func (s SID) Domain() (SID, bool) {
	if s.n == 0 {
		return SID{}, false
	}
	d := s
	d.n--
	d.sub[d.n] = 0
	return d, true
}

// Child returns the SID formed by appending rid to s (for example a domain
// SID and a relative ID). It fails when s already has MaxSubAuthorities.
func (s SID) Child(rid uint32) (SID, error) {
	if s.n >= MaxSubAuthorities {
		return SID{}, fmt.Errorf("%w: cannot append to %d sub-authorities", ErrInvalidSID, s.n)
	}
	c := s
	c.sub[c.n] = rid
	c.n++
	return c, nil
}

// IsDomainAccount reports whether s is a domain (or machine) account SID:
// S-1-5-21-x-y-z-RID.
func (s SID) IsDomainAccount() bool {
	return s.rev == 1 && s.Authority() == 5 && s.n == 5 && s.sub[0] == 21
}

// String formats s as in MS-DTYP 2.4.2.1: "S-1-5-21-…". An authority of
// 2^32 or more is written in hexadecimal ("S-1-0x123456789012-…").
func (s SID) String() string {
	var buf [192]byte
	return string(s.appendString(buf[:0]))
}

func (s SID) appendString(b []byte) []byte {
	b = append(b, 'S', '-')
	b = strconv.AppendUint(b, uint64(s.rev), 10)
	b = append(b, '-')
	a := s.Authority()
	if a>>32 != 0 {
		b = fmt.Appendf(b, "0x%012X", a)
	} else {
		b = strconv.AppendUint(b, a, 10)
	}
	for _, v := range s.sub[:s.n] {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// MarshalText implements encoding.TextMarshaler (the string form).
func (s SID) MarshalText() ([]byte, error) { return s.appendString(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the string form).
func (s *SID) UnmarshalText(b []byte) error {
	v, err := ParseSID(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSID parses the string form "S-R-I-S1-…-Sn" (MS-DTYP 2.4.2.1). The
// authority may be decimal or "0x" followed by hex digits; at most
// MaxSubAuthorities sub-authorities are accepted. Aliases such as "BA" are
// SDDL, not SID strings: see ParseSIDAlias.
func ParseSID(str string) (SID, error) {
	var s SID
	if len(str) < 4 || (str[0] != 'S' && str[0] != 's') || str[1] != '-' {
		return s, fmt.Errorf("%w: %q", ErrInvalidSID, str)
	}
	rest := str[2:]
	field := func() (string, bool) {
		if rest == "" {
			return "", false
		}
		for i := 0; i < len(rest); i++ {
			if rest[i] == '-' {
				f := rest[:i]
				rest = rest[i+1:]
				if rest == "" {
					return "", false // trailing '-'
				}
				return f, true
			}
		}
		f := rest
		rest = ""
		return f, true
	}
	f, ok := field()
	rev, err := parseDecimal(f, 0xff)
	if !ok || err != nil {
		return s, fmt.Errorf("%w: bad revision in %q", ErrInvalidSID, str)
	}
	s.rev = byte(rev)
	f, ok = field()
	if !ok {
		return s, fmt.Errorf("%w: missing authority in %q", ErrInvalidSID, str)
	}
	var auth uint64
	if len(f) > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X') {
		auth, err = parseHex(f[2:], 1<<48-1)
	} else {
		auth, err = parseDecimal(f, 1<<48-1)
	}
	if err != nil {
		return s, fmt.Errorf("%w: bad authority in %q", ErrInvalidSID, str)
	}
	s.setAuthority(auth)
	for rest != "" {
		if s.n == MaxSubAuthorities {
			return SID{}, fmt.Errorf("%w: more than %d sub-authorities in %q", ErrInvalidSID, MaxSubAuthorities, str)
		}
		f, ok = field()
		if !ok {
			return SID{}, fmt.Errorf("%w: %q", ErrInvalidSID, str)
		}
		v, err := parseDecimal(f, 0xffffffff)
		if err != nil {
			return SID{}, fmt.Errorf("%w: bad sub-authority in %q", ErrInvalidSID, str)
		}
		s.sub[s.n] = uint32(v)
		s.n++
	}
	return s, nil
}

func parseDecimal(f string, max uint64) (uint64, error) {
	if f == "" || len(f) > 20 {
		return 0, strconv.ErrSyntax
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		d := uint64(c - '0')
		if d > max || v > (max-d)/10 {
			return 0, strconv.ErrRange
		}
		v = v*10 + d
	}
	return v, nil
}

func parseHex(f string, max uint64) (uint64, error) {
	if f == "" {
		return 0, strconv.ErrSyntax
	}
	var v uint64
	for i := 0; i < len(f); i++ {
		d, ok := hexVal(f[i])
		if !ok {
			return 0, strconv.ErrSyntax
		}
		if uint64(d) > max || v > (max-uint64(d))/16 {
			return 0, strconv.ErrRange
		}
		v = v*16 + uint64(d)
	}
	return v, nil
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// AppendBinary appends the binary form (MS-DTYP 2.4.2.2) to b.
func (s SID) AppendBinary(b []byte) ([]byte, error) { return s.appendBinary(b), nil }

func (s SID) appendBinary(b []byte) []byte {
	b = append(b, s.rev, s.n)
	b = append(b, s.auth[:]...)
	for _, v := range s.sub[:s.n] {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

// MarshalBinary returns the binary form (MS-DTYP 2.4.2.2).
func (s SID) MarshalBinary() ([]byte, error) { return s.appendBinary(make([]byte, 0, s.Len())), nil }

// UnmarshalBinary parses exactly one binary SID; trailing bytes are an error.
func (s *SID) UnmarshalBinary(b []byte) error {
	v, n, err := DecodeSID(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("%w: %d trailing bytes", ErrInvalidSID, len(b)-n)
	}
	*s = v
	return nil
}

// DecodeSID parses a binary SID at the start of b and returns it with the
// number of bytes it occupies. Bytes after the SID are ignored.
func DecodeSID(b []byte) (SID, int, error) {
	var s SID
	if len(b) < 8 {
		return s, 0, fmt.Errorf("%w: %d bytes, need at least 8", ErrInvalidSID, len(b))
	}
	n := int(b[1])
	if n > MaxSubAuthorities {
		return s, 0, fmt.Errorf("%w: sub-authority count %d exceeds %d", ErrInvalidSID, n, MaxSubAuthorities)
	}
	size := 8 + 4*n
	if len(b) < size {
		return s, 0, fmt.Errorf("%w: %d bytes, need %d", ErrInvalidSID, len(b), size)
	}
	s.rev = b[0]
	s.n = byte(n)
	copy(s.auth[:], b[2:8])
	for i := 0; i < n; i++ {
		s.sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return s, size, nil
}

// Equal reports whether s and o are the same SID (s == o; the method lets
// go-cmp compare SIDs).
func (s SID) Equal(o SID) bool { return s == o }
