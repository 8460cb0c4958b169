package odj

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	file, err := os.ReadFile(sambaFile)
	if err != nil {
		f.Fatal(err)
	}
	ndr, err := DecodeFile(file)
	if err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{ndr}
	for _, p := range variants(f) {
		enc, err := p.Encode()
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, enc)
	}
	return seeds
}

// FuzzDecode feeds arbitrary bytes to Decode. Whatever decodes must
// encode, and the encoding must decode to the same data and encode to the
// same bytes (a fixed point). Decode must never panic; the fuzzer's memory
// limit catches unbounded allocation.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := p.Encode()
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		p2, err := Decode(enc)
		if err != nil {
			t.Fatalf("our own encoding does not decode: %v", err)
		}
		if d := cmp.Diff(p, p2); d != "" {
			t.Fatalf("re-decode differs (-first +second):\n%s", d)
		}
		enc2, err := p2.Encode()
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not a fixed point: %v", err)
		}
		_, _ = p.Win7()
		_ = p.JoinProv3()
	})
}

// FuzzReadFile feeds arbitrary files to ReadFile: never a panic, and a
// file that reads re-encodes to a file that reads the same.
func FuzzReadFile(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(EncodeFile(s))
	}
	f.Add([]byte("\xff\xfeA\x00A\x00\r\x00\n\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadFile(b)
		if err != nil {
			return
		}
		file, err := p.File()
		if err != nil {
			t.Fatalf("read but does not encode: %v", err)
		}
		p2, err := ReadFile(file)
		if err != nil {
			t.Fatalf("our own file does not read: %v", err)
		}
		if d := cmp.Diff(p, p2); d != "" {
			t.Fatalf("re-read differs:\n%s", d)
		}
	})
}
