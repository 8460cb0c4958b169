package ldif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// toUTF16 encodes s (UTF-8) as UTF-16, with a byte order mark as ldifde -u
// writes it unless bom is false.
func toUTF16(s string, bigEndian, bom bool) []byte {
	var order binary.AppendByteOrder = binary.LittleEndian
	if bigEndian {
		order = binary.BigEndian
	}
	var b []byte
	if bom {
		b = order.AppendUint16(b, 0xFEFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

// toUTF32LE encodes s as UTF-32LE, with a byte order mark if bom.
func toUTF32LE(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = binary.LittleEndian.AppendUint32(b, 0xFEFF)
	}
	for _, r := range s {
		b = binary.LittleEndian.AppendUint32(b, uint32(r))
	}
	return b
}

// unicodeExport is an export in the shape ldifde -u writes: CRLF, values
// in plain text whatever their script (also outside the BMP, which UTF-16
// holds as surrogate pairs), binary values in base64, a folded line.
const unicodeExport = "dn: DC=source,DC=test\r\nchangetype: add\r\nobjectClass: domainDNS\r\ndc: source\r\n\r\n" +
	"dn: CN=José Müller,DC=source,DC=test\r\nchangetype: add\r\nobjectClass: user\r\ncn: José Müller\r\n" +
	"displayName: 山田 太郎 😀\r\ndescription: Ωμέγα, a value long enough that ldifde folds it onto a sec\r\n ond line\r\n" +
	"objectGUID:: LIoebz1LXkyfgBEiM0RVZg==\r\nsAMAccountName: jmüller\r\n\r\n"

func TestReader_encodings(t *testing.T) {
	want, err := readString(t, unicodeExport, ReaderOptions{})
	if err != nil || len(want) != 2 {
		t.Fatalf("UTF-8: %d records, %v", len(want), err)
	}
	if got := want[1].Attrs[2].Values[0]; got != "山田 太郎 😀" {
		t.Fatalf("displayName %q", got)
	}
	inputs := map[string][]byte{
		"UTF-8 with BOM":        append([]byte("\xEF\xBB\xBF"), unicodeExport...),
		"UTF-16LE with BOM":     toUTF16(unicodeExport, false, true),
		"UTF-16BE with BOM":     toUTF16(unicodeExport, true, true),
		"UTF-16LE, LF line end": toUTF16(strings.ReplaceAll(unicodeExport, "\r\n", "\n"), false, true),
	}
	for name, in := range inputs {
		// Whole, and one byte per Read: a surrogate pair or a unit split
		// between reads must not matter.
		for _, src := range []struct {
			how string
			r   io.Reader
		}{{"whole", bytes.NewReader(in)}, {"byte by byte", iotest.OneByteReader(bytes.NewReader(in))}} {
			t.Run(name+", "+src.how, func(t *testing.T) {
				got, err := ReadAll(NewReader(src.r, "unicode.ldif", ReaderOptions{}))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("records (-UTF-8 +%s):\n%s", name, diff)
				}
			})
		}
	}
}

func TestReader_encodingErrors(t *testing.T) {
	const lf = "dn: DC=source,DC=test\nobjectClass: domainDNS\n\ndn: CN=a,DC=source,DC=test\ncn: a\n"
	utf16Damaged := func(bigEndian bool, tail ...uint16) []byte {
		b := toUTF16(lf+"description: x", bigEndian, true)
		for _, u := range tail {
			if bigEndian {
				b = binary.BigEndian.AppendUint16(b, u)
			} else {
				b = binary.LittleEndian.AppendUint16(b, u)
			}
		}
		return append(b, toUTF16("y\n", bigEndian, false)...)
	}
	tests := []struct {
		name string
		in   []byte
		line int
		msg  []string
	}{
		{"UTF-32LE with BOM", toUTF32LE(lf, true), 1, []string{"UTF-32LE", "UTF-32 byte order mark", "ldifde -u", "convert the file to UTF-8"}},
		{"UTF-32BE with BOM", append([]byte{0, 0, 0xFE, 0xFF}, "\x00\x00\x00d"...), 1, []string{"UTF-32BE", "ldifde -u"}},
		{"UTF-32LE without BOM", toUTF32LE(lf, false), 1, []string{"UTF-32LE without a byte order mark", "ldifde -u"}},
		{"UTF-16LE without BOM", toUTF16(lf, false, false), 1, []string{"UTF-16LE without a byte order mark", "ldifde -u", "iconv -f UTF-16LE"}},
		{"UTF-16BE without BOM", toUTF16(lf, true, false), 1, []string{"UTF-16BE without a byte order mark", "ldifde -u"}},
		{"Windows-1252", []byte(lf + "description: Jos\xe9\n"), 6, []string{"not valid UTF-8", "byte 0xE9 at column 17", "Windows-1252", "ldifde -u", "convert the file to UTF-8"}},
		{"Windows-1252 DN", []byte("dn: CN=Jos\xe9,DC=x\ncn: a\n"), 1, []string{"not valid UTF-8"}},
		{"Windows-1252 in a folded line", []byte(lf + "description: a\n b\xe9\n"), 6, []string{"not valid UTF-8"}},
		{"base64 DN not UTF-8", []byte("dn:: Q049Sm9z6Q==\ncn: a\n"), 1, []string{"base64 DN is not valid UTF-8", "ldifde -u"}},
		{"NUL byte", []byte(lf + "description: a\x00b\n"), 6, []string{"NUL byte at column 15", "UTF-16"}},
		{"UTF-16LE low surrogate alone", utf16Damaged(false, 0xDC00), 6, []string{"invalid UTF-16LE", "low surrogate 0xDC00", "ldifde -u"}},
		{"UTF-16BE high surrogate alone", utf16Damaged(true, 0xD83D, 'x'), 6, []string{"invalid UTF-16BE", "high surrogate 0xD83D is followed by 0x0078"}},
		{"UTF-16LE ends after a high surrogate", append(toUTF16(lf+"description: x", false, true), 0x3D, 0xD8), 6, []string{"ends after the high surrogate 0xD83D"}},
		{"UTF-16LE odd length", append(toUTF16(lf+"description: x", false, true), 'y'), 6, []string{"invalid UTF-16LE", "odd number of bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAll(NewReader(bytes.NewReader(tt.in), "export.ldif", ReaderOptions{}))
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("export.ldif:%d: ", tt.line)) {
				t.Errorf("error %q does not name export.ldif:%d", err, tt.line)
			}
			for _, m := range tt.msg {
				if !strings.Contains(le.Msg, m) {
					t.Errorf("error %q does not say %q", err, m)
				}
			}
		})
	}
}

// TestDiscover_utf16 plans against ldifde -u exports: streamed and loaded
// Discover give the objects of the same export in UTF-8, also when entries
// without uSNChanged make Discover read an entry again; Apply folds the
// snapshot, in UTF-8.
func TestDiscover_utf16(t *testing.T) {
	data, err := os.ReadFile("testdata/source.ldif")
	if err != nil {
		t.Fatal(err)
	}
	sample := string(data)
	noUSN := strings.ReplaceAll(strings.ReplaceAll(sample, "uSNChanged: ", "x-uSN: "), "\r\n", "\n")
	for _, tc := range []struct {
		name, export string
	}{{"fixture, CRLF", sample}, {"without uSNChanged, LF", noUSN}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			plain := filepath.Join(dir, "plain.ldif")
			if err := os.WriteFile(plain, []byte(tc.export), 0o644); err != nil {
				t.Fatal(err)
			}
			want, _, err, _ := discoverBoth(t, plain, providers.Scope{BaseDN: base, Attributes: []string{"cn"}})
			if err != nil || len(want) == 0 {
				t.Fatalf("UTF-8: %d objects, %v", len(want), err)
			}
			for _, bigEndian := range []bool{false, true} {
				file := filepath.Join(dir, fmt.Sprintf("unicode-%v.ldif", bigEndian))
				if err := os.WriteFile(file, toUTF16(tc.export, bigEndian, true), 0o644); err != nil {
					t.Fatal(err)
				}
				streamed, loaded, serr, lerr := discoverBoth(t, file, providers.Scope{BaseDN: base, Attributes: []string{"cn"}})
				if serr != nil || lerr != nil {
					t.Fatalf("big-endian %v: streamed %v, loaded %v", bigEndian, serr, lerr)
				}
				if diff := cmp.Diff(want, streamed); diff != "" {
					t.Errorf("big-endian %v: streamed (-UTF-8 +UTF-16):\n%s", bigEndian, diff)
				}
				if diff := cmp.Diff(want, loaded); diff != "" {
					t.Errorf("big-endian %v: loaded (-UTF-8 +UTF-16):\n%s", bigEndian, diff)
				}
			}
			file := filepath.Join(dir, "unicode-false.ldif")
			p := configure(t, file)
			if res := apply(t, p, providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Folded,DC=source,DC=test"}); res[1].Error != "" {
				t.Fatal(res[1].Error)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.Valid(data) || !bytes.Contains(data, []byte("dn: OU=Folded,DC=source,DC=test")) {
				t.Errorf("the folded snapshot is not UTF-8 with the new OU:\n%.200q", data)
			}
		})
	}
}

// TestConfigure_encodingError: a snapshot in an encoding the reader
// cannot read is a diagnostic on "file" that names the encoding.
func TestConfigure_encodingError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "export.ldif")
	if err := os.WriteFile(file, toUTF16(unicodeExport, false, false), 0o644); err != nil {
		t.Fatal(err)
	}
	diags, err := New(nil).Configure(t.Context(), cty.ObjectVal(map[string]cty.Value{"file": cty.StringVal(file)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || diags[0].Summary != "Invalid LDIF file" || !strings.Contains(diags[0].Detail, "export.ldif:1: the file looks like UTF-16LE without a byte order mark") {
		t.Errorf("diags = %v", diags)
	}
}

// FuzzUTF16 checks the decoder against unicode/utf16 on any input, read
// whole and byte by byte, in both byte orders, and that a Reader on a
// UTF-16 file fails only with *Error.
func FuzzUTF16(f *testing.F) {
	f.Add(toUTF16(unicodeExport, false, false))
	f.Add([]byte{0x3D, 0xD8, 0x00, 0xDE})    // 😀
	f.Add([]byte{0x00, 0xDC, 'a', 0})        // a low surrogate alone
	f.Add([]byte{0x3D, 0xD8, 'a', 0})        // a high surrogate alone
	f.Add([]byte{'d', 0, 'n', 0, ':', 0, 1}) // odd length
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, enc := range []textEncoding{encUTF16LE, encUTF16BE} {
			var units []uint16
			for i := 0; i+1 < len(data); i += 2 {
				if enc == encUTF16BE {
					units = append(units, binary.BigEndian.Uint16(data[i:]))
				} else {
					units = append(units, binary.LittleEndian.Uint16(data[i:]))
				}
			}
			valid := len(data)%2 == 0
			for i := 0; i < len(units) && valid; i++ {
				switch u := rune(units[i]); {
				case u >= 0xDC00 && u <= 0xDFFF:
					valid = false
				case u >= 0xD800 && u <= 0xDBFF:
					if i+1 == len(units) || units[i+1] < 0xDC00 || units[i+1] > 0xDFFF {
						valid = false
					}
					i++
				}
			}
			want := string(utf16.Decode(units))
			whole, err1 := io.ReadAll(newUTF16Reader(bytes.NewReader(data), enc))
			bytewise, err2 := io.ReadAll(newUTF16Reader(iotest.OneByteReader(bytes.NewReader(data)), enc))
			var ee *encodingError
			for _, err := range []error{err1, err2} {
				if valid && err != nil || !valid && !errors.As(err, &ee) {
					t.Fatalf("%s %x: valid %v, err %v", enc, data, valid, err)
				}
			}
			if !bytes.Equal(whole, bytewise) {
				t.Fatalf("%s %x: whole %q, byte by byte %q", enc, data, whole, bytewise)
			}
			if valid && string(whole) != want {
				t.Fatalf("%s %x: decoded %q, unicode/utf16 %q", enc, data, whole, want)
			}
			if !valid && !strings.HasPrefix(want, string(whole)) && !utf8.Valid(whole) {
				t.Fatalf("%s %x: decoded %q before the error", enc, data, whole)
			}
			bom := toUTF16("", enc == encUTF16BE, true)
			_, err := ReadAll(NewReader(bytes.NewReader(append(bom, data...)), "fuzz.ldif", ReaderOptions{MaxLineBytes: 1 << 16}))
			if le := (*Error)(nil); err != nil && !errors.As(err, &le) {
				t.Fatalf("error is not *Error: %v", err)
			}
		}
	})
}

// TestCheckText puts a bad byte, and a valid two-byte character, at every
// position of lines of every length around the 8-byte words the fast path
// reads.
func TestCheckText(t *testing.T) {
	for n := 0; n <= 26; n++ {
		for pos := 0; pos < n; pos++ {
			for _, bad := range []byte{0, 0x80, 0xC3, 0xE9, 0xFF} {
				b := bytes.Repeat([]byte("a"), n)
				b[pos] = bad
				if checkText(b) == "" {
					t.Errorf("byte 0x%02X at %d of %d accepted", bad, pos, n)
				}
			}
			if pos+1 < n {
				b := bytes.Repeat([]byte("a"), n)
				copy(b[pos:], "é")
				if msg := checkText(b); msg != "" {
					t.Errorf("é at %d of %d: %s", pos, n, msg)
				}
			}
		}
		if msg := checkText(bytes.Repeat([]byte("~"), n)); msg != "" {
			t.Errorf("ASCII line of %d: %s", n, msg)
		}
	}
}

// TestUTF16Reader_fastPath puts a non-ASCII character (one unit, and a
// surrogate pair) at every position of ASCII runs of every length around
// the four units the fast path takes at once.
func TestUTF16Reader_fastPath(t *testing.T) {
	for n := 0; n <= 12; n++ {
		for pos := 0; pos <= n; pos++ {
			for _, c := range []string{"é", "😀", "\u0100", "\u8000"} {
				s := strings.Repeat("a", pos) + c + strings.Repeat("b", n-pos)
				for _, bigEndian := range []bool{false, true} {
					enc := encUTF16LE
					if bigEndian {
						enc = encUTF16BE
					}
					got, err := io.ReadAll(newUTF16Reader(bytes.NewReader(toUTF16(s, bigEndian, false)), enc))
					if err != nil || string(got) != s {
						t.Errorf("%s %q: %q, %v", enc, s, got, err)
					}
				}
			}
		}
	}
}
