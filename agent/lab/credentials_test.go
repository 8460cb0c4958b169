package lab

import (
	"strings"
	"testing"
)

func TestParseUsers(t *testing.T) {
	got, err := parseUsers("S-1-5-21-1-2-3-1104=alice\n\n  S-1-5-21-1-2-3-1105 = bob  \n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].account != "alice" || got[1].sid.String() != "S-1-5-21-1-2-3-1105" || got[1].account != "bob" {
		t.Errorf("parseUsers: %+v", got)
	}
	if got, err := parseUsers(" \n\n"); err != nil || len(got) != 0 {
		t.Errorf("parseUsers of blank lines: %v, %v; want no user", got, err)
	}
	for in, want := range map[string]string{
		"S-1-5-21-1-2-3-1104":             "not SOURCE-SID=TARGET-ACCOUNT",
		"S-1-5-21-1-2-3-1104=":            "not SOURCE-SID=TARGET-ACCOUNT",
		"alice=bob":                       "line 1",
		"S-1-5-21-1-2-3-1104=../../etc/x": "not a sAMAccountName",
		"S-1-5-21-1-2-3-1104=a@EVIL.TEST": "not a sAMAccountName",
		"S-1-5-21-1-2-3-1104=-V":          "not a sAMAccountName",
	} {
		if _, err := parseUsers(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseUsers(%q): %v, want %q", in, err, want)
		}
	}
}

func FuzzParseUsers(f *testing.F) {
	f.Add("S-1-5-21-1-2-3-1104=alice\nS-1-5-21-1-2-3-1105=bob")
	f.Add("=\n==\nS-1-0=")
	f.Fuzz(func(t *testing.T, in string) {
		users, err := parseUsers(in)
		if err != nil {
			return
		}
		for _, u := range users {
			if u.account == "" || u.sid.IsZero() || strings.ContainsAny(u.account, "/@") || u.account[0] == '-' {
				t.Errorf("parsed %q into an empty user %+v", in, u)
			}
		}
	})
}
