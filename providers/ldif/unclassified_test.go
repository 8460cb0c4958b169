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

// Trusts live under CN=System, outside any OU scope: asked for, they are
// read there on both discovery paths; not asked for, they are not.
func TestDiscover_trustsUnderSystem(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s.ldif")
	data := "dn: OU=Staff,DC=x\nobjectClass: organizationalUnit\n\n" +
		"dn: CN=System,DC=x\nobjectClass: container\n\n" +
		"dn: CN=t.test,CN=System,DC=x\nobjectClass: trustedDomain\ntrustPartner: t.test\nflatName: T\ntrustDirection: 2\n\n" +
		"dn: CN=Other,CN=System,DC=x\nobjectClass: container\n\n" +
		"dn: CN=Ann,OU=Staff,DC=x\nobjectClass: user\nsAMAccountName: ann\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	scope := providers.Scope{BaseDN: "DC=x", IncludeOUs: []string{"OU=Staff,DC=x"},
		Kinds: []providers.Kind{providers.KindUser, providers.KindTrust}, Attributes: []string{"trustpartner", "trustdirection", "samaccountname"}}
	streamed, loaded, serr, lerr := discoverBoth(t, file, scope)
	if serr != nil || lerr != nil {
		t.Fatal(serr, lerr)
	}
	for name, objs := range map[string][]providers.Object{"streamed": streamed, "loaded": loaded} {
		var got []string
		for _, o := range objs {
			got = append(got, string(o.Kind)+" "+o.DN+" "+o.Get("trustpartner")+o.Get("trustdirection"))
		}
		want := "ou OU=Staff,DC=x |trust CN=t.test,CN=System,DC=x t.test2|user CN=Ann,OU=Staff,DC=x "
		if strings.Join(got, "|") != want {
			t.Errorf("%s: %q, want %q", name, strings.Join(got, "|"), want)
		}
	}
	scope.Kinds = []providers.Kind{providers.KindUser}
	streamed, _, _, _ = discoverBoth(t, file, scope)
	for _, o := range streamed {
		if o.Kind == providers.KindTrust {
			t.Errorf("a trust without asking: %s", o.DN)
		}
	}
}
