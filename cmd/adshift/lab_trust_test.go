package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLabTrustDiscovered: a cutover that caches credentials needs the trust
// source → target; the plan reads it from the source DC's trustedDomain
// objects instead of taking requirements { trust = true } on faith. Samba
// refuses LSA objects over LDAP, so lab/trust.py writes the object into
// the source DC's database as the system would.
func TestLabTrustDiscovered(t *testing.T) {
	lab := labEnv(t)
	sh(t, nil, "../../examples/two-domains/seed.sh")
	sourceConf := filepath.Join(lab["ADSHIFT_LAB_DIR"], ".run", "source", "etc", "smb.conf")
	trust := func(args ...string) {
		sh(t, nil, filepath.Join(lab["ADSHIFT_LAB_DIR"], "trust.py"), append([]string{sourceConf}, args...)...)
	}
	trust("remove", "target.test", "TARGET")
	t.Cleanup(func() { trust("remove", "target.test", "TARGET") })

	bin, dir := adshiftBin(t), filepath.Join(t.TempDir(), "two-domains")
	if err := copyDir("../../examples/two-domains", dir); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.hcl")
	src, _ := os.ReadFile(main)
	edited := strings.Replace(string(src), `actions = ["reacl", "cutover"]`, `actions = ["cache_credentials", "cutover"]`, 1)
	if edited == string(src) {
		t.Fatal("the example's wave-1 actions changed; update this test")
	}
	os.WriteFile(main, []byte(edited), 0o644)
	secret := lab["ADSHIFT_LAB_PASSWORD"]
	run := &labRun{t: t, bin: bin, dir: dir, env: []string{
		"ADSHIFT_VAR_source_password=" + secret, "ADSHIFT_VAR_target_password=" + secret,
		"ADSHIFT_VAR_lab_dir=" + filepath.Join(lab["ADSHIFT_LAB_DIR"], ".run"),
	}}

	r := run.step(0, "plan")
	if !strings.Contains(r.stdout, "no trust from source.test to target.test was found in the source directory") {
		t.Errorf("without a trust, the devices are not blocked for it:\n%s", tail(r.stdout, 30))
	}

	trust("add", "target.test", "TARGET", "2")
	r = run.step(0, "plan")
	if !strings.Contains(r.stdout, "one-way trust source.test → target.test found in the source directory (CN=target.test,CN=System,DC=source,DC=test)") {
		t.Errorf("the outbound trust is not found:\n%s", tail(r.stdout, 30))
	}
	if strings.Contains(r.stdout, "no trust from") {
		t.Errorf("still blocked for the trust:\n%s", tail(r.stdout, 30))
	}

	trust("add", "target.test", "TARGET", "1")
	r = run.step(0, "plan")
	if !strings.Contains(r.stdout, "is inbound only") {
		t.Errorf("an inbound-only trust is not named as such:\n%s", tail(r.stdout, 30))
	}
	noSecret(t, secret, run.outputs, dir)
}
