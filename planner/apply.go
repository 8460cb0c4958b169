package planner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// DefaultParallelism is how many changes are in flight at once by default.
const DefaultParallelism = 10

// ApplyOptions are the inputs of Apply.
type ApplyOptions struct {
	Plan   *plans.Plan
	Config *config.Config
	Scope  *config.Scope
	// Txn records every completed change; the caller holds the state lock,
	// began the Txn on the state the plan was checked against, and commits
	// it afterwards.
	Txn      *state.Txn
	Launcher Launcher
	Hooks    Hooks
	Logger   hclog.Logger
	// Parallelism bounds the changes in flight (the one place concurrency
	// of writes is limited); 0 means DefaultParallelism.
	Parallelism int
	// Stop, when closed, starts nothing new; in-flight changes finish and
	// are recorded (the first Ctrl-C). A device wave stops watching its
	// devices (their jobs go on on the hub).
	Stop <-chan struct{}
	// Wait bounds how long apply watches the devices of its waves; zero
	// means until every device's job is final. Devices that did not
	// finish stay pending.
	Wait time.Duration
	// Now is the time not_before is judged against; zero means
	// time.Now().
	Now time.Time

	// beforeWait, when set (by tests), is called each time the walk is
	// about to block for a result or the stop, with whether it has
	// stopped: a count of its calls is a count of the walk's wake-ups.
	beforeWait func(stopped bool)
}

// Apply carries out exactly the changes of a plan, in dependency order,
// recording each completed change in state before it counts as done. A
// failed change skips the changes that depend on it; independent ones go
// on. The returned diagnostics describe every failure.
func Apply(ctx context.Context, opts ApplyOptions) hcl.Diagnostics {
	if opts.Hooks == nil {
		opts.Hooks = NoHooks{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	log := opts.Logger.Named("apply")
	var diags hcl.Diagnostics

	n, err := recordMatches(opts.Txn, opts.Plan.Matches, opts.Parallelism)
	if err != nil {
		// Nothing was sent to a directory yet: say so, not "the change was
		// made".
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Cannot write state",
			Detail:   err.Error() + ". No directory change was made. Fix the problem (disk space, permissions) and run apply again.",
		})
	}
	if n > 0 {
		opts.Hooks.Recorded(n)
	}
	if len(opts.Plan.Changes) > 0 {
		diags = append(diags, walk(ctx, opts, log)...)
	}
	if diags.HasErrors() {
		if n := pendingDevices(opts.Plan); n > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Device actions not started",
				Detail:   fmt.Sprintf("%d devices are ready, but directory changes of this plan failed, so no device action was started. Fix the failures and run plan and apply again.", n),
			})
		}
		return diags
	}
	return append(diags, applyWaves(ctx, opts, log)...)
}

// DevicesWithoutHub is the warning for devices that are ready but whose
// wave names no hub, so that no agent runs their actions; nil when there
// are none.
func DevicesWithoutHub(p *plans.Plan) *hcl.Diagnostic {
	n := 0
	for _, d := range p.Devices {
		if (d.Status == plans.DeviceReady || d.Status == plans.DeviceScheduled) && len(d.Job) == 0 {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  "Device actions not run",
		Detail:   fmt.Sprintf("%d devices are ready for device actions, but their device_cutover names no hub, so no agent runs them. Add hub = hub.NAME (and a hub block) to run them.", n),
	}
}

func pendingDevices(p *plans.Plan) int {
	n := 0
	for _, d := range p.Devices {
		if d.Status == plans.DeviceReady || d.Status == plans.DeviceScheduled {
			n++
		}
	}
	return n
}

func stateDiag(err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Cannot write state",
		Detail:   err.Error() + ". The change was made in the directory; fix the problem (disk space, permissions) and run plan again: the next plan finds the object by its match rules.",
	}
}

var stateKindByNoun = map[string]string{
	"user": state.KindUser, "group": state.KindGroup, "device": state.KindComputer, "contact": state.KindContact, "ou": state.KindOU,
}

// recordMatches writes the plan's new matches into state. Several
// goroutines share the journal's fsyncs.
func recordMatches(txn *state.Txn, matches []*plans.Match, workers int) (int, error) {
	var todo []*plans.Match
	for _, m := range matches {
		if m.Status == plans.Matched {
			todo = append(todo, m)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	ch := make(chan *plans.Match)
	for range max(workers, 4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range ch {
				o := &state.Object{
					Address: m.Address, Workflow: m.Workflow, Kind: stateKindByNoun[m.Kind],
					Source:     state.Identity(m.Source),
					Target:     state.Identity(m.Target),
					SIDHistory: m.SIDHistory,
					UpdatedAt:  time.Now().UTC(),
				}
				if prev, ok := txn.Object(m.Address); ok && strings.EqualFold(prev.Target.GUID, m.Target.GUID) {
					o.Created = prev.Created
				}
				if err := txn.PutObject(o); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, m := range todo {
		ch <- m
	}
	close(ch)
	wg.Wait()
	return len(todo), first
}

// toProvider converts a planned change to what a provider applies.
func toProvider(c *plans.Change) providers.Change {
	pc := providers.Change{ID: c.ID, Kind: providers.Kind(c.Kind), DN: c.DN, NewDN: c.NewDN, GUID: c.Target.GUID, Token: c.Token}
	switch c.Action {
	case plans.Create:
		pc.Op = providers.OpCreate
	case plans.Update:
		pc.Op = providers.OpUpdate
	case plans.Move:
		pc.Op = providers.OpMove
	case plans.Delete:
		pc.Op = providers.OpDelete
	}
	for _, a := range c.Attrs {
		switch a.Op {
		case "add":
			pc.Attrs = append(pc.Attrs, providers.AttrChange{Name: a.Name, Op: providers.AttrAdd, Values: a.After})
		case "delete":
			pc.Attrs = append(pc.Attrs, providers.AttrChange{Name: a.Name, Op: providers.AttrDelete, Values: a.Before})
		default:
			pc.Attrs = append(pc.Attrs, providers.AttrChange{Name: a.Name, Op: providers.AttrReplace, Values: a.After})
		}
	}
	return pc
}

type outcome struct {
	res providers.Result
	err error // set when the provider's whole Apply call failed
	env string
}

// walk runs the changes through their providers.
func walk(ctx context.Context, opts ApplyOptions, log hclog.Logger) hcl.Diagnostics {
	var diags hcl.Diagnostics
	p := opts.Plan
	byID := make(map[int64]*plans.Change, len(p.Changes))
	envSet := map[string]bool{}
	waiting := make(map[int64]int, len(p.Changes))
	dependents := map[int64][]int64{}
	for _, c := range p.Changes {
		byID[c.ID] = c
		envSet[c.Environment] = true
		waiting[c.ID] = len(c.DependsOn)
		for _, d := range c.DependsOn {
			dependents[d] = append(dependents[d], c.ID)
		}
	}
	envs := make([]string, 0, len(envSet))
	for e := range envSet {
		envs = append(envs, e)
	}
	sort.Strings(envs)
	cs, d := openEnvs(ctx, opts.Config, opts.Scope, opts.Launcher, envs, true)
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	defer cs.close(ctx)
	if err := checkProviderVersions(opts.Plan, cs); err != nil {
		return append(diags, StaleDiag(err))
	}

	results := make(chan outcome, opts.Parallelism)
	ins := map[string]chan providers.Change{}
	var provWG sync.WaitGroup
	for _, e := range envs {
		in := make(chan providers.Change, opts.Parallelism)
		ins[e] = in
		c := cs[e]
		provWG.Add(1)
		go func(env string) {
			defer provWG.Done()
			err := c.p.Apply(ctx, in, func(r providers.Result) error {
				results <- outcome{res: r, env: env}
				return nil
			})
			results <- outcome{err: fmt.Errorf("provider %q (environment.%s): %w", c.env.Provider, env, errOrClosed(err)), env: env}
		}(e)
	}

	var ready []int64
	for _, c := range p.Changes {
		if waiting[c.ID] == 0 {
			ready = append(ready, c.ID)
		}
	}
	inflight := map[int64]time.Time{}
	envDone := map[string]bool{}
	done := map[int64]bool{}
	stopped := false
	var made, skipped int
	var skip func(id int64, because *plans.Change)
	skip = func(id int64, because *plans.Change) {
		if done[id] {
			return
		}
		done[id] = true
		skipped++
		opts.Hooks.Skipped(byID[id], because)
		for _, dep := range dependents[id] {
			skip(dep, because)
		}
	}
	// One diagnostic per cause: a DC that went away fails every change
	// after it with the same words, which the user needs to read once.
	failures := newFailureGroups()
	fail := func(c *plans.Change, msg string) {
		if d := failures.add(c, msg); d != nil {
			diags = append(diags, d)
		}
		for _, dep := range dependents[c.ID] {
			skip(dep, c)
		}
	}
	// stop is opts.Stop until it fires, then nil: a closed channel in the
	// select below would wake the walk at once, again and again, while
	// the changes in flight finish.
	stop := opts.Stop
	for {
		select {
		case <-stop:
			stopped, stop = true, nil
		default:
		}
		for !stopped && len(ready) > 0 && len(inflight) < opts.Parallelism {
			id := ready[0]
			ready = ready[1:]
			if done[id] {
				continue
			}
			c := byID[id]
			if envDone[c.Environment] {
				done[id] = true
				fail(c, "its provider stopped before the change could be sent")
				continue
			}
			opts.Hooks.Applying(c)
			inflight[id] = time.Now()
			ins[c.Environment] <- toProvider(c)
		}
		if len(inflight) == 0 {
			break
		}
		if opts.beforeWait != nil {
			opts.beforeWait(stopped)
		}
		var o outcome
		select {
		case o = <-results:
		case <-stop:
			stopped, stop = true, nil
			continue
		}
		if o.err != nil {
			// The provider's Apply call ended while changes were in flight.
			envDone[o.env] = true
			for id := range inflight {
				c := byID[id]
				if c.Environment != o.env {
					continue
				}
				delete(inflight, id)
				done[id] = true
				opts.Hooks.Applied(c, o.err, 0)
				fail(c, o.err.Error()+". The change may or may not have been made; run plan again to see what remains.")
			}
			continue
		}
		c, ok := byID[o.res.ID]
		if !ok || done[o.res.ID] {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Provider sent an unexpected result",
				Detail:   fmt.Sprintf("The provider of environment.%s reported a result for change %d, which was not sent or already finished.", o.env, o.res.ID),
			})
			continue
		}
		took := time.Since(inflight[c.ID])
		delete(inflight, c.ID)
		done[c.ID] = true
		if o.res.Error != "" {
			err := errors.New(o.res.Error)
			opts.Hooks.Applied(c, err, took)
			fail(c, o.res.Error)
			continue
		}
		if err := recordChange(opts.Txn, c, o.res); err != nil {
			opts.Hooks.Applied(c, err, took)
			diags = append(diags, stateDiag(err))
			stopped = true
			continue
		}
		opts.Hooks.Applied(c, nil, took)
		made++
		for _, dep := range dependents[c.ID] {
			waiting[dep]--
			if waiting[dep] == 0 && !done[dep] {
				ready = append(ready, dep)
			}
		}
	}
	for _, in := range ins {
		close(in)
	}
	go func() { provWG.Wait(); close(results) }()
	for o := range results {
		if o.err != nil && !envDone[o.env] && !errors.Is(o.err, errClosed) {
			log.Debug("provider apply ended", "env", o.env, "err", o.err)
		}
	}
	failures.finish()
	if n := failures.count(); n > 0 && !stopped {
		detail := fmt.Sprintf("%d of %d changes were made and recorded in state; %d failed", made, len(p.Changes), n)
		if skipped > 0 {
			detail += fmt.Sprintf(", and %d were skipped because a change they depend on failed", skipped)
		}
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Apply incomplete",
			Detail:   detail + ". Fix the cause above, then run plan again: it shows exactly what remains.",
		})
	}
	if stopped {
		left := 0
		for _, c := range p.Changes {
			if !done[c.ID] {
				left++
			}
		}
		if left > 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Apply interrupted",
				Detail:   fmt.Sprintf("%d changes were not started. Everything that completed is in state; run plan again to see what remains.", left),
			})
		}
	}
	return diags
}

var errClosed = errors.New("finished")

// failureGroups folds failed changes with the same error into the first
// one's diagnostic.
type failureGroups struct {
	byMsg map[string]*failureGroup
	order []*failureGroup
}

type failureGroup struct {
	diag *hcl.Diagnostic
	more []string // the other changes' descriptions
}

// maxListed is how many further changes a folded diagnostic names; the
// progress output and -json name every one.
const maxListed = 5

func newFailureGroups() *failureGroups { return &failureGroups{byMsg: map[string]*failureGroup{}} }

// add records c's failure and returns a new diagnostic for a new cause, or
// nil when it joined an earlier one.
func (f *failureGroups) add(c *plans.Change, msg string) *hcl.Diagnostic {
	if g, ok := f.byMsg[msg]; ok {
		g.more = append(g.more, fmt.Sprintf("%s %s", c.Action, c.Address))
		return nil
	}
	g := &failureGroup{diag: &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Failed to %s %s", c.Action, c.Address),
		Detail:   msg,
	}}
	f.byMsg[msg] = g
	f.order = append(f.order, g)
	return g.diag
}

// finish completes the folded diagnostics with their counts.
func (f *failureGroups) finish() {
	for _, g := range f.order {
		if len(g.more) == 0 {
			continue
		}
		more := fmt.Sprintf("%d more changes", len(g.more))
		if len(g.more) == 1 {
			more = "1 more change"
		}
		g.diag.Summary += " and " + more
		listed := g.more[:min(len(g.more), maxListed)]
		g.diag.Detail += fmt.Sprintf("\n\nThe same error failed %s: %s", more, strings.Join(listed, "; "))
		if len(g.more) > maxListed {
			g.diag.Detail += fmt.Sprintf("; and %d others (each is listed in the progress output above and in -json)", len(g.more)-maxListed)
		}
		g.diag.Detail += "."
	}
}

// count is the number of failed changes.
func (f *failureGroups) count() int {
	n := 0
	for _, g := range f.order {
		n += 1 + len(g.more)
	}
	return n
}

func errOrClosed(err error) error {
	if err == nil {
		return errClosed
	}
	return err
}

// recordChange writes a completed change into state.
func recordChange(txn *state.Txn, c *plans.Change, r providers.Result) error {
	if c.Action == plans.Delete {
		return txn.DeleteObject(c.Address)
	}
	target := state.Identity{DN: r.DN, GUID: r.GUID, SID: r.SID}
	if target.DN == "" {
		target.DN = c.DN
		if c.Action == plans.Move {
			target.DN = c.NewDN
		}
	}
	if target.GUID == "" {
		target.GUID = c.Target.GUID
	}
	if target.SID == "" {
		target.SID = c.Target.SID
	}
	o := &state.Object{
		Address: c.Address, Workflow: c.Workflow, Kind: c.Kind,
		Source: state.Identity(c.Source), Target: target, SIDHistory: c.SIDHistory,
		Created:   c.Action == plans.Create,
		UpdatedAt: time.Now().UTC(),
	}
	if prev, ok := txn.Object(c.Address); ok && c.Action != plans.Create {
		o.Created = prev.Created
		if o.Source.GUID == "" {
			o.Source = prev.Source
		}
	}
	return txn.PutObject(o)
}
