package ldif

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adshift/adshift/providers"
)

// labDC describes one lab domain controller from lab/env.sh's variables.
type labDC struct{ url, ca, admin, base, pwFile string }

func lab(t *testing.T, name string) labDC {
	t.Helper()
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip("needs the Samba lab: eval \"$(lab/env.sh)\" after lab/up.sh (sets ADSHIFT_LAB=1)")
	}
	for _, tool := range []string{"ldapsearch", "ldapmodify", "ldapdelete"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install ldap-utils)", tool)
		}
	}
	up := strings.ToUpper(name)
	dc := labDC{
		url: os.Getenv("ADSHIFT_LAB_" + up + "_URL"), ca: os.Getenv("ADSHIFT_LAB_" + up + "_CA"),
		admin: os.Getenv("ADSHIFT_LAB_" + up + "_ADMIN"), base: os.Getenv("ADSHIFT_LAB_" + up + "_BASE"),
	}
	// The password goes to ldap tools through a 0600 file, never argv or logs.
	dc.pwFile = filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(dc.pwFile, []byte(os.Getenv("ADSHIFT_LAB_PASSWORD")), 0o600); err != nil {
		t.Fatal(err)
	}
	return dc
}

func (dc labDC) run(t *testing.T, tool string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(tool, append([]string{"-H", dc.url, "-x", "-D", dc.admin, "-y", dc.pwFile}, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+dc.ca, "LDAPTLS_REQCERT=demand")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", tool, strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// export writes "ldapsearch -LLL" of the subtree to file.
func (dc labDC) export(t *testing.T, base, file string) {
	t.Helper()
	out := dc.run(t, "ldapsearch", "-LLL", "-o", "ldif-wrap=76", "-E", "pr=1000/noprompt", "-b", base, "(objectClass=*)")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLab_discoverExport plans offline from a real Samba export.
func TestLab_discoverExport(t *testing.T) {
	dc := lab(t, "source")
	file := filepath.Join(t.TempDir(), "source.ldif")
	dc.export(t, dc.base, file)
	p := configure(t, file)
	objs := discover(t, p, providers.Scope{BaseDN: dc.base})
	counts := map[providers.Kind]int{}
	for _, o := range objs {
		counts[o.Kind]++
		if o.GUID == "" {
			t.Errorf("%s has no objectGUID", o.DN)
		}
		if (o.Kind == providers.KindUser || o.Kind == providers.KindGroup || o.Kind == providers.KindComputer) && !strings.HasPrefix(o.SID, "S-1-5-") {
			t.Errorf("%s has SID %q", o.DN, o.SID)
		}
	}
	t.Logf("discovered %d objects from the source export: %v", len(objs), counts)
	if counts[providers.KindUser] == 0 || counts[providers.KindGroup] == 0 || counts[providers.KindOU] == 0 {
		t.Errorf("kinds missing: %v", counts)
	}
	// Discover streamed the file; load the store (as Apply would) to check
	// the domain SID it derives from the root entry.
	p.mu.Lock()
	if err := p.loadLocked(); err != nil {
		p.mu.Unlock()
		t.Fatal(err)
	}
	dom := p.st.domainSID
	p.mu.Unlock()
	if !strings.HasPrefix(dom, "S-1-5-21-") {
		t.Errorf("domain SID from the root entry = %q", dom)
	}
}

// TestLab_importChanges applies changes to an export of the target, imports
// the changes file into the real target DC with ldapmodify, exports again
// and checks that the directory now matches the snapshot. Everything
// happens inside a fresh OU that is deleted afterwards.
func TestLab_importChanges(t *testing.T) {
	dc := lab(t, "target")
	dir := t.TempDir()
	file := filepath.Join(dir, "target.ldif")
	dc.export(t, dc.base, file)
	p := configure(t, file)

	tag := fmt.Sprintf("adshift-ldif-%d-%d", os.Getpid(), time.Now().Unix()%100000)
	ou := "OU=" + tag + "," + dc.base
	t.Cleanup(func() {
		cmd := exec.Command("ldapdelete", "-H", dc.url, "-x", "-D", dc.admin, "-y", dc.pwFile, "-r", ou)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+dc.ca)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("cleanup of %s: %v %s", ou, err, out)
		}
	})
	sam := fmt.Sprintf("ldif%d", time.Now().UnixNano()%1000000)
	res := apply(t, p,
		providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: ou},
		providers.Change{ID: 2, Op: providers.OpCreate, Kind: providers.KindOU, DN: "OU=Sub," + ou},
		providers.Change{ID: 3, Op: providers.OpCreate, Kind: providers.KindUser, DN: `CN=Müller\, Jörg,` + ou, Attrs: []providers.AttrChange{
			{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{sam}},
			{Name: "displayName", Op: providers.AttrReplace, Values: []string{"Jörg Müller"}},
			{Name: "description", Op: providers.AttrReplace, Values: []string{" leading space and a long text " + strings.Repeat("x", 90)}},
		}},
		providers.Change{ID: 4, Op: providers.OpCreate, Kind: providers.KindGroup, DN: "CN=" + tag + "-g," + ou, Attrs: []providers.AttrChange{
			{Name: "sAMAccountName", Op: providers.AttrReplace, Values: []string{sam + "g"}},
		}},
		providers.Change{ID: 5, Op: providers.OpUpdate, DN: "CN=" + tag + "-g," + ou, Attrs: []providers.AttrChange{
			{Name: "member", Op: providers.AttrAdd, Values: []string{`CN=Müller\, Jörg,` + ou}},
			{Name: "description", Op: providers.AttrReplace, Values: []string{"migrated"}},
		}},
		providers.Change{ID: 6, Op: providers.OpMove, DN: `CN=Müller\, Jörg,` + ou, NewDN: `CN=Müller\, Jörg,OU=Sub,` + ou},
		providers.Change{ID: 7, Op: providers.OpCreate, Kind: providers.KindContact, DN: "CN=gone," + ou},
		providers.Change{ID: 8, Op: providers.OpDelete, DN: "CN=gone," + ou},
	)
	for id, r := range res {
		if r.Error != "" {
			t.Fatalf("change %d: %s", id, r.Error)
		}
	}
	dc.run(t, "ldapmodify", "-f", DefaultChangesFile(file))

	again := filepath.Join(dir, "again.ldif")
	dc.export(t, ou, again)
	real := byDN(discover(t, configure(t, again), providers.Scope{BaseDN: ou}))
	ours := byDN(discover(t, p, providers.Scope{BaseDN: ou}))
	if len(real) != len(ours) || len(real) != 4 {
		t.Errorf("directory has %d objects under %s, snapshot %d, want 4", len(real), ou, len(ours))
	}
	for dnStr, o := range ours {
		r, ok := real[dnStr]
		if !ok {
			t.Errorf("%s is in the snapshot but not in the directory", dnStr)
			continue
		}
		if r.Kind != o.Kind {
			t.Errorf("%s: kind %s in the directory, %s in the snapshot", dnStr, r.Kind, o.Kind)
		}
		for _, a := range []string{"samaccountname", "displayname", "description", "member", "name", "cn", "ou"} {
			if strings.Join(r.Attrs[a], "|") != strings.Join(o.Attrs[a], "|") {
				t.Errorf("%s %s: directory %q, snapshot %q", dnStr, a, r.Attrs[a], o.Attrs[a])
			}
		}
	}
}
