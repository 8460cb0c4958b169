package adid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// The fuzz targets check that no input panics, that every error wraps the
// package's sentinel, and the round-trip properties: whatever parses
// prints to a canonical form that parses back to the same value, and the
// binary and string forms of a value agree. Corpus: testdata/fuzz.

func FuzzParseSID(f *testing.F) {
	for _, tc := range sidCases {
		f.Add(tc.in)
	}
	for _, s := range []string{"S-1-0x", "S-1-5-", "S-2-5", "S-1-281474976710656", "S-1-5-4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSID(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidSID) {
				t.Fatalf("ParseSID(%q): %v does not wrap ErrInvalidSID", in, err)
			}
			return
		}
		str := s.String()
		again, err := ParseSID(str)
		if err != nil || again != s || again.String() != str {
			t.Fatalf("%q → %q → %v, %v", in, str, again, err)
		}
		b, _ := s.MarshalBinary()
		back, n, err := DecodeSID(b)
		if err != nil || n != len(b) || back != s {
			t.Fatalf("%q → %x → %v (%d bytes), %v", in, b, back, n, err)
		}
	})
}

func FuzzDecodeSID(f *testing.F) {
	for _, tc := range sidCases {
		b, _ := hex.DecodeString(tc.bin)
		f.Add(b)
	}
	f.Add([]byte{1, 16})
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, n, err := DecodeSID(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidSID) {
				t.Fatalf("DecodeSID(%x): %v does not wrap ErrInvalidSID", in, err)
			}
			return
		}
		b, _ := s.AppendBinary(nil)
		if n != len(b) || !bytes.Equal(b, in[:n]) {
			t.Fatalf("DecodeSID(%x) = %v, %d bytes; re-encoded %x", in, s, n, b)
		}
		var exact SID
		if err := exact.UnmarshalBinary(in); (err == nil) != (n == len(in)) || err == nil && exact != s {
			t.Fatalf("UnmarshalBinary(%x) = %v, %v; DecodeSID used %d bytes", in, exact, err, n)
		}
		back, err := ParseSID(s.String())
		if err != nil || back != s {
			t.Fatalf("%x → %s → %v, %v", in, s, back, err)
		}
	})
}

func FuzzParseGUID(f *testing.F) {
	for _, tc := range guidCases {
		f.Add(tc.str)
		f.Add(upper(tc.str))
	}
	f.Add("{bf967aba-0de6-11d0-a285-00aa003049e2}")
	f.Fuzz(func(t *testing.T, in string) {
		g, err := ParseGUID(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidGUID) {
				t.Fatalf("ParseGUID(%q): %v does not wrap ErrInvalidGUID", in, err)
			}
			return
		}
		if str := g.String(); str != strings.ToLower(in) {
			t.Fatalf("ParseGUID(%q).String() = %q", in, str)
		}
		if GUIDFromUUID(g.UUID()) != g {
			t.Fatalf("UUID round trip of %v", g)
		}
	})
}

func FuzzDecodeGUID(f *testing.F) {
	for _, tc := range guidCases {
		b, _ := hex.DecodeString(tc.wire)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g, err := DecodeGUID(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidGUID) || len(in) == 16 {
				t.Fatalf("DecodeGUID(%x): %v", in, err)
			}
			return
		}
		back, err := ParseGUID(g.String())
		if err != nil || back != g || !bytes.Equal(back[:], in) {
			t.Fatalf("%x → %s → %x, %v", in, g, back, err)
		}
	})
}
