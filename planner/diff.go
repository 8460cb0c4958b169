package planner

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/dn"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

func (pl *planning) refs(t *config.Template) sourceRefs {
	if pl.refCache == nil {
		pl.refCache = map[*config.Template]sourceRefs{}
	}
	r, ok := pl.refCache[t]
	if !ok {
		r = templateRefs(t)
		pl.refCache[t] = r
	}
	return r
}

// parseDN parses a DN the plan builds on, caching by spelling (templates
// mostly produce a handful of distinct OUs).
func (pl *planning) parseDN(s string) (dn.DN, error) {
	if pl.dnCache == nil {
		pl.dnCache = map[string]dnResult{}
	}
	if r, ok := pl.dnCache[s]; ok {
		return r.d, r.err
	}
	d, err := dn.Parse(s)
	pl.dnCache[s] = dnResult{d, err}
	return d, err
}

type dnResult struct {
	d   dn.DN
	err error
}

// stageAll evaluates every item's template, spread over the CPUs: each
// evaluation reads only its own object, so they are independent. Errors are
// gathered per worker and merged in item order, so output stays stable.
func (pl *planning) stageAll() {
	var todo []*item
	for _, it := range pl.items {
		if it.tmpl != nil && it.wf.HasStep("stage") && (it.status == plans.Matched || it.status == plans.New) {
			pl.refs(it.tmpl) // fill the cache before the workers read it
			todo = append(todo, it)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if len(todo) < parallelMin {
		workers = 1
	}
	chunk := (len(todo) + workers - 1) / max(workers, 1)
	errs := make([]evalErrors, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min((w+1)*chunk, len(todo))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(part []*item, errs *evalErrors) {
			defer wg.Done()
			for _, it := range part {
				if st, ok := stage(pl.opts.Scope, it.tmpl, pl.refCache[it.tmpl], it.src, errs); ok {
					it.staged = st
				}
			}
		}(todo[lo:hi], &errs[w])
	}
	wg.Wait()
	for i := range errs {
		pl.errs.merge(&errs[i])
	}
}

// stageItem plans the create, update or move of one staged item.
func (pl *planning) stageItem(it *item) {
	if it.tgt != nil {
		it.finalDN = it.tgt.DN
	}
	w, t := it.wf, it.tmpl
	if t == nil || !w.HasStep("stage") || (it.status != plans.Matched && it.status != plans.New) {
		return
	}
	st := it.staged
	if st == nil {
		return
	}
	if !w.HasStep("write") {
		return
	}
	tgtEnv := pl.cfg.Environments[w.Target.Name]
	var ou dn.DN
	if st.targetOU != "" {
		d, err := pl.parseDN(st.targetOU)
		if err != nil {
			pl.errs.add(t.TargetOU.Range(), "Invalid target_ou", fmt.Sprintf("%q is not a valid DN (%v). Write it like \"OU=Staff,DC=target,DC=test\".", st.targetOU, err))
			return
		}
		base, err := pl.parseDN(tgtEnv.BaseDN)
		if err == nil && !d.InSubtree(base) {
			pl.errs.add(t.TargetOU.Range(), "target_ou outside the target domain", fmt.Sprintf("%q is not inside environment.%s's base_dn %q. Point target_ou at an OU of the target domain.", st.targetOU, tgtEnv.Name, tgtEnv.BaseDN))
			return
		}
		ou = d
	}
	switch it.status {
	case plans.New:
		name := st.name
		if name == "" {
			src, err := dn.Parse(it.src.DN)
			if err != nil {
				pl.errs.add(t.DeclRange, "Invalid source DN", fmt.Sprintf("The source object %q has a DN that cannot be parsed: %v.", it.src.DN, err))
				return
			}
			_, name = src.RDN()
		}
		newDN := ou.Child("CN", name)
		c := &plans.Change{
			Address: it.addr, Workflow: w.Name, Environment: w.Target.Name, Kind: string(it.ki.kind),
			Action: plans.Create, DN: newDN.String(), Source: identity(it.src), SIDHistory: it.src.Attrs["sidhistory"],
			Reason: "no target object matches by " + rulesString(w.Match[it.ki.word]),
		}
		if len(w.Match[it.ki.word]) == 0 {
			c.Reason = "no target object matches by sAMAccountName"
		}
		for _, a := range st.attrs {
			c.Attrs = append(c.Attrs, plans.AttrDiff{Name: a.name, Op: "replace", After: a.vals})
		}
		c.Attrs = append(c.Attrs, implicitCreateAttrs(it, st)...)
		if dep := pl.ensureOU(ou, w.Target.Name, t.TargetOU); dep != nil {
			pl.dependOn(c, dep)
		}
		if pl.planned(newDN, it) {
			it.change, it.finalDN = c, c.DN
			pl.creates = append(pl.creates, c)
		}
	case plans.Matched:
		if t.Updates() {
			var diffs []plans.AttrDiff
			for _, a := range st.attrs {
				cur := it.tgt.Attrs[strings.ToLower(a.name)]
				if !sameValues(cur, a.vals, multiValued[strings.ToLower(a.name)]) {
					diffs = append(diffs, plans.AttrDiff{Name: a.name, Op: "replace", Before: cur, After: a.vals})
				}
			}
			if len(diffs) > 0 {
				pl.updates = append(pl.updates, &plans.Change{
					Address: it.addr, Workflow: w.Name, Environment: w.Target.Name, Kind: string(it.ki.kind),
					Action: plans.Update, DN: it.tgt.DN, Target: identity(it.tgt), Token: it.tgt.Token,
					Source: identity(it.src), SIDHistory: it.src.Attrs["sidhistory"], Attrs: diffs,
					Reason: "matched by " + it.rule,
				})
			}
		}
		owned := it.known != nil && it.known.Created
		if !ou.IsZero() && (owned || t.MoveMatched) {
			cur, err := dn.Parse(it.tgt.DN)
			if err == nil && !cur.Parent().Equal(ou) {
				typ, val := cur.RDN()
				newDN := ou.Child(typ, val)
				c := &plans.Change{
					Address: it.addr, Workflow: w.Name, Environment: w.Target.Name, Kind: string(it.ki.kind),
					Action: plans.Move, DN: it.tgt.DN, NewDN: newDN.String(), Target: identity(it.tgt), Token: it.tgt.Token,
					Source: identity(it.src), SIDHistory: it.src.Attrs["sidhistory"],
					Reason: "target_ou is " + st.targetOU,
				}
				if dep := pl.ensureOU(ou, w.Target.Name, t.TargetOU); dep != nil {
					pl.dependOn(c, dep)
				}
				if pl.planned(newDN, it) {
					it.change, it.finalDN = c, c.NewDN
					pl.moves = append(pl.moves, c)
				}
			}
		}
	}
}

// planned records that it will own the DN key, and reports a clash when
// two objects would end up at one DN.
func (pl *planning) planned(d dn.DN, it *item) bool {
	key := d.Key()
	if pl.finalKeys == nil {
		pl.finalKeys = map[string]*item{}
	}
	if prev, ok := pl.finalKeys[key]; ok && prev != it {
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Two objects would get the same DN",
			Detail: fmt.Sprintf("%s (%s) and %s (%s) would both be written as %s. Neither is guessed. "+
				"Give the template a name expression that keeps them apart, e.g. name = source.sAMAccountName, or a target_ou per source OU.",
				prev.addr, prev.src.DN, it.addr, it.src.DN, d.String()),
		}
		if it.tmpl != nil {
			d.Subject = it.tmpl.DeclRange.Ptr()
			if it.tmpl.Name != nil {
				d.Subject = it.tmpl.Name.Range().Ptr()
			}
		}
		pl.diags = append(pl.diags, d)
		return false
	}
	if o := pl.invs[it.wf.Target.Name].byKey[key]; o != nil && o != it.tgt {
		pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
			Address: it.addr,
			Summary: "Target DN already taken",
			Detail:  fmt.Sprintf("%s would be written as %s, but another target object (%s) is already there and did not match. Fix the match rules or the template name.", it.src.DN, o.DN, o.Kind),
		})
		return false
	}
	pl.finalKeys[key] = it
	return true
}

// userAccountControl flags (MS-ADTS 2.2.16) the planner carries.
const (
	uacAccountDisable   = 0x0002
	uacNormalAccount    = 0x0200
	uacWorkstationTrust = 0x1000
)

// implicitCreateAttrs are written on create even when the template does not
// name them, because the target cannot have a usable object without them.
func implicitCreateAttrs(it *item, st *stagedObject) []plans.AttrDiff {
	has := func(n string) bool {
		for _, a := range st.attrs {
			if strings.EqualFold(a.name, n) {
				return true
			}
		}
		return false
	}
	var out []plans.AttrDiff
	if it.ki.kind != providers.KindContact && !has("sAMAccountName") {
		if v := it.src.Get("samaccountname"); v != "" {
			out = append(out, plans.AttrDiff{Name: "sAMAccountName", Op: "replace", After: []string{v}})
		}
	}
	// A disabled source account stays disabled in the target unless the
	// template says otherwise: a migration must not enable what the
	// source had switched off.
	if (it.ki.kind == providers.KindUser || it.ki.kind == providers.KindComputer) && !has("userAccountControl") {
		if v, err := strconv.ParseUint(strings.TrimSpace(it.src.Get("useraccountcontrol")), 10, 32); err == nil && v&uacAccountDisable != 0 {
			def := uint64(uacNormalAccount)
			if it.ki.kind == providers.KindComputer {
				def = uacWorkstationTrust
			}
			out = append(out, plans.AttrDiff{Name: "userAccountControl", Op: "replace", After: []string{strconv.FormatUint(def|uacAccountDisable, 10)}})
		}
	}
	if it.ki.kind == providers.KindGroup && !has("groupType") {
		if v := it.src.Get("grouptype"); v != "" {
			out = append(out, plans.AttrDiff{Name: "groupType", Op: "replace", After: []string{v}})
		}
	}
	return out
}

func sameValues(cur, want []string, multi bool) bool {
	if len(cur) != len(want) {
		return false
	}
	if !multi || len(cur) == 1 {
		for i := range cur {
			if cur[i] != want[i] {
				return false
			}
		}
		return true
	}
	a := append([]string(nil), cur...)
	b := append([]string(nil), want...)
	sort.Strings(a)
	sort.Strings(b)
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ensureOU plans the creation of ou and its missing parents in the target,
// returning the change that creates ou (nil when it exists).
func (pl *planning) ensureOU(ou dn.DN, env string, expr hcl.Expression) *plans.Change {
	if ou.IsZero() {
		return nil
	}
	key := ou.Key()
	if c, ok := pl.ous[key]; ok {
		return c
	}
	inv := pl.invs[env]
	if _, ok := inv.byKey[key]; ok {
		pl.ous[key] = nil
		return nil
	}
	base, err := pl.parseDN(pl.cfg.Environments[env].BaseDN)
	if err != nil || !ou.IsDescendantOf(base) {
		pl.ous[key] = nil
		return nil
	}
	typ, _ := ou.RDN()
	if !strings.EqualFold(typ, "OU") {
		// Containers (CN=Users, CN=Computers) are part of the domain and
		// are not created; the provider reports one that is missing.
		pl.ous[key] = nil
		return nil
	}
	parent := pl.ensureOU(ou.Parent(), env, expr)
	c := &plans.Change{
		Address:     fmt.Sprintf("environment.%s.ou[%q]", env, ou.String()),
		Environment: env,
		Kind:        string(providers.KindOU),
		Action:      plans.Create,
		DN:          ou.String(),
		Reason:      "a target_ou that does not exist yet",
	}
	pl.dependOn(c, parent)
	pl.ous[key] = c
	pl.ouList = append(pl.ouList, c)
	return c
}
