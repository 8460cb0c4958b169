package adid

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sidCases are SIDs in string form with the string String gives and the
// binary form (hex). They are also the table TestSamba checks with Samba.
var sidCases = []struct {
	name, in, want, bin string
}{
	{"local system", "S-1-5-18", "S-1-5-18", "010100000000000512000000"},
	{"everyone", "S-1-1-0", "S-1-1-0", "010100000000000100000000"},
	{"no sub-authorities", "S-1-5", "S-1-5", "0100000000000005"},
	{"app package authority", "S-1-15", "S-1-15", "010000000000000f"},
	{"lower-case s", "s-1-5-32-544", "S-1-5-32-544", "01020000000000052000000020020000"},
	{"mandatory label", "S-1-16-12288", "S-1-16-12288", "010100000000001000300000"},
	{"domain user", "S-1-5-21-1124153023-2506033152-2309675796-2126", "S-1-5-21-1124153023-2506033152-2309675796-2126",
		"010500000000000515000000bf36014300085f9514dbaa894e080000"},
	{"domain account", "S-1-5-21-1111111111-2222222222-3333333333-1105", "S-1-5-21-1111111111-2222222222-3333333333-1105",
		"010500000000000515000000c7353a428e6b748455a1aec651040000"},
	{"max sub-authority", "S-1-5-21-4294967295-1-2-3", "S-1-5-21-4294967295-1-2-3", "010500000000000515000000ffffffff010000000200000003000000"},
	{"15 sub-authorities", "S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", "S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
		"010f0000000000010100000002000000030000000400000005000000060000000700000008000000090000000a0000000b0000000c0000000d0000000e0000000f000000"},
	{"authority 2^32-1 stays decimal", "S-1-4294967295-1", "S-1-4294967295-1", "01010000ffffffff01000000"},
	{"authority 2^32 in decimal", "S-1-4294967296-1", "S-1-0x000100000000-1", "010100010000000001000000"},
	{"authority 2^40 (issue 11)", "S-1-0x010000000000-21", "S-1-0x010000000000-21", "010101000000000015000000"},
	{"authority 2^40 in decimal", "S-1-1099511627776-21", "S-1-0x010000000000-21", "010101000000000015000000"},
	{"authority 48 bits", "S-1-0x123456789ABC-7", "S-1-0x123456789abc-7", "0101123456789abc07000000"},
	{"authority max", "S-1-0xFFFFFFFFFFFF", "S-1-0xffffffffffff", "0100ffffffffffff"},
	{"small hex authority", "S-1-0xFF-1", "S-1-255-1", "01010000000000ff01000000"},
	{"upper-case 0X", "S-1-0X5-18", "S-1-5-18", "010100000000000512000000"},
	{"null SID", "S-1-0-0", "S-1-0-0", "010100000000000000000000"},
	{"hex authority with leading zeros", "S-1-0x000000000005-18", "S-1-5-18", "010100000000000512000000"},
}

func TestParseSID(t *testing.T) {
	for _, tc := range sidCases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSID(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, s.String()); diff != "" {
				t.Errorf("String (-want +got):\n%s", diff)
			}
			b, _ := s.MarshalBinary()
			if tc.bin != "" {
				if diff := cmp.Diff(tc.bin, hex.EncodeToString(b)); diff != "" {
					t.Errorf("binary (-want +got):\n%s", diff)
				}
			}
			if len(b) != s.Len() {
				t.Errorf("Len %d, binary %d", s.Len(), len(b))
			}
			var back SID
			if err := back.UnmarshalBinary(b); err != nil || back != s {
				t.Errorf("binary round trip: %v %v", back, err)
			}
			if again, err := ParseSID(s.String()); err != nil || again != s {
				t.Errorf("string round trip: %v %v", again, err)
			}
		})
	}
}

func TestDecodeSID(t *testing.T) {
	for _, tc := range sidCases {
		if tc.bin == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := hex.DecodeString(tc.bin)
			s, n, err := DecodeSID(append(raw, 0xee, 0xff)) // a descriptor goes on after the SID
			if err != nil || n != len(raw) {
				t.Fatalf("DecodeSID = %v, %d, %v; want %d bytes", s, n, err, len(raw))
			}
			if diff := cmp.Diff(tc.want, s.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// parseSIDErrors are strings ParseSID rejects (TestSamba also asks Samba).
var parseSIDErrors = []string{"", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-1--5", "X-1-5", "S-1-5-x", "S-256-5",
	"S-2-5-21", "S-0-5", "S-01-5", "S-1-05-18", "S-1-010-1", "S-1-5-018", "S-1-00",
	"S-1-281474976710656", "S-1-0x1000000000000", "S-1-0x0001000000000000", "S-1-5-4294967296",
	"S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
	"S-1-5 ", " S-1-5", "S-+1-5", "S-1-+5", "S-1-5-+18", "S-1-5-18-", "S-1-0x", "S-1-0x-5", "S-1-0xg-5",
	"S-1-5_0", "S-1-1_000", "S-1-5-1_8", "S-1-0x5_0", "S-1-5-0x12", "S-1-5-−1", "S-1-٥"}

func TestParseSID_errors(t *testing.T) {
	for _, in := range parseSIDErrors {
		t.Run(in, func(t *testing.T) {
			if s, err := ParseSID(in); !errors.Is(err, ErrInvalidSID) {
				t.Errorf("ParseSID(%q) = %v, %v; want ErrInvalidSID", in, s, err)
			}
		})
	}
}

func TestDecodeSID_hostile(t *testing.T) {
	for name, b := range map[string]string{
		"empty":          "",
		"short":          "0101000000",
		"revision 2":     "020100000000000100000000",
		"revision 0":     "000100000000000100000000",
		"count 16":       "0110000000000005" + "00000000",
		"count beyond":   "0105000000000005150000000100000002000000",
		"count too big":  "010200000000000100000000",
		"count 255":      "01ff000000000005",
		"header only, 1": "0101000000000005",
	} {
		t.Run(name, func(t *testing.T) {
			raw, _ := hex.DecodeString(b)
			if _, _, err := DecodeSID(raw); !errors.Is(err, ErrInvalidSID) {
				t.Errorf("err = %v, want ErrInvalidSID", err)
			}
		})
	}
	var s SID
	if err := s.UnmarshalBinary([]byte{1, 0, 0, 0, 0, 0, 0, 5, 0xff}); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("trailing byte: err = %v", err)
	}
}

func TestSID_helpers(t *testing.T) {
	s := MustSID("S-1-5-21-1-2-3-1104")
	if rid, ok := s.RID(); !ok || rid != 1104 {
		t.Errorf("RID = %d %v", rid, ok)
	}
	d, ok := s.Domain()
	if !ok || d.String() != "S-1-5-21-1-2-3" {
		t.Errorf("Domain = %v", d)
	}
	if c, err := d.Child(1104); err != nil || c != s {
		t.Errorf("Child = %v %v", c, err)
	}
	if !s.IsDomainAccount() || d.IsDomainAccount() || MustSID("S-1-5-32-544").IsDomainAccount() {
		t.Error("IsDomainAccount")
	}
	if got := s.SubAuthorities(); !cmp.Equal(got, []uint32{21, 1, 2, 3, 1104}) {
		t.Errorf("SubAuthorities = %v", got)
	}
	if s.Authority() != 5 || s.Revision() != 1 {
		t.Errorf("Authority %d, Revision %d", s.Authority(), s.Revision())
	}
	if _, err := MustSID("S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15").Child(1); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("Child beyond 15 sub-authorities: %v", err)
	}
	if _, err := (SID{}).Child(1); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("Child of the zero SID: %v", err)
	}
	if _, ok := MustSID("S-1-5").Domain(); ok {
		t.Error("Domain of S-1-5")
	}
	if _, ok := MustSID("S-1-5").RID(); ok {
		t.Error("RID of S-1-5")
	}
	if _, err := NewSID(1<<48, 1); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("NewSID accepted a 49-bit authority: %v", err)
	}
	if _, err := NewSID(5, make([]uint32, 16)...); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("NewSID accepted 16 sub-authorities: %v", err)
	}
	if n, err := NewSID(1<<40, 21); err != nil || n.String() != "S-1-0x010000000000-21" {
		t.Errorf("NewSID(2^40, 21) = %v, %v", n, err)
	}
	var z SID
	if !z.IsZero() || s.IsZero() || z.String() != "S-0-0" {
		t.Errorf("zero SID: IsZero %v, String %q", z.IsZero(), z)
	}
	txt, _ := s.MarshalText()
	var back SID
	if err := back.UnmarshalText(txt); err != nil || back != s || !back.Equal(s) {
		t.Errorf("text round trip %q: %v", txt, err)
	}
	if err := back.UnmarshalText([]byte("S-1-x")); !errors.Is(err, ErrInvalidSID) {
		t.Errorf("UnmarshalText of garbage: %v", err)
	}
	if b, _ := s.AppendBinary([]byte{9}); hex.EncodeToString(b) != "09"+"010500000000000515000000010000000200000003000000"+"50040000" {
		t.Errorf("AppendBinary = %x", b)
	}
}
