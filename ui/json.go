package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
)

// JSON writes machine-readable output as JSON lines, one event per line,
// each with @level, @message, @timestamp and type (like Terraform's
// machine-readable UI). It is safe for concurrent use.
type JSON struct {
	W   io.Writer
	mu  sync.Mutex
	now func() time.Time
	// steps is the last device_progress step per job and action.
	steps map[string]int64
}

// NewJSON returns a JSON view writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{W: w, now: time.Now} }

func (j *JSON) emit(level, typ, msg string, fields map[string]any) {
	ev := map[string]any{
		"@level":     level,
		"@message":   msg,
		"@timestamp": j.now().UTC().Format(time.RFC3339Nano),
		"type":       typ,
	}
	for k, v := range fields {
		ev[k] = v
	}
	b, err := json.Marshal(ev)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"@level": "error", "@message": "cannot encode event: " + err.Error(), "type": "internal"})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.W.Write(append(b, '\n'))
}

// Version emits the version line that opens every JSON stream.
func (j *JSON) Version(version string) {
	j.emit("info", "version", "adshift "+version, map[string]any{"adshift": version, "ui": JSONFormatVersion})
}

// Diagnostics emits one event per diagnostic, with its range.
func (j *JSON) Diagnostics(diags hcl.Diagnostics) {
	for _, d := range diags {
		level := "error"
		if d.Severity == hcl.DiagWarning {
			level = "warn"
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += ": " + d.Detail
		}
		j.emit(level, "diagnostic", msg, map[string]any{"diagnostic": diagnosticJSON(d)})
	}
}

// Plan emits the plan as events: each change, each match problem, each
// device, each warning, then the summary.
func (j *JSON) Plan(p *plans.Plan) {
	for _, c := range p.Changes {
		j.emit("info", "planned_change", fmt.Sprintf("%s: plan to %s", c.Address, c.Action), map[string]any{"change": changeJSON(c)})
	}
	for _, m := range p.Matches {
		switch m.Status {
		case plans.Matched:
			j.emit("info", "match", fmt.Sprintf("%s: matched by %s", m.Address, m.Rule), map[string]any{"match": matchJSON(m)})
		default:
			j.emit("warn", "match", fmt.Sprintf("%s: %s", m.Address, m.Reason), map[string]any{"match": matchJSON(m)})
		}
	}
	for _, c := range p.Counts {
		j.emit("info", "match_summary", fmt.Sprintf("workflow.%s %ss: %d in source, %d matched, %d new, %d unmatched, %d ambiguous",
			c.Workflow, c.Kind, c.Source, c.Matched, c.New, c.Unmatched, c.Ambiguous), map[string]any{"match_count": matchCountJSON(c)})
	}
	for _, d := range p.Devices {
		j.emit("info", "device_plan", fmt.Sprintf("%s: %s", d.Address, d.Status), map[string]any{"device": deviceJSON(d)})
	}
	for _, c := range p.Cutovers {
		j.emit("info", "cutover_summary", fmt.Sprintf("device_cutover.%s: %d devices, %d ready, %d blocked", c.Name, c.Devices, c.Ready, c.Blocked), map[string]any{"cutover": cutoverJSON(c)})
	}
	for _, w := range p.Warnings {
		j.emit("warn", "plan_warning", w.Summary, map[string]any{"warning": jsonWarning(w)})
	}
	s := p.Summary()
	j.emit("info", "change_summary", summaryLine(s), map[string]any{"changes": summaryJSON(s, "plan")})
}

// PlanDocument writes a saved plan as one JSON document (show -json PLANFILE).
func PlanDocument(w io.Writer, p *plans.Plan) error {
	return document(w, map[string]any{"format_version": JSONFormatVersion, "plan": planJSON(p)})
}

// StateDocument writes the state as one JSON document (show -json without
// a plan file). State holds identities only, never attribute values.
func StateDocument(w io.Writer, st *state.State) error {
	return document(w, map[string]any{"format_version": JSONFormatVersion, "state": st})
}

// Validation writes validate -json's document: whether the configuration is
// valid, the error and warning counts, and every diagnostic with its range.
func Validation(w io.Writer, diags hcl.Diagnostics) error {
	v := jsonValidation{FormatVersion: JSONFormatVersion, Diagnostics: make([]jsonDiagnostic, 0, len(diags))}
	for _, d := range diags {
		if d.Severity == hcl.DiagWarning {
			v.WarningCount++
		} else {
			v.ErrorCount++
		}
		v.Diagnostics = append(v.Diagnostics, diagnosticJSON(d))
	}
	v.Valid = v.ErrorCount == 0
	return document(w, v)
}

func document(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
