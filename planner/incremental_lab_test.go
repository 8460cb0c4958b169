package planner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad"
	"github.com/adshift/adshift/state"
)

// adLauncher launches in-process ad providers and remembers them.
type adLauncher struct {
	mu   sync.Mutex
	made []*ad.Provider
}

func (l *adLauncher) Launch(_ context.Context, typ string) (providers.Provider, error) {
	if typ != "ad" {
		return nil, fmt.Errorf("no provider %q", typ)
	}
	p := ad.New(hclog.NewNullLogger())
	l.mu.Lock()
	defer l.mu.Unlock()
	l.made = append(l.made, p)
	return p, nil
}

// TestLabPlanIncremental_equalsFull plans a migration from a lab subtree,
// changes the source (adds, modifies, renames, moves in and out, members,
// deletes), and checks that the plan made from the incremental read is the
// plan made from a full read.
func TestLabPlanIncremental_equalsFull(t *testing.T) {
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip(`needs the Samba AD lab: eval "$(lab/env.sh)" (sets ADSHIFT_LAB=1)`)
	}
	env := func(k string) string { return os.Getenv("ADSHIFT_LAB_" + k) }
	base := env("SOURCE_BASE")
	root := fmt.Sprintf("OU=adshift-incdisc-plan-%d,%s", time.Now().UnixNano()%1e9, base)
	ldap := func(tool string, args ...string) {
		t.Helper()
		cmd := exec.Command(tool, append([]string{"-H", env("SOURCE_URL"), "-x", "-D", env("SOURCE_ADMIN"), "-y", env("DIR") + "/.run/password"}, args...)...)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+env("SOURCE_CA"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
		}
	}
	modify := func(ldif string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), "c.ldif")
		os.WriteFile(f, []byte(ldif), 0o600)
		ldap("ldapmodify", "-f", f)
	}
	t.Cleanup(func() {
		cmd := exec.Command("ldapdelete", "-H", env("SOURCE_URL"), "-x", "-D", env("SOURCE_ADMIN"), "-y", env("DIR")+"/.run/password", "-r", root)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+env("SOURCE_CA"))
		_ = cmd.Run()
	})
	in, out := "OU=in,"+root, "OU=out,"+root
	var seed strings.Builder
	for _, ou := range []string{root, in, out, "OU=sub," + in} {
		fmt.Fprintf(&seed, "dn: %s\nchangetype: add\nobjectClass: organizationalUnit\n\n", ou)
	}
	user := func(b *strings.Builder, parent, name string) {
		fmt.Fprintf(b, "dn: CN=%s,%s\nchangetype: add\nobjectClass: user\nsAMAccountName: incp-%s\ndescription: user %s\n\n", name, parent, name, name)
	}
	for i := 1; i <= 5; i++ {
		user(&seed, in, fmt.Sprint("u", i))
		user(&seed, "OU=sub,"+in, fmt.Sprint("s", i))
	}
	user(&seed, out, "o1")
	fmt.Fprintf(&seed, "dn: CN=g1,%s\nchangetype: add\nobjectClass: group\nsAMAccountName: incp-g1\nmember: CN=u1,%[1]s\nmember: CN=s1,OU=sub,%[1]s\n\n", in)
	modify(seed.String())

	pw := env("PASSWORD")
	src := fmt.Sprintf(`
environment "source" {
  provider = "ad"
  base_dn  = %q
  servers  = [%q]
  bind {
    username = %q
    password = %q
  }
  tls { ca_file = %q }
  scope { include_ous = [%q] }
  include = ["users", "groups"]
}
environment "target" {
  provider = "ad"
  base_dn  = %q
  servers  = [%q]
  bind {
    username = %q
    password = %q
  }
  tls { ca_file = %q }
  scope { include_ous = ["OU=adshift-incdisc-none,%s"] }
  include = ["users", "groups"]
}
workflow "ids" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match {
    users  = ["sAMAccountName"]
    groups = ["sAMAccountName"]
  }
  template {
    users {
      target_ou  = "OU=Users,OU=adshift-incdisc-none,%[12]s"
      attributes = {
        sAMAccountName = source.sAMAccountName
        description    = source.description
      }
    }
    groups {
      target_ou  = "OU=Groups,OU=adshift-incdisc-none,%[12]s"
      attributes = { sAMAccountName = source.sAMAccountName }
    }
  }
}
`, base, env("SOURCE_URL"), env("SOURCE_ADMIN"), pw, env("SOURCE_CA"), in,
		env("TARGET_BASE"), env("TARGET_URL"), env("TARGET_ADMIN"), pw, env("TARGET_CA"), env("TARGET_BASE"))
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "main.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg, diags := config.Decode([]*hcl.File{f})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	scope, diags := cfg.Evaluate(config.EvalOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cache := t.TempDir()
	st := state.New()
	st.Serial = 1 // not a new state: plans may read incrementally
	plan := func(full bool) (string, []*ad.Provider) {
		t.Helper()
		l := &adLauncher{}
		p, diags := Plan(t.Context(), Options{Config: cfg, Scope: scope, State: st, Launcher: l,
			Now: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), DiscoveryCache: cache, RefreshFull: full})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		b, err := json.MarshalIndent(p, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		return string(b), l.made
	}
	plan(true)
	modify(fmt.Sprintf(`dn: CN=u2,%[1]s
changetype: modify
replace: description
description: changed

dn: CN=g1,%[1]s
changetype: modify
add: member
member: CN=u3,%[1]s
-
delete: member
member: CN=u1,%[1]s

dn: CN=u4,%[1]s
changetype: modrdn
newrdn: CN=u4r
deleteoldrdn: 1

dn: CN=u5,%[1]s
changetype: modrdn
newrdn: CN=u5
deleteoldrdn: 1
newsuperior: %[2]s

dn: CN=o1,%[2]s
changetype: modrdn
newrdn: CN=o1
deleteoldrdn: 1
newsuperior: %[1]s

dn: OU=sub,%[1]s
changetype: modrdn
newrdn: OU=subr
deleteoldrdn: 1

dn: CN=s2,OU=subr,%[1]s
changetype: delete

dn: CN=n1,%[1]s
changetype: add
objectClass: user
sAMAccountName: incp-n1
`, in, out))
	inc, ps := plan(false)
	for _, p := range ps {
		if st := p.LastRead(); !st.Incremental {
			t.Fatalf("the plan after the changes read in full: %s", st.Why)
		}
	}
	full, ps := plan(true)
	for _, p := range ps {
		if st := p.LastRead(); st.Incremental {
			t.Fatalf("plan with RefreshFull read incrementally")
		}
	}
	if inc != full {
		t.Errorf("the plan from the incremental read differs from the plan from a full read:\nincremental:\n%s\nfull:\n%s", inc, full)
	}
	if !strings.Contains(full, "incp-n1") || !strings.Contains(full, "CN=o1,") {
		t.Errorf("the plan misses the added or moved-in user:\n%s", full)
	}
}
