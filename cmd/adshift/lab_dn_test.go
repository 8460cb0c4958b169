package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ldapOn runs an ldap-utils command against the lab DC "SOURCE" or
// "TARGET", the password in a 0600 file.
func ldapOn(t *testing.T, lab map[string]string, dc, tool string, args ...string) (string, error) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(lab["ADSHIFT_LAB_PASSWORD"]), 0o600)
	url, admin, ca := os.Getenv("ADSHIFT_LAB_"+dc+"_URL"), os.Getenv("ADSHIFT_LAB_"+dc+"_ADMIN"), os.Getenv("ADSHIFT_LAB_"+dc+"_CA")
	cmd := exec.Command(tool, append([]string{"-H", url, "-D", admin, "-y", pw}, args...)...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+ca)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// dnCharsLDIF is a source tree whose names need every kind of DN escaping.
const dnCharsLDIF = `dn: OU=DNChars,DC=source,DC=test
objectClass: organizationalUnit

dn: OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: organizationalUnit

dn: CN=Semi\;Colon \= Eq,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: user
sAMAccountName: dnc-semi
displayName: Semi;Colon = Eq

dn: CN=Quote \"Q\" \+ Plus,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: user
sAMAccountName: dnc-quote

dn: CN=\#Hash \<lt\> Back\\slash,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: user
sAMAccountName: dnc-hash

dn: CN=\ Lead and trail\ ,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: user
sAMAccountName: dnc-space

dn:: Q049Wm/DqyDDnG7Dr2PDtmTDqSxPVT1TYWxlc1wsIEVNRUEsT1U9RE5DaGFycyxEQz1zb3VyY2UsREM9dGVzdA==
objectClass: user
sAMAccountName: dnc-uni

dn: CN=DNC Group,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
objectClass: group
sAMAccountName: dnc-group
member: CN=Semi\;Colon \= Eq,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
member: CN=Quote \"Q\" \+ Plus,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
member: CN=\#Hash \<lt\> Back\\slash,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
member: CN=\ Lead and trail\ ,OU=Sales\, EMEA,OU=DNChars,DC=source,DC=test
`

// TestLabDNCharacters: names with ; = , + " \ # < > and leading and
// trailing spaces, non-ASCII, and an escaped comma in an OU name are
// migrated in one apply, after which the plan is empty (the DC spells
// some of these DNs differently from adshift: they are compared by key).
func TestLabDNCharacters(t *testing.T) {
	lab := labEnv(t)
	clean := func() {
		ldapOn(t, lab, "SOURCE", "ldapdelete", "-r", "OU=DNChars,DC=source,DC=test")
		ldapOn(t, lab, "TARGET", "ldapdelete", "-r", "OU=DNChars,DC=target,DC=test")
	}
	clean()
	t.Cleanup(clean)
	seed := filepath.Join(t.TempDir(), "seed.ldif")
	os.WriteFile(seed, []byte(dnCharsLDIF), 0o600)
	if out, err := ldapOn(t, lab, "SOURCE", "ldapadd", "-f", seed); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}

	bin, dir := adshiftBin(t), filepath.Join(t.TempDir(), "dnchars")
	if err := copyDir("../../examples/two-domains", dir); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.hcl")
	src, _ := os.ReadFile(main)
	cfg := string(src)
	for _, r := range [][2]string{
		{`include_ous = ["OU=Corp,DC=source,DC=test"]`, `include_ous = ["OU=DNChars,DC=source,DC=test"]`},
		{`exclude_ous = ["OU=Kiosks,OU=Workstations,OU=Corp,DC=source,DC=test"]`, `exclude_ous = []`},
		{`include_ous = ["OU=Migrated,DC=target,DC=test"]`, `include_ous = ["OU=DNChars,DC=target,DC=test"]`},
		{`target_ou = "OU=Users,OU=Migrated,DC=target,DC=test"`, `target_ou = "OU=Sales\\, EMEA,OU=DNChars,DC=target,DC=test"`},
		{`target_ou = "OU=Groups,OU=Migrated,DC=target,DC=test"`, `target_ou = "OU=Sales\\, EMEA,OU=DNChars,DC=target,DC=test"`},
		{`target_ou  = "OU=Workstations,OU=Migrated,DC=target,DC=test"`, `target_ou  = "OU=Sales\\, EMEA,OU=DNChars,DC=target,DC=test"`},
	} {
		if !strings.Contains(cfg, r[0]) {
			t.Fatalf("the example changed; update this test: %s", r[0])
		}
		cfg = strings.Replace(cfg, r[0], r[1], 1)
	}
	os.WriteFile(main, []byte(cfg), 0o644)
	secret := lab["ADSHIFT_LAB_PASSWORD"]
	run := &labRun{t: t, bin: bin, dir: dir, env: []string{
		"ADSHIFT_VAR_source_password=" + secret, "ADSHIFT_VAR_target_password=" + secret,
		"ADSHIFT_VAR_lab_dir=" + filepath.Join(lab["ADSHIFT_LAB_DIR"], ".run"),
		"ADSHIFT_LOG=debug", "ADSHIFT_LOG_PATH=" + filepath.Join(dir, "debug.log"),
	}}
	r := run.step(2, "plan", "-detailed-exitcode")
	for _, want := range []string{
		`+ user "CN=Semi\;Colon \= Eq,OU=Sales\, EMEA,OU=DNChars,DC=target,DC=test"`,
		`+ user "CN=Quote \"Q\" \+ Plus,OU=Sales\, EMEA,OU=DNChars,DC=target,DC=test"`,
		"Zoë Ünïcödé",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan lacks %s:\n%s", want, tail(r.stdout, 60))
		}
	}
	run.step(0, "apply", "-auto-approve")
	os.Remove(filepath.Join(dir, "debug.log"))
	r = run.step(0, "plan", "-detailed-exitcode")
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("the plan after one apply is not empty:\n%s", tail(r.stdout, 40))
	}
	// That plan read both directories incrementally (the apply's writes
	// in the target among the changes read).
	if logs, _ := os.ReadFile(filepath.Join(dir, "debug.log")); strings.Count(string(logs), "incremental=true") != 2 {
		t.Errorf("the plan after the apply did not read both directories incrementally")
	}
	out, err := ldapOn(t, lab, "TARGET", "ldapsearch", "-LLL", "-b", "OU=DNChars,DC=target,DC=test", "(sAMAccountName=dnc-group)", "member")
	if err != nil || strings.Count(out, "member:")+strings.Count(out, "member::") != 4 {
		t.Errorf("the group's members in the target:\n%s %v", out, err)
	}
	noSecret(t, secret, run.outputs, dir)
}
