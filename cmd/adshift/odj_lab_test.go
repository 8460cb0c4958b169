package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/adshift/adshift/odj"
)

// TestLabODJProvision provisions a computer in the lab's target domain
// through the CLI (adshift odj provision -json, debug log on), inspects the
// blob, and greps every output, the log and the directory for the machine
// password, in text and in UTF-16LE. That Samba's requestodj accepts such
// blobs is TestODJ_provisionAcceptedBySamba's (providers/ad).
func TestLabODJProvision(t *testing.T) {
	lab := labEnv(t)
	ou := fmt.Sprintf("OU=odj-cli-%d,DC=target,DC=test", time.Now().UnixNano()%1e9)
	ldif := filepath.Join(t.TempDir(), "ou.ldif")
	os.WriteFile(ldif, []byte("dn: "+ou+"\nobjectClass: organizationalUnit\n"), 0o600)
	if out, err := ldapTarget(t, lab, "ldapadd", "-f", ldif); err != nil {
		t.Fatalf("ldapadd %s: %v\n%s", ou, err, out)
	}
	t.Cleanup(func() { ldapTarget(t, lab, "ldapdelete", "-r", ou) })

	run := twoDomains(t, lab, "trace")
	dir, secret := run.dir, lab["ADSHIFT_LAB_PASSWORD"]
	name := fmt.Sprintf("ODJC%07d", time.Now().UnixNano()/1000%10000000)
	r := run.step(0, "odj", "provision", "-json", "-ou", ou, "-dir", "repo", name)
	var ev struct {
		Type string `json:"type"`
		ODJ  struct {
			DN, Path string
			Created  bool
		} `json:"odj"`
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "odj_provisioned" {
			break
		}
	}
	want := filepath.Join("repo", name+".odj") // relative to the configuration directory
	if ev.Type != "odj_provisioned" || ev.ODJ.DN != "CN="+name+","+ou || !ev.ODJ.Created || ev.ODJ.Path != want {
		t.Fatalf("no odj_provisioned event for %s at %s:\n%s", name, want, r.stdout)
	}
	if st, err := os.Stat(filepath.Join(dir, want)); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("blob %s: %v %v", want, st, err)
	}
	r = run.step(0, "odj", "inspect", "repo/"+name+".odj")
	if !strings.Contains(r.stdout, `machine_name     = "`+name+`"`) || !strings.Contains(r.stdout, "(sensitive, 120 UTF-16 units)") {
		t.Errorf("inspect:\n%s", r.stdout)
	}
	run.step(0, "odj", "inspect", "-json", "repo/"+name+".odj")
	r = run.step(1, "odj", "provision", "-ou", ou, "-dir", "repo", name)
	if !strings.Contains(r.stderr, "already exists") {
		t.Errorf("second provision without -reuse:\n%s", r.stderr)
	}
	run.step(0, "odj", "provision", "-reuse", "-dir", "repo", "-file", "again.odj", name)

	logs, _ := os.ReadFile(filepath.Join(dir, "debug.log"))
	if !strings.Contains(string(logs), "offline join blob written") {
		t.Errorf("the debug log does not show the provisioning:\n%s", logs)
	}
	for _, f := range []string{name + ".odj", "again.odj"} {
		raw, err := os.ReadFile(filepath.Join(dir, "repo", f))
		if err != nil {
			t.Fatal(err)
		}
		data, err := odj.ReadFile(raw)
		if err != nil {
			t.Fatal(err)
		}
		w7, err := data.Win7()
		if err != nil {
			t.Fatal(err)
		}
		pw := string(utf16.Decode(w7.MachinePassword.Units()))
		noSecret(t, pw, append(run.outputs, string(logs)), dir)
		utf16le := string(w7.MachinePassword.UTF16LE())
		for i, o := range append(run.outputs, string(logs)) {
			if strings.Contains(o, utf16le) {
				t.Errorf("output %d holds the password in UTF-16LE", i)
			}
		}
	}
	noSecret(t, secret, run.outputs, dir)
}
