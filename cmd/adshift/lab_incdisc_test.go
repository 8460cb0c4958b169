package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestLabPlanRefresh runs plan through the CLI (the ad provider as a
// plugin) against a lab subtree: the first plan reads in full and leaves
// the discovery cache beside the state, the next one after a source
// change reads incrementally, -refresh=full reads in full again, and both
// give the same plan.
func TestLabPlanRefresh(t *testing.T) {
	lab := labEnv(t)
	srcBase := "DC=source,DC=test"
	root := fmt.Sprintf("OU=adshift-incdisc-cli-%d,%s", time.Now().UnixNano()%1e9, srcBase)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(lab["ADSHIFT_LAB_PASSWORD"]), 0o600)
	ldapSource := func(tool string, args ...string) {
		t.Helper()
		sh(t, []string{"LDAPTLS_CACERT=" + lab["ADSHIFT_LAB_SOURCE_CA"]}, tool,
			append([]string{"-H", lab["ADSHIFT_LAB_SOURCE_URL"], "-x", "-D", lab["ADSHIFT_LAB_SOURCE_ADMIN"], "-y", pw}, args...)...)
	}
	modify := func(ldif string) {
		t.Helper()
		f := filepath.Join(t.TempDir(), "c.ldif")
		os.WriteFile(f, []byte(ldif), 0o600)
		ldapSource("ldapmodify", "-f", f)
	}
	t.Cleanup(func() { ldapSource("ldapdelete", "-r", root) })
	modify(fmt.Sprintf(`dn: %[1]s
changetype: add
objectClass: organizationalUnit

dn: CN=cli1,%[1]s
changetype: add
objectClass: user
sAMAccountName: incc-cli1
description: one

dn: CN=cli2,%[1]s
changetype: add
objectClass: user
sAMAccountName: incc-cli2
`, root))

	run := twoDomains(t, lab, "debug")
	main := fmt.Sprintf(`variable "source_password" {
  type      = string
  sensitive = true
}
variable "target_password" {
  type      = string
  sensitive = true
}
variable "lab_dir" { type = string }
environment "source" {
  provider = "ad"
  base_dn  = %q
  servers  = [%q]
  bind {
    username = %q
    password = var.source_password
  }
  tls { ca_file = "${var.lab_dir}/source-ca.pem" }
  scope { include_ous = [%q] }
  include = ["users"]
}
environment "target" {
  provider = "ad"
  base_dn  = "DC=target,DC=test"
  servers  = [%q]
  bind {
    username = %q
    password = var.target_password
  }
  tls { ca_file = "${var.lab_dir}/target-ca.pem" }
  scope { include_ous = ["OU=adshift-incdisc-none,DC=target,DC=test"] }
  include = ["users"]
}
workflow "ids" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match", "stage", "write"]
  match { users = ["sAMAccountName"] }
  template {
    users {
      target_ou  = "OU=adshift-incdisc-none,DC=target,DC=test"
      attributes = {
        sAMAccountName = source.sAMAccountName
        description    = source.description
      }
    }
  }
}
`, srcBase, lab["ADSHIFT_LAB_SOURCE_URL"], lab["ADSHIFT_LAB_SOURCE_ADMIN"], root, lab["ADSHIFT_LAB_TARGET_URL"], lab["ADSHIFT_LAB_TARGET_ADMIN"])
	os.RemoveAll(run.dir)
	os.MkdirAll(run.dir, 0o700)
	if err := os.WriteFile(filepath.Join(run.dir, "main.hcl"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	// A state that is not new (serial 1), so that plans may read
	// incrementally without an apply.
	st := filepath.Join(t.TempDir(), "pushed.state")
	os.WriteFile(st, []byte(`{"version": 1, "lineage": "6f1d5c9e-3a52-4b8e-9a61-2f0e4c1b8d71", "serial": 1, "objects": {}}`), 0o600)
	run.step(0, "state", "push", st)

	logPath := filepath.Join(run.dir, "debug.log")
	reads := regexp.MustCompile(`discovery read: .*incremental=(true|false)`)
	plan := func(args ...string) (string, []string) {
		t.Helper()
		os.Remove(logPath)
		r := run.step(2, append([]string{"plan", "-detailed-exitcode", "-no-color"}, args...)...)
		logs, _ := os.ReadFile(logPath)
		var modes []string
		for _, m := range reads.FindAllStringSubmatch(string(logs), -1) {
			modes = append(modes, m[1])
		}
		return r.stdout, modes
	}
	if _, modes := plan(); strings.Join(modes, ",") != "false,false" {
		t.Fatalf("first plan: reads incremental=%v, want two full reads", modes)
	}
	if _, err := os.Stat(filepath.Join(run.dir, "adshift.state.discovery", "source.cache")); err != nil {
		t.Fatalf("no discovery cache beside the state: %v", err)
	}
	modify(fmt.Sprintf("dn: CN=cli1,%[1]s\nchangetype: modify\nreplace: description\ndescription: two\n\ndn: CN=cli2,%[1]s\nchangetype: modrdn\nnewrdn: CN=cli2r\ndeleteoldrdn: 1\n", root))
	inc, modes := plan()
	if strings.Join(modes, ",") != "true,true" {
		t.Fatalf("plan after a change: reads incremental=%v, want two incremental reads", modes)
	}
	full, modes := plan("-refresh=full")
	if strings.Join(modes, ",") != "false,false" {
		t.Fatalf("plan -refresh=full: reads incremental=%v, want two full reads", modes)
	}
	if clean(inc) != clean(full) {
		t.Errorf("the incremental plan differs from the full one:\n%s\n---\n%s", inc, full)
	}
	if !strings.Contains(full, "two") || !strings.Contains(full, "cli2r") {
		t.Errorf("the plan misses the change:\n%s", full)
	}
	run.step(1, "plan", "-refresh=sometimes")
	noSecret(t, lab["ADSHIFT_LAB_PASSWORD"], run.outputs, run.dir)
}

// durations are the timings in a text plan.
var durations = regexp.MustCompile(`[0-9.]+(ms|s|µs)\b`)

// clean drops what differs between two runs of one plan: durations, and
// the order of the environments' progress lines (they are read at once).
func clean(s string) string {
	var progress, rest []string
	for _, line := range strings.Split(durations.ReplaceAllString(s, "T"), "\n") {
		if strings.HasPrefix(line, "environment.") && (strings.HasSuffix(line, ": Reading...") || strings.Contains(line, ": Read ")) {
			progress = append(progress, line)
			continue
		}
		rest = append(rest, line)
	}
	sort.Strings(progress)
	return strings.Join(progress, "\n") + "\n" + strings.Join(rest, "\n")
}
