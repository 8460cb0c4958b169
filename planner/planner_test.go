package planner

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

const baseConfig = `
environment "source" {
  provider = "src"
  file     = "s"
  base_dn  = "DC=s"
}
environment "target" {
  provider = "tgt"
  file     = "t"
  base_dn  = "DC=t"
}
`

const identities = `
workflow "id" {
  source = environment.source
  target = environment.target
  match {
    users  = ["mail", "sAMAccountName"]
    groups = ["sAMAccountName"]
  }
  template {
    users {
      target_ou  = "OU=Users,OU=M,DC=t"
      attributes = { displayName = source.displayName, sAMAccountName = source.sAMAccountName }
      on_source_removed = "delete"
    }
    groups {
      target_ou = "OU=Groups,OU=M,DC=t"
    }
  }
}
`

func loadConfig(t *testing.T, src string) (*config.Config, *config.Scope) {
	t.Helper()
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
	return cfg, scope
}

func mustPlan(t *testing.T, src string, source, target *fakeDir, st *state.State, mutate ...func(*Options)) *plans.Plan {
	t.Helper()
	p, diags := tryPlan(t, src, source, target, st, mutate...)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return p
}

func tryPlan(t *testing.T, src string, source, target *fakeDir, st *state.State, mutate ...func(*Options)) (*plans.Plan, hcl.Diagnostics) {
	t.Helper()
	cfg, scope := loadConfig(t, src)
	opts := Options{Config: cfg, Scope: scope, State: st, Launcher: fakeLauncher{"src": source, "tgt": target},
		Now: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)}
	for _, m := range mutate {
		m(&opts)
	}
	return Plan(context.Background(), opts)
}

// summary is a compact, comparable view of a plan's changes.
func summary(p *plans.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		s := string(c.Action) + " " + c.Address
		if c.Members {
			s += " members"
		}
		for _, a := range c.Attrs {
			vals := a.After
			if a.Op == "delete" {
				vals = a.Before
			}
			s += " " + a.Op + ":" + a.Name + "=" + strings.Join(vals, "|")
		}
		out = append(out, s)
	}
	return out
}

func TestPlan_matchStageDiff(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindUser, "CN=Ann,OU=Staff,DC=s", "sAMAccountName", "ann", "mail", "ann@x", "displayName", "Ann B", "objectGUID", "s-ann"),
		obj(providers.KindUser, "CN=Jo,OU=Staff,DC=s", "sAMAccountName", "jo", "mail", "jo@x", "displayName", "Jo", "objectGUID", "s-jo"),
		obj(providers.KindUser, "CN=Smith\\, Bob,OU=Staff,DC=s", "sAMAccountName", "bob", "displayName", "Bob Smith", "objectGUID", "s-bob"),
	)
	target := newFakeDir(
		obj(providers.KindOU, "OU=M,DC=t"),
		obj(providers.KindUser, "CN=Ann,OU=Old,DC=t", "sAMAccountName", "ann2", "mail", "ANN@x", "displayName", "Ann", "objectGUID", "t-ann"),
		obj(providers.KindUser, "CN=Jo,OU=Old,DC=t", "sAMAccountName", "jo", "displayName", "Jo", "objectGUID", "t-jo"),
	)
	p := mustPlan(t, baseConfig+identities, source, target, nil)
	want := []string{
		`create environment.target.ou["OU=Users,OU=M,DC=t"]`,
		`create workflow.id.user["bob"] replace:displayName=Bob Smith replace:sAMAccountName=bob`,
		`update workflow.id.user["ann"] replace:displayName=Ann B replace:sAMAccountName=ann`,
	}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// bob's create waits for its OU; its DN keeps the escaped comma.
	bob := p.Changes[1]
	if bob.DN != `CN=Smith\, Bob,OU=Users,OU=M,DC=t` || len(bob.DependsOn) != 1 || bob.DependsOn[0] != p.Changes[0].ID {
		t.Errorf("bob: DN %q depends on %v", bob.DN, bob.DependsOn)
	}
	// ann matched by mail (case-insensitively), jo by sAMAccountName.
	rules := map[string]string{}
	for _, m := range p.Matches {
		rules[m.Address] = string(m.Status) + " " + m.Rule
	}
	if diff := cmp.Diff(map[string]string{
		`workflow.id.user["ann"]`: "matched mail",
		`workflow.id.user["jo"]`:  "matched sAMAccountName",
	}, rules); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	if !p.HasChanges() {
		t.Error("HasChanges")
	}
}

func TestPlan_ambiguousIsNeverGuessed(t *testing.T) {
	source := newFakeDir(obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "mail", "ann@x", "objectGUID", "g1"))
	target := newFakeDir(
		obj(providers.KindUser, "CN=A1,DC=t", "mail", "ann@x", "objectGUID", "t1"),
		obj(providers.KindUser, "CN=A2,DC=t", "mail", "ann@x", "objectGUID", "t2"),
	)
	p := mustPlan(t, baseConfig+identities, source, target, nil)
	if len(p.Changes) != 0 {
		t.Errorf("an ambiguous object must not be created or updated: %v", summary(p))
	}
	if len(p.Matches) != 1 || p.Matches[0].Status != plans.Ambiguous || len(p.Matches[0].Candidates) != 2 {
		t.Fatalf("matches: %+v", p.Matches)
	}
}

func TestPlan_stateIdentityComesFirst(t *testing.T) {
	source := newFakeDir(obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "displayName", "Ann", "objectGUID", "s1"))
	target := newFakeDir(
		obj(providers.KindOU, "OU=Users,OU=M,DC=t"),
		obj(providers.KindUser, "CN=Ann,OU=Users,OU=M,DC=t", "sAMAccountName", "ann", "displayName", "Ann", "objectGUID", "t-other"),
		obj(providers.KindUser, "CN=Renamed,OU=Users,OU=M,DC=t", "sAMAccountName", "ann-renamed", "displayName", "Ann", "objectGUID", "t-known"),
	)
	st := state.New()
	st.Objects[`workflow.id.user["ann"]`] = &state.Object{Address: `workflow.id.user["ann"]`, Workflow: "id", Kind: "user",
		Source: state.Identity{GUID: "s1"}, Target: state.Identity{GUID: "t-known", DN: "CN=Renamed,OU=Users,OU=M,DC=t"}, Created: true}
	p := mustPlan(t, baseConfig+identities, source, target, st)
	if diff := cmp.Diff([]string{`update workflow.id.user["ann"] replace:sAMAccountName=ann`}, summary(p)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p.Changes[0].Target.GUID != "t-known" {
		t.Errorf("state's pair must win over a rule match, got %s", p.Changes[0].Target.GUID)
	}
}

func TestPlan_membershipDeltas(t *testing.T) {
	defer func(v int) { parallelMin = v }(parallelMin)
	parallelMin = 1 // run the parallel staging and membership paths
	source := newFakeDir(
		obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "objectGUID", "s-ann"),
		obj(providers.KindUser, "CN=New,DC=s", "sAMAccountName", "new", "objectGUID", "s-new"),
		obj(providers.KindUser, "CN=Gone,DC=s", "sAMAccountName", "gone", "objectGUID", "s-gone"),
		obj(providers.KindGroup, "CN=G,DC=s", "sAMAccountName", "g", "objectGUID", "s-g",
			"member", "CN=Ann,DC=s", "member", "cn=new,dc=S", "member", "CN=Outside,DC=elsewhere"),
	)
	target := newFakeDir(
		obj(providers.KindOU, "OU=Users,OU=M,DC=t"), obj(providers.KindOU, "OU=Groups,OU=M,DC=t"),
		obj(providers.KindUser, "CN=Ann,OU=Users,OU=M,DC=t", "sAMAccountName", "ann", "objectGUID", "t-ann"),
		obj(providers.KindUser, "CN=Gone,OU=Users,OU=M,DC=t", "sAMAccountName", "gone", "objectGUID", "t-gone"),
		obj(providers.KindUser, "CN=Local,OU=Users,OU=M,DC=t", "sAMAccountName", "local-only", "objectGUID", "t-local"),
		obj(providers.KindGroup, "CN=G,OU=Groups,OU=M,DC=t", "sAMAccountName", "g", "objectGUID", "t-g",
			"member", "CN=Ann,OU=Users,OU=M,DC=t", "member", "CN=Gone,OU=Users,OU=M,DC=t", "member", "CN=Local,OU=Users,OU=M,DC=t"),
	)
	p := mustPlan(t, baseConfig+strings.Replace(identities, `attributes = { displayName = source.displayName, sAMAccountName = source.sAMAccountName }`, ``, 1), source, target, nil)
	var members *plans.Change
	var create *plans.Change
	for _, c := range p.Changes {
		if c.Members {
			members = c
		}
		if c.Action == plans.Create && c.Kind == "user" {
			create = c
		}
	}
	if members == nil || create == nil {
		t.Fatalf("changes: %v", summary(p))
	}
	// Ann is already a member; New is added (after it is created); Gone is
	// managed and no longer a source member, so it is removed; Local is
	// not managed by adshift and stays.
	want := `update workflow.id.group["g"] members add:member=CN=New,OU=Users,OU=M,DC=t delete:member=CN=Gone,OU=Users,OU=M,DC=t`
	if got := summary(&plans.Plan{Changes: []*plans.Change{members}})[0]; got != want {
		t.Errorf("members:\n got %s\nwant %s", got, want)
	}
	if !containsID(members.DependsOn, create.ID) {
		t.Errorf("membership must wait for the member's create")
	}
	found := false
	for _, w := range p.Warnings {
		if w.Summary == "Group members not mapped" && strings.Contains(w.Detail, "CN=Outside,DC=elsewhere") {
			found = true
		}
	}
	if !found {
		t.Errorf("an out-of-scope member must be reported: %+v", p.Warnings)
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestPlan_deletesOnlyWhenAskedAndBounded(t *testing.T) {
	source := newFakeDir()
	target := newFakeDir(
		obj(providers.KindUser, "CN=A,DC=t", "objectGUID", "t-a"),
		obj(providers.KindUser, "CN=B,DC=t", "objectGUID", "t-b"),
		obj(providers.KindUser, "CN=C,DC=t", "objectGUID", "t-c"),
	)
	st := state.New()
	for i, n := range []string{"a", "b", "c"} {
		addr := `workflow.id.user["` + n + `"]`
		st.Objects[addr] = &state.Object{Address: addr, Workflow: "id", Kind: "user", Source: state.Identity{GUID: "s-" + n},
			Target: state.Identity{GUID: "t-" + n}, Created: i < 2} // c was matched, not created
	}
	// The source lost every object: confirmed with -max-missing.
	confirmed := func(o *Options) { o.MaxMissing = 3 }
	p := mustPlan(t, baseConfig+identities, source, target, st, confirmed)
	if diff := cmp.Diff([]string{`delete workflow.id.user["a"]`, `delete workflow.id.user["b"]`}, summary(p)); diff != "" {
		t.Errorf("only objects adshift created are deleted (-want +got):\n%s", diff)
	}
	_, diags := tryPlan(t, baseConfig+identities, source, target, st, confirmed, func(o *Options) { o.MaxDeletes = 1 })
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "Too many deletes") {
		t.Errorf("want the delete guard, got %v", diags)
	}
	kept := strings.Replace(identities, `on_source_removed = "delete"`, ``, 1)
	if p := mustPlan(t, baseConfig+kept, source, target, st, confirmed); len(p.Changes) != 0 {
		t.Errorf("without on_source_removed nothing is deleted: %v", summary(p))
	}
}

func TestOSName(t *testing.T) {
	tests := []struct{ os, ver, sp, want string }{
		{"Windows 7 Professional", "6.1 (7601)", "Service Pack 1", "Windows 7 SP1"},
		{"Windows 7 Enterprise", "6.1 (7600)", "", "Windows 7"},
		{"Windows 10 Enterprise", "10.0 (19045)", "", "Windows 10"},
		{"Windows 10 Pro", "10.0 (22631)", "", "Windows 11"},
		{"Windows 11 Pro", "10.0 (22631)", "", "Windows 11"},
		{"Windows Server 2012 R2 Standard", "6.3 (9600)", "", "Windows Server 2012 R2"},
		{"Windows Server 2012 Datacenter", "6.2 (9200)", "", "Windows Server 2012"},
		{"Windows Server® 2008 R2 Standard", "", "", "Windows Server 2008 R2"},
		{"Ubuntu", "22.04", "", "Ubuntu"},
		{"Windows Server 2008 R2 Enterprise", "6.1 (7601)", "Service Pack 1", "Windows Server 2008 R2"},
		{"Windows XP Professional", "5.1 (2600)", "Service Pack 3", "Windows XP Professional"},
		{"", "", "", ""},
	}
	for _, tt := range tests {
		if got := OSName(tt.os, tt.ver, tt.sp); got != tt.want {
			t.Errorf("OSName(%q, %q, %q) = %q, want %q", tt.os, tt.ver, tt.sp, got, tt.want)
		}
	}
}

const devicesConfig = `
workflow "dev" {
  source = environment.source
  target = environment.target
  steps  = ["read", "match"]
  match { devices = ["sAMAccountName"] }
}
device_cutover "w1" {
  workflow   = workflow.dev
  identities = workflow.id
  devices {
    ous    = ["OU=WS,DC=s"]
    names  = ["WS-*"]
    filter = source.description != "skip"
  }
  actions    = ["cache_credentials", "reacl", "cutover"]
  not_before = "2026-12-01T00:00:00Z"
}
`

func TestPlan_deviceReadiness(t *testing.T) {
	source := newFakeDir(
		obj(providers.KindComputer, "CN=WS-1,OU=WS,DC=s", "sAMAccountName", "WS-1$", "operatingSystem", "Windows 10 Pro", "operatingSystemVersion", "10.0 (19045)", "objectGUID", "c1"),
		obj(providers.KindComputer, "CN=WS-2,OU=WS,DC=s", "sAMAccountName", "WS-2$", "operatingSystem", "Windows XP Professional", "objectGUID", "c2"),
		obj(providers.KindComputer, "CN=WS-3,OU=WS,DC=s", "sAMAccountName", "WS-3$", "operatingSystem", "Windows 11 Pro", "userAccountControl", "4098", "objectGUID", "c3"),
		obj(providers.KindComputer, "CN=WS-4,OU=WS,DC=s", "sAMAccountName", "WS-4$", "operatingSystem", "Windows 11 Pro", "description", "skip", "objectGUID", "c4"),
		obj(providers.KindComputer, "CN=SRV-1,OU=WS,DC=s", "sAMAccountName", "SRV-1$", "operatingSystem", "Windows Server 2019", "objectGUID", "c5"),
		obj(providers.KindComputer, "CN=WS-5,OU=Other,DC=s", "sAMAccountName", "WS-5$", "operatingSystem", "Windows 10", "objectGUID", "c6"),
	)
	target := newFakeDir(
		obj(providers.KindComputer, "CN=WS-1,DC=t", "sAMAccountName", "WS-1$", "objectGUID", "t1"),
		obj(providers.KindComputer, "CN=WS-2,DC=t", "sAMAccountName", "WS-2$", "objectGUID", "t2"),
	)
	p := mustPlan(t, baseConfig+identities+devicesConfig, source, target, nil)
	got := map[string]string{}
	for _, d := range p.Devices {
		var codes []string
		for _, b := range d.Blockers {
			codes = append(codes, b.Code)
		}
		sort.Strings(codes)
		got[d.Name] = string(d.Status) + " " + strings.Join(codes, ",")
	}
	want := map[string]string{
		"WS-1": "blocked no_trust",
		"WS-2": "blocked no_trust,os_unsupported",
		"WS-3": "blocked account_disabled,no_target_account,no_trust",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("devices (-want +got):\n%s", diff)
	}
	// With the trust in place, WS-1 waits only for its schedule.
	trusted := strings.Replace(devicesConfig, `not_before = "2026-12-01T00:00:00Z"`, "not_before = \"2026-12-01T00:00:00Z\"\n  requirements { trust = true }", 1)
	p = mustPlan(t, baseConfig+identities+trusted, source, target, nil)
	for _, d := range p.Devices {
		if d.Name == "WS-1" && (d.Status != plans.DeviceScheduled || len(d.Blockers) != 0) {
			t.Errorf("WS-1: %s %+v", d.Status, d.Blockers)
		}
	}
}

// annAndJo is a source with the users ann and jo, and a target where jo
// exists outside the workflow's OU and ann does not: planned with
// identities, a create of the OU, ann's create (which needs the OU) and
// jo's update.
func annAndJo() (source, target *fakeDir) {
	source = newFakeDir(
		obj(providers.KindUser, "CN=Ann,DC=s", "sAMAccountName", "ann", "displayName", "Ann", "objectGUID", "s-ann"),
		obj(providers.KindUser, "CN=Jo,DC=s", "sAMAccountName", "jo", "displayName", "Jo J", "objectGUID", "s-jo"),
	)
	target = newFakeDir(
		obj(providers.KindOU, "OU=M,DC=t"),
		obj(providers.KindUser, "CN=Jo,OU=Old,DC=t", "sAMAccountName", "jo", "displayName", "Jo", "objectGUID", "t-jo"),
	)
	return source, target
}

// beginTxn begins a state transaction on a new, empty local state.
func beginTxn(t *testing.T) (*state.Local, *state.Txn) {
	t.Helper()
	b := state.NewLocal(filepath.Join(t.TempDir(), "s.json"))
	st, err := b.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	txn, err := b.Begin(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	return b, txn
}

func TestApply_failureSkipsDependentsOnly(t *testing.T) {
	source, target := annAndJo()
	target.fail["ou=users,ou=m,dc=t"] = "insufficient access rights to create OU=Users,OU=M,DC=t"
	cfg, scope := loadConfig(t, baseConfig+identities)
	p, diags := Plan(context.Background(), Options{Config: cfg, Scope: scope, Launcher: fakeLauncher{"src": source, "tgt": target}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, txn := beginTxn(t)
	diags = Apply(context.Background(), ApplyOptions{Plan: p, Config: cfg, Scope: scope, Txn: txn, Launcher: fakeLauncher{"src": source, "tgt": target}})
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "insufficient access rights") {
		t.Fatalf("want the OU failure reported, got %v", diags)
	}
	last := diags[len(diags)-1]
	if last.Summary != "Apply incomplete" || !strings.Contains(last.Detail, "1 of 3 changes were made and recorded in state; 1 failed, and 1 were skipped") {
		t.Errorf("closing diagnostic: %s: %s", last.Summary, last.Detail)
	}
	var ops []string
	for _, c := range target.applied {
		ops = append(ops, string(c.Op)+" "+c.DN)
	}
	// The OU failed, so ann's create (which needs it) was never sent; jo's
	// independent update went on.
	want := []string{"create OU=Users,OU=M,DC=t", "update CN=Jo,OU=Old,DC=t"}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("sent to the provider (-want +got):\n%s", diff)
	}
	st, _ := b.Load(context.Background())
	if o := st.Objects[`workflow.id.user["jo"]`]; o == nil || o.Target.GUID != "t-jo" {
		t.Errorf("the completed update and match must be in state: %+v", o)
	}
	if _, ok := st.Objects[`workflow.id.user["ann"]`]; ok {
		t.Errorf("ann was never created, so state must not hold her")
	}
}

// TestApply_stopDoesNotSpin closes the stop channel (the first Ctrl-C)
// while a change is held in flight: the walk wakes once for the stop and
// then sleeps until the change's result arrives, instead of waking again
// and again on the closed channel; the held change is still recorded.
func TestApply_stopDoesNotSpin(t *testing.T) {
	source, target := annAndJo()
	launcher := fakeLauncher{"src": source, "tgt": target}
	cfg, scope := loadConfig(t, baseConfig+identities)
	p, diags := Plan(t.Context(), Options{Config: cfg, Scope: scope, Launcher: launcher})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if len(p.Changes) != 3 {
		t.Fatalf("the plan has %d changes, want 3 (OU, ann's create, jo's update)", len(p.Changes))
	}
	b, txn := beginTxn(t)

	stop := make(chan struct{})
	release := make(chan struct{})
	var held providers.Change
	target.onChange = func(c providers.Change) {
		if held.ID != 0 {
			t.Errorf("change %d (%s %s) was sent after the stop", c.ID, c.Op, c.DN)
			return
		}
		held = c
		close(stop)
		<-release
	}
	// The walk calls beforeWait on its own goroutine, so the counts need
	// no lock.
	var waits, stoppedWaits int
	diags = Apply(t.Context(), ApplyOptions{
		Plan: p, Config: cfg, Scope: scope, Txn: txn, Launcher: launcher, Parallelism: 1, Stop: stop,
		beforeWait: func(stopped bool) {
			waits++
			if !stopped {
				return
			}
			stoppedWaits++
			if stoppedWaits == 1 {
				// The walk saw the stop and is about to wait: let the
				// held change finish.
				close(release)
			}
		},
	})
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	// One wait with the change in flight before the stop, one after it
	// (woken by the result); a spinning walk waits again and again.
	if waits != 2 || stoppedWaits != 1 {
		t.Errorf("the walk waited %d times, %d of them after the stop; want 2 and 1", waits, stoppedWaits)
	}
	last := diags[len(diags)-1]
	if last.Summary != "Apply interrupted" || !strings.Contains(last.Detail, "2 changes were not started") {
		t.Errorf("closing diagnostic: %s: %s", last.Summary, last.Detail)
	}
	if len(target.applied) != 1 {
		t.Errorf("%d changes reached the provider, want only the held one", len(target.applied))
	}
	st, err := b.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, o := range st.Objects {
		if strings.EqualFold(o.Target.DN, held.DN) || (held.Op == providers.OpUpdate && o.Target.GUID == held.GUID) {
			recorded++
		}
	}
	if recorded != 1 {
		t.Errorf("the change in flight at the stop (%s %s) must be recorded in state once, found %d", held.Op, held.DN, recorded)
	}
}

func TestFailureGroups(t *testing.T) {
	f := newFailureGroups()
	ch := func(dn string) *plans.Change {
		return &plans.Change{Action: plans.Create, Address: fmt.Sprintf("user %q", dn)}
	}
	var diags hcl.Diagnostics
	add := func(dn, msg string) {
		if d := f.add(ch(dn), msg); d != nil {
			diags = append(diags, d)
		}
	}
	add("CN=u0", "the connection to ldaps://dc was lost")
	add("CN=u1", "after 6 attempts: connection refused")
	for i := 2; i < 10; i++ {
		add(fmt.Sprintf("CN=u%d", i), "not applied: domain controller unreachable")
	}
	add("CN=u10", "after 6 attempts: connection refused")
	f.finish()
	if f.count() != 11 {
		t.Errorf("count %d, want 11", f.count())
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Summary+" | "+d.Detail)
	}
	want := []string{
		`Failed to create user "CN=u0" | the connection to ldaps://dc was lost`,
		`Failed to create user "CN=u1" and 1 more change | after 6 attempts: connection refused` +
			"\n\nThe same error failed 1 more change: create user \"CN=u10\".",
		`Failed to create user "CN=u2" and 7 more changes | not applied: domain controller unreachable` +
			"\n\nThe same error failed 7 more changes: create user \"CN=u3\"; create user \"CN=u4\"; create user \"CN=u5\"; " +
			"create user \"CN=u6\"; create user \"CN=u7\"; and 2 others (each is listed in the progress output above and in -json).",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
}
