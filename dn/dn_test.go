package dn

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/internal/cputime"
)

type avaT struct {
	Type, Value string
	Plus        bool
}

func flat(d DN) []avaT {
	out := make([]avaT, 0, len(d.avas))
	for _, a := range d.avas {
		out = append(out, avaT{a.typ, a.val, a.plus})
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []avaT
		str  string // canonical String; "" means same as in
	}{
		{"simple", "CN=John Smith,OU=Users,DC=source,DC=test",
			[]avaT{{"CN", "John Smith", false}, {"OU", "Users", false}, {"DC", "source", false}, {"DC", "test", false}}, ""},
		{"empty", "", []avaT{}, ""},
		{"escaped comma", `CN=Smith\, John,OU=x`, []avaT{{"CN", "Smith, John", false}, {"OU", "x", false}}, ""},
		{"hex comma", `cn=a\2cb, ou=X`, []avaT{{"cn", "a,b", false}, {"ou", "X", false}}, `cn=a\,b,ou=X`},
		{"all specials", `CN=\,\+\"\\\<\>\;\=\#x`, []avaT{{"CN", `,+"\<>;=#x`, false}}, `CN=\,\+\"\\\<\>\;\=#x`},
		{"multi-valued", "CN=a+UID=b,DC=x", []avaT{{"CN", "a", true}, {"UID", "b", false}, {"DC", "x", false}}, ""},
		{"spaces around", " CN = a b , OU = c ", []avaT{{"CN", "a b", false}, {"OU", "c", false}}, "CN=a b,OU=c"},
		{"escaped leading and trailing space", `CN=\ a\ ,DC=x`, []avaT{{"CN", " a ", false}, {"DC", "x", false}}, ""},
		{"escaped trailing space then unescaped", `CN=a\  ,DC=x`, []avaT{{"CN", "a ", false}, {"DC", "x", false}}, `CN=a\ ,DC=x`},
		{"utf8 hex pairs", `CN=Jos\C3\A9,DC=x`, []avaT{{"CN", "José", false}, {"DC", "x", false}}, "CN=José,DC=x"},
		{"raw non-ascii", "CN=Müller Åsa 王,DC=x", []avaT{{"CN", "Müller Åsa 王", false}, {"DC", "x", false}}, ""},
		{"leading hash", `CN=\#1,DC=x`, []avaT{{"CN", "#1", false}, {"DC", "x", false}}, ""},
		{"ber utf8string", "CN=#0c03616263,DC=x", []avaT{{"CN", "abc", false}, {"DC", "x", false}}, "CN=abc,DC=x"},
		{"ber other kept raw", "UID=#020101", []avaT{{"UID", "\x02\x01\x01", false}}, `UID=\02\01\01`},
		{"oid type", "2.5.4.3=x,DC=y", []avaT{{"2.5.4.3", "x", false}, {"DC", "y", false}}, ""},
		{"quoted", `CN="Smith, John",DC=x`, []avaT{{"CN", "Smith, John", false}, {"DC", "x", false}}, `CN=Smith\, John,DC=x`},
		{"semicolon separator", "CN=a;DC=x", []avaT{{"CN", "a", false}, {"DC", "x", false}}, "CN=a,DC=x"},
		{"empty value", "CN=,DC=x", []avaT{{"CN", "", false}, {"DC", "x", false}}, ""},
		{"NUL", `CN=a\00b`, []avaT{{"CN", "a\x00b", false}}, ""},
		{"AD CNF mangled name", `CN=a\0ACNF:0f1e2d3c-1111-2222-3333-444455556666,DC=x`,
			[]avaT{{"CN", "a\nCNF:0f1e2d3c-1111-2222-3333-444455556666", false}, {"DC", "x", false}}, `CN=a\0aCNF:0f1e2d3c-1111-2222-3333-444455556666,DC=x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, flat(d)); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got := d.String(); got != want {
				t.Errorf("String() = %q, want %q", got, want)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		in      string
		offset  int
		message string
	}{
		{"CN=a,OU=b=c,DC=x", 9, `unescaped '='`},
		{"CN=a,", 5, "missing attribute type"},
		{",CN=a", 0, "unexpected ','"},
		{"CN", 2, `missing '=' after attribute type "CN"`},
		{`CN=a\`, 4, `'\' at end`},
		{`CN=a\zz`, 4, "invalid escape"},
		{`CN=a\4`, 4, "invalid escape"},
		{"CN=a<b", 4, `unescaped '<'`},
		{"CN=#abc", 3, "even number of hex digits"},
		{"CN=#", 3, "even number of hex digits"},
		{`CN="abc`, 3, "unterminated quoted"},
		{`CN="a"b`, 6, "after quoted value"},
		{"1.=x", 1, "ends with '.'"},
		{"CN=a\"b", 4, `unescaped '"'`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error = %v, want *ParseError", tt.in, err)
			}
			if pe.Offset != tt.offset || !strings.Contains(pe.Msg, tt.message) {
				t.Errorf("got %q (offset %d), want offset %d and %q", err, pe.Offset, tt.offset, tt.message)
			}
			if !strings.HasPrefix(err.Error(), "invalid DN ") {
				t.Errorf("error %q does not start with 'invalid DN'", err)
			}
		})
	}
}

func TestKey(t *testing.T) {
	same := [][]string{
		{`CN=A\,B,OU=x`, `cn=a\2cb, ou=X`, `Cn="A,B";oU=x`},
		{"CN=José,DC=x", `cn=JOS\c3\89,dc=X`},
		{"CN=a+UID=b,DC=x", "uid=B+cn=A,dc=x"},
		{"CN=Grüße,DC=x", "CN=GRÜSSE,DC=x", "CN=grüsse,DC=x"}, // Grüße lower-cases to grüße, not grüsse
	}
	for _, group := range same {
		t.Run(group[0], func(t *testing.T) {
			k0, err := Key(group[0])
			if err != nil {
				t.Fatal(err)
			}
			d0 := MustParse(group[0])
			for _, s := range group[1:] {
				k, err := Key(s)
				if err != nil {
					t.Fatal(err)
				}
				eq := d0.Equal(MustParse(s))
				if eq != (k == k0) {
					t.Errorf("Equal(%q, %q) = %v but keys %q and %q", group[0], s, eq, k0, k)
				}
				if strings.Contains(group[0], "Grüße") {
					if s == "CN=grüsse,DC=x" && k == k0 {
						t.Errorf("ß and ss must differ")
					}
					continue
				}
				if k != k0 {
					t.Errorf("Key(%q) = %q, want %q", s, k, k0)
				}
			}
		})
	}
	if got := MustParse(`CN=A\,B,OU=x`).Key(); got != `cn=a\,b,ou=x` {
		t.Errorf("Key = %q", got)
	}
}

func TestNavigation(t *testing.T) {
	d := MustParse(`CN=Smith\, John,OU=Staff,DC=source,DC=test`)
	if typ, v := d.RDN(); typ != "CN" || v != "Smith, John" {
		t.Errorf("RDN() = %q, %q", typ, v)
	}
	if got := d.RDNString(); got != `CN=Smith\, John` {
		t.Errorf("RDNString() = %q", got)
	}
	if got := d.Parent().String(); got != "OU=Staff,DC=source,DC=test" {
		t.Errorf("Parent() = %q", got)
	}
	if got := d.Depth(); got != 4 {
		t.Errorf("Depth() = %d", got)
	}
	if !MustParse("DC=x").Parent().IsZero() || !(DN{}).Parent().IsZero() {
		t.Error("parent of a single RDN must be zero")
	}
	child := MustParse("OU=Staff,DC=source,DC=test").Child("CN", "a,b")
	if got := child.String(); got != `CN=a\,b,OU=Staff,DC=source,DC=test` {
		t.Errorf("Child() = %q", got)
	}
	if got := MustParse("CN=a+UID=b,DC=x").Parent().String(); got != "DC=x" {
		t.Errorf("Parent of multi-valued = %q", got)
	}

	tests := []struct {
		d, base         string
		desc, inSubtree bool
	}{
		{"CN=a,OU=Staff,DC=source,DC=test", "ou=staff,dc=SOURCE,dc=test", true, true},
		{"OU=Staff,DC=source,DC=test", "ou=staff,dc=SOURCE,dc=test", false, true},
		{"OU=Staff2,DC=source,DC=test", "ou=staff,dc=SOURCE,dc=test", false, false},
		{`CN=x\,OU\=Staff,DC=source,DC=test`, "OU=Staff,DC=source,DC=test", false, false},
		{`CN=x\,OU\=Staff,DC=source,DC=test`, "DC=source,DC=test", true, true},
		{`CN=x\,OU\=Staff,DC=source,DC=test`, `cn=X\2cOU\3dstaff,DC=source,DC=test`, false, true},
		{"CN=x+OU=Staff,DC=source,DC=test", "OU=Staff,DC=source,DC=test", false, false},
		{"DC=test", "", true, true},
		{"", "", false, true},
		{"DC=test", "DC=source,DC=test", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.d+" in "+tt.base, func(t *testing.T) {
			d, b := MustParse(tt.d), MustParse(tt.base)
			if got := d.IsDescendantOf(b); got != tt.desc {
				t.Errorf("IsDescendantOf = %v", got)
			}
			if got := d.InSubtree(b); got != tt.inSubtree {
				t.Errorf("InSubtree = %v", got)
			}
		})
	}

	moved, ok := MustParse("CN=u,OU=A,OU=Old,DC=t").Relocate(MustParse("ou=old,dc=t"), MustParse("OU=New,OU=Top,DC=t"))
	if !ok || moved.String() != "CN=u,OU=A,OU=New,OU=Top,DC=t" {
		t.Errorf("Relocate = %q, %v", moved, ok)
	}
	if _, ok := MustParse("CN=u,DC=t").Relocate(MustParse("OU=Old,DC=t"), MustParse("DC=t")); ok {
		t.Error("Relocate outside from must fail")
	}
}

func TestEscapeValue(t *testing.T) {
	tests := map[string]string{
		"plain":             "plain",
		" lead":             `\ lead`,
		"trail ":            `trail\ `,
		" ":                 `\ `,
		"#x#":               `\#x#`,
		`a,b+c"d\e<f>g;h=i`: `a\,b\+c\"d\\e\<f\>g\;h\=i`,
		"nul\x00":           `nul\00`,
		"bad\xff":           `bad\ff`,
		"Ünïcödé":           "Ünïcödé",
	}
	for in, want := range tests {
		if got := EscapeValue(in); got != want {
			t.Errorf("EscapeValue(%q) = %q, want %q", in, got, want)
		}
		d := DN{}.Child("CN", in)
		back, err := Parse(d.String())
		if err != nil || !back.Equal(d) || back.avas[0].val != in {
			t.Errorf("round trip of %q: %q, %v", in, back, err)
		}
	}
}

// TestRoundTrip_random checks that String and Key round-trip for random
// values drawn from the characters that need care.
func TestRoundTrip_random(t *testing.T) {
	alphabet := []string{"a", "Z", " ", "#", ",", "+", "\"", "\\", "<", ">", ";", "=", "\x00", "\n", "é", "Ä", "王", "\xff", "\xc3", "ß", "K"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		var d DN
		for n := r.IntN(4) + 1; n > 0; n-- {
			var sb strings.Builder
			for k := r.IntN(6); k > 0; k-- {
				sb.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			d = d.Child([]string{"CN", "ou", "dc", "2.5.4.3"}[r.IntN(4)], sb.String())
		}
		s := d.String()
		back, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(String()) of %q: %v", s, err)
		}
		if diff := cmp.Diff(flat(d), flat(back)); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", s, diff)
		}
		k := d.Key()
		for _, in := range []string{s, k, strings.ToUpper(s)} {
			want := MustParse(in).Key()
			if got, err := Key(in); err != nil || got != want {
				t.Fatalf("Key(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		kd, err := Parse(k)
		if err != nil {
			t.Fatalf("Parse(Key()) of %q: %v", k, err)
		}
		if got, want := ParentKey(k), d.Parent().Key(); got != want {
			t.Fatalf("ParentKey(%q) = %q, want %q", k, got, want)
		}
		if kd.Key() != k || !kd.Equal(d) {
			t.Fatalf("Key %q is not a fixed point (%q) or not Equal", k, kd.Key())
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CN=John Smith,OU=Users,DC=source,DC=test", `CN=Smith\, John,OU=x`, `cn=a\2cb, ou=X`,
		"CN=a+UID=b,DC=x", `CN=\ a\ ,DC=x`, `CN=Jos\C3\A9`, "CN=#0c03616263", `CN="q,u"`, "2.5.4.3=x;DC=y",
		`CN=\#1`, "CN=a=b", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			if k, ok := keyFast(s); ok {
				t.Fatalf("keyFast accepted %q (key %q) that Parse rejects: %v", s, k, err)
			}
			return
		}
		out := d.String()
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) ok, String %q does not parse: %v", s, out, err)
		}
		if !back.Equal(d) || back.String() != out {
			t.Fatalf("round trip: %q -> %q -> %q", s, out, back.String())
		}
		if diff := cmp.Diff(flat(d), flat(back)); diff != "" {
			t.Fatalf("round trip of %q (-want +got):\n%s", s, diff)
		}
		k := d.Key()
		if fk, err := Key(s); err != nil || fk != k {
			t.Fatalf("Key(%q) = %q, %v; Parse().Key() = %q", s, fk, err, k)
		}
		kd, err := Parse(k)
		if err != nil {
			t.Fatalf("Key %q does not parse: %v", k, err)
		}
		if kd.Key() != k {
			t.Fatalf("Key not idempotent: %q -> %q", k, kd.Key())
		}
		if !utf8.ValidString(k) {
			t.Fatalf("Key %q is not UTF-8", k)
		}
		if got, want := ParentKey(k), d.Parent().Key(); got != want {
			t.Fatalf("ParentKey(%q) = %q, want %q", k, got, want)
		}
		if p := d.Parent(); !d.IsZero() && !d.IsDescendantOf(p) {
			t.Fatalf("%q is not a descendant of its parent %q", out, p)
		}
	})
}

var sink string

func BenchmarkParseKey(b *testing.B) {
	inputs := []string{
		"CN=John Smith,OU=Users,OU=Staff,DC=source,DC=test",
		"CN=WS001,OU=Finance,OU=Workstations,DC=source,DC=test",
		`CN=Smith\, John,OU=Users,OU=Staff,DC=source,DC=test`,
	}
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for i := 0; b.Loop(); i++ {
		d, err := Parse(inputs[i%len(inputs)])
		if err != nil {
			b.Fatal(err)
		}
		sink = d.Key()
	}
	reportCPU(b, cpu0)
}

// reportCPU adds CPU nanoseconds per op: on a shared, overloaded machine
// wall time measures the neighbours.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := cputime.Self() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkParent(b *testing.B) {
	d := MustParse("CN=John Smith,OU=Users,OU=Staff,DC=source,DC=test")
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		p := d.Parent()
		if p.IsZero() {
			b.Fatal("zero")
		}
	}
	reportCPU(b, cpu0)
}

func TestKey_fastPath(t *testing.T) {
	for in, fast := range map[string]bool{
		"CN=John Smith,OU=Users,DC=source,DC=test": true,
		"cn=a,2.5.4.11=b":                          true,
		"CN=a, OU=b":                               false,
		"CN=a ,OU=b":                               false,
		"CN=a+UID=b":                               false,
		`CN=a\,b`:                                  false,
		"CN=Jörg":                                  false,
		"CN=,DC=x":                                 false,
		"CN=a,":                                    false,
		"CN=a=b":                                   false,
		"1.=x":                                     false,
		"CN=#x":                                    false,
		"":                                         false,
	} {
		k, ok := keyFast(in)
		if ok != fast {
			t.Errorf("keyFast(%q) ok = %v", in, ok)
		}
		if ok && k != MustParse(in).Key() {
			t.Errorf("keyFast(%q) = %q", in, k)
		}
	}
}

func BenchmarkKeyString(b *testing.B) {
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		k, err := Key("CN=John Smith,OU=Users,OU=Staff,DC=source,DC=test")
		if err != nil {
			b.Fatal(err)
		}
		sink = k
	}
	reportCPU(b, cpu0)
}

func TestSame(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`CN=a\;b\=c,DC=t`, `cn=A\3Bb\3Dc,dc=T`, true},
		{`CN=x,DC=t`, `CN=x,DC=t`, true},
		{`CN=x,DC=t`, `CN=y,DC=t`, false},
		{`not a dn`, `not a dn`, true},
		{`not a dn`, `CN=x`, false},
	}
	for _, tt := range tests {
		if got := Same(tt.a, tt.b); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
