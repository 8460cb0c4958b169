package estate

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGUID(t *testing.T) {
	// Expected wire bytes computed independently with Python's
	// uuid.UUID(...).bytes_le, the Microsoft layout.
	tests := []struct {
		name, canonical, wire string
	}{
		{"sequential bytes", "01020304-0506-0708-090a-0b0c0d0e0f10", "04030201060508070" + "90a0b0c0d0e0f10"},
		{"random", "a277b3f5-c509-4eaa-b126-657c8592c657", "f5b377a209c5aa4eb126657c8592c657"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := hex.DecodeString(stripDashes(tt.canonical))
			if err != nil {
				t.Fatal(err)
			}
			var g GUID
			copy(g[:], raw)
			if got := g.String(); got != tt.canonical {
				t.Errorf("String() = %q, want %q", got, tt.canonical)
			}
			if got := hex.EncodeToString(g.Wire()); got != tt.wire {
				t.Errorf("Wire() = %s, want %s", got, tt.wire)
			}
		})
	}
}

func stripDashes(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func TestNewGUID_version4(t *testing.T) {
	g := newGUID(0xffffffffffffffff, 0xffffffffffffffff)
	if got, want := g.String(), "ffffffff-ffff-4fff-bfff-ffffffffffff"; got != want {
		t.Errorf("newGUID = %s, want %s", got, want)
	}
}

func TestSID(t *testing.T) {
	tests := []struct {
		name   string
		sid    SID
		str    string
		binary string // base64, computed independently (Python struct)
	}{
		{"builtin administrators", SID{Authority: 5, Sub: []uint32{32, 544}}, "S-1-5-32-544",
			base64.StdEncoding.EncodeToString(mustHex("01020000000000052000000020020000"))},
		{"domain account", DomainSID(3623811015, 3361044348, 30300820).WithRID(1013),
			"S-1-5-21-3623811015-3361044348-30300820-1013", "AQUAAAAAAAUVAAAAx/f+13x3VciUWs4B9QMAAA=="},
		{"domain", DomainSID(3623811015, 3361044348, 30300820),
			"S-1-5-21-3623811015-3361044348-30300820", "AQQAAAAAAAUVAAAAx/f+13x3VciUWs4B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sid.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := base64.StdEncoding.EncodeToString(tt.sid.Binary()); got != tt.binary {
				t.Errorf("Binary() = %s, want %s", got, tt.binary)
			}
		})
	}
}

func TestSID_WithRIDDoesNotAlias(t *testing.T) {
	d := DomainSID(1, 2, 3)
	a, b := d.WithRID(1000), d.WithRID(1001)
	if diff := cmp.Diff([]string{"S-1-5-21-1-2-3", "S-1-5-21-1-2-3-1000", "S-1-5-21-1-2-3-1001"},
		[]string{d.String(), a.String(), b.String()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestEscapeRDN(t *testing.T) {
	tests := map[string]string{
		"John Smith":    "John Smith",
		"Smith, John":   `Smith\, John`,
		"a+b":           `a\+b`,
		`say "hi"`:      `say \"hi\"`,
		`back\slash`:    `back\\slash`,
		"<x>;":          `\<x\>\;`,
		"#hash":         `\#hash`,
		"mid#hash":      "mid#hash",
		" lead":         `\ lead`,
		"trail ":        `trail\ `,
		"São Paulo":     "São Paulo",
		"":              "",
		"O'Brien, Kim ": `O'Brien\, Kim\ `,
	}
	for in, want := range tests {
		if got := escapeRDN(in); got != want {
			t.Errorf("escapeRDN(%q) = %q, want %q", in, got, want)
		}
	}
}
