package odj

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestSecret_neverShows(t *testing.T) {
	j := testJoin(t, "WS0001")
	pw := string(utf16.Decode(j.Password.Units()))
	p, err := New(j)
	if err != nil {
		t.Fatal(err)
	}
	w7, _ := p.Win7()
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprint(p), fmt.Sprintf("%+v", *w7), fmt.Sprintf("%#v", *w7), fmt.Sprintf("%s %q %x %d", j.Password, j.Password, j.Password, j.Password),
		fmt.Sprint(j), string(js), j.Password.String(), j.Password.GoString(),
	} {
		if strings.Contains(s, pw) || strings.Contains(s, pw[:8]) {
			t.Fatalf("password shows in %q", s)
		}
		if !strings.Contains(s, redacted) && !strings.Contains(s, "0x") {
			t.Errorf("%q does not say %s", s, redacted)
		}
	}
	if got := string(utf16.Decode(j.Password.Units())); got != pw {
		t.Fatal("Units lost the password")
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[rune]bool{}
	for range 20 {
		s, err := RandomPassword(120)
		if err != nil {
			t.Fatal(err)
		}
		if s.Len() != 120 {
			t.Fatalf("length %d", s.Len())
		}
		for _, u := range s.Units() {
			if !strings.ContainsRune(passwordAlphabet, rune(u)) {
				t.Fatalf("unit %#x outside the alphabet", u)
			}
			seen[rune(u)] = true
		}
	}
	// 2,400 draws over 90 characters: every one shows up (a stuck or
	// biased generator would not).
	if len(seen) != len(passwordAlphabet) {
		t.Fatalf("%d of %d characters drawn", len(seen), len(passwordAlphabet))
	}
	a, _ := RandomPassword(120)
	b, _ := RandomPassword(120)
	if a.Equal(b) {
		t.Fatal("two random passwords are equal")
	}
	if !a.Equal(SecretFromUnits(a.Units())) || a.Equal(NewSecret("x")) {
		t.Fatal("Equal is wrong")
	}
	if got := NewSecret("ab").UTF16LE(); string(got) != "a\x00b\x00" {
		t.Fatalf("UTF16LE = %q", got)
	}
}
