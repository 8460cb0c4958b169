package odj

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// redacted is what a Secret shows wherever it is formatted or marshalled.
const redacted = "(sensitive)"

// Secret is a machine password as UTF-16 code units (Windows and Samba use
// arbitrary units, not necessarily valid text). It never shows itself:
// fmt verbs, String, GoString, MarshalText and MarshalJSON all give
// "(sensitive)". Only UTF16LE and Units hand out the value. The zero Secret
// is the empty password.
type Secret struct {
	units []uint16
}

// NewSecret returns s as a Secret.
func NewSecret(s string) Secret { return Secret{units: utf16.Encode([]rune(s))} }

// SecretFromUnits returns a Secret holding a copy of u.
func SecretFromUnits(u []uint16) Secret { return Secret{units: append([]uint16(nil), u...)} }

// passwordAlphabet holds printable ASCII without the quote and backslash,
// so that a password stays plain in LDAP's quoted unicodePwd form and in
// any tool that reads it.
const passwordAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~"

// RandomPassword returns a fresh machine password of n characters drawn
// uniformly from 90 printable ASCII characters with crypto/rand (120
// characters carry about 779 bits). It fails only when the system's random
// source does.
func RandomPassword(n int) (Secret, error) {
	u := make([]uint16, 0, n)
	var buf [64]byte
	for len(u) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return Secret{}, fmt.Errorf("random password: %w", err)
		}
		for _, b := range buf {
			// Rejection sampling keeps the choice uniform: 180 = 2*90.
			if int(b) < 2*len(passwordAlphabet) && len(u) < n {
				u = append(u, uint16(passwordAlphabet[int(b)%len(passwordAlphabet)]))
			}
		}
	}
	return Secret{units: u}, nil
}

// Len returns the number of UTF-16 units.
func (s Secret) Len() int { return len(s.units) }

// IsZero reports whether s is empty.
func (s Secret) IsZero() bool { return len(s.units) == 0 }

// Units returns a copy of the UTF-16 code units.
func (s Secret) Units() []uint16 { return append([]uint16(nil), s.units...) }

// UTF16LE returns the password as UTF-16LE bytes, a fresh slice the caller
// should clear when done.
func (s Secret) UTF16LE() []byte {
	b := make([]byte, 0, 2*len(s.units))
	for _, u := range s.units {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// Equal reports whether s and o hold the same units, in constant time for
// equal lengths.
func (s Secret) Equal(o Secret) bool {
	if len(s.units) != len(o.units) {
		return false
	}
	return subtle.ConstantTimeCompare(s.UTF16LE(), o.UTF16LE()) == 1
}

// String returns "(sensitive)".
func (s Secret) String() string { return redacted }

// GoString returns "(sensitive)".
func (s Secret) GoString() string { return redacted }

// Format prints "(sensitive)" for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText returns "(sensitive)".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// MarshalJSON returns the JSON string "(sensitive)".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
