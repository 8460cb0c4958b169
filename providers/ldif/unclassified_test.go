package ldif

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/providers"
)

// An entry without objectClass cannot be classified; it must not vanish
// from the plan without a word, on either discovery path.
func TestDiscover_entryWithoutObjectClassIsNamed(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.ldif")
	data := "dn: OU=Staff,DC=x\nobjectClass: organizationalUnit\n\n" +
		"dn: CN=Ann,OU=Staff,DC=x\nobjectClass: user\nsAMAccountName: ann\n\n" +
		"dn: CN=Bob,OU=Staff,DC=x\nsAMAccountName: bob\n\n" +
		"dn: CN=Out,OU=Other,DC=x\nsAMAccountName: out\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, serr, lerr := discoverBoth(t, file, providers.Scope{BaseDN: "DC=x", IncludeOUs: []string{"OU=Staff,DC=x"}})
	for name, err := range map[string]error{"streamed": serr, "loaded": lerr} {
		if err == nil || !strings.Contains(err.Error(), `s.ldif:8: entry "CN=Bob,OU=Staff,DC=x" has no objectClass`) {
			t.Errorf("%s: got %v, want the entry named with its line", name, err)
		}
	}
	// Out of scope, the same kind of entry is no one's business.
	_, _, serr, lerr = discoverBoth(t, file, providers.Scope{BaseDN: "DC=x", IncludeOUs: []string{"OU=Nowhere,DC=x"}})
	if serr != nil || lerr != nil {
		t.Errorf("out of scope: streamed %v, loaded %v", serr, lerr)
	}
}
