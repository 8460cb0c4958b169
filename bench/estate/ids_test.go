package estate

import (
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/adid"
)

func TestNewGUID_version4(t *testing.T) {
	g := newGUID(0xffffffffffffffff, 0xffffffffffffffff)
	if got, want := g.String(), "ffffffff-ffff-4fff-bfff-ffffffffffff"; got != want {
		t.Errorf("newGUID = %s, want %s", got, want)
	}
	// The words are the string's digits; on the wire the first three
	// groups are little-endian (computed with Python's uuid bytes_le).
	g = newGUID(0x0102030405060708, 0x090a0b0c0d0e0f10)
	if got, want := hex.EncodeToString(g[:]), "0403020106050847890a0b0c0d0e0f10"; got != want {
		t.Errorf("newGUID wire = %s, want %s", got, want)
	}
}

func TestSID(t *testing.T) {
	tests := []struct {
		name   string
		sid    adid.SID
		str    string
		binary string // base64, computed independently (Python struct)
	}{
		{"domain account", accountSID(DomainSID(3623811015, 3361044348, 30300820), 1013),
			"S-1-5-21-3623811015-3361044348-30300820-1013", "AQUAAAAAAAUVAAAAx/f+13x3VciUWs4B9QMAAA=="},
		{"domain", DomainSID(3623811015, 3361044348, 30300820),
			"S-1-5-21-3623811015-3361044348-30300820", "AQQAAAAAAAUVAAAAx/f+13x3VciUWs4B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sid.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := base64.StdEncoding.EncodeToString(sidBytes(tt.sid)); got != tt.binary {
				t.Errorf("binary = %s, want %s", got, tt.binary)
			}
		})
	}
}

func TestAccountSID_keepsDomain(t *testing.T) {
	d := DomainSID(1, 2, 3)
	a, b := accountSID(d, 1000), accountSID(d, 1001)
	if diff := cmp.Diff([]string{"S-1-5-21-1-2-3", "S-1-5-21-1-2-3-1000", "S-1-5-21-1-2-3-1001"},
		[]string{d.String(), a.String(), b.String()}); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
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
