package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
)

// devicePlan is a wave run through a hub: WS-10 ready with its agent's
// facts and a four-action job, WS-11 being rolled back, WS-12 blocked
// because its agent is offline.
func devicePlan() *plans.Plan {
	common := func(extra map[string]string) map[string]string {
		m := map[string]string{"source_domain": "source.test", "target_domain": "target.test", "source_netbios": "SOURCE", "target_netbios": "TARGET", "source_dc": "dc1.source.test", "target_dc": "dc1.target.test"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	seen := time.Date(2026, 12, 7, 1, 55, 0, 0, time.UTC)
	return &plans.Plan{
		FormatVersion: plans.FormatVersion, Version: "0.1.0", Created: time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC),
		Lineage: "lin-1", Serial: 7,
		Devices: []*plans.Device{
			{Address: `device_cutover.w2["WS-10"]`, Cutover: "w2", Name: "WS-10", OS: "Windows 10 Pro", Status: plans.DeviceReady,
				Source: plans.Identity{DN: "CN=WS-10,OU=Workstations,DC=source,DC=test"}, Target: plans.Identity{DN: "CN=WS-10,OU=Workstations,DC=target,DC=test"},
				Actions: []string{"cache_credentials", "reacl", "offline_domain_join", "cutover"},
				Agent:   &plans.Agent{ID: "dev-10", LastSeen: seen, OS: "Windows 10 Pro", PowerShell: "5.1", DotNetRelease: 528040, Domain: "source.test", Principals: 12},
				Job: []plans.DeviceAction{
					{Name: "cache_credentials", Params: common(map[string]string{"users": "alice\nbob"})},
					{Name: "reacl", Params: common(map[string]string{"mode": "add"})},
					{Name: "offline_domain_join", Params: common(map[string]string{"blob": `\\fs01.target.test\migration$\WS-10.odj`})},
					{Name: "cutover", Params: common(map[string]string{"source_account": "CN=WS-10,OU=Workstations,DC=source,DC=test", "target_account": "CN=WS-10,OU=Workstations,DC=target,DC=test", "notice_seconds": "300"})},
				}},
			{Address: `device_cutover.w2["WS-11"]`, Cutover: "w2", Name: "WS-11", OS: "Windows 11 Pro", Status: plans.DeviceReady, Rollback: true,
				Actions: []string{"rollback"},
				Agent:   &plans.Agent{ID: "dev-11", LastSeen: seen, OS: "Windows 11 Pro", PowerShell: "5.1", DotNetRelease: 533320, Domain: "target.test", Principals: 3},
				Job: []plans.DeviceAction{
					{Name: "rollback", Params: common(map[string]string{"source_account": "CN=WS-11,DC=source,DC=test", "target_account": "CN=WS-11,DC=target,DC=test", "reacl_rollback": "true"})},
				}},
			{Address: `device_cutover.w2["WS-12"]`, Cutover: "w2", Name: "WS-12", OS: "Windows 10 Pro", Status: plans.DeviceBlocked,
				Actions:  []string{"cache_credentials", "reacl", "offline_domain_join", "cutover"},
				Agent:    &plans.Agent{ID: "dev-12", LastSeen: seen.Add(-72 * time.Hour), OS: "Windows 10 Pro", PowerShell: "2.0", DotNetRelease: 378389, Domain: "source.test"},
				Blockers: []plans.Blocker{{Code: "agent_offline", Message: "its agent was last seen 2026-12-04 01:55 UTC, more than 24h ago"}}},
		},
		Cutovers: []*plans.Cutover{{Name: "w2", Workflow: "devices", Actions: []string{"cache_credentials", "reacl", "offline_domain_join", "cutover"},
			BatchSize: 10, MaxFailures: 2, Hub: "main", Devices: 3, Ready: 2, Blocked: 1}},
	}
}

// deviceState is the state after an apply of devicePlan: WS-10's reacl
// failed, WS-11 has a long history; it is newer than the plan.
func deviceState() *state.State {
	at := time.Date(2026, 12, 7, 2, 10, 0, 0, time.UTC)
	st := state.New()
	st.Lineage, st.Serial = "lin-1", 9
	st.Devices[`device_cutover.w2["WS-10"]`] = &state.Device{Address: `device_cutover.w2["WS-10"]`, Cutover: "w2", Name: "WS-10", Actions: []state.DeviceAction{
		{Name: "cache_credentials", Status: state.ActionDone, Detail: "job j10 #0: cached 2 users", At: at},
		{Name: "reacl", Status: state.ActionFailed, Detail: "job j10 #1: C:\\Data: access denied\nsee the agent log", At: at.Add(2 * time.Minute)},
	}}
	var long []state.DeviceAction
	for i := range 8 {
		long = append(long, state.DeviceAction{Name: "reacl", Status: state.ActionDone, Detail: fmt.Sprintf("job j11-%d #0: pass %d", i, i), At: at})
	}
	long = append(long, state.DeviceAction{Name: "cutover", Status: state.ActionRolledBack, Detail: "job j11-9 #0", At: at})
	st.Devices[`device_cutover.w2["WS-11"]`] = &state.Device{Address: `device_cutover.w2["WS-11"]`, Cutover: "w2", Name: "WS-11", Actions: long}
	return st
}

func TestPlanHuman_devices(t *testing.T) {
	var out bytes.Buffer
	(&View{Out: &out, Err: &out}).Plan(devicePlan())
	golden(t, "plan_devices.txt", out.Bytes())
	s := out.String()
	for _, want := range []string{
		"Hub:      hub.main, stops after more than 2 failed devices (max_failures)",
		"agent: seen 2026-12-07 01:55 UTC, Windows 10 Pro, PowerShell 5.1, .NET 4.8, domain source.test",
		`offline_domain_join (blob \\fs01.target.test\migration$\WS-10.odj)`,
		"cutover (target CN=WS-10,OU=Workstations,DC=target,DC=test, notice 300 s)",
		"job: rollback to the source domain: rollback (source CN=WS-11,DC=source,DC=test, target CN=WS-11,DC=target,DC=test, with reacl rollback)",
		"cache_credentials (users alice, bob)",
		".NET 4.5,",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the plan lacks %q:\n%s", want, s)
		}
	}
	// The wave-wide parameters are said once by the configuration, not
	// per device.
	if strings.Contains(s, "dc1.source.test") || strings.Contains(s, "source_domain") {
		t.Errorf("the plan repeats wave-wide job parameters per device:\n%s", s)
	}
}

// TestJSON_devices: the agent facts, the job and rollback are in show
// -json and plan -json, valid in the schema; a SID map never is.
func TestJSON_devices(t *testing.T) {
	p := devicePlan()
	p.Devices[0].Job[1].Params["sid_map"] = "S-1-5-21-1-2-3-1104=S-1-5-21-4-5-6-1105"
	var out bytes.Buffer
	if err := PlanDocument(&out, p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "sid_map") || strings.Contains(out.String(), "S-1-5-21-1-2-3-1104") {
		t.Fatalf("show -json carries the SID map:\n%s", out.String())
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "show-plan.schema.json").Validate(v); err != nil {
		t.Errorf("show -json: %v", err)
	}
	var doc struct {
		Plan struct {
			Devices []struct {
				Agent    map[string]any `json:"agent"`
				Job      []jsonJobStep  `json:"job"`
				Rollback bool           `json:"rollback"`
			} `json:"devices"`
			Cutovers []map[string]any `json:"cutovers"`
		} `json:"plan"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	d0, d1 := doc.Plan.Devices[0], doc.Plan.Devices[1]
	if d0.Agent["dotnet_version"] != "4.8" || d0.Agent["last_seen"] != "2026-12-07T01:55:00Z" || d0.Agent["powershell"] != "5.1" || d0.Agent["domain"] != "source.test" {
		t.Errorf("agent: %v", d0.Agent)
	}
	if len(d0.Job) != 4 || d0.Job[2].Params["blob"] != `\\fs01.target.test\migration$\WS-10.odj` || d0.Job[1].Params["mode"] != "add" {
		t.Errorf("job: %+v", d0.Job)
	}
	if !d1.Rollback || d0.Rollback {
		t.Errorf("rollback: %v %v", d0.Rollback, d1.Rollback)
	}
	if c := doc.Plan.Cutovers[0]; c["hub"] != "main" || c["max_failures"] != 2.0 {
		t.Errorf("cutover: %v", c)
	}

	// plan -json lines too.
	out.Reset()
	j := NewJSON(&out)
	j.Plan(p)
	validateLines(t, out.Bytes())
	if strings.Contains(out.String(), "sid_map") {
		t.Errorf("plan -json carries the SID map")
	}

	// The schema refuses a SID map in a job.
	v, _ = jsonschema.UnmarshalJSON(bytes.NewReader(mustDoc(t, devicePlan())))
	v.(map[string]any)["plan"].(map[string]any)["devices"].([]any)[0].(map[string]any)["job"].([]any)[1].(map[string]any)["params"].(map[string]any)["sid_map"] = "x=y"
	if err := compileSchema(t, "show-plan.schema.json").Validate(v); err == nil {
		t.Errorf("the schema accepts a sid_map parameter")
	}
}

func mustDoc(t *testing.T, p *plans.Plan) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := PlanDocument(&out, p); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestMarkdownReview_results(t *testing.T) {
	parts := MarkdownReview(devicePlan(), deviceState(), MarkdownLimit)
	if len(parts) != 1 {
		t.Fatalf("%d parts", len(parts))
	}
	golden(t, "plan_devices.md", []byte(parts[0]))
	md := parts[0]
	for _, want := range []string{
		"> Device results are from the current state (serial 9), which is newer than this plan (serial 7)",
		"- Hub: hub.main, stops after more than 2 failed devices (max_failures)",
		"- Results recorded in state: 2 of 3 devices, 1 of them with a failed action last",
		"| device | operating system | status | agent | job (remaining actions) | blockers | results |",
		"cache_credentials done 2026-12-07 02:10 UTC (job j10 #0)<br>reacl failed 2026-12-07 02:12 UTC (job j10 #1): C:\\\\Data: access denied / see the agent log",
		"_… 3 earlier_",
		"cutover rolled back 2026-12-07 02:10 UTC (job j11-9 #0)",
		"rollback to the source domain: rollback (",
		"seen 2026-12-07 01:55 UTC, Windows 10 Pro, PowerShell 5.1, .NET 4.8, domain source.test",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the review lacks %q:\n%s", want, md)
		}
	}
	// Successful results are listed without their output, to stay short.
	if strings.Contains(md, "cached 2 users") {
		t.Errorf("the review lists a successful action's output")
	}

	// Without state, no results column; with the state of another
	// lineage, a note and no results.
	if md := MarkdownParts(devicePlan(), MarkdownLimit)[0]; strings.Contains(md, "results |") || strings.Contains(md, "Device results") {
		t.Errorf("a review without state shows results:\n%s", md)
	}
	other := deviceState()
	other.Lineage = "lin-2"
	md = MarkdownReview(devicePlan(), other, MarkdownLimit)[0]
	if !strings.Contains(md, "is not the state this plan was made from (lineage lin-1), so no device results are shown") || strings.Contains(md, "access denied") {
		t.Errorf("a review with another lineage's state:\n%s", md)
	}
	same := deviceState()
	same.Serial = 7
	if md := MarkdownReview(devicePlan(), same, MarkdownLimit)[0]; !strings.Contains(md, "the state this plan was made from: nothing was applied since") {
		t.Errorf("a review with the plan's own state does not say so:\n%s", md)
	}
}

// TestMarkdownReview_bigWave: a wave of thousands of devices with results
// stays within the comment limit and says what it leaves out.
func TestMarkdownReview_bigWave(t *testing.T) {
	p := devicePlan()
	st := deviceState()
	base := *p.Devices[0]
	for i := range 5000 {
		d := base
		d.Name = fmt.Sprintf("PC-%05d", i)
		d.Address = fmt.Sprintf(`device_cutover.w2["%s"]`, d.Name)
		p.Devices = append(p.Devices, &d)
		sd := *st.Devices[`device_cutover.w2["WS-10"]`]
		sd.Address = d.Address
		st.Devices[d.Address] = &sd
	}
	parts := MarkdownReview(p, st, MarkdownLimit)
	for i, part := range parts {
		if len(part) > MarkdownLimit {
			t.Errorf("part %d has %d bytes", i+1, len(part))
		}
	}
	for _, want := range []string{"more devices, 0 of them blocked, ", " with a failed action last (the comment limit)", "Results recorded in state: 5002 of 5003 devices, 5001 of them with a failed action last"} {
		if !strings.Contains(parts[0], want) {
			t.Errorf("part 1 lacks %q", want)
		}
	}
	// Blocked devices first, then failed ones: WS-11, whose last result
	// is not a failure, is left out before any failed device.
	if !strings.Contains(parts[0], "| WS-12 |") || !strings.Contains(parts[0], "| PC-00000 |") || strings.Contains(parts[0], "| WS-11 |") {
		t.Errorf("part 1 does not list blocked, then failed devices first")
	}
}

func TestHTMLReview_results(t *testing.T) {
	st := deviceState()
	evil := `<img src=x onerror=alert(1)>`
	st.Devices[`device_cutover.w2["WS-10"]`].Actions[1].Detail = "job j10 #1: " + evil
	var out bytes.Buffer
	if err := HTMLReview(&out, devicePlan(), st); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if strings.Contains(page, evil) {
		t.Fatalf("the page holds the raw markup %q", evil)
	}
	for _, want := range []string{
		`<p class="results-note" id="results-note">Device results are from the current state (serial 9), which is newer than this plan (serial 7)`,
		"<li>Hub: hub.main, stops after more than 2 failed devices (max_failures)</li>",
		"<th>results recorded in state</th>",
		`<li class="res-failed">reacl failed 2026-12-07 02:12 UTC (job j10 #1): &lt;img src=x onerror=alert(1)&gt;</li>`,
		`<li class="res-done">cache_credentials done 2026-12-07 02:10 UTC (job j10 #0): cached 2 users</li>`,
		`<li class="res-rolled_back">cutover rolled back`,
		`<span class="badge rollback">rollback</span>`,
		`<td class="agent">seen 2026-12-07 01:55 UTC, Windows 10 Pro, PowerShell 5.1, .NET 4.8, domain source.test</td>`,
		"<li>cutover (target CN=WS-10,OU=Workstations,DC=target,DC=test, notice 300 s)</li>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Every result of WS-11 is listed (the Markdown lists the latest).
	if n := strings.Count(page, `<li class="res-done">reacl done`); n != 8 {
		t.Errorf("%d reacl results of WS-11 in the static table, want 8", n)
	}
	data := regexp.MustCompile(`(?s)<script type="application/json" id="plan-data">(.*?)</script>`).FindStringSubmatch(page)
	if data == nil {
		t.Fatal("no embedded plan data")
	}
	var d reviewPayload
	if err := json.Unmarshal([]byte(data[1]), &d); err != nil {
		t.Fatal(err)
	}
	if d.R != 1 || len(d.D) != 3 {
		t.Fatalf("data: r=%d, %d devices", d.R, len(d.D))
	}
	for _, row := range d.D {
		if len(row) != 11 {
			t.Errorf("a device row has %d fields, want 11: %v", len(row), row)
		}
	}

	// Without state, no results column and r=0.
	out.Reset()
	if err := HTML(&out, devicePlan()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "results recorded in state") || !strings.Contains(out.String(), `"r":0`) {
		t.Errorf("a review without state has a results column")
	}
}

// TestPlanHuman_agentLineBreaks: what a device reports cannot add lines
// to the plan (a forged "blocked:" or summary line).
func TestPlanHuman_agentLineBreaks(t *testing.T) {
	p := devicePlan()
	p.Devices[0].Agent.OS = "Windows 10\n      blocked: nothing\nPlan: 0 to add"
	p.Devices[0].Job[1].Params["mode"] = "add\nPlan: 0 to add"
	var out bytes.Buffer
	(&View{Out: &out, Err: &out}).Plan(p)
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "blocked: nothing") || l == "Plan: 0 to add" {
			t.Errorf("a device's report made a line of its own: %q", l)
		}
	}
	if !strings.Contains(out.String(), "Windows 10 / blocked: nothing / Plan: 0 to add") {
		t.Errorf("the agent line:\n%s", out.String())
	}
}
