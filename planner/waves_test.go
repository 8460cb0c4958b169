package planner

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// fakeHub is a scripted device provider for unit tests of the planner's
// wave logic: jobs run at once, in order, each action succeeding unless
// fail names it for the device. (The real hub, agents and device
// provider run as processes in the end-to-end tests.)
type fakeHub struct {
	mu      sync.Mutex
	devices []providers.DeviceInfo
	fail    map[string]string // hostname → action that fails
	offline map[string]bool   // hostnames whose jobs never run
	jobs    map[string]*fakeJob
	queued  []string // keys in the order they were queued
	batches [][]string
}

type fakeJob struct {
	id, host string
	actions  []providers.DeviceAction
	results  []providers.DeviceEvent
	state    string
}

func newFakeHub(devs ...providers.DeviceInfo) *fakeHub {
	return &fakeHub{devices: devs, fail: map[string]string{}, offline: map[string]bool{}, jobs: map[string]*fakeJob{}}
}

// goodAgents are n devices ws01, ws02, … whose agents are ready and were
// seen a minute before planNow.
func goodAgents(n int) []providers.DeviceInfo {
	var devs []providers.DeviceInfo
	for i := 1; i <= n; i++ {
		devs = append(devs, agentDev(fmt.Sprintf("ws%02d", i), goodInventory, planNow.Add(-time.Minute)))
	}
	return devs
}

func agentDev(host string, inv providers.DeviceInventory, seen time.Time) providers.DeviceInfo {
	return providers.DeviceInfo{ID: "dev-" + host, Hostname: host, State: "active", LastSeen: seen, Inventory: &inv}
}

func (h *fakeHub) GetSchema(context.Context) (*providers.Schema, error) {
	return &providers.Schema{Name: "device", Config: providers.Block{Attributes: []providers.Attribute{
		{Name: "url", Type: cty.String, Required: true}, {Name: "token", Type: cty.String, Sensitive: true},
	}}}, nil
}
func (h *fakeHub) Configure(context.Context, cty.Value) (providers.Diagnostics, error) {
	return nil, nil
}
func (h *fakeHub) Discover(context.Context, providers.Scope, func([]providers.Object) error) error {
	return nil
}
func (h *fakeHub) Apply(context.Context, <-chan providers.Change, func(providers.Result) error) error {
	return fmt.Errorf("device provider: use RunDevices")
}
func (h *fakeHub) Stop(context.Context) error { return nil }

func (h *fakeHub) ListDevices(context.Context) ([]providers.DeviceInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]providers.DeviceInfo(nil), h.devices...), nil
}

func (h *fakeHub) RunDevices(ctx context.Context, run providers.DeviceRun, emit func(providers.DeviceEvent) error) error {
	h.mu.Lock()
	var keys []string
	for _, j := range run.Jobs {
		keys = append(keys, j.Hostname)
		fj := h.jobs[j.Key]
		if fj == nil {
			fj = &fakeJob{id: fmt.Sprintf("job%d", len(h.jobs)+1), host: j.Hostname, actions: j.Actions, state: "queued"}
			h.jobs[j.Key] = fj
			h.queued = append(h.queued, j.Key)
			if !h.offline[j.Hostname] {
				fj.state = "succeeded"
				for i, a := range j.Actions {
					ev := providers.DeviceEvent{Kind: providers.DeviceEventResult, Key: j.Key, JobID: fj.id, Hostname: j.Hostname, Action: i, ActionName: a.Name, Status: "ok", Output: a.Name + " done"}
					if h.fail[j.Hostname] == a.Name {
						ev.Status, ev.Output, fj.state = "failed", a.Name+" broke", "failed"
					}
					fj.results = append(fj.results, ev)
					if ev.Status == "failed" {
						break
					}
				}
			}
		}
	}
	h.batches = append(h.batches, keys)
	h.mu.Unlock()
	for _, j := range run.Jobs {
		fj := h.jobs[j.Key]
		emit(providers.DeviceEvent{Kind: providers.DeviceEventQueued, Key: j.Key, JobID: fj.id})
		for _, r := range fj.results {
			if err := emit(r); err != nil {
				return err
			}
		}
		if fj.state == "queued" {
			emit(providers.DeviceEvent{Kind: providers.DeviceEventPending, Key: j.Key, JobID: fj.id})
			continue
		}
		emit(providers.DeviceEvent{Kind: providers.DeviceEventDone, Key: j.Key, JobID: fj.id, JobState: fj.state})
	}
	return nil
}

const hubDevicesConfig = `
environment "source" {
  provider          = "src"
  file              = "s"
  domain            = "source.test"
  domain_controller = "dc1.source.test"
  base_dn           = "DC=s"
}
environment "target" {
  provider          = "tgt"
  file              = "t"
  domain            = "target.test"
  domain_controller = "dc1.target.test"
  base_dn           = "DC=t"
}
hub "lab" {
  url   = "https://127.0.0.1:8443"
  token = "x"
}
workflow "dev" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
}
device_cutover "w1" {
  workflow     = workflow.dev
  identities   = workflow.id
  hub          = hub.lab
  actions      = ["cache_credentials", "reacl", "cutover"]
  batch_size   = 2
  max_failures = 0
  requirements { trust = true }
}
`

// hubLab is a source and target with users, a group and n computers,
// each matched in the target.
func hubLab(n int) (*fakeDir, *fakeDir) {
	src := newFakeDir(
		obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "objectGUID", "s-ann", "objectSid", "S-1-5-21-1-2-3-1101"),
		obj(providers.KindUser, "CN=Bob,DC=s", "sAMAccountName", "bob", "objectGUID", "s-bob", "objectSid", "S-1-5-21-1-2-3-1102"),
		obj(providers.KindGroup, "CN=Staff,DC=s", "sAMAccountName", "staff", "objectGUID", "s-staff", "objectSid", "S-1-5-21-1-2-3-1103"),
		obj(providers.KindUser, "CN=Eve,DC=s", "sAMAccountName", "eve", "objectGUID", "s-eve", "objectSid", "S-1-5-21-1-2-3-1104"),
	)
	tgt := newFakeDir(
		obj(providers.KindUser, "CN=ann,DC=t", "sAMAccountName", "ann", "objectGUID", "t-ann", "objectSid", "S-1-5-21-7-8-9-2101"),
		obj(providers.KindUser, "CN=bob,DC=t", "sAMAccountName", "bob", "objectGUID", "t-bob", "objectSid", "S-1-5-21-7-8-9-2102"),
		obj(providers.KindGroup, "CN=staff,DC=t", "sAMAccountName", "staff", "objectGUID", "t-staff", "objectSid", "S-1-5-21-7-8-9-2103"),
		obj(providers.KindUser, "CN=eve,DC=t", "sAMAccountName", "eve", "objectGUID", "t-eve", "objectSid", "S-1-5-21-7-8-9-2104"),
	)
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("WS%02d", i)
		src.objects[strings.ToLower("CN="+name+",DC=s")] = obj(providers.KindComputer, "CN="+name+",DC=s", "sAMAccountName", name+"$", "operatingSystem", "Windows 10 Pro",
			"operatingSystemVersion", "10.0 (19045)", "objectGUID", "s-"+name, "objectSid", fmt.Sprintf("S-1-5-21-1-2-3-%d", 3000+i))
		tgt.objects[strings.ToLower("CN="+name+",DC=t")] = obj(providers.KindComputer, "CN="+name+",DC=t", "sAMAccountName", name+"$", "objectGUID", "t-"+name)
	}
	return src, tgt
}

var goodInventory = providers.DeviceInventory{
	OS: "Windows 10 Pro", OSVersion: "10.0", OSBuild: "19045", PowerShell: "5.1", DotNetRelease: 528040, Domain: "source.test",
	Principals: []providers.DevicePrincipal{
		{SID: "S-1-5-21-1-2-3-1101", Name: `SOURCE\ann`, Where: "profile"},
		{SID: "S-1-5-21-1-2-3-1103", Name: `SOURCE\staff`, Where: "acl"},
		{SID: "S-1-5-21-99-99-99-500", Name: `WS\Administrator`, Where: "local_group"},
	},
	Reachable: []providers.DeviceProbe{{Target: "dc1.target.test:445", OK: true}},
}

var planNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func hubPlan(t *testing.T, src, tgt *fakeDir, hub *fakeHub, st *state.State, rollback ...string) (*plans.Plan, *Options) {
	t.Helper()
	cfg, scope := loadConfig(t, hubDevicesConfig+identities)
	opts := &Options{Config: cfg, Scope: scope, State: st, Launcher: providerLauncher{"src": src, "tgt": tgt, "device": hub}, Now: planNow, Rollback: rollback}
	p, diags := Plan(context.Background(), *opts)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p, opts
}

func blockerCodes(d *plans.Device) string {
	var codes []string
	for _, b := range d.Blockers {
		codes = append(codes, b.Code)
	}
	sort.Strings(codes)
	return string(d.Status) + " " + strings.Join(codes, ",")
}

func TestPlan_agentReadiness(t *testing.T) {
	src, tgt := hubLab(6)
	old := goodInventory
	old.PowerShell, old.DotNetRelease = "1.0", 378389
	old.Reachable = []providers.DeviceProbe{{Target: "dc1.target.test:445", OK: false, Detail: "connection refused"}}
	stranger := goodInventory
	stranger.Principals = append(append([]providers.DevicePrincipal(nil), goodInventory.Principals...), providers.DevicePrincipal{SID: "S-1-5-21-1-2-3-1999", Name: `SOURCE\gone`, Where: "profile"})
	xp := goodInventory
	xp.OS, xp.OSVersion, xp.OSBuild = "Windows XP Professional", "5.1", "2600"
	hub := newFakeHub(
		agentDev("ws01", goodInventory, planNow.Add(-time.Minute)),
		agentDev("WS03", old, planNow.Add(-time.Minute)),
		agentDev("ws04", stranger, planNow.Add(-time.Minute)),
		agentDev("ws05", goodInventory, planNow.Add(-2*time.Hour)),
		agentDev("ws06", xp, planNow.Add(-time.Minute)),
	)
	p, _ := hubPlan(t, src, tgt, hub, nil)
	got := map[string]string{}
	byName := map[string]*plans.Device{}
	for _, d := range p.Devices {
		got[d.Name] = blockerCodes(d)
		byName[d.Name] = d
	}
	want := map[string]string{
		"WS01": "ready ",
		"WS02": "blocked no_agent",
		"WS03": "blocked dotnet_old,powershell_old,unreachable",
		"WS04": "blocked unknown_principal",
		"WS05": "blocked agent_offline",
		"WS06": "blocked os_unsupported",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readiness (-want +got):\n%s", diff)
	}
	for _, b := range byName["WS04"].Blockers {
		for _, s := range []string{`SOURCE\gone (S-1-5-21-1-2-3-1999)`} {
			if !strings.Contains(b.Message, s) {
				t.Errorf("WS04 blocker does not name %s: %s", s, b.Message)
			}
		}
		if strings.Contains(b.Message, "ann") || strings.Contains(b.Message, "staff") || strings.Contains(b.Message, "Administrator") {
			t.Errorf("WS04 blocker names a matched or local principal: %s", b.Message)
		}
	}
	ws1 := byName["WS01"]
	if ws1.Agent == nil || ws1.Agent.ID != "dev-ws01" {
		t.Fatalf("WS01 agent %+v", ws1.Agent)
	}
	var names []string
	for _, a := range ws1.Job {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "cache_credentials,reacl,cutover" {
		t.Fatalf("job %v", names)
	}
	if got := ws1.Job[0].Params[api.ParamUsers]; got != "S-1-5-21-1-2-3-1101=ann" {
		t.Errorf("cache_credentials users = %q", got)
	}
	if got := ws1.Job[2].Params; got[api.ParamTargetAccount] != "CN=WS01,DC=t" || got[api.ParamSourceAccount] != "CN=WS01,DC=s" || got[api.ParamTargetDC] != "dc1.target.test" || got[api.ParamTargetNetBIOS] != "TARGET" {
		t.Errorf("cutover params %v", got)
	}
	if _, ok := ws1.Job[1].Params[api.ParamSIDMap]; ok {
		t.Error("the plan carries the SID map; apply adds it from state")
	}
}

// localState is a new, empty local state.
func localState(t *testing.T) (*state.Local, *state.State) {
	t.Helper()
	b := state.NewLocal(filepath.Join(t.TempDir(), "s.json"))
	st, err := b.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return b, st
}

// applyHub applies p with a Txn on st and returns the diagnostics.
func applyHub(t *testing.T, b *state.Local, p *plans.Plan, opts *Options, st *state.State, wait time.Duration) string {
	t.Helper()
	txn, err := b.Begin(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	diags := Apply(context.Background(), ApplyOptions{Plan: p, Config: opts.Config, Scope: opts.Scope, Txn: txn, Launcher: opts.Launcher, Wait: wait, Now: planNow})
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary+": "+d.Detail)
	}
	return strings.Join(out, "\n")
}

func actionLog(st *state.State, addr string) string {
	d := st.Devices[addr]
	if d == nil {
		return ""
	}
	var out []string
	for _, a := range d.Actions {
		out = append(out, a.Name+"="+a.Status)
	}
	return strings.Join(out, " ")
}

func TestApply_waveBatchesStopsAndResumes(t *testing.T) {
	src, tgt := hubLab(5)
	hub := newFakeHub(goodAgents(5)...)
	hub.fail["WS03"] = "reacl"
	b, st := localState(t)
	p, opts := hubPlan(t, src, tgt, hub, st)
	if n := p.DeviceWork(); n != 5 {
		t.Fatalf("device work %d, want 5", n)
	}
	out := applyHub(t, b, p, opts, st, 0)
	for _, want := range []string{"Device action failed", `device_cutover.w1["WS03"]: reacl failed on the device: reacl broke`, "Wave stopped", "1 devices were not started"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply did not say %q:\n%s", want, out)
		}
	}
	// Batches of two; the failure in the second batch stops the wave.
	if got := fmt.Sprint(hub.batches); got != "[[WS01 WS02] [WS03 WS04]]" {
		t.Errorf("batches %s", got)
	}
	if got := actionLog(st, `device_cutover.w1["WS03"]`); got != "cache_credentials=done reacl=failed" {
		t.Errorf("WS03 in state: %s", got)
	}
	if got := actionLog(st, `device_cutover.w1["WS01"]`); got != "cache_credentials=done reacl=done cutover=done" {
		t.Errorf("WS01 in state: %s", got)
	}
	// The SID map reached reacl: every matched user and group.
	for _, fj := range hub.jobs {
		if fj.host == "WS01" {
			want := "S-1-5-21-1-2-3-1101=S-1-5-21-7-8-9-2101\nS-1-5-21-1-2-3-1102=S-1-5-21-7-8-9-2102\nS-1-5-21-1-2-3-1103=S-1-5-21-7-8-9-2103\nS-1-5-21-1-2-3-1104=S-1-5-21-7-8-9-2104"
			if got := fj.actions[1].Params[api.ParamSIDMap]; got != want {
				t.Errorf("sid_map = %q, want %q", got, want)
			}
		}
	}

	// The next plan: WS01, WS02, WS04 done; WS03 resumes at reacl under a
	// new job; WS05 starts.
	hub.fail = map[string]string{}
	p, opts = hubPlan(t, src, tgt, hub, st)
	got := map[string]string{}
	for _, d := range p.Devices {
		got[d.Name] = string(d.Status) + " " + strings.Join(d.Actions, ",")
	}
	want := map[string]string{"WS01": "done ", "WS02": "done ", "WS03": "ready reacl,cutover", "WS04": "done ", "WS05": "ready cache_credentials,reacl,cutover"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("second plan (-want +got):\n%s", diff)
	}
	queuedBefore := len(hub.queued)
	if out := applyHub(t, b, p, opts, st, 0); out != "" {
		t.Fatalf("second apply: %s", out)
	}
	if n := len(hub.queued) - queuedBefore; n != 2 {
		t.Errorf("%d new jobs, want 2 (WS03 retried, WS05)", n)
	}
	if got := actionLog(st, `device_cutover.w1["WS03"]`); got != "cache_credentials=done reacl=failed reacl=done cutover=done" {
		t.Errorf("WS03 in state: %s", got)
	}
}

func TestApply_rerunRecordsEachResultOnce(t *testing.T) {
	src, tgt := hubLab(1)
	hub := newFakeHub(agentDev("ws01", goodInventory, planNow.Add(-time.Minute)))
	b, st := localState(t)
	p, opts := hubPlan(t, src, tgt, hub, st)
	// The same plan applied twice (as after an interruption that lost the
	// watch): the hub has the job under the same key, its results are
	// emitted again, and state records them once.
	for i := 0; i < 2; i++ {
		if out := applyHub(t, b, p, opts, st, 0); out != "" {
			t.Fatal(out)
		}
	}
	if len(hub.queued) != 1 {
		t.Errorf("%d jobs queued, want 1", len(hub.queued))
	}
	if got := actionLog(st, `device_cutover.w1["WS01"]`); got != "cache_credentials=done reacl=done cutover=done" {
		t.Errorf("state: %s", got)
	}
}

func TestApply_offlineDevicesStayPending(t *testing.T) {
	src, tgt := hubLab(2)
	hub := newFakeHub(agentDev("ws01", goodInventory, planNow.Add(-time.Minute)), agentDev("ws02", goodInventory, planNow.Add(-time.Minute)))
	hub.offline["WS02"] = true
	b, st := localState(t)
	p, opts := hubPlan(t, src, tgt, hub, st)
	out := applyHub(t, b, p, opts, st, time.Second)
	if !strings.Contains(out, "Devices still pending") || !strings.Contains(out, "1 devices of device_cutover.w1 did not finish") {
		t.Errorf("apply said:\n%s", out)
	}
	if st.Devices[`device_cutover.w1["WS02"]`] != nil {
		t.Error("a pending device has results in state")
	}
	p, _ = hubPlan(t, src, tgt, hub, st)
	for _, d := range p.Devices {
		if d.Name == "WS02" && (d.Status != plans.DeviceReady || len(d.Actions) != 3) {
			t.Errorf("WS02 next plan: %s %v", d.Status, d.Actions)
		}
	}
}

func TestPlanApply_rollback(t *testing.T) {
	src, tgt := hubLab(1)
	hub := newFakeHub(agentDev("ws01", goodInventory, planNow.Add(-time.Minute)))
	b, st := localState(t)
	p, opts := hubPlan(t, src, tgt, hub, st)
	if out := applyHub(t, b, p, opts, st, 0); out != "" {
		t.Fatal(out)
	}
	addr := `device_cutover.w1["WS01"]`
	cfg, scope := loadConfig(t, hubDevicesConfig+identities)
	_, diags := Plan(context.Background(), Options{Config: cfg, Scope: scope, State: st, Launcher: opts.Launcher, Now: planNow, Rollback: []string{`device_cutover.w1["WS1"]`}})
	said := ""
	for _, d := range diags {
		said += d.Summary + ": " + d.Detail + "\n"
	}
	if !diags.HasErrors() || !strings.Contains(said, `Did you mean device_cutover.w1["WS01"]?`) {
		t.Errorf("unknown -rollback address: %s", said)
	}
	p, opts = hubPlan(t, src, tgt, hub, st, addr)
	d := p.Devices[0]
	if !d.Rollback || d.Status != plans.DeviceReady || len(d.Job) != 1 || d.Job[0].Name != "rollback" || d.Job[0].Params[api.ParamWithReACLRollback] != "true" {
		t.Fatalf("rollback plan: %+v %+v", d, d.Job)
	}
	if out := applyHub(t, b, p, opts, st, 0); out != "" {
		t.Fatal(out)
	}
	if got := actionLog(st, addr); got != "cache_credentials=done reacl=done cutover=done cache_credentials=rolled_back reacl=rolled_back cutover=rolled_back rollback=done" {
		t.Errorf("state after rollback: %s", got)
	}
	// Rolled back, the device is due for its actions again.
	p, _ = hubPlan(t, src, tgt, hub, st)
	if d := p.Devices[0]; len(d.Actions) != 3 || d.Rollback {
		t.Errorf("after rollback: %v", d.Actions)
	}
}

func TestPlan_jobOnTheHubAlreadyBlocksNothing(t *testing.T) {
	src, tgt := hubLab(1)
	moved := goodInventory
	moved.Domain = "target.test" // the device finished its cutover after apply stopped watching
	dev := agentDev("ws01", moved, planNow.Add(-time.Minute))
	hub := newFakeHub(dev)
	_, st := localState(t)
	p, _ := hubPlan(t, src, tgt, hub, st)
	if d := p.Devices[0]; d.Status != plans.DeviceBlocked || blockerCodes(d) != "blocked wrong_domain" {
		t.Fatalf("without a job on the hub: %s", blockerCodes(d))
	}
	hub.devices[0].Jobs = []providers.DeviceJobStatus{{ID: "job1", Key: jobKey(st.Lineage, p.Devices[0], nil), State: "succeeded"}}
	p, _ = hubPlan(t, src, tgt, hub, st)
	d := p.Devices[0]
	if d.Status != plans.DeviceReady || !strings.Contains(strings.Join(d.Checks, "\n"), "job job1 for this device is on the hub already (succeeded)") {
		t.Fatalf("with its job on the hub: %s %v", blockerCodes(d), d.Checks)
	}
}
