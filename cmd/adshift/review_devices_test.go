package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/ui"
)

// recordResults records device results in the quickstart's state, as an
// apply of the saved plan would: FIN-WS-001's reacl failed after its
// cache_credentials succeeded. It returns the plan's lineage and serial.
func recordResults(t *testing.T, bin, dir, planFile string) (lineage string, serial uint64) {
	t.Helper()
	r := runAdshift(t, bin, dir, nil, "show", "-json", planFile)
	if r.code != 0 {
		t.Fatalf("show -json: exit %d\n%s", r.code, r.stderr)
	}
	var doc struct {
		Plan struct {
			Lineage string `json:"lineage"`
			Serial  uint64 `json:"serial"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	b := state.NewLocal(filepath.Join(dir, "adshift.state"))
	st, err := b.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st.Lineage, st.Serial = doc.Plan.Lineage, doc.Plan.Serial
	txn, err := b.Begin(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 7, 2, 10, 0, 0, time.UTC)
	addr := `device_cutover.wave-1["FIN-WS-001"]`
	if err := txn.PutDevice(&state.Device{Address: addr, Cutover: "wave-1", Name: "FIN-WS-001", Actions: []state.DeviceAction{
		{Name: "cache_credentials", Status: state.ActionDone, Detail: "job j1 #0: cached 2 users", At: at},
		{Name: "reacl", Status: state.ActionFailed, Detail: `job j1 #1: D:\Finance: access denied`, At: at.Add(time.Minute)},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	return doc.Plan.Lineage, doc.Plan.Serial
}

// TestShowReview_results: show -markdown and show -html of a saved plan
// read the current state and show each device's recorded results, saying
// the state is newer than the plan.
func TestShowReview_results(t *testing.T) {
	bin := adshiftBin(t)
	dir := quickstart(t)
	if r := runAdshift(t, bin, dir, nil, "plan", "-no-color", "-out", "review.plan"); r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	r := runAdshift(t, bin, dir, nil, "show", "-markdown", "review.plan")
	if r.code != 0 || !strings.Contains(r.stdout, "> The state records nothing yet, so no device has results.") {
		t.Fatalf("show -markdown before any result: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	recordResults(t, bin, dir, "review.plan")
	r = runAdshift(t, bin, dir, nil, "show", "-markdown", "review.plan")
	if r.code != 0 {
		t.Fatalf("show -markdown: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"which is newer than this plan (serial 0)",
		"- Results recorded in state: 1 of 13 devices, 1 of them with a failed action last",
		`cache_credentials done 2026-12-07 02:10 UTC (job j1 #0)<br>reacl failed 2026-12-07 02:11 UTC (job j1 #1): D:\\Finance: access denied |`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("show -markdown lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runAdshift(t, bin, dir, nil, "show", "-html", "review.plan")
	if r.code != 0 || !strings.Contains(r.stdout, `<li class="res-failed">reacl failed 2026-12-07 02:11 UTC (job j1 #1): D:\Finance: access denied</li>`) {
		t.Errorf("show -html lacks the failed result: exit %d\n%s", r.code, r.stderr)
	}
}

// TestReviewChromium_devices opens a review with device results, agent
// facts, jobs and a rollback in headless Chromium, with scripts off and
// on: the same facts show either way, and the search finds a device by
// its result.
func TestReviewChromium_devices(t *testing.T) {
	chromium(t)
	shots := artifacts(t)
	seen := time.Date(2026, 12, 7, 1, 55, 0, 0, time.UTC)
	p := &plans.Plan{FormatVersion: plans.FormatVersion, Version: "test", Created: seen, Lineage: "lin", Serial: 3,
		Cutovers: []*plans.Cutover{{Name: "w2", Workflow: "devices", Actions: []string{"reacl", "cutover"}, BatchSize: 10, MaxFailures: 1, Hub: "main", Devices: 2, Ready: 2}},
		Devices: []*plans.Device{
			{Address: `device_cutover.w2["WS-10"]`, Cutover: "w2", Name: "WS-10", OS: "Windows 10 Pro", Status: plans.DeviceReady, Actions: []string{"reacl", "cutover"},
				Agent: &plans.Agent{ID: "d10", LastSeen: seen, OS: "Windows 10 Pro", PowerShell: "5.1", DotNetRelease: 528040, Domain: "source.test"},
				Job:   []plans.DeviceAction{{Name: "reacl", Params: map[string]string{"mode": "add"}}, {Name: "cutover", Params: map[string]string{"target_account": "CN=WS-10,DC=target,DC=test"}}}},
			{Address: `device_cutover.w2["WS-11"]`, Cutover: "w2", Name: "WS-11", OS: "Windows 11 Pro", Status: plans.DeviceReady, Actions: []string{"rollback"}, Rollback: true,
				Job: []plans.DeviceAction{{Name: "rollback", Params: map[string]string{"reacl_rollback": "true"}}}},
		},
	}
	st := state.New()
	st.Lineage, st.Serial = "lin", 5
	st.Devices[`device_cutover.w2["WS-10"]`] = &state.Device{Address: `device_cutover.w2["WS-10"]`, Actions: []state.DeviceAction{
		{Name: "reacl", Status: state.ActionFailed, Detail: "job j #0: <b>access denied</b>", At: seen.Add(time.Hour)},
	}}
	page := filepath.Join(t.TempDir(), "review.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := ui.HTMLReview(f, p, st); err != nil {
		t.Fatal(err)
	}
	f.Close()
	url := "file://" + page
	wantRow := []string{"WS-10", "seen 2026-12-07 01:55 UTC, Windows 10 Pro, PowerShell 5.1, .NET 4.8, domain source.test", "reacl (mode add)",
		"cutover (target CN=WS-10,DC=target,DC=test)", "reacl failed 2026-12-07 02:55 UTC (job j #0): <b>access denied</b>"}
	for _, scripts := range []bool{false, true} {
		b := newBrowser(t, scripts)
		sel := ".static table.devices tbody tr"
		if scripts {
			b.do(t, "open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(".devices-live")))
			sel = ".devices-live tbody tr"
		} else {
			b.do(t, "open "+url, chromedp.Navigate(url))
		}
		rows := b.allText(t, sel)
		if !containsAll(rows, wantRow...) {
			t.Errorf("scripts %v: no row with %q in %q", scripts, wantRow, rows)
		}
		if !containsAll(rows, "WS-11", "rollback", "with reacl rollback") {
			t.Errorf("scripts %v: no rollback row in %q", scripts, rows)
		}
		if n := b.allText(t, "th"); !containsAll(n, "results recorded in state") {
			t.Errorf("scripts %v: no results column", scripts)
		}
		if note := b.text(t, "#results-note"); !strings.Contains(note, "newer than this plan (serial 3)") {
			t.Errorf("scripts %v: results note %q", scripts, note)
		}
		if scripts {
			b.filter(t, "#f-q", "access denied")
			if rows := b.allText(t, ".devices-live tbody tr"); len(rows) != 1 || !strings.Contains(rows[0], "WS-10") {
				t.Errorf("search by result: rows %q", rows)
			}
			b.screenshot(t, filepath.Join(shots, "review-devices.png"), "#waves")
		}
		b.clean(t)
	}
}
