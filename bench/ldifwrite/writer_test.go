package ldifwrite_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/bench/internal/ldifcheck"
	"github.com/adshift/adshift/bench/ldifwrite"
)

func TestWriter(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name  string
		opts  ldifwrite.Options
		write func(w *ldifwrite.Writer)
		want  string
	}{
		{
			name: "ldifde record with changetype",
			write: func(w *ldifwrite.Writer) {
				w.Begin("CN=Smith\\, John,OU=Staff,DC=source,DC=test")
				w.Attr("objectClass", "top", "person")
				w.Attr("sn", "Smith")
			},
			want: "dn: CN=Smith\\, John,OU=Staff,DC=source,DC=test\n" +
				"changetype: add\n" +
				"objectClass: top\n" +
				"objectClass: person\n" +
				"sn: Smith\n",
		},
		{
			name: "ldapsearch style has no changetype and separates records",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch},
			write: func(w *ldifwrite.Writer) {
				w.Comment("header\nsecond line")
				w.Begin("DC=a")
				w.Attr("dc", "a")
				w.Begin("OU=b,DC=a")
				w.Attr("ou", "b")
			},
			want: "# header\n# second line\n\ndn: DC=a\ndc: a\n\ndn: OU=b,DC=a\nou: b\n",
		},
		{
			name: "non-ASCII value and dn are base64",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch},
			write: func(w *ldifwrite.Writer) {
				w.Begin("CN=Zoë,DC=a")
				w.Attr("displayName", "Zoë")
			},
			want: "dn:: Q049Wm/DqyxEQz1h\ndisplayName:: Wm/Dqw==\n",
		},
		{
			name: "unsafe starts and ends are base64, empty value is bare",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch},
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Attr("a", " lead", ":colon", "<lt", "trail ", "line\nbreak", "")
				w.Attr("b", "mid:dle <ok>")
			},
			want: "dn: DC=a\n" +
				"a:: IGxlYWQ=\n" +
				"a:: OmNvbG9u\n" +
				"a:: PGx0\n" +
				"a:: dHJhaWwg\n" +
				"a:: bGluZQpicmVhaw==\n" +
				"a:\n" +
				"b: mid:dle <ok>\n",
		},
		{
			name: "binary is always base64",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch},
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Binary("objectGUID", []byte("abc"))
			},
			want: "dn: DC=a\nobjectGUID:: YWJj\n",
		},
		{
			name: "long value folds at 76 columns",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch},
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Attr("description", long)
			},
			// "description: " is 13 bytes, so 63 x fill the first line and
			// the remaining 37 follow the continuation space.
			want: "dn: DC=a\ndescription: " + long[:63] + "\n " + long[63:] + "\n",
		},
		{
			name: "narrow width folds base64 too",
			opts: ldifwrite.Options{Style: ldifwrite.StyleLDAPSearch, Width: 10},
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Binary("g", []byte("0123456789"))
			},
			want: "dn: DC=a\ng:: MDEyMz\n Q1Njc4OQ=\n =\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := ldifwrite.NewWriter(&buf, tt.opts)
			tt.write(w)
			if err := w.Flush(); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriter_errors(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *ldifwrite.Writer)
		is    error
		want  string
	}{
		{
			name:  "attribute before any record",
			write: func(w *ldifwrite.Writer) { w.Attr("cn", "x") },
			is:    ldifwrite.ErrNoRecord,
		},
		{
			name: "binary after End",
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.End()
				w.Binary("objectSid", []byte{1})
			},
			is: ldifwrite.ErrNoRecord,
		},
		{
			name: "bad attribute name",
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Attr("bad name", "x")
			},
			want: `invalid attribute name "bad name"`,
		},
		{
			name: "comment inside record",
			write: func(w *ldifwrite.Writer) {
				w.Begin("DC=a")
				w.Comment("no")
			},
			want: "comment inside a record",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ldifwrite.NewWriter(&bytes.Buffer{}, ldifwrite.Options{})
			tt.write(w)
			// Sticky: later calls neither clear nor replace the error.
			w.Begin("DC=later")
			err := w.Flush()
			if err == nil {
				t.Fatal("Flush: no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v, want errors.Is %v", err, tt.is)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
		})
	}
}

func TestIsSafe(t *testing.T) {
	tests := map[string]bool{
		"":             true,
		"plain":        true,
		"a:b<c":        true,
		"CN=A\\, B":    true,
		" x":           false,
		":x":           false,
		"<x":           false,
		"x ":           false,
		"é":            false,
		"a\x00b":       false,
		"a\rb":         false,
		"tab\tinside":  true,
		"#not comment": true,
	}
	for in, want := range tests {
		if got := ldifwrite.IsSafe(in); got != want {
			t.Errorf("IsSafe(%q) = %v, want %v", in, got, want)
		}
	}
}

// roundTrip writes one record and reads it back with the independent reader.
func roundTrip(t *testing.T, width int, dn, name string, values []string) {
	t.Helper()
	var buf bytes.Buffer
	w := ldifwrite.NewWriter(&buf, ldifwrite.Options{Width: width})
	w.Comment("round trip")
	w.Begin(dn)
	w.Attr(name, values...)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	eff := width
	switch {
	case eff == 0:
		eff = ldifwrite.DefaultWidth
	case eff < 8:
		eff = 8
	}
	var got []ldifcheck.Record
	err := ldifcheck.Read(&buf, ldifcheck.Options{MaxWidth: eff}, func(r ldifcheck.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatalf("read back: %v\n%s", err, buf.String())
	}
	want := []ldifcheck.Record{{DN: dn, ChangeType: "add"}}
	for _, v := range values {
		want[0].Attrs = append(want[0].Attrs, ldifcheck.Attr{Name: name, Value: v, Base64: !ldifwrite.IsSafe(v)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriter_roundTrip(t *testing.T) {
	roundTrip(t, 0, "CN=Smith\\, John,OU=Staff,OU=Corp,DC=source,DC=test", "description",
		[]string{strings.Repeat("long value ", 30), "Ærøskøbing Ñandú 東京", " x ", ""})
	roundTrip(t, 9, "CN=東京都,DC=test", "cn", []string{"東京都", strings.Repeat("é", 50)})
}

func TestWriter_commentFoldsOnRuneBoundaries(t *testing.T) {
	var buf bytes.Buffer
	w := ldifwrite.NewWriter(&buf, ldifwrite.Options{Width: 9})
	w.Comment("Zoë Ågren 東京 𝄞𝄞")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var unfolded strings.Builder
	for i, line := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		if len(line) > 9 {
			t.Errorf("line %d is %d bytes: %q", i, len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i, line)
		}
		if i > 0 {
			line = strings.TrimPrefix(line, " ")
		}
		unfolded.WriteString(line)
	}
	if got, want := unfolded.String(), "# Zoë Ågren 東京 𝄞𝄞"; got != want {
		t.Errorf("unfolded %q, want %q", got, want)
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("CN=Smith\\, John,DC=a", "plain value", 0)
	f.Add("CN=Zoë,DC=a", " leading space", 10)
	f.Add("dc=x", strings.Repeat("𝄞", 40), 8)
	f.Fuzz(func(t *testing.T, dn, value string, width int) {
		if dn == "" || !utf8.ValidString(dn) {
			return // a DN is a UTF-8 string; the reader starts records on dn lines
		}
		roundTrip(t, width%200, dn, "description", []string{value})
	})
}
