package ldif

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/adshift/adshift/providers"
)

// TestChangesFile_ldapmodify checks the changes file with OpenLDAP's own
// LDIF parser: "ldapmodify -n" parses every record and connects nowhere.
func TestChangesFile_ldapmodify(t *testing.T) {
	bin, err := exec.LookPath("ldapmodify")
	if err != nil {
		t.Skip("ldapmodify not installed (apt-get install ldap-utils)")
	}
	p, file := setup(t)
	long := strings.Repeat("Grüße aus Köln, ", 12)
	res := apply(t, p,
		providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Zürich,DC=source,DC=test"},
		providers.Change{ID: 2, Op: providers.OpCreate, Kind: providers.KindUser, DN: `CN=Doe\, Jane,OU=Zürich,DC=source,DC=test`,
			Attrs: []providers.AttrChange{
				{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{"jdoe"}},
				{Name: "description", Op: providers.AttrReplace, Values: []string{long, " leading space", "trailing space "}},
				{Name: "sIDHistory", Op: providers.AttrReplace, Values: []string{"S-1-5-21-7-8-9-1201"}},
			}},
		providers.Change{ID: 3, Op: providers.OpUpdate, DN: groupDN, Attrs: []providers.AttrChange{
			{Name: "member", Op: providers.AttrAdd, Values: []string{`CN=Doe\, Jane,OU=Zürich,DC=source,DC=test`}},
			{Name: "member", Op: providers.AttrDelete, Values: []string{mullerDN}},
			{Name: "info", Op: providers.AttrReplace, Values: []string{"line one\nline two"}},
		}},
		providers.Change{ID: 4, Op: providers.OpMove, DN: smithDN, NewDN: `CN=Smith\, John,OU=Zürich,DC=source,DC=test`},
		providers.Change{ID: 5, Op: providers.OpMove, DN: mullerDN, NewDN: "CN=Jörg Müller,OU=Users,OU=Staff,DC=source,DC=test"},
		providers.Change{ID: 6, Op: providers.OpDelete, DN: "CN=Partner Contact,OU=Staff,DC=source,DC=test"},
	)
	for id, r := range res {
		if r.Error != "" {
			t.Fatalf("change %d: %s", id, r.Error)
		}
	}
	changes := DefaultChangesFile(file)
	out, err := exec.Command(bin, "-n", "-H", "ldap://127.0.0.1:9", "-x", "-f", changes).CombinedOutput()
	if err != nil {
		data, _ := os.ReadFile(changes)
		t.Fatalf("ldapmodify -n: %v\n%s\nfile:\n%s", err, out, data)
	}
	for _, want := range []string{
		`!adding new entry "OU=Zürich,DC=source,DC=test"`,
		`!adding new entry "CN=Doe\, Jane,OU=Zürich,DC=source,DC=test"`,
		`!modifying entry "CN=Staff Group,OU=Staff,DC=source,DC=test"`,
		`!deleting entry "CN=Partner Contact,OU=Staff,DC=source,DC=test"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ldapmodify output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("ldapmodify -n:\n%s", out)
	if n := strings.Count(string(out), "!"); n != 6 {
		t.Errorf("ldapmodify saw %d records, want 6:\n%s", n, out)
	}
}
