package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// labEnv returns the lab's environment (lab/env.sh), or skips the test when
// the lab is not up. .ci/run brings the lab up, so CI always runs these.
func labEnv(t *testing.T) map[string]string {
	t.Helper()
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip("needs the Samba AD lab: run lab/up.sh and eval \"$(lab/env.sh)\" (make test does both as root)")
	}
	env := map[string]string{}
	for _, k := range []string{"ADSHIFT_LAB_DIR", "ADSHIFT_LAB_PASSWORD", "ADSHIFT_LAB_SOURCE_URL", "ADSHIFT_LAB_SOURCE_CA",
		"ADSHIFT_LAB_SOURCE_ADMIN", "ADSHIFT_LAB_TARGET_URL", "ADSHIFT_LAB_TARGET_CA", "ADSHIFT_LAB_TARGET_ADMIN", "ADSHIFT_LAB_TARGET_SMBCONF"} {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("ADSHIFT_LAB=1 but %s is not set: eval \"$(lab/env.sh)\"", k)
		}
		env[k] = v
	}
	return env
}

func sh(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ldapTarget runs an ldap-utils command against the target DC with the
// password in a 0600 file, never on a command line.
func ldapTarget(t *testing.T, lab map[string]string, tool string, args ...string) (string, error) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(lab["ADSHIFT_LAB_PASSWORD"]), 0o600)
	cmd := exec.Command(tool, append([]string{"-H", lab["ADSHIFT_LAB_TARGET_URL"], "-D", lab["ADSHIFT_LAB_TARGET_ADMIN"], "-y", pw}, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+lab["ADSHIFT_LAB_TARGET_CA"])
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// labRun runs adshift in dir with env, step by step, and keeps every
// output for the final check that no secret showed.
type labRun struct {
	t        *testing.T
	bin, dir string
	env      []string
	outputs  []string
}

// step runs adshift and fails the test unless it exits with want.
func (l *labRun) step(want int, args ...string) result {
	l.t.Helper()
	r := runAdshift(l.t, l.bin, l.dir, l.env, args...)
	l.outputs = append(l.outputs, r.stdout, r.stderr)
	if r.code != want {
		l.t.Fatalf("adshift %v: exit %d, want %d\n%s\n%s", args, r.code, want, tail(r.stdout, 30), r.stderr)
	}
	return r
}

// noSecret fails the test if secret shows in any of outputs or in any file
// under dir.
func noSecret(t *testing.T, secret string, outputs []string, dir string) {
	t.Helper()
	for i, o := range outputs {
		if strings.Contains(o, secret) {
			t.Errorf("output %d shows the password", i)
		}
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), secret) {
				t.Errorf("%s holds the password", path)
			}
		}
		return nil
	})
}

// twoDomains copies examples/two-domains into a fresh directory and
// returns a labRun there, with the lab's password in the variables and the
// log at level logLevel in debug.log.
func twoDomains(t *testing.T, lab map[string]string, logLevel string) *labRun {
	t.Helper()
	bin, dir := adshiftBin(t), filepath.Join(t.TempDir(), "two-domains")
	if err := copyDir("../../examples/two-domains", dir); err != nil {
		t.Fatal(err)
	}
	secret := lab["ADSHIFT_LAB_PASSWORD"]
	env := []string{
		"ADSHIFT_VAR_source_password=" + secret, "ADSHIFT_VAR_target_password=" + secret,
		"ADSHIFT_VAR_lab_dir=" + filepath.Join(lab["ADSHIFT_LAB_DIR"], ".run"),
		"ADSHIFT_LOG=" + logLevel, "ADSHIFT_LOG_PATH=" + filepath.Join(dir, "debug.log"),
	}
	return &labRun{t: t, bin: bin, dir: dir, env: env}
}

// TestLabTwoDomains migrates the example estate between the lab's two real
// domain controllers through the CLI, checks the result with Samba's own
// tools, corrects drift, and greps everything for the password.
func TestLabTwoDomains(t *testing.T) {
	lab := labEnv(t)
	sh(t, nil, "../../examples/two-domains/seed.sh")
	// Start from a target without the migrated tree.
	ldapTarget(t, lab, "ldapdelete", "-r", "OU=Migrated,DC=target,DC=test")

	run := twoDomains(t, lab, "debug")
	dir, secret := run.dir, lab["ADSHIFT_LAB_PASSWORD"]
	step := run.step
	step(0, "validate")
	r := step(2, "plan", "-out", "p", "-detailed-exitcode")
	if !strings.Contains(r.stdout, `+ user "CN=José García,OU=Users,OU=Migrated,DC=target,DC=test"`) {
		t.Errorf("plan misses the user with a non-ASCII name:\n%s", tail(r.stdout, 40))
	}
	step(0, "apply", "p")
	step(0, "plan", "-detailed-exitcode")

	smb := lab["ADSHIFT_LAB_TARGET_SMBCONF"]
	if out := sh(t, nil, "samba-tool", "user", "show", "jgarcia", "-s", smb); !strings.Contains(out, "displayName: José García") || !strings.Contains(out, "adminDescription: adshift") {
		t.Errorf("samba-tool user show jgarcia:\n%s", out)
	}
	if out := sh(t, nil, "samba-tool", "user", "show", "jsmith", "-s", smb); !strings.Contains(out, `dn: CN=Smith\, John,OU=Users,OU=Migrated,DC=target,DC=test`) {
		t.Errorf("samba-tool user show jsmith (escaped comma):\n%s", out)
	}
	members := sh(t, nil, "samba-tool", "group", "listmembers", "GG-Finance", "-s", smb)
	for _, m := range []string{"jsmith", "jgarcia", "ajohnson"} {
		if !strings.Contains(members, m) {
			t.Errorf("GG-Finance lacks %s:\n%s", m, members)
		}
	}
	nested := sh(t, nil, "samba-tool", "group", "listmembers", "UG-AllStaff", "-s", smb)
	if !strings.Contains(nested, "GG-Finance") {
		t.Errorf("the nested group GG-Finance is not a member of UG-AllStaff:\n%s", nested)
	}
	if out := sh(t, nil, "samba-tool", "computer", "show", "FIN-WS-001", "-s", smb); !strings.Contains(out, "userAccountControl: 4096") {
		t.Errorf("samba-tool computer show FIN-WS-001:\n%s", out)
	}
	if out := sh(t, nil, "samba-tool", "dbcheck", "OU=Migrated,DC=target,DC=test", "--scope=sub", "-s", smb); !strings.Contains(out, "(0 errors)") {
		t.Errorf("samba-tool dbcheck:\n%s", out)
	}

	// Drift: a change by hand in the target shows in the next plan and is
	// corrected by apply.
	mod := filepath.Join(t.TempDir(), "drift.ldif")
	os.WriteFile(mod, []byte("dn: CN=Michael Chen,OU=Users,OU=Migrated,DC=target,DC=test\nchangetype: modify\nreplace: title\ntitle: Changed by hand\n-\n"), 0o600)
	if out, err := ldapTarget(t, lab, "ldapmodify", "-f", mod); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
	r = step(2, "plan", "-detailed-exitcode")
	if !strings.Contains(r.stdout, `~ title = "Changed by hand" -> `) {
		t.Errorf("the drift does not show:\n%s", tail(r.stdout, 40))
	}
	step(0, "apply", "-auto-approve")
	step(0, "plan", "-detailed-exitcode")

	step(0, "show", "-json")
	logs, _ := os.ReadFile(filepath.Join(dir, "debug.log"))
	if len(logs) == 0 {
		t.Fatal("no debug log was written")
	}
	noSecret(t, secret, run.outputs, dir)
}
