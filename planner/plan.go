package planner

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// DefaultMaxDeletes is how many deletes a plan may hold before it is refused
// without an explicit override (like Entra Connect's accidental-delete
// guard).
const DefaultMaxDeletes = 500

// Options are the inputs of Plan.
type Options struct {
	Config   *config.Config
	Scope    *config.Scope
	State    *state.State
	Launcher Launcher
	Hooks    Hooks
	Logger   hclog.Logger
	// Now is the planning time (device schedules); zero means time.Now().
	Now time.Time
	// MaxDeletes bounds the deletes of one plan; 0 means DefaultMaxDeletes,
	// a negative value means no limit.
	MaxDeletes int
	// MaxMissing bounds, per workflow, the source objects state knows that
	// discovery no longer finds; 0 means half of those state knows, a
	// negative value means no limit.
	MaxMissing int
	// Version is stamped into the plan.
	Version string
	// Workspace is the state workspace planned in, recorded in the plan
	// ("" means the default one).
	Workspace string
	// Rollback lists device addresses (device_cutover.NAME["KEY"]) whose
	// cutover this plan undoes instead of carrying on (plan -rollback).
	Rollback []string
	// DiscoveryCache is the directory where providers keep what they read
	// of each environment (providers.Scope.Cache is DiscoveryCache/ENV.cache)
	// so that the next plan reads only what changed; "" means no cache.
	DiscoveryCache string
	// RefreshFull asks every provider for a full read (plan -refresh=full);
	// a new state (serial 0) reads in full too.
	RefreshFull bool
}

// kindInfo ties a configuration object kind to its provider kind and the
// noun used in addresses.
type kindInfo struct {
	word  string // "users"
	kind  providers.Kind
	noun  string // "user"
	state string // state.Kind*
}

var kindOrder = []kindInfo{
	{"users", providers.KindUser, "user", state.KindUser},
	{"contacts", providers.KindContact, "contact", state.KindContact},
	{"groups", providers.KindGroup, "group", state.KindGroup},
	{"devices", providers.KindComputer, "device", state.KindComputer},
}

func kindByWord(word string) kindInfo {
	for _, k := range kindOrder {
		if k.word == word {
			return k
		}
	}
	return kindInfo{}
}

// item is one source object of one workflow on its way through match,
// stage and diff.
type item struct {
	wf     *config.Workflow
	ki     kindInfo
	tmpl   *config.Template
	addr   string
	src    *providers.Object
	tgt    *providers.Object
	status plans.MatchStatus
	rule   string
	cands  []string
	known  *state.Object // what state knew about this source object

	staged *stagedObject
	// finalDN is the object's target DN once the plan is applied.
	finalDN string
	// change is the create or move that gives the object finalDN (its
	// dependents wait for it); nil when the object is already there.
	change *plans.Change
}

// planning is the working set of one Plan call.
type planning struct {
	opts   Options
	cfg    *config.Config
	log    hclog.Logger
	diags  hcl.Diagnostics
	errs   evalErrors
	invs   map[string]*inventory
	items  []*item
	bySrc  map[*providers.Object]*item
	known  map[string]*state.Object // workflow \x00 source GUID → state object
	ous    map[string]*plans.Change // planned OU creates by dn.Key
	ouList []*plans.Change
	plan   *plans.Plan

	creates, updates, moves, members, deletes []*plans.Change

	refCache  map[*config.Template]sourceRefs
	dnCache   map[string]dnResult
	finalKeys map[string]*item
	deps      map[*plans.Change][]*plans.Change
	// depSets holds deps[c] as a set once it is long (see dependOn).
	depSets map[*plans.Change]map[*plans.Change]struct{}
	// noTrustReads names the environments whose provider cannot read
	// trusts (its schema lacks KindTrust).
	noTrustReads map[string]bool
	// hubs are the device lists of the hubs in use, by hub name.
	hubs map[string]*hubView
	// canProvision names the environments whose provider provisions
	// offline domain join blobs.
	canProvision map[string]bool
}

// dropUnservedTrusts removes KindTrust from the scopes of providers that
// do not list it, remembering them for the trust check.
func (pl *planning) dropUnservedTrusts(cs conns, scopes map[string]providers.Scope) {
	for name, sc := range scopes {
		if !slices.Contains(sc.Kinds, providers.KindTrust) || cs[name] == nil || cs[name].schema == nil {
			continue
		}
		if !slices.Contains(cs[name].schema.Kinds, providers.KindTrust) {
			sc.Kinds = slices.DeleteFunc(slices.Clone(sc.Kinds), func(k providers.Kind) bool { return k == providers.KindTrust })
			scopes[name] = sc
			if pl.noTrustReads == nil {
				pl.noTrustReads = map[string]bool{}
			}
			pl.noTrustReads[name] = true
		}
	}
}

// dependOn records that c must wait for dep (nil dep is ignored).
func (pl *planning) dependOn(c, dep *plans.Change) {
	if dep == nil || dep == c {
		return
	}
	if pl.deps == nil {
		pl.deps = map[*plans.Change][]*plans.Change{}
	}
	ds := pl.deps[c]
	if len(ds) < depSetMin {
		for _, d := range ds {
			if d == dep {
				return
			}
		}
	} else {
		// A change with many dependencies (the membership update of a
		// large group) checks a set: a scan per dependency made planning
		// quadratic in the group's size.
		set := pl.depSets[c]
		if set == nil {
			set = make(map[*plans.Change]struct{}, 2*len(ds))
			for _, d := range ds {
				set[d] = struct{}{}
			}
			if pl.depSets == nil {
				pl.depSets = map[*plans.Change]map[*plans.Change]struct{}{}
			}
			pl.depSets[c] = set
		}
		if _, ok := set[dep]; ok {
			return
		}
		set[dep] = struct{}{}
	}
	pl.deps[c] = append(ds, dep)
}

// depSetMin is how many dependencies a change has before dependOn checks
// new ones against a set instead of scanning them.
const depSetMin = 32

// Plan discovers the directories, matches, stages and diffs, and returns
// the plan. The returned diagnostics hold every problem found; the plan is
// nil when any is an error.
func Plan(ctx context.Context, opts Options) (*plans.Plan, hcl.Diagnostics) {
	if opts.Hooks == nil {
		opts.Hooks = NoHooks{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.MaxDeletes == 0 {
		opts.MaxDeletes = DefaultMaxDeletes
	}
	if opts.State == nil {
		opts.State = state.New()
	}
	pl := &planning{
		opts:  opts,
		cfg:   opts.Config,
		log:   opts.Logger.Named("planner"),
		bySrc: map[*providers.Object]*item{},
		known: map[string]*state.Object{},
		ous:   map[string]*plans.Change{},
		plan: &plans.Plan{
			FormatVersion: plans.FormatVersion,
			Version:       opts.Version,
			Created:       opts.Now.UTC(),
			ConfigHash:    opts.Config.Hash,
			Lineage:       opts.State.Lineage,
			Serial:        opts.State.Serial,
			Workspace:     opts.Workspace,
		},
	}
	for _, o := range opts.State.Objects {
		if o.Source.GUID != "" {
			pl.known[o.Workflow+"\x00"+strings.ToLower(o.Source.GUID)] = o
		}
	}
	scopes := pl.scopes()
	if opts.DiscoveryCache != "" {
		for name, sc := range scopes {
			sc.Cache = filepath.Join(opts.DiscoveryCache, name+".cache")
			sc.FullRefresh = opts.RefreshFull || opts.State.Serial == 0
			scopes[name] = sc
		}
	}
	if len(scopes) == 0 {
		pl.finish()
		return pl.plan, pl.diags
	}
	names := make([]string, 0, len(scopes))
	for n := range scopes {
		names = append(names, n)
	}
	cs, d := openEnvs(ctx, pl.cfg, opts.Scope, opts.Launcher, names, true)
	pl.diags = append(pl.diags, d...)
	if d.HasErrors() {
		return nil, pl.diags
	}
	defer cs.close(ctx)
	pl.plan.Providers = providerVersions(cs)
	pl.dropUnservedTrusts(cs, scopes)
	start := time.Now()
	invs, err := discoverAll(ctx, cs, scopes, opts.Hooks)
	if err != nil {
		pl.diags = append(pl.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Discovery failed",
			Detail:   err.Error(),
		})
		return nil, pl.diags
	}
	pl.log.Debug("discovery done", "took", time.Since(start))
	pl.invs = invs

	for _, wname := range config.SortedNames(pl.cfg.Workflows) {
		w := pl.cfg.Workflows[wname]
		for _, ki := range kindOrder {
			if w.Carries(ki.word) {
				pl.matchKind(w, ki)
			}
		}
	}
	pl.log.Debug("matched", "items", len(pl.items), "took", time.Since(start))
	phase := time.Now()
	step := func(name string) {
		pl.log.Debug("phase done", "phase", name, "took", time.Since(phase))
		phase = time.Now()
	}
	pl.checkTemplateRefs()
	pl.checkSourceLoss()
	step("checks")
	pl.stageAll()
	step("stage")
	for _, it := range pl.items {
		pl.stageItem(it)
	}
	step("stage items")
	pl.diags = append(pl.diags, pl.errs.diags()...)
	pl.checkMatchValues()
	step("match values")
	pl.planMembers()
	step("members")
	pl.planRemoved()
	pl.readHubs(ctx)
	pl.canProvision = map[string]bool{}
	for name, c := range cs {
		if c.schema != nil && c.schema.Name == "ad" {
			pl.canProvision[name] = true
		}
	}
	pl.planDevices()
	step("devices")
	pl.finish()
	step("finish")
	pl.log.Debug("planned", "changes", len(pl.plan.Changes), "took", time.Since(start))
	if pl.diags.HasErrors() {
		return nil, pl.diags
	}
	return pl.plan, pl.diags
}

// scopes computes, per environment, what discovery must read.
func (pl *planning) scopes() map[string]providers.Scope {
	type acc struct {
		kinds map[providers.Kind]bool
		attrs map[string]bool
		all   bool
	}
	accs := map[string]*acc{}
	get := func(env string) *acc {
		a, ok := accs[env]
		if !ok {
			a = &acc{kinds: map[providers.Kind]bool{}, attrs: map[string]bool{}}
			accs[env] = a
		}
		return a
	}
	for _, w := range pl.cfg.Workflows {
		if w.Source == nil || w.Target == nil {
			continue
		}
		src, tgt := get(w.Source.Name), get(w.Target.Name)
		for _, word := range w.Objects {
			ki := kindByWord(word)
			src.kinds[ki.kind] = true
			tgt.kinds[ki.kind] = true
			for _, a := range []string{"samaccountname", "cn", "useraccountcontrol", "sidhistory"} {
				src.attrs[a] = true
				tgt.attrs[a] = true
			}
			switch ki.kind {
			case providers.KindGroup:
				for _, a := range []string{"member", "grouptype"} {
					src.attrs[a] = true
					tgt.attrs[a] = true
				}
			case providers.KindComputer:
				for _, a := range []string{"operatingsystem", "operatingsystemversion", "operatingsystemservicepack", "dnshostname"} {
					src.attrs[a] = true
				}
			}
			for _, r := range w.Match[word] {
				src.attrs[strings.ToLower(r.SourceAttr)] = true
				tgt.attrs[strings.ToLower(r.TargetAttr)] = true
			}
			if t := w.Templates[word]; t != nil {
				refs := templateRefs(t)
				if refs.whole {
					src.all = true
				}
				for _, n := range refs.lower() {
					src.attrs[n] = true
				}
				for _, a := range t.Attributes {
					tgt.attrs[strings.ToLower(a.Name)] = true
				}
			}
		}
	}
	for _, dc := range pl.cfg.DeviceCutovers {
		if dc.Workflow == nil {
			continue
		}
		w := pl.cfg.Workflows[dc.Workflow.Name]
		if w == nil || w.Source == nil {
			continue
		}
		refs := collectSourceRefs(dc.Filter)
		a := get(w.Source.Name)
		if wantsTrust(dc) {
			a.kinds[providers.KindTrust] = true
			for _, n := range trustAttrs {
				a.attrs[n] = true
			}
		}
		if refs.whole {
			a.all = true
		}
		for _, n := range refs.lower() {
			a.attrs[n] = true
		}
	}
	out := map[string]providers.Scope{}
	for name, a := range accs {
		env := pl.cfg.Environments[name]
		if env == nil {
			continue
		}
		sc := providers.Scope{BaseDN: env.BaseDN, IncludeOUs: env.IncludeOUs, ExcludeOUs: env.ExcludeOUs}
		for _, ki := range kindOrder {
			if a.kinds[ki.kind] {
				sc.Kinds = append(sc.Kinds, ki.kind)
			}
		}
		sc.Kinds = append(sc.Kinds, providers.KindOU)
		if a.kinds[providers.KindTrust] {
			sc.Kinds = append(sc.Kinds, providers.KindTrust)
		}
		if !a.all {
			for n := range a.attrs {
				sc.Attributes = append(sc.Attributes, n)
			}
			sort.Strings(sc.Attributes)
		}
		out[name] = sc
	}
	return out
}

func templateRefs(t *config.Template) sourceRefs {
	exprs := []hcl.Expression{t.TargetOU, t.Name}
	for _, a := range t.Attributes {
		exprs = append(exprs, a.Expr)
	}
	return collectSourceRefs(exprs...)
}

// addrKey is the key of an object in its address: sAMAccountName (without
// a computer's trailing $), else cn, else the GUID.
func addrKey(o *providers.Object) string {
	if s := o.Get("samaccountname"); s != "" {
		return strings.TrimSuffix(s, "$")
	}
	if s := o.Get("cn"); s != "" {
		return s
	}
	if o.GUID != "" {
		return o.GUID
	}
	return o.DN
}

func address(w string, noun, key string) string {
	return "workflow." + w + "." + noun + "[" + strconv.Quote(key) + "]"
}

// matchKind pairs the workflow's source objects of one kind with target
// objects: first by what state knows, then by the match rules in order.
func (pl *planning) matchKind(w *config.Workflow, ki kindInfo) {
	srcInv, tgtInv := pl.invs[w.Source.Name], pl.invs[w.Target.Name]
	srcs := append([]*providers.Object(nil), srcInv.byKind[ki.kind]...)
	slices.SortFunc(srcs, func(a, b *providers.Object) int { return strings.Compare(a.DN, b.DN) })
	rules := w.Match[ki.word]
	if len(rules) == 0 {
		rules = []config.MatchRule{{SourceAttr: "sAMAccountName", TargetAttr: "sAMAccountName"}}
	}
	tmpl := w.Templates[ki.word]
	claimed := map[*providers.Object]*item{}
	count := plans.MatchCount{Workflow: w.Name, Kind: ki.noun, Source: len(srcs)}

	// State first, so a pair known from an earlier apply keeps its target
	// even if a rule would now pick another.
	items := make([]*item, 0, len(srcs))
	byAddr := make(map[string]*item, len(srcs))
	for _, o := range srcs {
		it := &item{wf: w, ki: ki, tmpl: tmpl, addr: address(w.Name, ki.noun, addrKey(o)), src: o}
		if prev := byAddr[it.addr]; prev != nil {
			// Two objects under one address would be two creates that state
			// records as one: a plan that never converges. Neither is kept.
			pl.addrClash(w, prev, it)
			continue
		}
		byAddr[it.addr] = it
		items = append(items, it)
		pl.bySrc[o] = it
		if o.GUID == "" {
			continue
		}
		it.known = pl.known[w.Name+"\x00"+strings.ToLower(o.GUID)]
		if it.known != nil && it.known.Target.GUID != "" {
			if t := tgtInv.byGUID[strings.ToLower(it.known.Target.GUID)]; t != nil && t.Kind == ki.kind {
				it.tgt, it.status, it.rule = t, plans.Matched, "state"
				claimed[t] = it
			}
		}
	}
	for _, it := range items {
		if it.status != "" {
			continue
		}
		for _, r := range rules {
			vals := attrValues(it.src, strings.ToLower(r.SourceAttr))
			if len(vals) == 0 || vals[0] == "" {
				continue
			}
			idx := tgtInv.index(ki.kind, strings.ToLower(r.TargetAttr))
			cands := idx[strings.ToLower(vals[0])]
			if len(cands) == 0 {
				continue
			}
			if len(cands) > 1 {
				it.status, it.rule = plans.Ambiguous, r.String()
				for _, c := range cands {
					it.cands = append(it.cands, c.DN)
				}
				break
			}
			if prev := claimed[cands[0]]; prev != nil {
				it.status, it.rule = plans.Ambiguous, r.String()
				it.cands = []string{cands[0].DN}
				it.known = nil
				pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
					Address: it.addr,
					Summary: "Target already matched",
					Detail:  fmt.Sprintf("%s matches %s by %s, but that target object is already matched to %s. Neither is guessed: fix the data or the match rules.", it.src.DN, cands[0].DN, r.String(), prev.src.DN),
				})
				break
			}
			it.tgt, it.status, it.rule = cands[0], plans.Matched, r.String()
			claimed[cands[0]] = it
			break
		}
		if it.status == "" {
			if tmpl != nil && tmpl.Creates() && w.HasStep("stage") && w.HasStep("write") {
				it.status = plans.New
			} else {
				it.status = plans.Unmatched
			}
		}
	}
	for _, it := range items {
		switch it.status {
		case plans.Matched:
			count.Matched++
			k := it.known
			if k == nil || !strings.EqualFold(k.Target.GUID, it.tgt.GUID) || !dn.Same(k.Target.DN, it.tgt.DN) || !strings.EqualFold(k.Source.GUID, it.src.GUID) {
				pl.plan.Matches = append(pl.plan.Matches, &plans.Match{
					Address: it.addr, Workflow: w.Name, Kind: ki.noun, Status: plans.Matched,
					Source: identity(it.src), SIDHistory: it.src.Attrs["sidhistory"], Target: identity(it.tgt), Rule: it.rule,
				})
			}
		case plans.New:
			count.New++
		case plans.Unmatched:
			count.Unmatched++
			reason := "no target object matches by " + rulesString(rules)
			if tmpl == nil || !tmpl.Creates() {
				reason += "; the workflow does not create " + ki.word
			} else {
				reason += "; the workflow's steps do not include stage and write"
			}
			pl.plan.Matches = append(pl.plan.Matches, &plans.Match{
				Address: it.addr, Workflow: w.Name, Kind: ki.noun, Status: plans.Unmatched, Source: identity(it.src), Reason: reason,
			})
		case plans.Ambiguous:
			count.Ambiguous++
			pl.plan.Matches = append(pl.plan.Matches, &plans.Match{
				Address: it.addr, Workflow: w.Name, Kind: ki.noun, Status: plans.Ambiguous, Source: identity(it.src),
				Rule: it.rule, Candidates: it.cands,
				Reason: fmt.Sprintf("%d target objects fit by %s; none is chosen", len(it.cands), it.rule),
			})
		}
	}
	pl.plan.Counts = append(pl.plan.Counts, count)
	pl.items = append(pl.items, items...)
}

// addrClash reports two source objects of one workflow that share an
// address (their sAMAccountName, or cn where they have none).
func (pl *planning) addrClash(w *config.Workflow, a, b *item) {
	key := "sAMAccountName"
	if a.src.Get("samaccountname") == "" {
		key = "cn"
	}
	pl.diags = append(pl.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Two source objects have one address",
		Detail: fmt.Sprintf("%s would stand for both %s and %s of environment.%s: they have the same %s. "+
			"adshift keys each %s by its %s, so it cannot create, match or record them apart. "+
			"Fix the source so each has its own %s (a directory never holds two; an export or snapshot that does is damaged or merged), or leave one out of the source scope.",
			a.addr, a.src.DN, b.src.DN, w.Source.Name, key, a.ki.noun, key, key),
		Subject: w.DeclRange.Ptr(),
	})
}

func rulesString(rules []config.MatchRule) string {
	s := make([]string, len(rules))
	for i, r := range rules {
		s[i] = r.String()
	}
	return strings.Join(s, ", ")
}

func identity(o *providers.Object) plans.Identity {
	if o == nil {
		return plans.Identity{}
	}
	return plans.Identity{DN: o.DN, GUID: o.GUID, SID: o.SID}
}
