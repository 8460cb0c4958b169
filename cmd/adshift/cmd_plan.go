package main

import (
	"errors"
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
	"github.com/adshift/adshift/ui"
)

// planFlags are the options plan and apply share.
type planFlags struct {
	vars        varFlags
	json        bool
	noColor     bool
	parallelism int
	lockTimeout time.Duration
	maxDeletes  int
	maxMissing  int
	wait        time.Duration
	rollback    stringList
	refresh     refreshMode
}

// refreshMode is plan's -refresh: how the directories are read.
type refreshMode string

func (r *refreshMode) String() string { return string(*r) }
func (r *refreshMode) Set(v string) error {
	switch v {
	case "incremental", "full":
		*r = refreshMode(v)
		return nil
	}
	return fmt.Errorf("%q is not a refresh mode: use incremental (what changed since the last plan's read) or full", v)
}

// stringList is a flag that may be given several times.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func (f *planFlags) register(fs interface {
	Name() string
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Var(flag.Value, string, string)
}) {
	parallelism := "Carry out up to `N` changes at once"
	if fs.Name() == "plan" {
		parallelism = "Accepted so that plan and apply take the same options; `N` bounds the changes apply carries out at once"
	}
	fs.BoolVar(&f.json, "json", false, "Write JSON lines (docs/json-format.md) instead of text")
	fs.BoolVar(&f.noColor, "no-color", false, "Do not colour the output (NO_COLOR is honoured too)")
	fs.IntVar(&f.parallelism, "parallelism", planner.DefaultParallelism, parallelism)
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 0, "Wait up to `DURATION` (e.g. 30s, 5m) for the state lock (default: do not wait)")
	fs.IntVar(&f.maxDeletes, "max-deletes", planner.DefaultMaxDeletes, "Refuse a plan that deletes more than `N` target objects (-1: no limit)")
	fs.IntVar(&f.maxMissing, "max-missing", 0, "Refuse a plan when more than `N` source objects that state knows are missing from a workflow's source (0: half of them; -1: no limit)")
	fs.DurationVar(&f.wait, "wait", 0, "Watch the devices of the waves for at most `DURATION` (e.g. 30m); devices not finished by then stay pending (default: until every device's job ends)")
	fs.Var(&f.refresh, "refresh", "How to read the directories: `MODE` incremental (the default: only what changed since the last plan's read, kept beside the state) or full")
	fs.Var(&f.rollback, "rollback", "Plan to roll back the device at `ADDRESS` (device_cutover.NAME[\"KEY\"]) to its source domain instead of cutting it over; may be repeated")
}

// output bundles the human and JSON views of one command.
type output struct {
	m    *meta
	json *ui.JSON
}

func (m *meta) output(jsonMode, noColor bool) *output {
	m.setNoColor(noColor)
	o := &output{m: m}
	if jsonMode {
		o.json = ui.NewJSON(m.stdout)
		o.json.Version(version)
	}
	return o
}

func (o *output) diags(d hcl.Diagnostics) {
	d = scrub(d, o.m.secrets)
	if o.json != nil {
		o.json.Diagnostics(d)
		return
	}
	o.m.view.Diagnostics(d)
}

func (o *output) hooks() planner.Hooks {
	if o.json != nil {
		return ui.JSONHooks{J: o.json}
	}
	return ui.Progress{V: o.m.view}
}

func (o *output) plan(p *plans.Plan) {
	if o.json != nil {
		o.json.Plan(p)
		return
	}
	o.m.view.Plan(p)
}

// loaded is a configuration ready to plan: evaluated, with its state
// backend.
type loaded struct {
	cfg     *config.Config
	scope   *config.Scope
	backend state.Backend
	// workspace is the current state workspace.
	workspace string
	// discoveryCache is the directory of the workspace's discovery cache.
	discoveryCache string
}

// load reads and evaluates the configuration with the given inputs.
func (m *meta) load(o *output, in config.Inputs, allowMissing bool) (*loaded, bool) {
	cfg, diags := m.loadConfig()
	if cfg == nil {
		o.diags(diags)
		return nil, false
	}
	return m.evaluate(o, cfg, diags, in, allowMissing)
}

// evaluate evaluates a loaded configuration (diags are its loading's) with
// the given inputs.
func (m *meta) evaluate(o *output, cfg *config.Config, diags hcl.Diagnostics, in config.Inputs, allowMissing bool) (*loaded, bool) {
	scope, d := cfg.Evaluate(config.EvalOptions{Inputs: in, AllowMissing: allowMissing})
	diags = append(diags, d...)
	if scope != nil {
		m.secrets = scope.SensitiveStrings()
	}
	if diags.HasErrors() {
		// Report every problem at once, as validate does: the providers'
		// schemas find what evaluation cannot (a misspelled argument).
		diags = append(diags, planner.Validate(m.ctx, cfg, scope, launcher{m})...)
	}
	o.diags(diags)
	if diags.HasErrors() {
		return nil, false
	}
	b, d := m.backend(cfg, scope)
	if d.HasErrors() {
		o.diags(d)
		return nil, false
	}
	ws, _, _ := m.workspace() // m.backend checked it
	return &loaded{cfg: cfg, scope: scope, backend: b, workspace: ws, discoveryCache: m.discoveryCache(cfg, ws)}, true
}

// makePlan plans against st.
func (m *meta) makePlan(o *output, l *loaded, st *state.State, f *planFlags) (*plans.Plan, bool) {
	p, diags := planner.Plan(m.ctx, planner.Options{
		Config: l.cfg, Scope: l.scope, State: st, Launcher: launcher{m},
		Hooks: o.hooks(), Logger: m.logger, MaxDeletes: f.maxDeletes, MaxMissing: f.maxMissing, Version: version,
		Workspace:      l.workspace,
		Rollback:       f.rollback,
		DiscoveryCache: l.discoveryCache, RefreshFull: f.refresh == "full",
	})
	o.diags(diags)
	if diags.HasErrors() || p == nil {
		return nil, false
	}
	// Record the non-sensitive variable values given from outside, so a
	// saved plan applies with exactly them; sensitive ones are named only.
	p.Variables = map[string]string{}
	for _, name := range config.SortedNames(l.cfg.Variables) {
		v := l.cfg.Variables[name]
		if v.Sensitive {
			p.Sensitive = append(p.Sensitive, name)
			continue
		}
		if l.scope.Provided[name] {
			p.Variables[name] = string(hclwrite.TokensForValue(l.scope.Vars[name]).Bytes())
		}
	}
	sort.Strings(p.Sensitive)
	return p, true
}

func runPlan(m *meta, args []string) int {
	var f planFlags
	var out string
	var detailed bool
	fs := newFlags(m, "plan", "plan [options]")
	f.register(fs)
	f.vars.register(fs)
	fs.StringVar(&out, "out", "", "Save the plan to `FILE`, for apply FILE (and show FILE)")
	fs.BoolVar(&detailed, "detailed-exitcode", false, "Exit 2 when the plan has changes (0: none, 1: error)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	o := m.output(f.json, f.noColor)
	if d := extraArgs(fs, 0, "no arguments"); d != nil {
		o.diags(d)
		return exitError
	}
	l, _, unlock, p, ok := m.planLocked(o, &f, "plan")
	if !ok {
		return exitError
	}
	defer unlock.Unlock()
	if out != "" {
		if err := planner.SavePlan(m.ctx, out, p, l.backend); err != nil {
			o.diags(errDiag("Cannot save plan", err, ""))
			return exitError
		}
		if o.json == nil {
			fmt.Fprintf(m.stdout, "\nSaved the plan to %s. To carry it out exactly, run:\n    adshift apply %s\n", out, out)
		}
	}
	if detailed && p.HasChanges() {
		return exitChanges
	}
	return exitOK
}

// planLocked gathers the inputs, loads the configuration, takes the state
// lock for op, plans and shows the plan. On success the caller holds the
// lock and must release it.
func (m *meta) planLocked(o *output, f *planFlags, op string) (*loaded, *state.State, state.Unlocker, *plans.Plan, bool) {
	in, diags := m.inputs(&f.vars)
	if diags.HasErrors() {
		o.diags(diags)
		return nil, nil, nil, nil, false
	}
	l, ok := m.load(o, in, false)
	if !ok {
		return nil, nil, nil, nil, false
	}
	st, unlock, ok := m.lockedState(o, l, op, f.lockTimeout)
	if !ok {
		return nil, nil, nil, nil, false
	}
	p, ok := m.makePlan(o, l, st, f)
	if !ok {
		unlock.Unlock()
		return nil, nil, nil, nil, false
	}
	o.plan(p)
	return l, st, unlock, p, true
}

// lockedState takes the state lock for op and loads the state.
func (m *meta) lockedState(o *output, l *loaded, op string, timeout time.Duration) (*state.State, state.Unlocker, bool) {
	unlock, err := m.lock(l.backend, op, timeout)
	var le *state.LockError
	switch {
	case errors.As(err, &le):
		o.diags(errDiag("State is locked", err, "Wait for the other run to finish, use -lock-timeout to wait for it, or if it died run adshift force-unlock with the lock ID."))
		return nil, nil, false
	case err != nil:
		// Not someone else's lock: a path or permission problem, said as such.
		o.diags(errDiag("Cannot lock state", err, ""))
		return nil, nil, false
	}
	st, err := l.backend.Load(m.ctx)
	if err != nil {
		unlock.Unlock()
		o.diags(errDiag("Cannot read state", err, ""))
		return nil, nil, false
	}
	return st, unlock, true
}

// scrub returns d with every secret in a summary or detail replaced by
// "(sensitive)"; d itself is not changed.
func scrub(d hcl.Diagnostics, secrets []string) hcl.Diagnostics {
	if len(secrets) == 0 {
		return d
	}
	out := make(hcl.Diagnostics, len(d))
	for i, x := range d {
		c := *x
		c.Summary = config.ScrubStrings(c.Summary, secrets)
		c.Detail = config.ScrubStrings(c.Detail, secrets)
		out[i] = &c
	}
	return out
}

// errDiag wraps an error as a diagnostic without a source range.
func errDiag(summary string, err error, hint string) hcl.Diagnostics {
	detail := err.Error()
	if hint != "" {
		detail += ".\n\n" + hint
	}
	var le *state.LockError
	if errors.As(err, &le) && hint == "" {
		detail += "."
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail}}
}
