package adid

import (
	"errors"
	"fmt"
)

// ErrInvalidGUID reports a GUID string or binary GUID that does not follow
// MS-DTYP 2.3.4. Errors of ParseGUID, DecodeGUID and the GUID methods wrap
// it.
var ErrInvalidGUID = errors.New("invalid GUID")

// GUID is a GUID in wire byte order (MS-DTYP 2.3.4.2): Data1 (4 bytes),
// Data2 and Data3 (2 bytes each) little-endian, then Data4's 8 bytes. This
// is how AD stores objectGUID and how security descriptors carry object
// types. The zero GUID means "no GUID". GUID is comparable.
type GUID [16]byte

// wireOrder[i] is the wire index of the i-th byte of the RFC 4122 form
// (the string's digits read left to right); the permutation is its own
// inverse.
var wireOrder = [16]int{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15}

// IsZero reports whether g is all zero.
func (g GUID) IsZero() bool { return g == GUID{} }

// GUIDFromUUID returns the GUID whose RFC 4122 (big-endian, string order)
// bytes are u, such as a github.com/google/uuid UUID.
func GUIDFromUUID(u [16]byte) GUID {
	var g GUID
	for i, j := range wireOrder {
		g[j] = u[i]
	}
	return g
}

// UUID returns g's bytes in RFC 4122 (big-endian, string) order.
func (g GUID) UUID() [16]byte {
	var u [16]byte
	for i, j := range wireOrder {
		u[i] = g[j]
	}
	return u
}

// String formats g as AD tools show it, lower-case:
// "bf967aba-0de6-11d0-a285-00aa003049e2".
func (g GUID) String() string {
	var buf [36]byte
	return string(g.AppendText(buf[:0]))
}

// AppendText appends the string form (see String) to b.
func (g GUID) AppendText(b []byte) []byte {
	const digits = "0123456789abcdef"
	for i, j := range wireOrder {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, digits[g[j]>>4], digits[g[j]&0xf])
	}
	return b
}

// MarshalText implements encoding.TextMarshaler (the string form).
func (g GUID) MarshalText() ([]byte, error) { return g.AppendText(make([]byte, 0, 36)), nil }

// UnmarshalText implements encoding.TextUnmarshaler (the string form).
func (g *GUID) UnmarshalText(b []byte) error {
	v, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// ParseGUID parses "bf967aba-0de6-11d0-a285-00aa003049e2": 32 hex digits of
// either case in groups of 8, 4, 4, 4 and 12, without braces (strip those
// of the registry form "{…}" first).
func ParseGUID(s string) (GUID, error) {
	var g GUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, fmt.Errorf("%w %q: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", ErrInvalidGUID, clip(s))
	}
	i := 0
	for k, j := range wireOrder {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			i++ // the dash checked above; any other '-' is not hex
		}
		hi, ok1 := hexVal(s[i])
		lo, ok2 := hexVal(s[i+1])
		if !ok1 || !ok2 {
			return GUID{}, fmt.Errorf("%w %q: %q is not a hex digit", ErrInvalidGUID, s, s[i:i+2])
		}
		g[j] = hi<<4 | lo
		i += 2
	}
	return g, nil
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// DecodeGUID returns the GUID whose wire form (MS-DTYP 2.3.4.2) is b,
// which must be exactly 16 bytes, as objectGUID is.
func DecodeGUID(b []byte) (GUID, error) {
	var g GUID
	if len(b) != len(g) {
		return g, fmt.Errorf("%w: %d bytes, want 16", ErrInvalidGUID, len(b))
	}
	copy(g[:], b)
	return g, nil
}

// AppendBinary appends the 16 bytes of the wire form to b. It implements
// encoding.BinaryAppender and never fails.
func (g GUID) AppendBinary(b []byte) ([]byte, error) { return append(b, g[:]...), nil }

// MarshalBinary returns a copy of the 16 bytes of the wire form.
func (g GUID) MarshalBinary() ([]byte, error) { return g.AppendBinary(make([]byte, 0, 16)) }

// UnmarshalBinary sets g from exactly 16 bytes of wire form.
func (g *GUID) UnmarshalBinary(b []byte) error {
	v, err := DecodeGUID(b)
	if err != nil {
		return err
	}
	*g = v
	return nil
}
