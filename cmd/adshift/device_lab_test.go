//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/internal/labdevice"
	"github.com/adshift/adshift/reacl"
	"github.com/adshift/adshift/state"
)

// The device cutover acceptance test: lab devices really joined to
// source.test, their agents, the hub and adshift itself run as processes;
// every result is checked on the domain controllers (net ads testjoin,
// the computer accounts) and on the devices' files (Samba's own reader of
// the security.NTACL xattrs).

const cutoverHCL = `
variable "password" {
  type      = string
  sensitive = true
}
variable "hub_token" {
  type      = string
  sensitive = true
}
variable "lab_dir" { type = string }
variable "hub_url" { type = string }
variable "hub_ca" { type = string }
variable "repository" { type = string }
variable "max_failures" {
  type    = number
  default = 0
}

environment "source" {
  provider          = "ad"
  domain            = "source.test"
  domain_controller = "dc1.source.test"
  base_dn           = "DC=source,DC=test"
  servers           = ["ldaps://127.0.0.2:636"]
  bind {
    username = "Administrator@SOURCE.TEST"
    password = var.password
  }
  tls { ca_file = "${var.lab_dir}/source-ca.pem" }
  scope {
    include_ous = ["OU=adshift-lab-devices,DC=source,DC=test", "OU=CutDevices,DC=source,DC=test"]
  }
  include = ["users", "groups", "devices"]
}

environment "target" {
  provider          = "ad"
  domain            = "target.test"
  domain_controller = "dc1.target.test"
  base_dn           = "DC=target,DC=test"
  servers           = ["ldaps://127.0.0.3:636"]
  bind {
    username = "Administrator@TARGET.TEST"
    password = var.password
  }
  tls { ca_file = "${var.lab_dir}/target-ca.pem" }
  scope {
    include_ous = ["OU=adshift-lab-devices,DC=target,DC=test", "OU=Cutover,DC=target,DC=test"]
  }
  include   = ["users", "groups", "devices"]
  new_users { password = "disabled" }
}

workflow "identities" {
  source  = environment.source
  target  = environment.target
  objects = ["users", "groups"]
  steps   = ["read", "match", "stage", "write"]
  match {
    users  = ["sAMAccountName"]
    groups = ["sAMAccountName"]
  }
  template {
    groups {
      target_ou  = "OU=adshift-lab-devices,DC=target,DC=test"
      attributes = { sAMAccountName = source.sAMAccountName }
    }
  }
}

workflow "devices" {
  source  = environment.source
  target  = environment.target
  objects = ["devices"]
  steps   = ["read", "match", "stage", "write"]
  match { devices = ["sAMAccountName"] }
  template {
    devices {
      target_ou  = "OU=Cutover,DC=target,DC=test"
      attributes = { sAMAccountName = source.sAMAccountName }
    }
  }
}

hub "lab" {
  url     = var.hub_url
  token   = var.hub_token
  ca_file = var.hub_ca
}

repository "share" {
  path = var.repository
}

device_cutover "wave1" {
  workflow       = workflow.devices
  identities     = workflow.identities
  hub            = hub.lab
  repository     = repository.share
  devices { names = ["CUT*"] }
  actions        = ["cache_credentials", "reacl", "offline_domain_join", "cutover", "upload_logs"]
  batch_size     = 5
  max_failures   = var.max_failures
  notice_seconds = 0
}
`

// TestLabDeviceCutover cuts 20 lab devices over from source.test to
// target.test with adshift plan and apply through a hub and the devices'
// agents: a device with an unsupported OS and one with a principal
// neither matched nor staged are blocked and untouched; a device made to
// fail mid-cutover stops the first apply's wave (max_failures 0) and is
// rolled back to the source, its descriptors byte for byte; an apply
// interrupted mid-wave and run again repeats no finished action.
func TestLabDeviceCutover(t *testing.T) {
	labVars := labEnv(t)
	if os.Geteuid() != 0 {
		t.Skip("lab devices keep NT ACLs in security.NTACL xattrs, which need root")
	}
	ctx := t.Context()
	src, tgt, err := labdevice.LabDomains()
	if err != nil {
		t.Fatal(err)
	}
	secret := labVars["ADSHIFT_LAB_PASSWORD"]
	runDir := filepath.Join(labVars["ADSHIFT_LAB_DIR"], ".run")

	// The one-way trust source → target, which cache_credentials needs
	// and the plan reads from the source directory.
	trust := func(args ...string) {
		sh(t, nil, filepath.Join(labVars["ADSHIFT_LAB_DIR"], "trust.py"), append([]string{filepath.Join(runDir, "source", "etc", "smb.conf")}, args...)...)
	}
	trust("remove", "target.test", "TARGET")
	trust("add", "target.test", "TARGET", "2")
	t.Cleanup(func() { trust("remove", "target.test", "TARGET") })

	// A clean slate on both DCs: no pre-staged accounts of an earlier run.
	cleanTarget := func() { ldapTarget(t, labVars, "ldapdelete", "-r", "OU=Cutover,DC=target,DC=test") }
	cleanTarget()
	t.Cleanup(cleanTarget)

	const supported = 20
	opts := labdevice.Options{Dir: t.TempDir(), Count: supported + 2, Prefix: "cut", Unsupported: 1, TargetUsers: true,
		Files: 12, Source: src, Target: tgt}
	t.Cleanup(func() {
		if err := labdevice.Remove(context.Background(), opts, opts.Names()); err != nil {
			t.Logf("removing the lab devices: %v", err)
		}
	})
	start := time.Now()
	devs, err := labdevice.Make(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d lab devices made and joined to source.test in %s", len(devs), time.Since(start).Round(time.Second))
	byName := map[string]labdevice.Device{}
	for _, d := range devs {
		byName[d.Name] = d
	}
	failing, stranger, xp := byName["CUT005"], byName["CUT021"], byName["CUT022"]
	moveComputers(t, labVars, devs)

	// CUT021 has a profile of a source account outside the migration's
	// scope: the built-in Guest.
	domSID := devs[0].Users[0].SID[:strings.LastIndexByte(devs[0].Users[0].SID, '-')]
	var profiles []lab.Profile
	readJSON(t, filepath.Join(stranger.Dir, lab.ProfilesFile), &profiles)
	profiles = append(profiles, lab.Profile{SID: domSID + "-501", Name: `SOURCE\Guest`, Path: `C:\Users\Guest`})
	if err := lab.WriteProfiles(stranger.Dir, profiles); err != nil {
		t.Fatal(err)
	}

	// The hub and one agent per device.
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0")
	var tok struct {
		Token struct {
			Secret        string `json:"secret"`
			CAFingerprint string `json:"ca_fingerprint"`
		} `json:"token"`
	}
	if err := json.Unmarshal([]byte(h.cli(t, "token", "create", "-json", "-scope", "wave1", "-uses", "30")), &tok); err != nil {
		t.Fatal(err)
	}
	agentBinary := agentBin(t)
	for _, d := range devs {
		a, err := labdevice.StartAgent(ctx, d, labdevice.AgentOptions{Bin: agentBinary, HubURL: h.admin.BaseURL, Token: tok.Token.Secret,
			CAFingerprint: tok.Token.CAFingerprint, Args: []string{"-heartbeat", "1s", "-poll-wait", "5s"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Stop)
	}

	// The configuration, its secrets only in the environment.
	dir, repo := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(cutoverHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	adminToken, err := os.ReadFile(filepath.Join(h.data, hub.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	run := &labRun{t: t, bin: bin, dir: dir, env: []string{
		"ADSHIFT_VAR_password=" + secret, "ADSHIFT_VAR_hub_token=" + strings.TrimSpace(string(adminToken)),
		"ADSHIFT_VAR_lab_dir=" + runDir, "ADSHIFT_VAR_hub_url=" + h.admin.BaseURL,
		"ADSHIFT_VAR_hub_ca=" + filepath.Join(h.data, hubServerCAFile), "ADSHIFT_VAR_repository=" + repo,
	}}

	// The first apply pre-stages the target computer accounts; the
	// devices wait for them.
	r := run.step(0, "plan", "-out", "stage.plan")
	if !strings.Contains(r.stdout, "its target computer account is created by this plan") {
		t.Fatalf("the devices do not wait for their target accounts:\n%s", tail(r.stdout, 40))
	}
	run.step(0, "apply", "stage.plan")

	// CUT005's offline domain join file is provisioned ahead; once the
	// wave is planned, its pre-staged target account is deleted, and the
	// device's own credential for the target is wrong, so its online
	// fallback fails too. Its cutover fails after it left the source, at
	// the target join: a device to roll back.
	run.step(0, "odj", "provision", "-env", "target", "-ou", "OU=Cutover,DC=target,DC=test", "-dir", repo, "-reuse", "CUT005")
	secrets, err := lab.ReadSecrets(failing.Dir)
	if err != nil {
		t.Fatal(err)
	}
	goodTarget := secrets.Domains["target.test"]
	wrong := goodTarget
	wrong.Password = "not-the-password-1A"
	secrets.Domains["target.test"] = wrong
	if err := lab.WriteSecrets(failing.Dir, secrets); err != nil {
		t.Fatal(err)
	}

	before := snapshot(t, devs)

	// The wave: 20 ready, CUT021 and CUT022 blocked.
	r = run.step(0, "plan", "-out", "wave.plan")
	for _, want := range []string{
		`SOURCE\Guest (` + domSID + `-501)`, // the stranger's principal, named
		"Windows XP",                        // CUT022's blocker
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan does not say %q:\n%s", want, tail(r.stdout, 80))
		}
	}
	if !strings.Contains(r.stdout, "Devices: 20 ready, 0 scheduled, 2 blocked.") {
		t.Fatalf("want 20 devices ready and 2 blocked:\n%s", tail(r.stdout, 80))
	}

	// max_failures = 0: CUT005 fails in the first batch of five, the
	// wave stops and says so.
	if out, err := ldapTarget(t, labVars, "ldapdelete", "CN=CUT005,OU=Cutover,DC=target,DC=test"); err != nil {
		t.Fatalf("delete CUT005's target account: %v\n%s", err, out)
	}
	r = run.step(1, "apply", "wave.plan")
	for _, want := range []string{`device_cutover.wave1["CUT005"]: cutover failed on the device`, "Wave stopped",
		"device_cutover.wave1 stopped after 1 failed devices (max_failures = 0): 15 devices were not started"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("the stopped wave does not say %q:\n%s\n%s", want, tail(r.stdout, 40), r.stderr)
		}
	}

	// The device's credential is put right (CUT005 waits for its target
	// account, which the next apply creates again). The rest of the wave
	// with max_failures = 3, interrupted after the first result of the
	// second batch and run again.
	secrets.Domains["target.test"] = goodTarget
	if err := lab.WriteSecrets(failing.Dir, secrets); err != nil {
		t.Fatal(err)
	}
	run.env = append(run.env, "ADSHIFT_VAR_max_failures=3")
	interruptApply(t, run, "CUT006")
	run.step(0, "apply", "-auto-approve")
	st := loadState(t, dir)

	// Every cut-over device: joined to the target (testjoin against its
	// DC), its source account kept and disabled, each action run once
	// on the device and recorded once in state, and every descriptor the
	// translation of what it was under the SID map.
	sidMap := st.SIDMap()
	want := map[string][]byte{}
	for _, d := range devs[:supported] {
		if d.Name == failing.Name {
			continue
		}
		if !testjoin(t, d, tgt.DC) {
			t.Errorf("%s: net ads testjoin -S %s is not OK", d.Name, tgt.DC)
		}
		if a, err := labdevice.FindComputer(ctx, src, d.Name); err != nil || a == nil || !a.Disabled() {
			t.Errorf("%s: source account %+v (%v), want kept and disabled", d.Name, a, err)
		}
		for _, action := range []string{"cache_credentials", "reacl", "offline_domain_join", "cutover", "upload_logs"} {
			if n := ranOnDevice(t, d, action); n != 1 {
				t.Errorf("%s: %s ran %d times on the device, want once", d.Name, action, n)
			}
			if n := recorded(st, d.Name, action); n != 1 {
				t.Errorf("%s: state records %s %d times, want once; state has:\n%s", d.Name, action, n, stateActions(st, d.Name))
			}
		}
		// The target join is the offline domain join file apply
		// provisioned, not the online fallback.
		if sd := st.Devices[`device_cutover.wave1["`+d.Name+`"]`]; sd != nil {
			if a, ok := sd.LastAction("cutover"); !ok || !strings.Contains(a.Detail, "offline domain join blob applied") {
				t.Errorf("%s: cutover did not apply the provisioned offline domain join file: %q", d.Name, a.Detail)
			}
		}
		for path, raw := range before[d.Name] {
			if strings.HasPrefix(path, "disk") {
				want[filepath.Join(d.Dir, path)] = translated(t, raw, sidMap)
			}
		}
	}
	sambaCompare(t, want)

	// CUT005 back in the source: joined (testjoin against the source DC),
	// its source account enabled, every descriptor as it was.
	r = run.step(0, "plan", `-rollback=device_cutover.wave1["CUT005"]`, "-out", "rollback.plan")
	if !strings.Contains(r.stdout, "Devices: 1 ready") {
		t.Fatalf("the rollback plan does not run CUT005:\n%s", tail(r.stdout, 60))
	}
	run.step(0, "apply", "rollback.plan")
	if !testjoin(t, failing, src.DC) {
		t.Errorf("%s: net ads testjoin -S %s is not OK after the rollback", failing.Name, src.DC)
	}
	if a, err := labdevice.FindComputer(ctx, src, failing.Name); err != nil || a == nil || a.Disabled() {
		t.Errorf("%s: source account %+v (%v) after the rollback, want enabled", failing.Name, a, err)
	}
	sameBytes(t, failing, before[failing.Name])

	// The blocked devices were never touched.
	for _, d := range []labdevice.Device{stranger, xp} {
		sameBytes(t, d, before[d.Name])
		if !testjoin(t, d, src.DC) {
			t.Errorf("%s: no longer joined to the source", d.Name)
		}
		if n := ranOnDevice(t, d, ""); n != 0 {
			t.Errorf("%s: %d actions ran on a blocked device", d.Name, n)
		}
	}

	// The review lists every device of the wave with its readiness,
	// blockers and results.
	r = run.step(0, "show", "-markdown", "wave.plan")
	for _, want := range []string{"CUT001", "CUT021", "neither matched nor staged", "Guest (", "CUT022", "is not a supported operating system", "cutover"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the review does not show %q", want)
		}
	}
	noSecret(t, secret, run.outputs, dir)
}

// moveComputers moves the lab devices' computer accounts from
// CN=Computers into OU=CutDevices of the source, the migration's scope.
func moveComputers(t *testing.T, labVars map[string]string, devs []labdevice.Device) {
	t.Helper()
	var ldif strings.Builder
	ldif.WriteString("dn: OU=CutDevices,DC=source,DC=test\nchangetype: add\nobjectClass: organizationalUnit\n\n")
	for _, d := range devs {
		fmt.Fprintf(&ldif, "dn: CN=%s,CN=Computers,DC=source,DC=test\nchangetype: modrdn\nnewrdn: CN=%s\ndeleteoldrdn: 1\nnewsuperior: OU=CutDevices,DC=source,DC=test\n\n", d.Name, d.Name)
	}
	f := filepath.Join(t.TempDir(), "move.ldif")
	os.WriteFile(f, []byte(ldif.String()), 0o600)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(labVars["ADSHIFT_LAB_PASSWORD"]), 0o600)
	cmd := exec.Command("ldapmodify", "-c", "-H", labVars["ADSHIFT_LAB_SOURCE_URL"], "-D", labVars["ADSHIFT_LAB_SOURCE_ADMIN"], "-y", pw, "-f", f)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+labVars["ADSHIFT_LAB_SOURCE_CA"])
	out, _ := cmd.CombinedOutput()
	for _, d := range devs {
		a, err := labdevice.FindComputer(t.Context(), mustSource(t), d.Name)
		if err != nil || a == nil || !strings.HasSuffix(a.DN, "OU=CutDevices,DC=source,DC=test") {
			t.Fatalf("%s not moved to OU=CutDevices: %+v %v\n%s", d.Name, a, err, out)
		}
	}
}

func mustSource(t *testing.T) labdevice.Domain {
	src, _, err := labdevice.LabDomains()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// snapshot is every device's security.NTACL xattrs (by path relative to
// the device, under disk/) and its profiles.json and groups.json, raw.
func snapshot(t *testing.T, devs []labdevice.Device) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for _, d := range devs {
		m := map[string][]byte{}
		err := filepath.WalkDir(filepath.Join(d.Dir, lab.DiskDir), func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(d.Dir, path)
			m[rel] = getxattr(t, path)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{lab.ProfilesFile, lab.GroupsFile} {
			b, err := os.ReadFile(filepath.Join(d.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = b
		}
		out[d.Name] = m
	}
	return out
}

func getxattr(t *testing.T, path string) []byte {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Lgetxattr(path, lab.NTACLXattr, buf)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return append([]byte(nil), buf[:n]...)
}

// sameBytes fails t unless every snapshotted item of d is byte for byte
// what it was.
func sameBytes(t *testing.T, d labdevice.Device, was map[string][]byte) {
	t.Helper()
	changed := 0
	for rel, b := range was {
		var now []byte
		if strings.HasPrefix(rel, lab.DiskDir) {
			now = getxattr(t, filepath.Join(d.Dir, rel))
		} else {
			now, _ = os.ReadFile(filepath.Join(d.Dir, rel))
		}
		if !bytes.Equal(now, b) {
			if changed++; changed <= 3 {
				t.Errorf("%s: %s differs from before the cutover", d.Name, rel)
			}
		}
	}
	if changed > 3 {
		t.Errorf("%s: %d items differ in all", d.Name, changed)
	}
}

// translated is the security.NTACL xattr raw with its descriptor
// translated by the ReACL engine in add mode under the SID map.
func translated(t *testing.T, raw []byte, sidMap map[string]string) []byte {
	t.Helper()
	m := reacl.NewMap()
	for s, tg := range sidMap {
		from, err1 := adid.ParseSID(s)
		to, err2 := adid.ParseSID(tg)
		if err1 != nil || err2 != nil {
			t.Fatalf("SID map %s=%s: %v %v", s, tg, err1, err2)
		}
		if err := m.Add(from, to); err != nil {
			t.Fatal(err)
		}
	}
	n, err := lab.DecodeNTACL(raw)
	if err != nil {
		t.Fatal(err)
	}
	sd, _, err := reacl.TranslateBinary(n.SD, m, reacl.Options{Mode: reacl.ModeAdd})
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// sambaCompare reads each file's security.NTACL with Samba's own NDR
// code and compares its descriptor, as SDDL, with the expected binary
// descriptor decoded by Samba too.
func sambaCompare(t *testing.T, want map[string][]byte) {
	t.Helper()
	type item struct {
		Path string `json:"path"`
		Want string `json:"want"`
	}
	var items []item
	for p, sd := range want {
		items = append(items, item{p, hex.EncodeToString(sd)})
	}
	if len(items) == 0 {
		t.Fatal("no descriptor to compare: the devices' disks are empty")
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Path < items[j].Path })
	in, _ := json.Marshal(items)
	const script = `
import json, os, sys
from samba.dcerpc import security, xattr
from samba.ndr import ndr_unpack
bad = 0
for it in json.load(sys.stdin):
    x = ndr_unpack(xattr.NTACL, os.getxattr(it["path"], "security.NTACL", follow_symlinks=False))
    sd = x.info if x.version == 1 else x.info.sd
    got = sd.as_sddl()
    want = ndr_unpack(security.descriptor, bytes.fromhex(it["want"])).as_sddl()
    if got != want:
        bad += 1
        if bad <= 5:
            print("MISMATCH %s\n  got  %s\n  want %s" % (it["path"], got, want))
print("checked")
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Samba's reader: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "MISMATCH") {
		t.Errorf("descriptors that are not the translation of what they were:\n%s", out)
	}
	t.Logf("%d descriptors read by Samba equal their expected translation", len(items))
}

// testjoin asks the DC whether the device's join is valid.
func testjoin(t *testing.T, d labdevice.Device, dc string) bool {
	t.Helper()
	out, err := exec.Command("net", "ads", "testjoin", "-S", dc, "--configfile="+lab.SambaConfigPath(d.Dir)).CombinedOutput()
	return err == nil && strings.Contains(string(out), "Join is OK")
}

// ranOnDevice counts the lines of the device's actions.log for action
// (every line when action is "").
func ranOnDevice(t *testing.T, d labdevice.Device, action string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(d.Dir, lab.ActionsLog))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if action == "" || strings.HasPrefix(sc.Text(), action+" ") {
			n++
		}
	}
	return n
}

// recorded counts the done results of action that state records for the
// device.
func recorded(st *state.State, name, action string) int {
	d := st.Devices[`device_cutover.wave1["`+name+`"]`]
	if d == nil {
		return 0
	}
	n := 0
	for _, a := range d.Actions {
		if a.Name == action && a.Status == state.ActionDone {
			n++
		}
	}
	return n
}

func stateActions(st *state.State, name string) string {
	d := st.Devices[`device_cutover.wave1["`+name+`"]`]
	if d == nil {
		return "(nothing)"
	}
	var b strings.Builder
	for _, a := range d.Actions {
		fmt.Fprintf(&b, "  %s %s %s %s\n", a.At.Format(time.RFC3339Nano), a.Name, a.Status, a.Detail)
	}
	return b.String()
}

func loadState(t *testing.T, dir string) *state.State {
	t.Helper()
	st, err := state.NewLocal(filepath.Join(dir, "adshift.state")).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// interruptApply runs apply -auto-approve and sends it SIGINT once the
// device's first action result shows, then waits for it to end.
func interruptApply(t *testing.T, run *labRun, device string) {
	t.Helper()
	cmd := exec.Command(run.bin, "-chdir="+run.dir, "apply", "-auto-approve")
	cmd.Env = append(os.Environ(), run.env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	sc := bufio.NewScanner(out)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		seen.WriteString(line + "\n")
		if !sent && strings.Contains(line, `["`+device+`"]`) && strings.Contains(line, " done (") {
			cmd.Process.Signal(syscall.SIGINT)
			sent = true
		}
	}
	cmd.Wait()
	run.outputs = append(run.outputs, seen.String(), errb.String())
	if !sent {
		t.Fatalf("apply ended before %s reported a result:\n%s\n%s", device, tail(seen.String(), 40), errb.String())
	}
	if !strings.Contains(seen.String()+errb.String(), "interrupted") {
		t.Errorf("the interrupted apply does not say so:\n%s\n%s", tail(seen.String(), 20), errb.String())
	}
}
