package planner

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/adshift/adshift/config"
	"github.com/adshift/adshift/planner/plans"
)

// maxNamed bounds the objects one finding names; maxShared the shared
// values listed one by one per rule.
const (
	maxNamed  = 5
	maxShared = 20
)

// checkMatchValues looks at the values the match rules compare. Source
// objects that share a rule's value are reported per rule and value: the
// rule cannot tell them apart. Creates that would write one value of a
// rule's target attribute to several new objects are refused: the next
// plan could match none of them back by that rule.
func (pl *planning) checkMatchValues() {
	byKind := map[string][]*item{}
	for _, it := range pl.items {
		k := it.wf.Name + "\x00" + it.ki.word
		byKind[k] = append(byKind[k], it)
	}
	// Each rule's values are grouped on its own (in parallel: each scans
	// every item of its kind), then reported in a fixed order.
	type ruleCheck struct {
		w       *config.Workflow
		ki      kindInfo
		r       config.MatchRule
		items   []*item
		source  []valueGroup
		created []valueGroup
	}
	var checks []*ruleCheck
	n := 0
	for _, k := range config.SortedNames(byKind) {
		items := byKind[k]
		w, ki := items[0].wf, items[0].ki
		for _, r := range w.Match[ki.word] {
			checks = append(checks, &ruleCheck{w: w, ki: ki, r: r, items: items})
			n += len(items)
		}
	}
	work := func(i int) {
		c := checks[i/2]
		if i%2 == 0 {
			c.source = sharedSourceGroups(c.r, c.items)
		} else {
			c.created = sharedCreatedGroups(c.r, c.items)
		}
	}
	if n >= parallelMin {
		parallelFor(2*len(checks), work)
	} else {
		for i := range 2 * len(checks) {
			work(i)
		}
	}
	for _, c := range checks {
		pl.sharedSourceValues(c.w, c.ki, c.r, c.source)
		pl.sharedCreatedValues(c.r, c.created)
	}
}

// sharedSourceGroups groups items by the first value of the rule's source
// attribute.
func sharedSourceGroups(r config.MatchRule, items []*item) []valueGroup {
	attr := strings.ToLower(r.SourceAttr)
	return sharedValues(items, func(it *item) string {
		vals := attrValues(it.src, attr)
		if len(vals) == 0 {
			return ""
		}
		return vals[0]
	})
}

// sharedCreatedGroups groups the items to create by the value their create
// writes to the rule's target attribute.
func sharedCreatedGroups(r config.MatchRule, items []*item) []valueGroup {
	return sharedValues(items, func(it *item) string {
		if it.status != plans.New || it.change == nil {
			return ""
		}
		for _, a := range it.change.Attrs {
			if strings.EqualFold(a.Name, r.TargetAttr) && len(a.After) > 0 {
				return a.After[0]
			}
		}
		return ""
	})
}

// sharedSourceValues warns of source values a rule cannot tell apart.
func (pl *planning) sharedSourceValues(w *config.Workflow, ki kindInfo, r config.MatchRule, shared []valueGroup) {
	shown, more := 0, 0
	for _, sg := range shared {
		v, g := sg.value, sg.items
		if shown == maxShared {
			more++
			continue
		}
		shown++
		pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
			Address: g[0].addr,
			Summary: fmt.Sprintf("Source %s share one %s", ki.word, r.SourceAttr),
			Detail: fmt.Sprintf("%d source %s of workflow.%s have %s = %q: %s. The match rule %s cannot tell them apart; fix the source data, or put a rule that can before it.",
				len(g), ki.word, w.Name, r.SourceAttr, v, nameItems(g, func(it *item) string { return it.src.DN }), r.String()),
		})
	}
	if more > 0 {
		pl.plan.Warnings = append(pl.plan.Warnings, plans.Warning{
			Summary: fmt.Sprintf("Source %s share one %s", ki.word, r.SourceAttr),
			Detail:  fmt.Sprintf("%d more values of %s are shared by several source %s of workflow.%s beyond the %d listed.", more, r.SourceAttr, ki.word, w.Name, maxShared),
		})
	}
}

// sharedCreatedValues refuses creates that would share a rule's value.
func (pl *planning) sharedCreatedValues(r config.MatchRule, shared []valueGroup) {
	for _, sg := range shared {
		v, g := sg.value, sg.items
		d := &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "New objects would share a match value",
			Detail: fmt.Sprintf("%s would all be created with %s = %q, so the next plan could match none of them back by the rule %s. "+
				"Make the values distinct: fix the source data, or set %s in the template so that each object gets its own.",
				nameItems(g, func(it *item) string { return it.addr + " (" + it.src.DN + ")" }), r.TargetAttr, v, r.String(), r.TargetAttr),
			Subject: r.Range.Ptr(),
		}
		pl.diags = append(pl.diags, d)
	}
}

// valueGroup is the items that share one value.
type valueGroup struct {
	value string // as the first item spells it
	first int    // index of the first item
	items []*item
}

// sharedValues returns the values (compared case-insensitively; empty
// values left out) that two or more items share, with their items, in the
// order the values first came. Only shared values get a group: most values
// are unique, and a slice for each was most of the planner's garbage.
func sharedValues(items []*item, value func(*item) string) []valueGroup {
	// seen maps a lower-cased value to the index of its first item, or,
	// once shared, to -(group index + 1).
	seen := make(map[string]int, len(items))
	var groups []valueGroup
	for i, it := range items {
		v := value(it)
		if v == "" {
			continue
		}
		lv := strings.ToLower(v)
		j, ok := seen[lv]
		switch {
		case !ok:
			seen[lv] = i
		case j >= 0:
			groups = append(groups, valueGroup{value: value(items[j]), first: j, items: []*item{items[j], it}})
			seen[lv] = -len(groups)
		default:
			g := &groups[-j-1]
			g.items = append(g.items, it)
		}
	}
	slices.SortFunc(groups, func(a, b valueGroup) int { return cmp.Compare(a.first, b.first) })
	return groups
}

// nameItems lists up to maxNamed items, and how many more there are.
func nameItems(g []*item, name func(*item) string) string {
	var parts []string
	for _, it := range g[:min(len(g), maxNamed)] {
		parts = append(parts, name(it))
	}
	s := strings.Join(parts, ", ")
	if len(g) > maxNamed {
		s += fmt.Sprintf(" and %d more", len(g)-maxNamed)
	}
	return s
}
