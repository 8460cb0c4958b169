package adid

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// MaxSubAuthorities is the largest SubAuthorityCount MS-DTYP 2.4.2 allows.
const MaxSubAuthorities = 15

// maxAuthority is the largest 48-bit identifier authority.
const maxAuthority = 1<<48 - 1

// ErrInvalidSID reports a SID string or binary SID that does not follow
// MS-DTYP 2.4.2. Errors of ParseSID, DecodeSID and the SID methods wrap it.
var ErrInvalidSID = errors.New("invalid SID")

// SID is a Windows security identifier (MS-DTYP 2.4.2). It is a small
// comparable value: use it directly as a map key and compare it with ==.
// The zero SID (no revision, authority or sub-authorities) means "no SID";
// every other SID has revision 1.
type SID struct {
	rev  byte
	n    byte
	auth [6]byte // big-endian 48-bit identifier authority
	sub  [MaxSubAuthorities]uint32
}

// NewSID builds a SID from an identifier authority (48 bits) and its
// sub-authorities. It fails for more than MaxSubAuthorities or an
// authority that does not fit in 48 bits.
func NewSID(authority uint64, subs ...uint32) (SID, error) {
	var s SID
	if len(subs) > MaxSubAuthorities {
		return s, fmt.Errorf("%w: %d sub-authorities, at most %d", ErrInvalidSID, len(subs), MaxSubAuthorities)
	}
	if authority > maxAuthority {
		return s, fmt.Errorf("%w: identifier authority %#x exceeds 48 bits", ErrInvalidSID, authority)
	}
	s.rev = 1
	s.n = byte(len(subs))
	s.setAuthority(authority)
	copy(s.sub[:], subs)
	return s, nil
}

// MustSID is ParseSID for constants known to be valid; it panics otherwise
// and must only be used with literal strings in package-level tables and
// tests, never with input.
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

// Revision returns the SID revision: 1, or 0 for the zero SID.
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
// SID and a relative ID). It fails when s is zero or already has
// MaxSubAuthorities.
func (s SID) Child(rid uint32) (SID, error) {
	if s.IsZero() {
		return SID{}, fmt.Errorf("%w: cannot append a RID to the zero SID", ErrInvalidSID)
	}
	if s.n >= MaxSubAuthorities {
		return SID{}, fmt.Errorf("%w: cannot append a RID to %s, which has %d sub-authorities", ErrInvalidSID, s, s.n)
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
// 2^32 or more is written as "0x" and twelve hex digits, lower-case as
// Windows' ConvertSidToStringSid writes them ("S-1-0x0123456789ab-21").
// The zero SID is "S-0-0".
func (s SID) String() string {
	var buf [192]byte
	return string(s.AppendText(buf[:0]))
}

// AppendText appends the string form (see String) to b.
func (s SID) AppendText(b []byte) []byte {
	b = append(b, 'S', '-')
	b = strconv.AppendUint(b, uint64(s.rev), 10)
	b = append(b, '-')
	if a := s.Authority(); a>>32 != 0 {
		const digits = "0123456789abcdef"
		b = append(b, '0', 'x')
		for _, c := range s.auth {
			b = append(b, digits[c>>4], digits[c&0xf])
		}
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
func (s SID) MarshalText() ([]byte, error) { return s.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the string form).
func (s *SID) UnmarshalText(b []byte) error {
	v, err := ParseSID(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSID parses the string form "S-1-I-S1-…-Sn" (MS-DTYP 2.4.2.1): "S"
// in either case, revision 1, the identifier authority in decimal or as
// "0x" (or "0X") followed by hex digits (at most 48 bits, whatever form
// String would choose), and at most MaxSubAuthorities decimal
// sub-authorities of 32 bits. Decimal numbers have no leading zero; no
// signs, spaces or empty fields. SDDL aliases such as "BA" are not SID
// strings (see reacl.ParseSIDAlias).
func ParseSID(str string) (SID, error) {
	var s SID
	bad := func(what string) (SID, error) {
		return SID{}, fmt.Errorf("%w %q: %s", ErrInvalidSID, clip(str), what)
	}
	if len(str) < 2 || (str[0] != 'S' && str[0] != 's') || str[1] != '-' {
		return bad(`want "S-1-" followed by the identifier authority and sub-authorities`)
	}
	rest := str[2:]
	// next returns the field up to the next '-'; ok is false when no
	// field is left or the string ends in '-'.
	next := func() (f string, ok bool) {
		if rest == "" {
			return "", false
		}
		for i := 0; i < len(rest); i++ {
			if rest[i] == '-' {
				f, rest = rest[:i], rest[i+1:]
				return f, rest != ""
			}
		}
		f, rest = rest, ""
		return f, true
	}
	f, ok := next()
	if !ok || f != "1" {
		return bad("revision must be 1")
	}
	s.rev = 1
	if f, ok = next(); !ok {
		return bad("missing identifier authority")
	}
	var auth uint64
	var err error
	if len(f) > 2 && f[0] == '0' && (f[1] == 'x' || f[1] == 'X') {
		auth, err = parseUint(f[2:], 16, 48)
	} else {
		auth, err = parseUint(f, 10, 48)
	}
	if err != nil {
		return bad("identifier authority " + strconv.Quote(clip(f)) + " is not a 48-bit number")
	}
	s.setAuthority(auth)
	for rest != "" {
		if s.n == MaxSubAuthorities {
			return bad(fmt.Sprintf("more than %d sub-authorities", MaxSubAuthorities))
		}
		if f, ok = next(); !ok {
			return bad("ends with '-'")
		}
		v, err := parseUint(f, 10, 32)
		if err != nil {
			return bad(fmt.Sprintf("sub-authority %d (%q) is not a 32-bit number", s.n+1, clip(f)))
		}
		s.sub[s.n] = uint32(v)
		s.n++
	}
	return s, nil
}

// parseUint is strconv.ParseUint restricted to digits of the base: no
// sign, no underscores, not empty, and in decimal no leading zero (MS-DTYP
// forbids them; Samba would read "010" as octal).
func parseUint(f string, base, bits int) (uint64, error) {
	if base == 10 && len(f) > 1 && f[0] == '0' {
		return 0, strconv.ErrSyntax
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if !('0' <= c && c <= '9' || base == 16 && ('a' <= c && c <= 'f' || 'A' <= c && c <= 'F')) {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(f, base, bits)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// AppendBinary appends the binary form (MS-DTYP 2.4.2.2) to b. It
// implements encoding.BinaryAppender and never fails.
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
		return fmt.Errorf("%w: %d bytes after the %d-byte SID %s", ErrInvalidSID, len(b)-n, n, v)
	}
	*s = v
	return nil
}

// DecodeSID parses a binary SID (MS-DTYP 2.4.2.2) at the start of b and
// returns it with the number of bytes it occupies; bytes after it are
// ignored (security descriptors and conditional expressions embed SIDs).
// Use SID.UnmarshalBinary for a value that must be exactly one SID, such
// as objectSid.
func DecodeSID(b []byte) (SID, int, error) {
	var s SID
	if len(b) < 8 {
		return s, 0, fmt.Errorf("%w: %d bytes, need at least 8", ErrInvalidSID, len(b))
	}
	if b[0] != 1 {
		return s, 0, fmt.Errorf("%w: revision %d, want 1", ErrInvalidSID, b[0])
	}
	n := int(b[1])
	if n > MaxSubAuthorities {
		return s, 0, fmt.Errorf("%w: %d sub-authorities, at most %d", ErrInvalidSID, n, MaxSubAuthorities)
	}
	size := 8 + 4*n
	if len(b) < size {
		return s, 0, fmt.Errorf("%w: %d bytes for %d sub-authorities, need %d", ErrInvalidSID, len(b), n, size)
	}
	s.rev = 1
	s.n = byte(n)
	copy(s.auth[:], b[2:8])
	for i := range n {
		s.sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return s, size, nil
}

// Equal reports whether s and o are the same SID (s == o; the method lets
// go-cmp compare SIDs).
func (s SID) Equal(o SID) bool { return s == o }
