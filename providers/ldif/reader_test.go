package ldif

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func readString(t *testing.T, in string, opts ReaderOptions) ([]*Record, error) {
	t.Helper()
	return ReadAll(NewReader(strings.NewReader(in), "test.ldif", opts))
}

func TestReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []*Record
	}{
		{
			name: "version, comments, folding, base64, options, multi-valued",
			in: "version: 1\n# a comment\n#  folded\n  comment\n\n" +
				"dn: CN=Jos\\C3\\A9,OU=Staff,DC=source,DC=test\n" +
				"objectClass: top\nobjectClass: user\n" +
				"description: a long va\n lue folded\n" +
				"cn:: Sm9zw6k=\n" +
				"member;range=0-1: CN=a,DC=x\n" +
				"userCertificate;binary:: AAEC\n" +
				"objectClass: person\n",
			want: []*Record{{
				DN: `CN=Jos\C3\A9,OU=Staff,DC=source,DC=test`, Line: 6,
				Attrs: []Attr{
					{"objectClass", []string{"top", "user", "person"}},
					{"description", []string{"a long value folded"}},
					{"cn", []string{"José"}},
					{"member;range=0-1", []string{"CN=a,DC=x"}},
					{"userCertificate;binary", []string{"\x00\x01\x02"}},
				},
			}},
		},
		{
			name: "CRLF, BOM, ldifde changetype add, several blank lines",
			in:   "\xEF\xBB\xBF\r\ndn: DC=source,DC=test\r\nchangetype: add\r\ndc: source\r\n\r\n\r\ndn: OU=Staff,DC=source,DC=test\r\nchangetype: add\r\nou: Staff\r\n",
			want: []*Record{
				{DN: "DC=source,DC=test", Line: 2, ChangeType: "add", Attrs: []Attr{{"dc", []string{"source"}}}},
				{DN: "OU=Staff,DC=source,DC=test", Line: 7, ChangeType: "add", Attrs: []Attr{{"ou", []string{"Staff"}}}},
			},
		},
		{
			name: "change records",
			in: "dn: CN=a,DC=x\nchangetype: modify\nadd: member\nmember: CN=b,DC=x\nmember: CN=c,DC=x\n-\nreplace: description\ndescription: d\n-\ndelete: info\n-\n\n" +
				"dn: CN=a,DC=x\ncontrol: 1.2.840.113556.1.4.805 true\nchangetype: moddn\nnewrdn: CN=b\ndeleteoldrdn: 1\nnewsuperior: OU=y,DC=x\n\n" +
				"dn: CN=b,OU=y,DC=x\nchangetype: delete\n\n" +
				"dn: CN=c,DC=x\nchangetype: modify\nreplace: title\ntitle: t\n",
			want: []*Record{
				{DN: "CN=a,DC=x", Line: 1, ChangeType: "modify", Mods: []Mod{
					{"add", Attr{"member", []string{"CN=b,DC=x", "CN=c,DC=x"}}},
					{"replace", Attr{"description", []string{"d"}}},
					{"delete", Attr{"info", nil}},
				}},
				{DN: "CN=a,DC=x", Line: 13, ChangeType: "moddn", Controls: []string{"1.2.840.113556.1.4.805 true"}, NewRDN: "CN=b", DeleteOldRDN: true, NewSuperior: "OU=y,DC=x"},
				{DN: "CN=b,OU=y,DC=x", Line: 20, ChangeType: "delete"},
				{DN: "CN=c,DC=x", Line: 23, ChangeType: "modify", Mods: []Mod{{"replace", Attr{"title", []string{"t"}}}}},
			},
		},
		{
			name: "empty and spaced values",
			in:   "dn: CN=a,DC=x\ndescription:\ninfo:    padded\ntitle:: IHNwYWNlIA==\n",
			want: []*Record{{DN: "CN=a,DC=x", Line: 1, Attrs: []Attr{
				{"description", []string{""}}, {"info", []string{"padded"}}, {"title", []string{" space "}},
			}}},
		},
		{name: "empty file", in: "", want: nil},
		{name: "only version and comments", in: "version: 1\n# nothing\n", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readString(t, tt.in, ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestReader_errors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
	}{
		{"bad base64", "dn: CN=a,DC=x\ncn: a\nobjectSid:: AQ!!\n", 3, `value of "objectSid" is not valid base64`},
		{"no dn", "cn: a\n", 1, `expected "dn:" to start a record`},
		{"missing colon", "dn: CN=a,DC=x\ngarbage\n", 2, `expected "name: value"`},
		{"stray continuation", " x\n", 1, "continues nothing"},
		{"url refused", "dn: CN=a,DC=x\njpegPhoto:< file:///etc/passwd\n", 2, "URL values are not read here"},
		{"bad changetype", "dn: CN=a,DC=x\nchangetype: frob\n", 2, "unknown changetype"},
		{"attr in delete", "dn: CN=a,DC=x\nchangetype: delete\ncn: a\n", 3, "a delete record has no attributes"},
		{"mod value mismatch", "dn: CN=a,DC=x\nchangetype: modify\nadd: member\ncn: a\n", 4, `end each modification with a line "-"`},
		{"bad mod op", "dn: CN=a,DC=x\nchangetype: modify\nfrob: member\n", 3, `expected "add:"`},
		{"modrdn without newrdn", "dn: CN=a,DC=x\nchangetype: modrdn\ndeleteoldrdn: 1\n", 1, `without "newrdn:"`},
		{"version 2", "version: 2\n", 1, "unsupported LDIF version"},
		{"invalid name", "dn: CN=a,DC=x\nc n: a\n", 2, "invalid attribute name"},
		{"dash outside modify", "dn: CN=a,DC=x\n-\n", 2, `expected "name: value"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readString(t, tt.in, ReaderOptions{})
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if le.Line != tt.line || !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("got %q, want line %d and %q", err, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("test.ldif:%d: ", tt.line)) {
				t.Errorf("error %q does not name file:line", err)
			}
		})
	}
}

func TestReader_fileURL(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "photo.bin"), []byte{0, 1, 2, 0xff}, 0o600); err != nil {
		t.Fatal(err)
	}
	in := "dn: CN=a,DC=x\njpegPhoto:< file:photo.bin\nthumbnailPhoto:< file://" + filepath.Join(dir, "photo.bin") + "\n"
	got, err := readString(t, in, ReaderOptions{AllowFileURLs: true, BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := []Attr{{"jpegPhoto", []string{"\x00\x01\x02\xff"}}, {"thumbnailPhoto", []string{"\x00\x01\x02\xff"}}}
	if diff := cmp.Diff(want, got[0].Attrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"http://example.com/x", "file://remote/x", "file:missing.bin", "file:///dev/zero"} {
		if _, err := readString(t, "dn: CN=a,DC=x\nj:< "+bad+"\n", ReaderOptions{AllowFileURLs: true, BaseDir: dir}); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), bytes.Repeat([]byte{'x'}, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = readString(t, "dn: CN=a,DC=x\nj:< file:big.bin\n", ReaderOptions{AllowFileURLs: true, BaseDir: dir, MaxLineBytes: 30})
	if err == nil || !strings.Contains(err.Error(), "larger than 30 bytes") {
		t.Errorf("size limit: %v", err)
	}
}

func TestReader_lineLimit(t *testing.T) {
	in := "dn: CN=a,DC=x\ndescription: " + strings.Repeat("x", 100) + "\n"
	if _, err := readString(t, in, ReaderOptions{MaxLineBytes: 50}); err == nil || !strings.Contains(err.Error(), "longer than 50 bytes") {
		t.Errorf("err = %v", err)
	}
	folded := "dn: CN=a,DC=x\ndescription: " + strings.Repeat("x\n x", 40) + "\n"
	if _, err := readString(t, folded, ReaderOptions{MaxLineBytes: 50}); err == nil || !strings.Contains(err.Error(), "longer than 50 bytes") {
		t.Errorf("folded err = %v", err)
	}
}

// TestWriter_roundTrip writes records with every kind of awkward value and
// reads them back.
func TestWriter_roundTrip(t *testing.T) {
	long := strings.Repeat("abcdefghij", 30)
	recs := []*Record{
		{DN: "CN=Müller\\, Jörg,OU=Staff,DC=source,DC=test", Attrs: []Attr{
			{"objectClass", []string{"top", "person"}},
			{"cn", []string{"Müller, Jörg"}},
			{"description", []string{long, " leading", "trailing ", ":colon", "<angle", "nul\x00", "cr\rlf\n", "", "ok: fine"}},
			{"objectSid", []string{"\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00"}},
		}},
		{DN: "CN=a,DC=x", ChangeType: ChangeModify, Mods: []Mod{
			{ModAdd, Attr{"member", []string{"CN=b,DC=x"}}},
			{ModDelete, Attr{"info", nil}},
			{ModReplace, Attr{"title", []string{long}}},
		}},
		{DN: "CN=a,DC=x", ChangeType: ChangeModRDN, NewRDN: "CN=a2", DeleteOldRDN: true, NewSuperior: "OU=é,DC=x"},
		{DN: "CN=a2,OU=é,DC=x", ChangeType: ChangeDelete},
		{DN: "CN=n,DC=x", ChangeType: ChangeAdd, Attrs: []Attr{{"cn", []string{"n"}}}},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteVersion(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteComment("adshift apply 2026-11-26T00:00:00Z\n" + strings.Repeat("é", 80)); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(buf.String(), "\n") {
		if len(l) > foldColumn {
			t.Errorf("line %d is %d bytes long", i+1, len(l))
		}
	}
	got, err := ReadAll(NewReader(&buf, "out.ldif", ReaderOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Record{}, "Line")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestIsSafeString(t *testing.T) {
	for v, want := range map[string]bool{
		"": true, "plain text": true, "a:b": true, "a<b": true,
		" x": false, ":x": false, "<x": false, "x ": false, "é": false, "a\x00": false, "a\nb": false, "a\rb": false,
	} {
		if got := IsSafeString(v); got != want {
			t.Errorf("IsSafeString(%q) = %v", v, got)
		}
	}
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"version: 1\ndn: CN=a,DC=x\nobjectClass: top\ncn:: YQ==\n\ndn: CN=b,DC=x\nchangetype: add\ncn: b\n",
		"dn: CN=a,DC=x\nchangetype: modify\nadd: member\nmember: CN=b,DC=x\n-\ndelete: info\n-\n",
		"dn: CN=a,DC=x\nchangetype: modrdn\nnewrdn: CN=b\ndeleteoldrdn: 1\nnewsuperior: DC=y\n",
		"\xEF\xBB\xBFdn: CN=a,DC=x\r\ndescription: fol\r\n ded\r\n# c\r\n  c2\r\n",
		"dn: CN=a,DC=x\nj:< file:///etc/hostname\n",
		"dn:: Q049YSxEQz14\ncontrol: 1.2.3 true\nchangetype: delete\n",
		string(toUTF16("dn: CN=José,DC=x\r\ncn: 😀\r\n", false, true)), // ldifde -u
		string(toUTF16("dn: CN=a,DC=x\ncn: b\n", true, true)),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz.ldif", ReaderOptions{MaxLineBytes: 1 << 16})
		var recs []*Record
		for i := 0; ; i++ {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var le *Error
				if !errors.As(err, &le) {
					t.Fatalf("error is not *Error: %v", err)
				}
				return
			}
			if i > len(data) {
				t.Fatalf("more records (%d) than input bytes", i)
			}
			recs = append(recs, rec)
		}
		// Whatever parsed must survive a write and a re-read.
		var buf bytes.Buffer
		w := NewWriter(&buf)
		for _, rec := range recs {
			if err := w.WriteRecord(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		back, err := ReadAll(NewReader(&buf, "rewrite.ldif", ReaderOptions{MaxLineBytes: 1 << 20}))
		if err != nil {
			t.Fatalf("re-read of written records: %v\n%s", err, buf.String())
		}
		norm := func(rs []*Record) []*Record {
			for _, r := range rs {
				r.Line = 0
			}
			return rs
		}
		if diff := cmp.Diff(norm(recs), norm(back), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("write/read round trip (-want +got):\n%s", diff)
		}
	})
}
