package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
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

// waveDevices returns one cutover's devices in the order a review lists
// them: blocked first, then those whose last recorded result failed,
// then by name.
func waveDevices(p *plans.Plan, cutover string, res results) []*plans.Device {
	var devs []*plans.Device
	for _, d := range p.Devices {
		if d.Cutover == cutover {
			devs = append(devs, d)
		}
	}
	rank := func(d *plans.Device) int {
		switch {
		case d.Status == plans.DeviceBlocked:
			return 0
		case res.failed(d):
			return 1
		}
		return 2
	}
	sort.SliceStable(devs, func(i, j int) bool {
		if ri, rj := rank(devs[i]), rank(devs[j]); ri != rj {
			return ri < rj
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

// waveHub says which hub a wave runs through and when it stops.
func waveHub(co *plans.Cutover) string {
	if co.Hub == "" {
		return "none — no agent runs this wave's device actions (add hub = hub.NAME to run them)"
	}
	return fmt.Sprintf("hub.%s, stops after more than %d failed devices (max_failures)", co.Hub, co.MaxFailures)
}

// agentFacts is what a device's agent last reported, on one line (line
// breaks in what it reported become " / ").
func agentFacts(a *plans.Agent) string {
	if a == nil {
		return "no agent"
	}
	var f []string
	if a.LastSeen.IsZero() {
		f = append(f, "never seen")
	} else {
		f = append(f, "seen "+a.LastSeen.UTC().Format("2006-01-02 15:04 MST"))
	}
	if a.OS != "" {
		f = append(f, a.OS)
	}
	if a.PowerShell != "" {
		f = append(f, "PowerShell "+a.PowerShell)
	}
	if a.DotNetRelease > 0 {
		f = append(f, ".NET "+plans.DotNetVersion(a.DotNetRelease))
	}
	if a.Domain != "" {
		f = append(f, "domain "+a.Domain)
	}
	if a.ActiveJob != "" {
		f = append(f, "job "+a.ActiveJob+" still on the hub")
	}
	// The device reported these: they stay one line whatever they hold.
	s := strings.Join(f, ", ")
	return outputLine(s, len(s)+1)
}

// reviewParams are the job parameters a reviewer needs, in the order
// shown, with their labels. The others (domains, NetBIOS names, DCs) are
// the same for the whole wave; the SID map is never in a plan and never
// shown.
var reviewParams = []struct{ name, label string }{
	{api.ParamMode, "mode"},
	{api.ParamBlob, "blob"},
	{api.ParamSourceAccount, "source"},
	{api.ParamTargetAccount, "target"},
	{api.ParamNoticeSeconds, "notice"},
	{api.ParamWithReACLRollback, "reacl rollback"},
	{api.ParamUsers, "users"},
	{api.ParamRepository, "repository"},
	{api.ParamFiles, "files"},
}

// reviewUsers is how many user names of cache_credentials a review lists.
const reviewUsers = 5

// jobStep is one action of a device's job with the parameters a
// reviewer needs: "cutover (target CN=WS-1,OU=…, notice 300 s)".
func jobStep(a plans.DeviceAction) string {
	var ps []string
	for _, rp := range reviewParams {
		v, ok := a.Params[rp.name]
		if !ok || (v == "" && rp.name != api.ParamUsers) {
			continue
		}
		switch rp.name {
		case api.ParamSourceAccount:
			if a.Name != "rollback" {
				continue // cutover leaves it; only rollback goes back to it
			}
		case api.ParamNoticeSeconds:
			v += " s"
		case api.ParamWithReACLRollback:
			if v != "true" {
				continue
			}
			ps = append(ps, "with reacl rollback")
			continue
		case api.ParamUsers, api.ParamFiles:
			items := strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' })
			switch {
			case len(items) == 0:
				v = "none"
			case len(items) > reviewUsers:
				v = fmt.Sprintf("%d: %s, …", len(items), strings.Join(items[:reviewUsers], ", "))
			default:
				v = strings.Join(items, ", ")
			}
		}
		ps = append(ps, rp.label+" "+v)
	}
	if len(ps) == 0 {
		return a.Name
	}
	return a.Name + " (" + strings.Join(ps, ", ") + ")"
}

// jobSteps are a device's job steps, or its remaining actions when the
// plan has no job for it (a wave without a hub, a blocked device).
func jobSteps(d *plans.Device) []string {
	if len(d.Job) == 0 {
		return d.Actions
	}
	out := make([]string, len(d.Job))
	for i, a := range d.Job {
		out[i] = jobStep(a)
	}
	return out
}

// jobText is a device's job on one line, marked when it is a rollback.
func jobText(d *plans.Device) string {
	s := strings.Join(jobSteps(d), " → ")
	if d.Rollback {
		s = "rollback to the source domain: " + s
	}
	return outputLine(s, len(s)+1)
}

// results are the device results a review shows: what apply recorded in
// the current state for the plan's devices. A saved plan never changes,
// so results come from state, which may be newer than the plan.
type results struct {
	// devices holds the state's record of each plan device that has one;
	// nil when the review shows no results.
	devices map[string]*state.Device
	// note says where the results come from, or why there are none.
	note string
}

// reviewResults picks from st (nil: the review shows no results) the
// records of p's devices.
func reviewResults(p *plans.Plan, st *state.State) results {
	if st == nil || len(p.Devices) == 0 {
		return results{}
	}
	if st.Serial == 0 && len(st.Objects) == 0 && len(st.Devices) == 0 {
		return results{note: "The state records nothing yet, so no device has results."}
	}
	if p.Lineage != "" && st.Lineage != p.Lineage {
		return results{note: fmt.Sprintf("The current state (lineage %s) is not the state this plan was made from (lineage %s), so no device results are shown: review this plan with the state it belongs to.", st.Lineage, p.Lineage)}
	}
	r := results{devices: map[string]*state.Device{}}
	for _, d := range p.Devices {
		if sd := st.Devices[d.Address]; sd != nil && len(sd.Actions) > 0 {
			r.devices[d.Address] = sd
		}
	}
	switch {
	case st.Serial > p.Serial:
		r.note = fmt.Sprintf("Device results are from the current state (serial %d), which is newer than this plan (serial %d): they include what apply recorded after the plan was made.", st.Serial, p.Serial)
	case st.Serial == p.Serial:
		r.note = fmt.Sprintf("Device results are from the current state (serial %d), the state this plan was made from: nothing was applied since.", st.Serial)
	default:
		r.note = fmt.Sprintf("Device results are from the current state (serial %d), which is older than this plan (serial %d): the state was restored from an older copy, and results may be missing.", st.Serial, p.Serial)
	}
	return r
}

// failed reports whether the last result recorded for d failed.
func (r results) failed(d *plans.Device) bool {
	sd := r.devices[d.Address]
	return sd != nil && sd.Actions[len(sd.Actions)-1].Status == state.ActionFailed
}

// wave counts devices with results, and those whose last recorded action
// failed.
func (r results) wave(devs []*plans.Device) (with, failed int) {
	for _, d := range devs {
		if r.devices[d.Address] != nil {
			with++
		}
		if r.failed(d) {
			failed++
		}
	}
	return with, failed
}

// resultOutput splits an action result's detail, "job J #N: output", into
// the job tag and the agent's output.
func resultOutput(a state.DeviceAction) (job, output string) {
	if !strings.HasPrefix(a.Detail, "job ") {
		return "", a.Detail
	}
	job, output, _ = strings.Cut(a.Detail, ": ")
	return job, output
}

// resultWhen is when a result was recorded, to the minute.
func resultWhen(a state.DeviceAction) string {
	if a.At.IsZero() {
		return "at an unknown time"
	}
	return a.At.UTC().Format("2006-01-02 15:04 MST")
}

// resultText is one recorded result on one line: "reacl failed
// 2026-12-07 02:10 UTC (job J #0): access denied", the output cut at
// width bytes; width 0 shows the output of a failed action only, cut at
// outputWidth, and a negative width shows all of it.
func resultText(a state.DeviceAction, width int) string {
	job, out := resultOutput(a)
	s := a.Name + " " + strings.ReplaceAll(a.Status, "_", " ") + " " + resultWhen(a)
	if job = outputLine(job, len(job)+1); job != "" {
		s += " (" + job + ")"
	}
	switch {
	case width < 0:
		out = outputLine(out, len(out)+1)
	case width == 0 && a.Status == state.ActionFailed:
		out = outputLine(out, outputWidth)
	case width > 0:
		out = outputLine(out, width)
	default:
		out = ""
	}
	if out != "" {
		s += ": " + out
	}
	return s
}
