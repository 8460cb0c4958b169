package lab_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/labdevice"
)

// The join actions against the Samba lab: real lab devices joined to
// source.test, moved to target.test and back, checked with net ads
// testjoin and the computer accounts' userAccountControl on the DCs.

// needLab skips t unless the lab is up and returns its domains.
func needLab(t *testing.T) (source, target labdevice.Domain) {
	t.Helper()
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip(`needs the Samba AD lab: run lab/up.sh as root, then eval "$(lab/env.sh)" (sets ADSHIFT_LAB=1)`)
	}
	source, target, err := labdevice.LabDomains()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"net", "kinit", "ldapsearch", "samba-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("ADSHIFT_LAB=1 but %s is not installed: %v", tool, err)
		}
	}
	return source, target
}

// makeDevices makes n lab devices named prefix001… in a temp directory
// and removes them (leave, accounts, users) when the test ends.
func makeDevices(t *testing.T, prefix string, n int) (labdevice.Options, []labdevice.Device) {
	t.Helper()
	src, tgt := needLab(t)
	opts := labdevice.Options{Dir: t.TempDir(), Count: n, Prefix: prefix, TargetUsers: true, Source: src, Target: tgt}
	// Leftovers of an interrupted run would be reused; start clean.
	if err := labdevice.Remove(t.Context(), opts, opts.Names()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := labdevice.Remove(context.Background(), opts, opts.Names()); err != nil {
			t.Errorf("clean up lab devices: %v", err)
		}
	})
	devs, err := labdevice.Make(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return opts, devs
}

// testjoin runs net ads testjoin for the device against dc, independently
// of the backend, and reports whether it says "Join is OK".
func testjoin(t *testing.T, dev labdevice.Device, dc string) bool {
	t.Helper()
	out, err := exec.Command("net", "ads", "testjoin", "-S", dc, "--configfile="+lab.SambaConfigPath(dev.Dir)).CombinedOutput()
	return err == nil && strings.Contains(string(out), "Join is OK")
}

// account reads the device's computer account in d; it fails t when there is none.
func account(t *testing.T, d labdevice.Domain, dev labdevice.Device) *labdevice.ComputerAccount {
	t.Helper()
	a, err := labdevice.FindComputer(t.Context(), d, dev.Name)
	if err != nil {
		t.Fatal(err)
	}
	if a == nil {
		t.Fatalf("%s has no computer account %s$", d.Name, dev.Name)
	}
	return a
}

// run runs one action on the device through Backend.Run.
func run(t *testing.T, b *lab.Backend, name string, params map[string]string) (string, error) {
	t.Helper()
	var last [2]int64
	out, err := b.Run(t.Context(), api.Action{Name: name, Params: params}, func(done, total int64) { last = [2]int64{done, total} })
	if err == nil && last[0] != last[1] {
		t.Errorf("%s: last progress %d/%d, want done = total", name, last[0], last[1])
	}
	msg := out
	if err != nil {
		msg += "\n" + err.Error()
	}
	noSecret(t, b.Dir(), name+" output", msg)
	return out, err
}

// noSecret fails t when text carries any password of the device's
// secrets.json.
func noSecret(t *testing.T, dir, what, text string) {
	t.Helper()
	s, err := lab.ReadSecrets(dir)
	if err != nil {
		t.Fatal(err)
	}
	pws := []string{os.Getenv("ADSHIFT_LAB_PASSWORD")}
	for _, d := range s.Domains {
		pws = append(pws, d.Password)
	}
	for _, pw := range s.Users {
		pws = append(pws, pw)
	}
	for _, pw := range pws {
		if pw != "" && strings.Contains(text, pw) {
			t.Errorf("%s carries a password of %s", what, lab.SecretsFile)
		}
	}
}

func cutoverParams(opts labdevice.Options, dev labdevice.Device) map[string]string {
	return map[string]string{
		api.ParamSourceDomain: opts.Source.Name, api.ParamSourceDC: opts.Source.DC, api.ParamSourceNetBIOS: opts.Source.NetBIOS,
		api.ParamTargetDomain: opts.Target.Name, api.ParamTargetDC: opts.Target.DC, api.ParamTargetNetBIOS: opts.Target.NetBIOS,
		api.ParamSourceAccount: "CN=" + dev.Name + ",CN=Computers," + opts.Source.Base,
		api.ParamTargetAccount: "CN=" + dev.Name + ",CN=Computers," + opts.Target.Base,
		api.ParamNoticeSeconds: "0",
	}
}

func usersParam(dev labdevice.Device) string {
	var lines []string
	for _, u := range dev.Users {
		lines = append(lines, u.SID+"="+u.Name)
	}
	return strings.Join(lines, "\n")
}

// journal returns the device's join journal bytes.
func journal(t *testing.T, dev labdevice.Device) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dev.Dir, lab.JournalDir, lab.JoinJournalFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLabJoinActions(t *testing.T) {
	opts, devs := makeDevices(t, "jla", 2)
	src, tgt := opts.Source, opts.Target
	dev, other := devs[0], devs[1]
	b := lab.New(dev.Dir)

	// Made: joined to the source, and inventory says so.
	if !testjoin(t, dev, src.DC) {
		t.Fatalf("new device %s: net ads testjoin -S %s is not OK", dev.Name, src.DC)
	}
	if a := account(t, src, dev); a.Disabled() {
		t.Fatalf("new device's source account %s is disabled (uac %d)", a.DN, a.UserAccountControl)
	}
	inv, err := b.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.Domain != src.Name {
		t.Fatalf("inventory domain %q, want %q (probes %+v)", inv.Domain, src.Name, inv.Reachable)
	}
	for _, p := range inv.Reachable {
		if !p.OK {
			t.Errorf("probe %s failed: %s", p.Target, p.Detail)
		}
	}
	if len(inv.Reachable) < 5 { // the join, LDAP and SMB of two DCs
		t.Errorf("inventory probes %+v, want the join and both DCs' LDAP and SMB", inv.Reachable)
	}

	params := cutoverParams(opts, dev)

	// cache_credentials: a real logon of each user on the target DC.
	cc := map[string]string{}
	for k, v := range params {
		cc[k] = v
	}
	cc[api.ParamUsers] = usersParam(dev)
	out, err := run(t, b, api.ActionCacheCredentials, cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if out, err = run(t, b, api.ActionCacheCredentials, cc); err != nil || !strings.Contains(out, "2 were cached already") {
		t.Errorf("cache_credentials again: %q, %v; want both cached already", out, err)
	}
	none := map[string]string{}
	for k, v := range params {
		none[k] = v
	}
	if out, err := run(t, b, api.ActionCacheCredentials, none); err != nil || !strings.Contains(out, "no users listed") {
		t.Errorf("cache_credentials without users: %q, %v", out, err)
	}
	bad := map[string]string{}
	for k, v := range cc {
		bad[k] = v
	}
	bad[api.ParamUsers] = other.Users[0].SID + "=" + other.Users[0].Name
	if _, err := run(t, b, api.ActionCacheCredentials, bad); err == nil || !strings.Contains(err.Error(), other.Users[0].Name) {
		t.Errorf("cache_credentials of a user whose password the device lacks: %v, want an error naming %s", err, other.Users[0].Name)
	}

	// offline_domain_join: validates and stages; the wrong device's blob is refused.
	repo := t.TempDir()
	blob := filepath.Join(repo, dev.Name+".odj")
	otherBlob := filepath.Join(repo, other.Name+".odj")
	for _, x := range []struct{ name, file string }{{dev.Name, blob}, {other.Name, otherBlob}} {
		if err := labdevice.ProvisionODJ(t.Context(), tgt, x.name, x.file); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := run(t, b, api.ActionOfflineDomainJoin, map[string]string{api.ParamBlob: otherBlob}); err == nil || !strings.Contains(err.Error(), "not this device") {
		t.Errorf("offline_domain_join of %s's blob on %s: %v, want refused", other.Name, dev.Name, err)
	}
	odjParams := map[string]string{api.ParamBlob: blob, api.ParamTargetDomain: tgt.Name}
	if out, err = run(t, b, api.ActionOfflineDomainJoin, odjParams); err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if out, err = run(t, b, api.ActionOfflineDomainJoin, odjParams); err != nil || !strings.Contains(out, "already staged") {
		t.Errorf("offline_domain_join again: %q, %v", out, err)
	}
	if testjoin(t, dev, src.DC) != true {
		t.Errorf("offline_domain_join changed the domain: the source join no longer holds")
	}

	// cutover: source left with its account disabled, the blob applied.
	out, err = run(t, b, api.ActionCutover, params)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if !strings.Contains(out, "offline domain join blob applied") {
		t.Errorf("cutover output %q: want the staged blob applied", out)
	}
	checkJoined(t, dev, tgt, src)
	inv, err = b.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.Domain != tgt.Name {
		t.Errorf("inventory domain after cutover %q, want %q", inv.Domain, tgt.Name)
	}
	j1, r1 := journal(t, dev), readFile(t, filepath.Join(dev.Dir, lab.RestartsLog))
	if n := strings.Count(r1, "\n"); n != 1 {
		t.Errorf("restarts.log has %d lines, want 1:\n%s", n, r1)
	}
	// A re-run changes nothing.
	out2, err := run(t, b, api.ActionCutover, params)
	if err != nil || out2 != out {
		t.Errorf("cutover again: %q, %v; want %q", out2, err, out)
	}
	if j2, r2 := journal(t, dev), readFile(t, filepath.Join(dev.Dir, lab.RestartsLog)); j2 != j1 || r2 != r1 {
		t.Errorf("cutover again changed the journal or restarts.log")
	}
	checkJoined(t, dev, tgt, src)

	// rollback: back to the source, its account enabled, the target's disabled.
	rb := map[string]string{api.ParamSourceAccount: params[api.ParamSourceAccount]}
	if out, err = run(t, b, api.ActionRollback, rb); err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	checkJoined(t, dev, src, tgt)
	j1 = journal(t, dev)
	if out2, err = run(t, b, api.ActionRollback, rb); err != nil || out2 != out {
		t.Errorf("rollback again: %q, %v; want %q", out2, err, out)
	}
	if journal(t, dev) != j1 {
		t.Errorf("rollback again changed the journal")
	}
	checkJoined(t, dev, src, tgt)

	// rollback with reacl_rollback goes through the registry.
	rb[api.ParamWithReACLRollback] = "true"
	if _, err := run(t, b, api.ActionRollback, rb); err != nil && !strings.Contains(err.Error(), "reacl_rollback") {
		t.Errorf("rollback with reacl_rollback: %v", err)
	}
	checkJoined(t, dev, src, tgt)

	// A second cutover after the rollback: the staged blob was dropped
	// (its account is disabled), so the device joins online.
	if out, err = run(t, b, api.ActionCutover, params); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "joined online") {
		t.Errorf("second cutover output %q, want an online join", out)
	}
	checkJoined(t, dev, tgt, src)

	// The other device: cutover without offline_domain_join joins online.
	ob := lab.New(other.Dir)
	if out, err = run(t, ob, api.ActionCutover, cutoverParams(opts, other)); err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	checkJoined(t, other, tgt, src)
	checkLogs(t, dev)
	checkLogs(t, other)
}

// checkJoined asserts that dev is joined to in (testjoin OK, account
// enabled) and left from (its account there kept, disabled).
func checkJoined(t *testing.T, dev labdevice.Device, in, from labdevice.Domain) {
	t.Helper()
	if !testjoin(t, dev, in.DC) {
		t.Errorf("%s: net ads testjoin -S %s is not OK", dev.Name, in.DC)
	}
	if a := account(t, in, dev); a.Disabled() {
		t.Errorf("%s: account %s in %s is disabled (uac %d)", dev.Name, a.DN, in.Name, a.UserAccountControl)
	}
	if a := account(t, from, dev); !a.Disabled() {
		t.Errorf("%s: account %s in %s is enabled (uac %d), want kept and disabled", dev.Name, a.DN, from.Name, a.UserAccountControl)
	}
	c, err := lab.ReadSambaConfig(dev.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain() != in.Name {
		t.Errorf("%s: smb.conf realm %s, want %s", dev.Name, c.Realm, in.Name)
	}
}

// checkLogs fails t when the device's logs carry a password.
func checkLogs(t *testing.T, dev labdevice.Device) {
	t.Helper()
	for _, f := range []string{lab.ActionsLog, lab.RestartsLog, filepath.Join(lab.JournalDir, lab.JoinJournalFile), filepath.Join(lab.CredentialDir, lab.CredentialCacheFile)} {
		if data, err := os.ReadFile(filepath.Join(dev.Dir, f)); err == nil {
			noSecret(t, dev.Dir, f, string(data))
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestLabCutoverResumes stops a cutover twice and runs it again: once as
// if the device had crashed right after leaving the source (before the
// journal said so), once during the restart notice.
func TestLabCutoverResumes(t *testing.T) {
	opts, devs := makeDevices(t, "jlr", 1)
	src, tgt := opts.Source, opts.Target
	dev := devs[0]
	b := lab.New(dev.Dir)

	// The crash after the leave: the device left the source with its
	// account kept (net ads leave --keep-account) and nothing recorded it.
	leave := exec.Command("net", "ads", "leave", "--keep-account", "-U", src.Admin, "-S", src.DC, "--configfile="+lab.SambaConfigPath(dev.Dir))
	leave.Env = append(os.Environ(), "PASSWD="+src.Password)
	if out, err := leave.CombinedOutput(); err != nil {
		t.Fatalf("net ads leave: %v\n%s", err, out)
	}
	// It is not joined anywhere now; inventory says so.
	inv, err := b.Inventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inv.Domain != "" {
		t.Errorf("inventory domain %q after leaving, want none", inv.Domain)
	}

	// The cutover stops during the restart notice.
	params := cutoverParams(opts, dev)
	params[api.ParamNoticeSeconds] = "1"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err = b.Run(ctx, api.Action{Name: api.ActionCutover, Params: params}, func(done, total int64) {
		if done == 3 {
			cancel()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "restart notice") {
		t.Fatalf("cutover stopped in the notice: %v, want the notice's error", err)
	}
	if _, err := os.Stat(filepath.Join(dev.Dir, lab.RestartsLog)); !os.IsNotExist(err) {
		t.Errorf("restarts.log exists before the notice ended: %v", err)
	}
	j := journal(t, dev)
	for _, step := range []string{"leave_source", "switch", "join_target"} {
		if !strings.Contains(j, `"`+step+`"`) {
			t.Errorf("journal lacks step %s:\n%s", step, j)
		}
	}
	checkJoined(t, dev, tgt, src)

	// Resumed: the notice's rest, the restart, the proof.
	out, err := run(t, b, api.ActionCutover, params)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if n := strings.Count(readFile(t, filepath.Join(dev.Dir, lab.RestartsLog)), "\n"); n != 1 {
		t.Errorf("restarts.log has %d lines, want 1", n)
	}
	checkJoined(t, dev, tgt, src)

	// Moved back behind the journal's back, a finished cutover runs again.
	if err := b.Join(t.Context(), src.Name); err != nil {
		t.Fatal(err)
	}
	if out, err = run(t, b, api.ActionCutover, params); err != nil {
		t.Fatal(err)
	}
	t.Log(out)
	if n := strings.Count(readFile(t, filepath.Join(dev.Dir, lab.RestartsLog)), "\n"); n != 2 {
		t.Errorf("restarts.log has %d lines, want 2", n)
	}
	checkJoined(t, dev, tgt, src)
}
