package labdevice

import (
	"encoding/base64"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLDIF(t *testing.T) {
	sid := []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}
	in := "dn: CN=a,DC=x\nsAMAccountName: a\nobjectSid:: " + base64.StdEncoding.EncodeToString(sid) + "\n\n" +
		"# refldaps://x/CN=Configuration\n\ndn:: " + base64.StdEncoding.EncodeToString([]byte("CN=é,DC=x")) + "\nmember: CN=a,DC=x\nmember: CN=b,DC=x\n"
	got, err := parseLDIF(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []entry{
		{DN: "CN=a,DC=x", Attrs: map[string][]string{"samaccountname": {"a"}, "objectsid": {string(sid)}}},
		{DN: "CN=é,DC=x", Attrs: map[string][]string{"member": {"CN=a,DC=x", "CN=b,DC=x"}}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(entry{})); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	if _, err := parseLDIF("dn: x\nno colon here\n"); err == nil {
		t.Error("a line without a colon was accepted")
	}
	if _, err := parseLDIF("dn: x\na:: !!!\n"); err == nil {
		t.Error("bad base64 was accepted")
	}
}

func FuzzParseLDIF(f *testing.F) {
	f.Add("dn: CN=a,DC=x\nsAMAccountName: a\n\n")
	f.Add("a: b\ndn:: Q049YQ==\nx:: AAE=\n")
	f.Fuzz(func(t *testing.T, in string) {
		es, err := parseLDIF(in)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Attrs == nil {
				t.Errorf("entry %q without an attribute map", e.DN)
			}
		}
	})
}

func TestUnicodePwd(t *testing.T) {
	// "ab" quoted, UTF-16LE.
	want := base64.StdEncoding.EncodeToString([]byte{'"', 0, 'a', 0, 'b', 0, '"', 0})
	if got := unicodePwd("ab"); got != want {
		t.Errorf("unicodePwd: %s, want %s", got, want)
	}
}

func TestLDAPEscape(t *testing.T) {
	if got := ldapEscape(`a*(b)\c`); got != `a\2a\28b\29\5cc` {
		t.Errorf("ldapEscape: %s", got)
	}
}
