package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
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
		if d := planner.DeviceActionsNotApplied(p); d != nil {
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
	diags := planner.Apply(m.ctx, planner.ApplyOptions{
		Plan: p, Config: l.cfg, Scope: l.scope, Txn: txn, Launcher: launcher{m},
		Hooks: o.hooks(), Logger: m.logger, Parallelism: f.parallelism, Stop: m.stop,
	})
	if err := txn.Commit(); err != nil {
		diags = append(diags, errDiag("Cannot save state", err, "Every completed change is in the state journal beside the state file; the next run replays it.")...)
	}
	o.diags(diags)
	if diags.HasErrors() {
		return exitError
	}
	s := p.Summary()
	if o.json == nil {
		fmt.Fprintf(m.stdout, "\nApply complete! Objects: %d added, %d changed, %d moved, %d destroyed; %d matches recorded.\n", s.Add, s.Change, s.Move, s.Destroy, s.Record)
	}
	return exitOK
}

// applySaved applies a plan file exactly, after checking it still fits the
// configuration and the state.
func applySaved(m *meta, o *output, f *planFlags, path string) int {
	p, err := plans.ReadFile(path)
	if err != nil {
		hint := ""
		if errors.Is(err, plans.ErrNotPlan) {
			hint = "Pass a file written by adshift plan -out."
		}
		o.diags(errDiag("Cannot read plan", err, hint))
		return exitError
	}
	sensitive := map[string]bool{}
	for _, n := range p.Sensitive {
		sensitive[n] = true
	}
	in, diags := m.inputs(&f.vars)
	// Only sensitive values, which plans never store, may be given again;
	// everything else comes from the plan.
	for name, v := range in {
		if sensitive[name] {
			continue
		}
		if !v.FromEnv {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Variable set for a saved plan",
				Detail:   fmt.Sprintf("The variable %q was set (%s), but a saved plan applies with the values it was made with. Only sensitive variables, which plans never store, may be given again.", name, v.Source),
			})
		}
		delete(in, name)
	}
	for name, text := range p.Variables {
		expr, d := hclsyntax.ParseExpression([]byte(text), path, hcl.InitialPos)
		if d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		in[name] = &config.InputValue{Expr: expr, Source: "the saved plan"}
	}
	if diags.HasErrors() {
		o.diags(diags)
		return exitError
	}
	l, ok := m.load(o, in, false)
	if !ok {
		return exitError
	}
	if l.cfg.Hash != p.ConfigHash {
		o.diags(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Saved plan is stale",
			Detail:   "The configuration changed since the plan was made, so the plan may no longer say what the configuration asks for. Run adshift plan -out again and review the new plan.",
		}})
		return exitError
	}
	st, unlock, ok := m.lockedState(o, l, "apply", f.lockTimeout)
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	if st.Serial == 0 && p.Serial == 0 && len(st.Objects) == 0 && len(st.Devices) == 0 {
		// No state was ever written: the plan's lineage was made up for it,
		// and this apply writes the state under that lineage.
		st.Lineage = p.Lineage
	}
	if st.Lineage != p.Lineage || st.Serial != p.Serial {
		what := fmt.Sprintf("the state moved from serial %d to %d", p.Serial, st.Serial)
		if st.Lineage != p.Lineage {
			what = fmt.Sprintf("the plan was made for state lineage %s, but the state is lineage %s", p.Lineage, st.Lineage)
		}
		o.diags(hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Saved plan is stale",
			Detail:   "The plan was made from a different state: " + what + " (it was applied already, or another apply ran since). Run adshift plan -out again and review the new plan.",
		}})
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
