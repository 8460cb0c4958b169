package ui

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
)

// MarkdownLimit is the most characters a review part may have: GitHub caps
// a comment at 65,535 characters (GitLab's cap is higher). Parts are
// measured in bytes, which never undercounts characters.
const MarkdownLimit = 65535

// MarkdownMaxParts bounds how many parts a review splits into; what does
// not fit is summarised by count and left to the HTML review.
const MarkdownMaxParts = 10

// markdownValues is how many values of one attribute a review lists.
const markdownValues = 20

// Markdown writes the first part of a plan's review (see MarkdownParts);
// it is the whole review when the plan is small.
func Markdown(w io.Writer, p *plans.Plan) error {
	_, err := io.WriteString(w, MarkdownParts(p, MarkdownLimit)[0])
	return err
}

// MarkdownParts renders a plan as a change-board review for a merge request
// comment, in parts of at most limit bytes each. The first part has the
// summary, the counts, every wave's devices with their status and blockers
// (blocked first, then those whose last result failed; cut short with a
// count when they do not fit), warnings, and then the attribute-level
// changes in collapsible <details> sections until the part is full. Further parts carry the remaining changes. Each
// part says which it is and what it leaves out; at most MarkdownMaxParts
// parts are made, and changes beyond them are counted, not listed.
func MarkdownParts(p *plans.Plan, limit int) []string {
	return MarkdownReview(p, nil, limit)
}

// markdownResults is how many recorded results of one device the Markdown
// review lists (the latest); the HTML review lists all.
const markdownResults = 6

// MarkdownReview is MarkdownParts with, per device, the results apply
// recorded in st, the current state (nil: no results), and a note saying
// whether that state is newer than the plan.
func MarkdownReview(p *plans.Plan, st *state.State, limit int) []string {
	const reserve = 1200 // room for a part's closing note
	var b strings.Builder
	s := p.Summary()
	res := reviewResults(p, st)
	b.WriteString("# adshift plan review\n\n")
	if line := plannedLine(p); line != "" {
		fmt.Fprintf(&b, "%s (state serial %d).\n\n", line, p.Serial)
	}
	fmt.Fprintf(&b, "**%s**\n\n", summaryLine(s))
	if res.note != "" {
		fmt.Fprintf(&b, "> %s\n\n", res.note)
	}

	kinds, counts := changeCounts(p)
	if len(kinds) > 0 {
		b.WriteString("## Directory changes\n\n| object | create | update | membership | move | delete |\n|---|---:|---:|---:|---:|---:|\n")
		for _, kind := range kinds {
			fmt.Fprintf(&b, "| %s |", kind)
			for _, c := range changeColumns {
				fmt.Fprintf(&b, " %d |", counts[[2]string{kind, c}])
			}
			b.WriteString("\n")
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
	// The sections below share what is left of the first part: each table
	// may take a third of what is left when it starts, so that the waves'
	// devices and some attribute-level changes always have room.
	tableBudget := func() int { return b.Len() + (limit-reserve-b.Len())/3 }
	if probs := problems(p); len(probs) > 0 {
		b.WriteString("### Not matched\n\n| object | why |\n|---|---|\n")
		stop := tableBudget()
		for i, m := range probs {
			row := fmt.Sprintf("| `%s` | %s |\n", m.Address, mdCell(m.Reason))
			if b.Len()+len(row) > stop {
				fmt.Fprintf(&b, "\n_… and %d more not matched (the comment limit): the HTML review (`adshift show -html PLANFILE`) lists them all._\n", len(probs)-i)
				break
			}
			b.WriteString(row)
		}
		b.WriteString("\n")
	}
	for _, co := range p.Cutovers {
		devs := waveDevices(p, co.Name, res)
		fmt.Fprintf(&b, "## Device cutover `%s`\n\n", co.Name)
		fmt.Fprintf(&b, "- Schedule: %s, %d devices at a time\n- Actions, in order: %s\n- Hub: %s\n- Devices: %d — %d ready, %d scheduled, %d blocked, %d done\n",
			schedule(co), co.BatchSize, strings.Join(co.Actions, " → "), waveHub(co), co.Devices, co.Ready, co.Scheduled, co.Blocked, co.Done)
		if res.devices != nil {
			with, failed := res.wave(devs)
			fmt.Fprintf(&b, "- Results recorded in state: %d of %d devices, %d of them with a failed action last\n", with, len(devs), failed)
		}
		b.WriteString("\n")
		if len(devs) == 0 {
			continue
		}
		b.WriteString("| device | operating system | status | agent | job (remaining actions) | blockers |")
		if res.devices != nil {
			b.WriteString(" results |\n|---|---|---|---|---|---|---|\n")
		} else {
			b.WriteString("\n|---|---|---|---|---|---|\n")
		}
		stop := tableBudget()
		for i, d := range devs {
			agent := ""
			if d.Agent != nil {
				agent = htmlText(agentFacts(d.Agent))
			}
			row := fmt.Sprintf("| %s | %s | %s | %s | %s | %s |", mdCell(d.Name), mdCell(d.OS), d.Status, mdCell(agent), mdCell(htmlText(jobText(d))), mdCell(blockerText(d)))
			if res.devices != nil {
				row += " " + mdResults(res.devices[d.Address]) + " |"
			}
			row += "\n"
			if b.Len()+len(row) > stop {
				blocked := 0
				for _, x := range devs[i:] {
					if x.Status == plans.DeviceBlocked {
						blocked++
					}
				}
				failed := ""
				if res.devices != nil {
					_, n := res.wave(devs[i:])
					failed = fmt.Sprintf(", %d with a failed action last", n)
				}
				fmt.Fprintf(&b, "\n_… and %d more devices, %d of them blocked%s (the comment limit): the HTML review (`adshift show -html PLANFILE`) lists them all._\n", len(devs)-i, blocked, failed)
				break
			}
			b.WriteString(row)
		}
		if checks := waveChecks(devs); len(checks) > 0 {
			fmt.Fprintf(&b, "\nChecked by the agent on each device before it runs: %s.\n", strings.Join(checks, "; "))
		}
		b.WriteString("\n")
	}
	if len(p.Warnings) > 0 {
		b.WriteString("## Warnings\n\n")
		stop := tableBudget()
		for i, w := range p.Warnings {
			line := w.Summary
			if w.Address != "" {
				line = "`" + w.Address + "`: " + line
			}
			if w.Detail != "" {
				line += " — " + w.Detail
			}
			if b.Len()+len(line) > stop {
				fmt.Fprintf(&b, "- _… and %d more warnings: `adshift show PLANFILE` prints them all._\n", len(p.Warnings)-i)
				break
			}
			fmt.Fprintf(&b, "- %s\n", line)
		}
		b.WriteString("\n")
	}
	if len(p.Changes) == 0 {
		return []string{b.String()}
	}

	// The attribute-level changes, as many per part as fit.
	parts := []*strings.Builder{&b}
	cur := &b
	cur.WriteString("## Attribute-level changes\n\n")
	next := 0
	for next < len(p.Changes) {
		sec := changeDetails(p.Changes[next])
		if len(sec) > limit-reserve-200 {
			sec = fmt.Sprintf("<details><summary><code>%s</code> %s</summary>\n\nToo large for a comment (%d attributes): see the HTML review.\n\n</details>\n\n",
				htmlText(p.Changes[next].Address), changeClass(p.Changes[next]), len(p.Changes[next].Attrs))
		}
		if cur.Len()+len(sec) > limit-reserve {
			if len(parts) == MarkdownMaxParts {
				break
			}
			cur = &strings.Builder{}
			parts = append(parts, cur)
			fmt.Fprintf(cur, "# adshift plan review, part %d\n\n## Attribute-level changes (continued)\n\n", len(parts))
		}
		cur.WriteString(sec)
		next++
	}
	// Each part says where it stands.
	out := make([]string, len(parts))
	for i, part := range parts {
		var note strings.Builder
		if len(parts) > 1 {
			fmt.Fprintf(&note, "\n> This review is split into %d parts to fit a comment (at most %d characters each); this is part %d.", len(parts), limit, i+1)
			if i+1 < len(parts) {
				fmt.Fprintf(&note, " `adshift show -markdown -part %d PLANFILE` writes the next.", i+2)
			}
			note.WriteString("\n")
		}
		if i == len(parts)-1 && next < len(p.Changes) {
			fmt.Fprintf(&note, "\n> %d more changes are not listed here (the comment limit): the HTML review (`adshift show -html PLANFILE`) and `adshift show PLANFILE` show every change.\n", len(p.Changes)-next)
		}
		// The note goes under the part's title, where a reader starts.
		title, rest, _ := strings.Cut(part.String(), "\n")
		out[i] = title + "\n" + note.String() + rest
	}
	return out
}

// mdResults is a device's latest recorded results for a table cell.
func mdResults(sd *state.Device) string {
	if sd == nil {
		return ""
	}
	acts := sd.Actions
	var parts []string
	if n := len(acts) - markdownResults; n > 0 {
		parts = append(parts, fmt.Sprintf("_… %d earlier_", n))
		acts = acts[n:]
	}
	for _, a := range acts {
		parts = append(parts, mdCell(htmlText(resultText(a, 0))))
	}
	return strings.Join(parts, "<br>")
}

// changeDetails is one change as a collapsible section with its attribute
// table.
func changeDetails(c *plans.Change) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<details><summary><code>%s</code> %s", htmlText(c.Address), changeClass(c))
	if c.Reason != "" {
		fmt.Fprintf(&b, " (%s)", htmlText(c.Reason))
	}
	b.WriteString("</summary>\n\n")
	dn := changeDNs(c)
	fmt.Fprintf(&b, "%s `%s`\n\n", c.Kind, strings.ReplaceAll(dn, "`", "'"))
	if len(c.Attrs) > 0 {
		b.WriteString("| | attribute | before | after |\n|---|---|---|---|\n")
		for _, a := range c.Attrs {
			mark := attrMark(c, a)
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mark, mdCell(a.Name), mdValues(a.Before), mdValues(a.After))
		}
		b.WriteString("\n")
	}
	b.WriteString("</details>\n\n")
	return b.String()
}

func mdValues(vs []string) string {
	var parts []string
	for i, v := range vs {
		if i == markdownValues {
			parts = append(parts, fmt.Sprintf("_… and %d more_", len(vs)-i))
			break
		}
		parts = append(parts, mdCell(htmlText(v)))
	}
	return strings.Join(parts, "<br>")
}

// htmlText escapes the characters that would start markup (quotes stay
// readable in the raw Markdown).
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// mdCell makes text safe inside a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\\\") // CN=Smith\, John keeps its backslash
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
