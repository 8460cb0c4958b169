package ui

import (
	"sort"
	"strings"
	"time"

	"github.com/adshift/adshift/planner/plans"
)

// The Markdown and HTML reviews show the same facts; this file gathers
// them once.

// changeColumns are the columns of a review's change-count table; a
// membership-only update counts as "membership".
var changeColumns = []string{"create", "update", "membership", "move", "delete"}

// changeClass is a change's column in the count table and its action
// filter in the HTML review.
func changeClass(c *plans.Change) string {
	if c.Members {
		return "membership"
	}
	return string(c.Action)
}

// changeCounts counts the plan's changes by kind (sorted) and class.
func changeCounts(p *plans.Plan) (kinds []string, counts map[[2]string]int) {
	counts = map[[2]string]int{}
	seen := map[string]bool{}
	for _, c := range p.Changes {
		counts[[2]string{c.Kind, changeClass(c)}]++
		seen[c.Kind] = true
	}
	return sortedSet(seen), counts
}

// waveDevices returns one cutover's devices, blocked first, then by name.
func waveDevices(p *plans.Plan, cutover string) []*plans.Device {
	var devs []*plans.Device
	for _, d := range p.Devices {
		if d.Cutover == cutover {
			devs = append(devs, d)
		}
	}
	sort.SliceStable(devs, func(i, j int) bool {
		if (devs[i].Status == plans.DeviceBlocked) != (devs[j].Status == plans.DeviceBlocked) {
			return devs[i].Status == plans.DeviceBlocked
		}
		return devs[i].Name < devs[j].Name
	})
	return devs
}

// waveChecks are the checks only the agent can confirm, the same for every
// device of a wave.
func waveChecks(devs []*plans.Device) []string {
	for _, d := range devs {
		if len(d.Checks) > 0 {
			return d.Checks
		}
	}
	return nil
}

// schedule says when a wave may run.
func schedule(co *plans.Cutover) string {
	if co.NotBefore.IsZero() {
		return "any time"
	}
	return "not before " + co.NotBefore.UTC().Format("2006-01-02 15:04 MST")
}

func blockerText(d *plans.Device) string {
	bl := make([]string, 0, len(d.Blockers))
	for _, x := range d.Blockers {
		bl = append(bl, x.Message)
	}
	return strings.Join(bl, "; ")
}

// plannedLine is the review's provenance line.
func plannedLine(p *plans.Plan) string {
	if p.Created.IsZero() {
		return ""
	}
	return "Planned " + p.Created.UTC().Format(time.RFC3339) + " by adshift " + p.Version
}

// changeDNs is a change's DN, and a move's destination after an arrow.
func changeDNs(c *plans.Change) string {
	if c.NewDN != "" {
		return c.DN + " → " + c.NewDN
	}
	return c.DN
}

// attrMark is the sign of an attribute diff: + for every value of a new
// object, else ~ replace, + add, − delete.
func attrMark(c *plans.Change, a plans.AttrDiff) string {
	if c.Action == plans.Create {
		return "+"
	}
	switch a.Op {
	case "add":
		return "+"
	case "delete":
		return "−"
	}
	return "~"
}
