package planner

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// planMembers plans group membership as add/delete deltas. Members are
// compared by object, not by DN spelling: a source member maps to its
// item's target; a current target member is managed when it is the target
// of some item. Members adshift does not manage are never removed.
func (pl *planning) planMembers() {
	byTarget := make(map[*providers.Object]*item, len(pl.items))
	for _, it := range pl.items {
		if it.tgt != nil {
			byTarget[it.tgt] = it
		}
	}
	type unmapped struct {
		addr    string
		members []string // as the source group spells them
	}
	// Each group's deltas depend only on read-only data, so they are
	// computed on all CPUs; the changes are then assembled in order.
	var groups []*item
	for _, it := range pl.items {
		if it.ki.kind != providers.KindGroup || it.staged == nil || !it.wf.HasStep("write") {
			continue
		}
		if it.status == plans.New && it.change == nil {
			continue // not created (clash reported)
		}
		if it.status == plans.Matched && !it.tmpl.Updates() {
			continue
		}
		groups = append(groups, it)
	}
	type delta struct {
		add, del []*item
		gap      unmapped
	}
	deltas := make([]delta, len(groups))
	parallelFor(len(groups), func(i int) {
		it := groups[i]
		srcInv := pl.invs[it.wf.Source.Name]
		tgtInv := pl.invs[it.wf.Target.Name]
		desired := map[*item]bool{}
		gap := unmapped{addr: it.addr}
		for _, m := range it.src.Attrs["member"] {
			mo := srcInv.lookupDN(m)
			var mi *item
			if mo != nil {
				mi = pl.bySrc[mo]
			}
			if mi == nil || mi.finalDN == "" {
				gap.members = append(gap.members, m)
				continue
			}
			desired[mi] = true
		}
		current := map[*item]bool{}
		if it.tgt != nil {
			for _, m := range it.tgt.Attrs["member"] {
				if to := tgtInv.lookupDN(m); to != nil {
					if mi := byTarget[to]; mi != nil {
						current[mi] = true
					}
				}
			}
		}
		d := delta{gap: gap}
		for mi := range desired {
			if !current[mi] {
				d.add = append(d.add, mi)
			}
		}
		for mi := range current {
			if !desired[mi] {
				d.del = append(d.del, mi)
			}
		}
		deltas[i] = d
	})
	var gaps []unmapped
	for i, it := range groups {
		add, del := deltas[i].add, deltas[i].del
		if g := deltas[i].gap; len(g.members) > 0 {
			gaps = append(gaps, g)
		}
		if len(add) == 0 && len(del) == 0 {
			continue
		}
		c := &plans.Change{
			Address: it.addr, Workflow: it.wf.Name, Environment: it.wf.Target.Name, Kind: string(providers.KindGroup),
			Action: plans.Update, DN: it.finalDN, Members: true, Source: identity(it.src), SIDHistory: it.src.Attrs["sidhistory"],
		}
		if it.tgt != nil {
			c.Target = identity(it.tgt)
			c.Token = it.tgt.Token
			c.Reason = "membership of a matched group"
		} else {
			c.Reason = "members of a new group"
		}
		pl.dependOn(c, it.change)
		if len(add) > 0 {
			c.Attrs = append(c.Attrs, plans.AttrDiff{Name: "member", Op: "add", After: memberDNs(pl, c, add)})
		}
		if len(del) > 0 {
			c.Attrs = append(c.Attrs, plans.AttrDiff{Name: "member", Op: "delete", Before: memberDNs(pl, c, del)})
		}
		pl.members = append(pl.members, c)
	}
	// One warning per group, each with every left-out member (plan -json
	// lists them; the text view folds long runs of these warnings).
	for _, g := range gaps {
		pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
			Address: g.addr,
			Summary: "Group members not mapped",
			Detail: fmt.Sprintf("%d member(s) have no target counterpart and are left out, e.g. %s. Bring them into scope and into a workflow, or fix their matching.",
				len(g.members), strings.Join(g.members[:min(len(g.members), 3)], "; ")),
			Items: g.members,
		})
	}
}

// parallelMin is the smallest amount of work spread over CPUs (tests
// lower it to run the parallel paths under the race detector).
var parallelMin = 1000

// parallelFor calls f(0..n-1) on all CPUs.
func parallelFor(n int, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < parallelMin || workers < 2 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// memberDNs returns the final DNs of members in a stable order, and makes c
// wait for any change that creates or moves one of them.
func memberDNs(pl *planning, c *plans.Change, ms []*item) []string {
	out := make([]string, len(ms))
	for i, mi := range ms {
		out[i] = mi.finalDN
		pl.dependOn(c, mi.change)
	}
	sort.Strings(out)
	return out
}

// planRemoved handles target objects adshift created whose source object
// is gone from scope, as each template's on_source_removed says.
func (pl *planning) planRemoved() {
	for _, o := range pl.opts.State.Objects {
		w := pl.cfg.Workflows[o.Workflow]
		if w == nil || !o.Created || o.Source.GUID == "" || !w.HasStep("write") {
			continue
		}
		var ki kindInfo
		for _, k := range kindOrder {
			if k.state == o.Kind {
				ki = k
			}
		}
		t := w.Templates[ki.word]
		if t == nil || t.OnSourceRemoved == config.OnRemovedKeep {
			continue
		}
		if pl.invs[w.Source.Name].byGUID[strings.ToLower(o.Source.GUID)] != nil {
			continue
		}
		tgt := pl.invs[w.Target.Name].byGUID[strings.ToLower(o.Target.GUID)]
		if tgt == nil {
			continue
		}
		c := &plans.Change{
			Address: o.Address, Workflow: w.Name, Environment: w.Target.Name, Kind: string(ki.kind),
			DN: tgt.DN, Target: identity(tgt), Token: tgt.Token,
			Source: plans.Identity{DN: o.Source.DN, GUID: o.Source.GUID, SID: o.Source.SID},
			Reason: "the source object is gone from scope (on_source_removed = " + t.OnSourceRemoved + ")",
		}
		switch t.OnSourceRemoved {
		case config.OnRemovedDelete:
			c.Action = plans.Delete
			pl.deletes = append(pl.deletes, c)
		case config.OnRemovedDisable:
			if ki.kind != providers.KindUser && ki.kind != providers.KindComputer {
				continue
			}
			uac, disabled := disabledUAC(tgt.Get("useraccountcontrol"))
			if disabled {
				continue
			}
			c.Action = plans.Update
			c.Attrs = []plans.AttrDiff{{Name: "userAccountControl", Op: "replace", Before: tgt.Attrs["useraccountcontrol"], After: []string{uac}}}
			pl.updates = append(pl.updates, c)
		}
	}
	if max := pl.opts.MaxDeletes; max > 0 && len(pl.deletes) > max {
		pl.diags = append(pl.diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many deletes",
			Detail: fmt.Sprintf("The plan would delete %d target objects, more than the limit of %d. This usually means a scope or source changed by mistake. "+
				"Check the scope of the source environment; if the deletes are intended, run again with -max-deletes=%d.", len(pl.deletes), max, len(pl.deletes)),
		})
	}
}

// disabledUAC returns userAccountControl with ACCOUNTDISABLE (0x2) set, and
// whether it was set already.
func disabledUAC(cur string) (string, bool) {
	var v int64
	if _, err := fmt.Sscan(cur, &v); err != nil {
		v = 512
	}
	if v&2 != 0 {
		return cur, true
	}
	return fmt.Sprint(v | 2), false
}

// finish orders the changes (OUs, then users, contacts, groups, devices;
// creates, updates, moves, memberships, deletes), numbers them, resolves
// dependencies to IDs, and keeps the change token only on the first change
// of each target object (later ones wait for it).
func (pl *planning) finish() {
	kindRank := map[string]int{}
	for i, k := range kindOrder {
		kindRank[string(k.kind)] = i
	}
	byKindAddr := func(cs []*plans.Change) {
		sort.SliceStable(cs, func(i, j int) bool {
			if kindRank[cs[i].Kind] != kindRank[cs[j].Kind] {
				return kindRank[cs[i].Kind] < kindRank[cs[j].Kind]
			}
			return cs[i].Address < cs[j].Address
		})
	}
	for _, cs := range [][]*plans.Change{pl.creates, pl.updates, pl.moves, pl.members, pl.deletes} {
		byKindAddr(cs)
	}
	var all []*plans.Change
	all = append(all, pl.ouList...)
	all = append(all, pl.creates...)
	all = append(all, pl.updates...)
	all = append(all, pl.moves...)
	all = append(all, pl.members...)
	all = append(all, pl.deletes...)
	lastOnTarget := map[string]*plans.Change{}
	for i, c := range all {
		c.ID = int64(i + 1)
		if g := strings.ToLower(c.Target.GUID); g != "" {
			if prev := lastOnTarget[g]; prev != nil {
				pl.dependOn(c, prev)
				c.Token = ""
			}
			lastOnTarget[g] = c
		}
	}
	for _, c := range all {
		for _, d := range pl.deps[c] {
			c.DependsOn = append(c.DependsOn, d.ID)
		}
		sort.Slice(c.DependsOn, func(i, j int) bool { return c.DependsOn[i] < c.DependsOn[j] })
	}
	pl.plan.Changes = all
	if pl.plan.Changes == nil {
		pl.plan.Changes = []*plans.Change{}
	}
	sort.SliceStable(pl.plan.Matches, func(i, j int) bool { return pl.plan.Matches[i].Address < pl.plan.Matches[j].Address })
}
