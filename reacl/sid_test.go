package reacl

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSID(t *testing.T) {
	tests := []struct {
		in, want, bin string
	}{
		{"S-1-5-18", "S-1-5-18", "010100000000000512000000"},
		{"S-1-1-0", "S-1-1-0", "010100000000000100000000"},
		{"S-1-5", "S-1-5", "0100000000000005"},
		{"s-1-5-32-544", "S-1-5-32-544", "01020000000000052000000020020000"},
		{"S-1-0x123456789ABC-7", "S-1-0x123456789ABC-7", "0101123456789abc07000000"},
		{"S-1-0xFF-1", "S-1-255-1", "01010000000000ff01000000"},
		{"S-1-4294967296-1", "S-1-0x000100000000-1", "010100010000000001000000"},
		{"S-1-5-21-4294967295-1-2-3", "S-1-5-21-4294967295-1-2-3", "0105000000000005150000" + "00ffffffff010000000200000003000000"},
		{"S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", "S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
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
			var back SID
			if err := back.UnmarshalBinary(b); err != nil || back != s {
				t.Errorf("binary round trip: %v %v", back, err)
			}
			if len(b) != s.Len() {
				t.Errorf("Len %d, binary %d", s.Len(), len(b))
			}
		})
	}
}

func TestParseSIDErrors(t *testing.T) {
	for _, in := range []string{"", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-1--5", "X-1-5", "S-1-5-x", "S-256-5",
		"S-1-281474976710656", "S-1-0x1000000000000", "S-1-5-4294967296", "S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
		"S-1-5 ", " S-1-5", "S-+1-5", "S-1-5-18-", "S-1-0x"} {
		if _, err := ParseSID(in); !errors.Is(err, ErrInvalidSID) {
			t.Errorf("%q: err = %v, want ErrInvalidSID", in, err)
		}
	}
}

func TestDecodeSIDHostile(t *testing.T) {
	for name, b := range map[string]string{
		"short":        "0101000000",
		"count 16":     "0110000000000005" + "00000000",
		"count beyond": "0105000000000005150000000100000002000000",
		"count 255":    "01ff000000000005",
	} {
		raw, _ := hex.DecodeString(b)
		if _, _, err := DecodeSID(raw); !errors.Is(err, ErrInvalidSID) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	var s SID
	if err := s.UnmarshalBinary([]byte{1, 0, 0, 0, 0, 0, 0, 5, 0xff}); err == nil {
		t.Error("trailing byte accepted")
	}
}

func TestSIDHelpers(t *testing.T) {
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
	if !s.IsDomainAccount() || d.IsDomainAccount() || SIDBuiltinAdmins.IsDomainAccount() {
		t.Error("IsDomainAccount")
	}
	if got := s.SubAuthorities(); !cmp.Equal(got, []uint32{21, 1, 2, 3, 1104}) {
		t.Errorf("SubAuthorities = %v", got)
	}
	if _, err := MustSID("S-1-1-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15").Child(1); err == nil {
		t.Error("Child beyond 15 sub-authorities")
	}
	if _, err := NewSID(1<<48, 1); err == nil {
		t.Error("NewSID accepted a 49-bit authority")
	}
	var z SID
	if !z.IsZero() || s.IsZero() {
		t.Error("IsZero")
	}
	txt, _ := s.MarshalText()
	var back SID
	if err := back.UnmarshalText(txt); err != nil || back != s {
		t.Errorf("text round trip %q: %v", txt, err)
	}
}

func TestAliases(t *testing.T) {
	dom := &Domain{
		SID:     MustSID("S-1-5-21-1-1-1"),
		Root:    MustSID("S-1-5-21-2-2-2"),
		Machine: MustSID("S-1-5-21-3-3-3"),
	}
	tests := []struct{ code, want string }{
		{"BA", "S-1-5-32-544"}, {"SY", "S-1-5-18"}, {"WD", "S-1-1-0"}, {"CO", "S-1-3-0"}, {"AU", "S-1-5-11"},
		{"DA", "S-1-5-21-1-1-1-512"}, {"DU", "S-1-5-21-1-1-1-513"}, {"DG", "S-1-5-21-1-1-1-514"},
		{"DC", "S-1-5-21-1-1-1-515"}, {"DD", "S-1-5-21-1-1-1-516"}, {"CA", "S-1-5-21-1-1-1-517"},
		{"SA", "S-1-5-21-2-2-2-518"}, {"EA", "S-1-5-21-2-2-2-519"}, {"RO", "S-1-5-21-2-2-2-498"},
		{"EK", "S-1-5-21-2-2-2-527"}, {"LA", "S-1-5-21-3-3-3-500"}, {"LG", "S-1-5-21-3-3-3-501"},
		{"PA", "S-1-5-21-1-1-1-520"}, {"RS", "S-1-5-21-1-1-1-553"},
	}
	for _, tc := range tests {
		s, err := ParseSIDAlias(tc.code, dom)
		if err != nil || s.String() != tc.want {
			t.Errorf("%s = %v %v, want %s", tc.code, s, err, tc.want)
		}
		if got := s.Alias(dom); got != tc.code {
			t.Errorf("Alias(%s) = %q, want %s", s, got, tc.code)
		}
	}
	// The same SDDL means different SIDs in different domains.
	a, _ := ParseSIDAlias("DA", NewDomain(MustSID("S-1-5-21-1-1-1")))
	b, _ := ParseSIDAlias("DA", NewDomain(MustSID("S-1-5-21-9-9-9")))
	if a == b {
		t.Error("DA resolved to the same SID in two domains")
	}
	if _, err := ParseSIDAlias("DA", nil); err == nil {
		t.Error("DA without a domain")
	}
	if _, err := ParseSIDAlias("ZZ", nil); err == nil {
		t.Error("unknown alias accepted")
	}
	if got := MustSID("S-1-5-21-1-1-1-512").Alias(nil); got != "" {
		t.Errorf("Alias without domain = %q", got)
	}
	for i := 1; i < len(sidAliases); i++ {
		if sidAliases[i-1].code >= sidAliases[i].code {
			t.Fatalf("alias table not sorted at %s", sidAliases[i].code)
		}
	}
}
