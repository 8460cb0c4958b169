package adid

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// guidCases pair the string form with the wire form (hex), computed
// independently with Python's uuid.UUID(...).bytes_le or seen in AD.
var guidCases = []struct {
	name, str, wire string
}{
	{"user schema class", "bf967aba-0de6-11d0-a285-00aa003049e2", "ba7a96bfe60dd011a28500aa003049e2"},
	{"samba-tool objectGUID", "b7a33c14-7aa9-4fed-a130-9ca65ab122ac", "143ca3b7a97aed4fa1309ca65ab122ac"},
	{"ldifde objectGUID", "6f1e8a2c-4b3d-4c5e-9f80-112233445566", "2c8a1e6f3d4b5e4c9f80112233445566"},
	{"sequential bytes", "01020304-0506-0708-090a-0b0c0d0e0f10", "04030201060508070" + "90a0b0c0d0e0f10"},
	{"random", "a277b3f5-c509-4eaa-b126-657c8592c657", "f5b377a209c5aa4eb126657c8592c657"},
	{"zero", "00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000"},
}

func TestGUID(t *testing.T) {
	for _, tc := range guidCases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ParseGUID(tc.str)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wire, hex.EncodeToString(g[:])); diff != "" {
				t.Errorf("wire order (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.str, g.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
			if up, err := ParseGUID(upper(tc.str)); err != nil || up != g {
				t.Errorf("upper case: %v, %v", up, err)
			}
			raw, _ := hex.DecodeString(tc.wire)
			d, err := DecodeGUID(raw)
			if err != nil || d != g {
				t.Errorf("DecodeGUID = %v, %v", d, err)
			}
			if b, _ := g.MarshalBinary(); hex.EncodeToString(b) != tc.wire {
				t.Errorf("MarshalBinary = %x", b)
			}
			u := uuid.MustParse(tc.str)
			if GUIDFromUUID(u) != g || g.UUID() != [16]byte(u) {
				t.Errorf("UUID conversion: %v, %x", GUIDFromUUID(u), g.UUID())
			}
			txt, _ := g.MarshalText()
			var back GUID
			if err := back.UnmarshalText(txt); err != nil || back != g {
				t.Errorf("text round trip %q: %v", txt, err)
			}
			if err := back.UnmarshalBinary(raw); err != nil || back != g {
				t.Errorf("binary round trip: %v", err)
			}
			if g.IsZero() != (tc.name == "zero") {
				t.Errorf("IsZero = %v", g.IsZero())
			}
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestParseGUID_errors(t *testing.T) {
	for _, bad := range []string{"", "{bf967aba-0de6-11d0-a285-00aa003049e2}", "bf967aba-0de6-11d0-a285-00aa003049eg",
		"bf967aba0de611d0a28500aa003049e2xxxx", "bf967aba0de611d0a28500aa003049e2", "bf967aba-0de6-11d0-a285-00aa0030-9e2",
		"bf967aba-0de6-11d0-a285-00aa003049-2", "b7a33c14-7aa9-4fed-a130-9ca65ab122a", "b7a33c14x7aa9-4fed-a130-9ca65ab122ac",
		"-7a33c14-7aa9-4fed-a130-9ca65ab122ac", "b7a33c14-7aa9-4fed-a130-9ca65ab122ac ", "b7a33c14-+aa9-4fed-a130-9ca65ab122ac"} {
		t.Run(bad, func(t *testing.T) {
			if _, err := ParseGUID(bad); !errors.Is(err, ErrInvalidGUID) {
				t.Errorf("ParseGUID(%q): err = %v, want ErrInvalidGUID", bad, err)
			}
		})
	}
	for _, n := range []int{0, 15, 17} {
		if _, err := DecodeGUID(make([]byte, n)); !errors.Is(err, ErrInvalidGUID) {
			t.Errorf("DecodeGUID(%d bytes): err = %v", n, err)
		}
	}
}
