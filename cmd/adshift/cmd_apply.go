package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/ui"
)

func runApply(m *meta, args []string) int {
	var f planFlags
	var autoApprove bool
	fs := newFlags(m, "apply", "apply [options] [PLANFILE]")
	f.register(fs)
	f.vars.register(fs)
	fs.BoolVar(&autoApprove, "auto-approve", false, "Apply without asking for confirmation")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o := m.output(f.json, f.noColor)
	if fs.NArg() > 1 {
		o.diags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many arguments", Detail: "apply takes at most one argument, a plan file saved by plan -out."}})
		return exitError
	}
	if fs.NArg() == 1 {
		return applySaved(m, o, &f, fs.Arg(0))
	}
	l, st, unlock, p, ok := m.planLocked(o, &f, "apply")
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	if !p.HasChanges() {
		if d := planner.DevicesWithoutHub(p); d != nil {
			o.diags(hcl.Diagnostics{d})
		}
		return exitOK
	}
	if !autoApprove {
		if o.json != nil {
			o.diags(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Approval needed", Detail: "apply -json cannot ask for approval; add -auto-approve, or save the plan with plan -out and apply that file."}})
			return exitError
		}
		fmt.Fprintf(m.stdout, "\nDo you want to perform these actions?\n  adshift will carry out the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
		line, _ := bufio.NewReader(m.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintf(m.stdout, "\nApply cancelled.\n")
			return exitError
		}
	}
	return m.apply(o, l, st, p, &f)
}

// apply carries out p against st, recording changes in state.
func (m *meta) apply(o *output, l *loaded, st *state.State, p *plans.Plan, f *planFlags) int {
	txn, err := l.backend.Begin(m.ctx, st)
	if err != nil {
		o.diags(errDiag("Cannot write state", err, ""))
		return exitError
	}
	if o.json == nil {
		fmt.Fprintln(m.stdout)
	}
	hooks := o.hooks()
	var bars *ui.Bars
	if tty := terminalFile(m.stdout); o.json == nil && tty != nil {
		// On a terminal, one live bar per environment instead of a line
		// per change (a 13,000-change apply printed 163,000 lines).
		bars = ui.NewBars(m.view, tty, p)
		hooks = bars
	}
	diags := planner.Apply(m.ctx, planner.ApplyOptions{
		Plan: p, Config: l.cfg, Scope: l.scope, Txn: txn, Launcher: launcher{m},
		Hooks: hooks, Logger: m.logger, Parallelism: f.parallelism, Stop: m.stop, Wait: f.wait,
	})
	if bars != nil {
		bars.Close()
	}
	if err := txn.Commit(); err != nil {
		hint := "Nothing was recorded in the state journal, so there is nothing to replay: fix the problem and run again."
		if n := txn.Durable(); n > 0 {
			hint = fmt.Sprintf("The %d recorded changes are in the state journal (beside the state file, or in the pg backend's journal table); the next run replays them.", n)
		}
		diags = append(diags, errDiag("Cannot save state", err, hint)...)
	}
	o.diags(diags)
	if diags.HasErrors() {
		return exitError
	}
	s := p.Summary()
	if o.json == nil {
		fmt.Fprintf(m.stdout, "\nApply complete! Objects: %d added, %d changed, %d moved, %d destroyed; %d matches recorded.\n", s.Add, s.Change, s.Move, s.Destroy, s.Record)
		if stopped(m.stop) {
			// Every change was already under way when the stop came: all
			// were made, and the run still ends as a stopped one (exit 1).
			fmt.Fprintln(m.stdout, "The stop came after the last change had started: every planned change was made.")
		}
	}
	return exitOK
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// applySaved applies a plan file exactly, after planner.ReadPlan checked
// the whole file and planner.CheckSavedPlan found it still fits the
// configuration and the state. Nothing else decides whether a plan applies.
func applySaved(m *meta, o *output, f *planFlags, path string) int {
	cfg, diags := m.loadConfig()
	if cfg == nil {
		o.diags(diags)
		return exitError
	}
	given, d := m.inputs(&f.vars)
	if d.HasErrors() {
		o.diags(append(diags, d...))
		return exitError
	}
	p, d := m.readPlan(cfg, given, path)
	if d.HasErrors() {
		o.diags(d)
		return exitError
	}
	diags = append(diags, d...)
	in, d := planner.SavedPlanInputs(p, path, given)
	diags = append(diags, d...)
	if diags.HasErrors() {
		o.diags(diags)
		return exitError
	}
	l, ok := m.evaluate(o, cfg, diags, in, false)
	if !ok {
		return exitError
	}
	st, unlock, ok := m.lockedState(o, l, "apply", f.lockTimeout)
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	if err := planner.CheckSavedPlan(p, l.cfg, st, l.workspace); err != nil {
		o.diags(hcl.Diagnostics{planner.StaleDiag(err)})
		return exitError
	}
	if !p.HasChanges() {
		if o.json == nil {
			fmt.Fprintln(m.stdout, "\nNo changes. The saved plan has nothing to apply.")
		}
		return exitOK
	}
	return m.apply(o, l, st, p, f)
}
