package ui

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/adshift/adshift/planner/plans"
)

// Markdown writes a plan as a change-board review: what changes in the
// directory (counted by kind), what could not be matched, and per device
// cutover a table of every device with its operating system, status and
// blockers. It is meant to be pasted into a change request or a merge
// request as it is.
func Markdown(w io.Writer, p *plans.Plan) error {
	var b strings.Builder
	s := p.Summary()
	fmt.Fprintf(&b, "# adshift plan review\n\n")
	if !p.Created.IsZero() {
		fmt.Fprintf(&b, "Planned %s by adshift %s (state serial %d).\n\n", p.Created.UTC().Format(time.RFC3339), p.Version, p.Serial)
	}
	fmt.Fprintf(&b, "**%s**\n\n", summaryLine(s))

	type key struct{ kind, action string }
	counts := map[key]int{}
	for _, c := range p.Changes {
		a := string(c.Action)
		if c.Members {
			a = "membership"
		}
		counts[key{c.Kind, a}]++
	}
	if len(counts) > 0 {
		b.WriteString("## Directory changes\n\n| object | create | update | membership | move | delete |\n|---|---:|---:|---:|---:|---:|\n")
		kinds := map[string]bool{}
		for k := range counts {
			kinds[k.kind] = true
		}
		for _, kind := range sortedSet(kinds) {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", kind,
				counts[key{kind, "create"}], counts[key{kind, "update"}], counts[key{kind, "membership"}], counts[key{kind, "move"}], counts[key{kind, "delete"}])
		}
		b.WriteString("\n")
	}
	if len(p.Counts) > 0 {
		b.WriteString("## Matching\n\n| workflow | kind | in source | matched | new | unmatched | ambiguous |\n|---|---|---:|---:|---:|---:|---:|\n")
		for _, c := range p.Counts {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d |\n", c.Workflow, c.Kind, c.Source, c.Matched, c.New, c.Unmatched, c.Ambiguous)
		}
		b.WriteString("\n")
	}
	if probs := problems(p); len(probs) > 0 {
		b.WriteString("### Not matched\n\n| object | why |\n|---|---|\n")
		for _, m := range probs {
			fmt.Fprintf(&b, "| `%s` | %s |\n", m.Address, mdCell(m.Reason))
		}
		b.WriteString("\n")
	}
	for _, co := range p.Cutovers {
		fmt.Fprintf(&b, "## Device cutover `%s`\n\n", co.Name)
		when := "any time"
		if !co.NotBefore.IsZero() {
			when = "not before " + co.NotBefore.UTC().Format("2006-01-02 15:04 MST")
		}
		fmt.Fprintf(&b, "- Schedule: %s, %d devices at a time\n- Actions, in order: %s\n- Devices: %d — %d ready, %d scheduled, %d blocked, %d done\n\n",
			when, co.BatchSize, strings.Join(co.Actions, " → "), co.Devices, co.Ready, co.Scheduled, co.Blocked, co.Done)
		var devs []*plans.Device
		for _, d := range p.Devices {
			if d.Cutover == co.Name {
				devs = append(devs, d)
			}
		}
		sort.SliceStable(devs, func(i, j int) bool {
			if devs[i].Status != devs[j].Status {
				return devs[i].Status == plans.DeviceBlocked
			}
			return devs[i].Name < devs[j].Name
		})
		if len(devs) > 0 {
			b.WriteString("| device | operating system | status | remaining actions | blockers |\n|---|---|---|---|---|\n")
			var checks []string
			for _, d := range devs {
				var bl []string
				for _, x := range d.Blockers {
					bl = append(bl, x.Message)
				}
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", mdCell(d.Name), mdCell(d.OS), d.Status, strings.Join(d.Actions, ", "), mdCell(strings.Join(bl, "; ")))
				if checks == nil {
					checks = d.Checks
				}
			}
			if len(checks) > 0 {
				fmt.Fprintf(&b, "\nChecked by the agent on each device before it runs: %s.\n", strings.Join(checks, "; "))
			}
			b.WriteString("\n")
		}
	}
	if len(p.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		for _, w := range p.Warnings {
			line := w.Summary
			if w.Address != "" {
				line = "`" + w.Address + "`: " + line
			}
			if w.Detail != "" {
				line += " — " + w.Detail
			}
			fmt.Fprintf(&b, "- %s\n", line)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
