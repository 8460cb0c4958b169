package ui

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner/plans"
)

// The types below are the published JSON format (docs/json-format.md,
// docs/schema/*.json): plan -json lines, show -json and validate -json are
// built from them and never from the plan file's own types, so the plan
// file can change without changing what pipelines parse. Every field is
// documented in docs/json-format.md; the tests in cmd/adshift validate real
// output against the schema files.

// jsonIdentity names a directory object; nil when nothing is known.
type jsonIdentity struct {
	DN   string `json:"dn,omitempty"`
	GUID string `json:"guid,omitempty"`
	SID  string `json:"sid,omitempty"`
}

func identityJSON(id plans.Identity) *jsonIdentity {
	if id == (plans.Identity{}) {
		return nil
	}
	return &jsonIdentity{DN: id.DN, GUID: id.GUID, SID: id.SID}
}

// jsonAttr is one attribute-level difference. Before and After are always
// present (empty arrays when there are no values).
type jsonAttr struct {
	Name   string   `json:"name"`
	Op     string   `json:"op"`
	Before []string `json:"before"`
	After  []string `json:"after"`
}

type jsonChange struct {
	ID          int64         `json:"id"`
	DependsOn   []int64       `json:"depends_on,omitempty"`
	Address     string        `json:"address"`
	Workflow    string        `json:"workflow,omitempty"`
	Environment string        `json:"environment"`
	Kind        string        `json:"kind"`
	Action      string        `json:"action"`
	Members     bool          `json:"members"`
	DN          string        `json:"dn"`
	NewDN       string        `json:"new_dn,omitempty"`
	Source      *jsonIdentity `json:"source,omitempty"`
	Target      *jsonIdentity `json:"target,omitempty"`
	SIDHistory  []string      `json:"sid_history,omitempty"`
	Attrs       []jsonAttr    `json:"attrs"`
	Reason      string        `json:"reason,omitempty"`
}

func changeJSON(c *plans.Change) jsonChange {
	out := jsonChange{
		ID: c.ID, DependsOn: c.DependsOn, Address: c.Address, Workflow: c.Workflow,
		Environment: c.Environment, Kind: c.Kind, Action: string(c.Action), Members: c.Members,
		DN: c.DN, NewDN: c.NewDN, Source: identityJSON(c.Source), Target: identityJSON(c.Target),
		SIDHistory: c.SIDHistory, Attrs: make([]jsonAttr, 0, len(c.Attrs)), Reason: c.Reason,
	}
	for _, a := range c.Attrs {
		out.Attrs = append(out.Attrs, jsonAttr{Name: a.Name, Op: a.Op, Before: nonNil(a.Before), After: nonNil(a.After)})
	}
	return out
}

type jsonMatch struct {
	Address    string        `json:"address"`
	Workflow   string        `json:"workflow"`
	Kind       string        `json:"kind"`
	Status     string        `json:"status"`
	Source     *jsonIdentity `json:"source,omitempty"`
	SIDHistory []string      `json:"sid_history,omitempty"`
	Target     *jsonIdentity `json:"target,omitempty"`
	Rule       string        `json:"rule,omitempty"`
	Candidates []string      `json:"candidates,omitempty"`
	Reason     string        `json:"reason,omitempty"`
}

func matchJSON(m *plans.Match) jsonMatch {
	return jsonMatch{
		Address: m.Address, Workflow: m.Workflow, Kind: m.Kind, Status: string(m.Status),
		Source: identityJSON(m.Source), SIDHistory: m.SIDHistory, Target: identityJSON(m.Target),
		Rule: m.Rule, Candidates: m.Candidates, Reason: m.Reason,
	}
}

type jsonMatchCount struct {
	Workflow  string `json:"workflow"`
	Kind      string `json:"kind"`
	Source    int    `json:"source"`
	Matched   int    `json:"matched"`
	New       int    `json:"new"`
	Unmatched int    `json:"unmatched"`
	Ambiguous int    `json:"ambiguous"`
}

func matchCountJSON(c plans.MatchCount) jsonMatchCount {
	return jsonMatchCount(c)
}

type jsonBlocker struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// jsonDevice is one device of a cutover: its readiness (status), the
// blockers that hold it back and the actions still to run.
type jsonDevice struct {
	Address  string        `json:"address"`
	Cutover  string        `json:"cutover"`
	Name     string        `json:"name"`
	Source   *jsonIdentity `json:"source,omitempty"`
	Target   *jsonIdentity `json:"target,omitempty"`
	OS       string        `json:"os"`
	Status   string        `json:"status"`
	Actions  []string      `json:"actions"`
	Done     []string      `json:"done"`
	Blockers []jsonBlocker `json:"blockers"`
	Checks   []string      `json:"checks"`
	Agent    *jsonAgent    `json:"agent,omitempty"`
	Job      []jsonJobStep `json:"job"`
	Rollback bool          `json:"rollback"`
}

// jsonAgent is what a device's agent last reported, as the plan saw it.
type jsonAgent struct {
	ID            string `json:"id"`
	LastSeen      string `json:"last_seen,omitempty"`
	OS            string `json:"os,omitempty"`
	PowerShell    string `json:"powershell,omitempty"`
	DotNetRelease int    `json:"dotnet_release,omitempty"`
	DotNetVersion string `json:"dotnet_version,omitempty"`
	Domain        string `json:"domain,omitempty"`
	Principals    int    `json:"principals"`
	ActiveJob     string `json:"active_job,omitempty"`
}

// jsonJobStep is one action of the job apply sends to a device's agent,
// with its parameters (never a SID map: the plan has none).
type jsonJobStep struct {
	Name   string            `json:"name"`
	Params map[string]string `json:"params"`
}

func deviceJSON(d *plans.Device) jsonDevice {
	out := jsonDevice{
		Address: d.Address, Cutover: d.Cutover, Name: d.Name, Source: identityJSON(d.Source),
		Target: identityJSON(d.Target), OS: d.OS, Status: string(d.Status), Actions: nonNil(d.Actions),
		Done: nonNil(d.Done), Blockers: make([]jsonBlocker, 0, len(d.Blockers)), Checks: nonNil(d.Checks),
		Job: make([]jsonJobStep, 0, len(d.Job)), Rollback: d.Rollback,
	}
	for _, b := range d.Blockers {
		out.Blockers = append(out.Blockers, jsonBlocker(b))
	}
	if a := d.Agent; a != nil {
		out.Agent = &jsonAgent{ID: a.ID, OS: a.OS, PowerShell: a.PowerShell, DotNetRelease: a.DotNetRelease, Domain: a.Domain, Principals: a.Principals, ActiveJob: a.ActiveJob}
		if !a.LastSeen.IsZero() {
			out.Agent.LastSeen = a.LastSeen.UTC().Format(time.RFC3339)
		}
		if a.DotNetRelease > 0 {
			out.Agent.DotNetVersion = plans.DotNetVersion(a.DotNetRelease)
		}
	}
	for _, a := range d.Job {
		params := make(map[string]string, len(a.Params))
		for k, v := range a.Params {
			if k != api.ParamSIDMap {
				params[k] = v
			}
		}
		out.Job = append(out.Job, jsonJobStep{Name: a.Name, Params: params})
	}
	return out
}

type jsonCutover struct {
	Name      string   `json:"name"`
	Workflow  string   `json:"workflow"`
	Actions   []string `json:"actions"`
	NotBefore string   `json:"not_before,omitempty"`
	BatchSize int      `json:"batch_size"`
	// MaxFailures is how many devices may fail before the wave stops; Hub
	// the hub block it runs through (absent: none, its actions do not run).
	MaxFailures int    `json:"max_failures"`
	Hub         string `json:"hub,omitempty"`
	Devices     int    `json:"devices"`
	Ready       int    `json:"ready"`
	Blocked     int    `json:"blocked"`
	Scheduled   int    `json:"scheduled"`
	Done        int    `json:"done"`
}

func cutoverJSON(c *plans.Cutover) jsonCutover {
	out := jsonCutover{
		Name: c.Name, Workflow: c.Workflow, Actions: nonNil(c.Actions), BatchSize: c.BatchSize, MaxFailures: c.MaxFailures, Hub: c.Hub,
		Devices: c.Devices, Ready: c.Ready, Blocked: c.Blocked, Scheduled: c.Scheduled, Done: c.Done,
	}
	if !c.NotBefore.IsZero() {
		out.NotBefore = c.NotBefore.UTC().Format(time.RFC3339)
	}
	return out
}

type jsonWarning struct {
	Address string   `json:"address,omitempty"`
	Summary string   `json:"summary"`
	Detail  string   `json:"detail,omitempty"`
	Items   []string `json:"items,omitempty"`
}

type jsonSummary struct {
	Add              int    `json:"add"`
	Change           int    `json:"change"`
	Move             int    `json:"move"`
	Remove           int    `json:"remove"`
	Record           int    `json:"record"`
	DevicesReady     int    `json:"devices_ready"`
	DevicesBlocked   int    `json:"devices_blocked"`
	DevicesScheduled int    `json:"devices_scheduled"`
	Operation        string `json:"operation,omitempty"`
}

func summaryJSON(s plans.Summary, op string) jsonSummary {
	return jsonSummary{
		Add: s.Add, Change: s.Change, Move: s.Move, Remove: s.Destroy, Record: s.Record,
		DevicesReady: s.DevicesReady, DevicesBlocked: s.DevicesBlocked, DevicesScheduled: s.DevicesScheduled,
		Operation: op,
	}
}

// jsonPlan is a saved plan as show -json writes it.
type jsonPlan struct {
	AdshiftVersion string            `json:"adshift_version"`
	Created        string            `json:"created,omitempty"`
	Lineage        string            `json:"lineage"`
	Serial         uint64            `json:"serial"`
	ConfigHash     string            `json:"config_hash"`
	Variables      map[string]string `json:"variables"`
	Sensitive      []string          `json:"sensitive_variables"`
	Providers      map[string]string `json:"provider_versions"`
	Summary        jsonSummary       `json:"summary"`
	Changes        []jsonChange      `json:"changes"`
	Matches        []jsonMatch       `json:"matches"`
	MatchCounts    []jsonMatchCount  `json:"match_counts"`
	Devices        []jsonDevice      `json:"devices"`
	Cutovers       []jsonCutover     `json:"cutovers"`
	Warnings       []jsonWarning     `json:"warnings"`
}

func planJSON(p *plans.Plan) jsonPlan {
	out := jsonPlan{
		AdshiftVersion: p.Version, Lineage: p.Lineage, Serial: p.Serial, ConfigHash: p.ConfigHash,
		Variables: p.Variables, Sensitive: nonNil(p.Sensitive), Providers: p.Providers, Summary: summaryJSON(p.Summary(), ""),
		Changes:     make([]jsonChange, 0, len(p.Changes)),
		Matches:     make([]jsonMatch, 0, len(p.Matches)),
		MatchCounts: make([]jsonMatchCount, 0, len(p.Counts)),
		Devices:     make([]jsonDevice, 0, len(p.Devices)),
		Cutovers:    make([]jsonCutover, 0, len(p.Cutovers)),
		Warnings:    make([]jsonWarning, 0, len(p.Warnings)),
	}
	if out.Variables == nil {
		out.Variables = map[string]string{}
	}
	if out.Providers == nil {
		out.Providers = map[string]string{}
	}
	if !p.Created.IsZero() {
		out.Created = p.Created.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range p.Changes {
		out.Changes = append(out.Changes, changeJSON(c))
	}
	for _, m := range p.Matches {
		out.Matches = append(out.Matches, matchJSON(m))
	}
	for _, c := range p.Counts {
		out.MatchCounts = append(out.MatchCounts, matchCountJSON(c))
	}
	for _, d := range p.Devices {
		out.Devices = append(out.Devices, deviceJSON(d))
	}
	for _, c := range p.Cutovers {
		out.Cutovers = append(out.Cutovers, cutoverJSON(c))
	}
	for _, w := range p.Warnings {
		out.Warnings = append(out.Warnings, jsonWarning(w))
	}
	return out
}

type jsonPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

// jsonDiagnostic is one problem; Range is the tightest source range when
// the problem has one, Context the enclosing block.
type jsonDiagnostic struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *jsonRange `json:"range,omitempty"`
	Context  *jsonRange `json:"context,omitempty"`
}

func rangeJSON(r *hcl.Range) *jsonRange {
	if r == nil {
		return nil
	}
	return &jsonRange{
		Filename: r.Filename,
		Start:    jsonPos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
		End:      jsonPos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
	}
}

func diagnosticJSON(d *hcl.Diagnostic) jsonDiagnostic {
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	return jsonDiagnostic{Severity: sev, Summary: d.Summary, Detail: d.Detail, Range: rangeJSON(d.Subject), Context: rangeJSON(d.Context)}
}

// jsonValidation is validate -json's document.
type jsonValidation struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
