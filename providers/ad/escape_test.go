package ad

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
)

func TestEscapeFilterValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"*", `\2a`},
		{"a*)(objectClass=*", `a\2a\29\28objectClass=\2a`},
		{`back\slash`, `back\5cslash`},
		{"nul\x00byte", `nul\00byte`},
		{"Zoë", `Zo\c3\ab`},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if d := cmp.Diff(tt.want, EscapeFilterValue(tt.in)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// FuzzEscapeFilterValue: whatever the value, the escaped assertion
// compiles to one equality filter whose value is the input.
func FuzzEscapeFilterValue(f *testing.F) {
	for _, s := range []string{"*", "a)(cn=*", `\`, "\x00", "Zoë"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		filter := "(cn=" + EscapeFilterValue(v) + ")"
		p, err := ldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", filter, err)
		}
		if p.Tag != ldap.FilterEqualityMatch {
			t.Fatalf("%q compiled to filter tag %d, want equality", filter, p.Tag)
		}
		if got := string(p.Children[1].Data.Bytes()); got != v {
			t.Fatalf("value %q came back as %q", v, got)
		}
	})
}

func TestEscapeRDNValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", "Alice"},
		{"Smith, John", `Smith\, John`},
		{`a+b"c\d<e>f;g=h`, `a\+b\"c\\d\<e\>f\;g\=h`},
		{"#hash", `\#hash`},
		{"mid#hash", "mid#hash"},
		{" lead and trail ", `\ lead and trail\ `},
		{"Zoë Ñandú", "Zoë Ñandú"},
		{"nul\x00", `nul\00`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := EscapeRDNValue(tt.in)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			_, v, parent, err := SplitDN(JoinDN("CN", tt.in, "OU=x,DC=t"))
			if err != nil {
				t.Fatal(err)
			}
			if v != tt.in || parent != "OU=x,DC=t" {
				t.Errorf("SplitDN round trip: value %q parent %q", v, parent)
			}
		})
	}
}

func FuzzSplitDN(f *testing.F) {
	for _, s := range []string{"Smith, John", " x ", "#1", `a\b`, "Zoë", "=+;<>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" {
			return
		}
		dn := JoinDN("CN", v, "OU=p,DC=t")
		attr, got, parent, err := SplitDN(dn)
		if err != nil {
			t.Fatalf("SplitDN(%q): %v", dn, err)
		}
		if attr != "CN" || got != v || parent != "OU=p,DC=t" {
			t.Fatalf("SplitDN(%q) = %q %q %q", dn, attr, got, parent)
		}
	})
}

func TestNormalizeDN(t *testing.T) {
	tests := []struct{ a, b string }{
		{"OU=Staff,DC=Target,DC=Test", "ou=staff,dc=target,dc=test"},
		{`CN=Smith\, John,OU=x`, `cn=smith\2c john,ou=x`},
		{`CN=Zoë,OU=x`, `cn=Zo\c3\ab,ou=x`},
	}
	for _, tt := range tests {
		t.Run(tt.a, func(t *testing.T) {
			if a, b := NormalizeDN(tt.a), NormalizeDN(tt.b); a != b {
				t.Errorf("%q → %q but %q → %q", tt.a, a, tt.b, b)
			}
		})
	}
	if !dnUnder(NormalizeDN("CN=a,OU=b,DC=c"), NormalizeDN("ou=B,dc=C")) || dnUnder(NormalizeDN("OU=xb,DC=c"), NormalizeDN("OU=b,DC=c")) {
		t.Error("dnUnder wrong")
	}
	if got := domainOfDN("CN=x,OU=y,DC=Target,DC=test"); got != "target.test" {
		t.Errorf("domainOfDN = %q", got)
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in     string
		base   string
		lo, hi int
		ok     bool
	}{
		{"member;range=0-1499", "member", 0, 1499, true},
		{"member;range=1500-*", "member", 1500, -1, true},
		{"member", "", 0, 0, false},
		{"member;range=5-2", "", 0, 0, false},
		{"member;range=x-*", "", 0, 0, false},
		{"member;range=0", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, lo, hi, ok := parseRange(tt.in)
			if d := cmp.Diff([]any{tt.base, tt.lo, tt.hi, tt.ok}, []any{b, lo, hi, ok}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	f.Add("member;range=0-1499")
	f.Add("member;range=1500-*")
	f.Fuzz(func(t *testing.T, s string) {
		_, lo, hi, ok := parseRange(s)
		if ok && hi >= 0 && hi < lo {
			t.Fatalf("parseRange(%q) = %d-%d", s, lo, hi)
		}
	})
}
