package labdevice

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/agent/lab"
)

func TestLabMakeRemove(t *testing.T) {
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip(`needs the Samba AD lab: run lab/up.sh as root, then eval "$(lab/env.sh)" (sets ADSHIFT_LAB=1)`)
	}
	src, tgt, err := LabDomains()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Dir: t.TempDir(), Count: 3, Unsupported: 1, Prefix: "ldm", Source: src, Target: tgt}
	if err := Remove(t.Context(), opts, opts.Names()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Remove(context.Background(), opts, opts.Names()) })

	devs, err := Make(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	secrets0 := readSecrets(t, devs[0].Dir)
	for i, d := range devs {
		out, err := exec.Command("net", "ads", "testjoin", "-S", src.DC, "--configfile="+lab.SambaConfigPath(d.Dir)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Join is OK") {
			t.Errorf("%s: testjoin: %v %s", d.Name, err, out)
		}
		a, err := FindComputer(t.Context(), src, d.Name)
		if err != nil || a == nil || a.Disabled() {
			t.Errorf("%s: source account %+v, %v", d.Name, a, err)
		}
		var inv struct {
			OS         string `json:"os"`
			PowerShell string `json:"powershell"`
		}
		data, err := os.ReadFile(filepath.Join(d.Dir, lab.InventoryFile))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &inv)
		if unsupported := i == 2; unsupported != strings.Contains(inv.OS, "XP") || unsupported != (inv.PowerShell == "1.0") {
			t.Errorf("%s claims %+v (unsupported: %v)", d.Name, inv, unsupported)
		}
		var profiles []lab.Profile
		data, err = os.ReadFile(filepath.Join(d.Dir, lab.ProfilesFile))
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(data, &profiles)
		if len(profiles) != 2 || profiles[0].SID != d.Users[0].SID || !strings.HasPrefix(d.Users[0].SID, "S-1-5-21-") {
			t.Errorf("%s profiles %+v, users %+v", d.Name, profiles, d.Users)
		}
	}

	// A re-run reuses everything: same SIDs, same passwords, still joined.
	again, err := Make(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(devs, again); diff != "" {
		t.Errorf("re-run (-first +again)\n%s", diff)
	}
	if diff := cmp.Diff(secrets0, readSecrets(t, devs[0].Dir)); diff != "" {
		t.Errorf("re-run changed secrets.json (-first +again)\n%s", diff)
	}

	if err := Remove(t.Context(), opts, opts.Names()); err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		if _, err := os.Stat(d.Dir); !os.IsNotExist(err) {
			t.Errorf("%s: directory left: %v", d.Name, err)
		}
		for _, dom := range []Domain{src, tgt} {
			if a, err := FindComputer(t.Context(), dom, d.Name); err != nil || a != nil {
				t.Errorf("%s: computer account left in %s: %+v %v", d.Name, dom.Name, a, err)
			}
		}
		if es, err := search(t.Context(), src, src.Base, "(sAMAccountName="+strings.ToLower(d.Name)+"-*)", "1.1"); err != nil || len(es) > 0 {
			t.Errorf("%s: users or groups left: %+v %v", d.Name, es, err)
		}
	}
}

func readSecrets(t *testing.T, dir string) *lab.Secrets {
	t.Helper()
	s, err := lab.ReadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
