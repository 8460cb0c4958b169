package odj

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecodeFile_forms(t *testing.T) {
	file, ndr, _ := readSamba(t)
	if !bytes.HasPrefix(file, []byte{0xff, 0xfe}) || !bytes.HasSuffix(file, []byte{0, 0}) {
		t.Fatal("Samba's file is not BOM + UTF-16LE + zero unit; the format note is wrong")
	}
	if got := EncodeFile(ndr); !bytes.Equal(got, file) {
		t.Fatal("EncodeFile differs from Samba's file")
	}
	ascii := make([]byte, 0, len(file)/2)
	for i := 2; i+1 < len(file)-2; i += 2 {
		ascii = append(ascii, file[i])
	}
	crlf := append(append([]byte{}, file[:len(file)-2]...), '\r', 0, '\n', 0)
	for name, in := range map[string][]byte{
		"samba":      file,
		"no zero":    file[:len(file)-2],
		"crlf":       crlf,
		"ascii":      ascii,
		"ascii crlf": append(append([]byte{}, ascii...), "\r\n"...),
		"leading nl": append([]byte("\n"), ascii...),
	} {
		got, err := DecodeFile(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, ndr) {
			t.Errorf("%s: different bytes", name)
		}
	}
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"odd":        {file[:len(file)-1], "odd number"},
		"no bom":     {file[2:], "without its byte order mark"},
		"non-ascii":  {append(append([]byte{}, file[:len(file)-2]...), 0xe9, 0x00), "is not base64"},
		"not base64": {[]byte("!!!!"), "base64"},
		"huge":       {make([]byte, 2*MaxSize*2), "exceeds the limit"},
	} {
		_, err := DecodeFile(tc.in)
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrMalformed mentioning %q", name, err, tc.want)
		}
	}
}
