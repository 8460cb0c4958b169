package ui

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/adshift/adshift/planner/plans"
)

// Plan prints a plan for review: the directory changes, the matches to
// record, the objects that could not be matched, the device cutovers with
// every blocker, warnings, and a summary line that starts with "Plan:".
func (v *View) Plan(p *plans.Plan) {
	v.mu.Lock()
	defer v.mu.Unlock()
	bw := bufio.NewWriterSize(v.Out, 1<<16)
	defer bw.Flush()
	pal := v.palette()
	s := p.Summary()
	if !p.HasChanges() && len(p.Devices) == 0 && len(problems(p)) == 0 {
		fmt.Fprintf(bw, "\n%s The directories match the configuration.\n", pal.bold("No changes."))
		writeWarnings(bw, pal, p.Warnings) // never hidden behind "No changes"
		fmt.Fprintf(bw, "\n%s\n", summaryLine(s))
		return
	}
	if len(p.Changes) > 0 {
		fmt.Fprintf(bw, "\nadshift will perform the following actions:\n")
		writeChanges(bw, pal, p.Changes)
	}
	var record []*plans.Match
	for _, m := range p.Matches {
		if m.Status == plans.Matched {
			record = append(record, m)
		}
	}
	if len(record) > 0 {
		fmt.Fprintf(bw, "\n%s\n", pal.bold(fmt.Sprintf("Matches to record in state (%d):", len(record))))
		for _, m := range record {
			fmt.Fprintf(bw, "  %s %s ↔ %s (by %s)\n", pal.dim("="), m.Address, dnText(m.Target.DN), m.Rule)
		}
	}
	if probs := problems(p); len(probs) > 0 {
		fmt.Fprintf(bw, "\n%s\n", pal.bold(fmt.Sprintf("Not matched (%d):", len(probs))))
		for _, m := range probs {
			fmt.Fprintf(bw, "  %s %s: %s\n", pal.warn("!"), m.Address, m.Reason)
			for _, c := range m.Candidates {
				fmt.Fprintf(bw, "      candidate %s\n", dnText(c))
			}
		}
	}
	if len(p.Counts) > 0 {
		fmt.Fprintf(bw, "\n%s\n", pal.bold("Matching:"))
		for _, c := range p.Counts {
			fmt.Fprintf(bw, "  workflow.%s %ss: %d in source, %d matched, %d new, %d unmatched, %d ambiguous\n",
				c.Workflow, c.Kind, c.Source, c.Matched, c.New, c.Unmatched, c.Ambiguous)
		}
	}
	for _, co := range p.Cutovers {
		writeCutover(bw, pal, co, p.Devices)
	}
	writeWarnings(bw, pal, p.Warnings)
	fmt.Fprintf(bw, "\n%s\n", pal.bold(summaryLine(s)))
}

// foldAfter is how many warnings with one summary the text view shows
// before it folds the rest into a count (plan -json lists every one).
const foldAfter = 10

func writeWarnings(bw io.Writer, pal palette, ws []plans.Warning) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintf(bw, "\n%s\n", pal.warn(fmt.Sprintf("Warnings (%d):", len(ws))))
	total := map[string]int{}
	for _, w := range ws {
		total[w.Summary]++
	}
	shown := map[string]int{}
	for _, w := range ws {
		shown[w.Summary]++
		switch n := shown[w.Summary]; {
		case n == foldAfter+1:
			fmt.Fprintf(bw, "  - … and %d more %q warnings (plan -json lists each, with its items)\n", total[w.Summary]-foldAfter, w.Summary)
			continue
		case n > foldAfter:
			continue
		}
		if w.Address != "" {
			fmt.Fprintf(bw, "  - %s: %s\n", w.Address, w.Summary)
		} else {
			fmt.Fprintf(bw, "  - %s\n", w.Summary)
		}
		if w.Detail != "" {
			fmt.Fprintf(bw, "      %s\n", w.Detail)
		}
	}
}

// writeChanges renders the changes in order; large plans are rendered in
// chunks on all CPUs and written in order.
func writeChanges(w io.Writer, pal palette, changes []*plans.Change) {
	workers := runtime.GOMAXPROCS(0)
	if len(changes) < 5000 || workers < 2 {
		for _, c := range changes {
			writeChange(w, pal, c)
		}
		return
	}
	const chunk = 2000
	n := (len(changes) + chunk - 1) / chunk
	bufs := make([]bytes.Buffer, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				for _, c := range changes[i*chunk : min((i+1)*chunk, len(changes))] {
					writeChange(&bufs[i], pal, c)
				}
			}
		}()
	}
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
	}()
	wg.Wait()
	for i := range bufs {
		w.Write(bufs[i].Bytes())
	}
}

func problems(p *plans.Plan) []*plans.Match {
	var out []*plans.Match
	for _, m := range p.Matches {
		if m.Status == plans.Unmatched || m.Status == plans.Ambiguous {
			out = append(out, m)
		}
	}
	return out
}

func summaryLine(s plans.Summary) string {
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to move, %d to destroy.", s.Add, s.Change, s.Move, s.Destroy)
	if s.Record > 0 {
		line += fmt.Sprintf(" %d matches to record.", s.Record)
	}
	if n := s.DevicesReady + s.DevicesBlocked + s.DevicesScheduled; n > 0 {
		line += fmt.Sprintf(" Devices: %d ready, %d scheduled, %d blocked.", s.DevicesReady, s.DevicesScheduled, s.DevicesBlocked)
	}
	return line
}

var actionWords = map[plans.Action]string{
	plans.Create: "will be created",
	plans.Update: "will be updated in place",
	plans.Move:   "will be moved",
	plans.Delete: "will be destroyed",
}

func writeChange(w io.Writer, pal palette, c *plans.Change) {
	// Plans of 100,000 objects print every change: build lines with
	// appends rather than fmt, which dominated the time of large plans.
	b := make([]byte, 0, 256)
	what := actionWords[c.Action]
	if c.Members {
		what = "membership will change"
	}
	b = append(b, "\n  "...)
	b = append(b, pal.bold("# "+c.Address)...)
	b = append(b, ' ')
	b = append(b, what...)
	if c.Reason != "" {
		b = append(b, pal.dim(" ("+c.Reason+")")...)
	}
	b = append(b, '\n')
	head := func(mark string) {
		b = append(b, "  "...)
		b = append(b, mark...)
		b = append(b, ' ')
		b = append(b, c.Kind...)
		b = append(b, ' ')
		b = appendDN(b, c.DN)
	}
	attr := func(mark, name string, width int) {
		b = append(b, "      "...)
		b = append(b, mark...)
		b = append(b, ' ')
		b = append(b, name...)
		for i := len(name); i < width; i++ {
			b = append(b, ' ')
		}
	}
	switch c.Action {
	case plans.Create:
		head(pal.add("+"))
		if len(c.Attrs) == 0 {
			b = append(b, '\n')
			break
		}
		b = append(b, " {\n"...)
		width := nameWidth(c.Attrs)
		for _, a := range c.Attrs {
			attr(pal.add("+"), a.Name, width)
			b = append(b, " = "...)
			b = appendValues(b, a.After)
			b = append(b, '\n')
		}
		b = append(b, "    }\n"...)
	case plans.Update:
		head(pal.change("~"))
		b = append(b, " {\n"...)
		width := nameWidth(c.Attrs)
		for _, a := range c.Attrs {
			switch a.Op {
			case "add", "delete":
				mark, vals := pal.add("+"), a.After
				if a.Op == "delete" {
					mark, vals = pal.del("-"), a.Before
				}
				for _, v := range vals {
					attr(mark, a.Name, 0)
					b = append(b, ' ')
					if strings.EqualFold(a.Name, "member") {
						b = appendDN(b, v)
					} else {
						b = appendQuoted(b, v)
					}
					b = append(b, '\n')
				}
			default:
				attr(pal.change("~"), a.Name, width)
				b = append(b, " = "...)
				if len(a.Before) == 0 {
					b = append(b, "(not set)"...)
				} else {
					b = appendValues(b, a.Before)
				}
				b = append(b, " -> "...)
				b = appendValues(b, a.After)
				b = append(b, '\n')
			}
		}
		b = append(b, "    }\n"...)
	case plans.Move:
		head(pal.move("→"))
		b = append(b, "\n      -> "...)
		b = appendDN(b, c.NewDN)
		b = append(b, '\n')
	case plans.Delete:
		head(pal.del("-"))
		b = append(b, '\n')
	}
	w.Write(b)
}

func appendValues(b []byte, vs []string) []byte {
	switch len(vs) {
	case 0:
		return append(b, "(none)"...)
	case 1:
		return appendQuoted(b, vs[0])
	}
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendQuoted(b, v)
	}
	return append(b, ']')
}

func nameWidth(attrs []plans.AttrDiff) int {
	n := 0
	for _, a := range attrs {
		n = max(n, len(a.Name))
	}
	return n
}

var statusMark = map[plans.DeviceStatus]string{
	plans.DeviceReady: "✓", plans.DeviceBlocked: "✗", plans.DeviceScheduled: "◷", plans.DeviceDone: "=",
}

func writeCutover(w io.Writer, pal palette, co *plans.Cutover, all []*plans.Device) {
	fmt.Fprintf(w, "\n%s\n", pal.bold(fmt.Sprintf("Device cutover %q (workflow.%s):", co.Name, co.Workflow)))
	when := "any time"
	if !co.NotBefore.IsZero() {
		when = "not before " + co.NotBefore.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "  Schedule: %s, %d devices at a time\n", when, co.BatchSize)
	fmt.Fprintf(w, "  Actions:  %s\n", strings.Join(co.Actions, " → "))
	fmt.Fprintf(w, "  Hub:      %s\n", waveHub(co))
	var devs []*plans.Device
	for _, d := range all {
		if d.Cutover == co.Name {
			devs = append(devs, d)
		}
	}
	sort.SliceStable(devs, func(i, j int) bool { return devs[i].Name < devs[j].Name })
	nameW, osW := 4, 2
	for _, d := range devs {
		nameW = max(nameW, len(d.Name))
		osW = max(osW, len(d.OS))
	}
	var checks []string
	for _, d := range devs {
		mark := statusMark[d.Status]
		switch d.Status {
		case plans.DeviceReady:
			mark = pal.add(mark)
		case plans.DeviceBlocked:
			mark = pal.del(mark)
		case plans.DeviceScheduled:
			mark = pal.move(mark)
		}
		target := ""
		if d.Target.DN != "" {
			target = " → " + d.Target.DN
		}
		osName := d.OS
		if osName == "" {
			osName = "?"
		}
		line := fmt.Sprintf("  %s %-*s  %-*s  %-9s%s", mark, nameW, d.Name, osW, osName, d.Status, target)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		if d.Agent != nil {
			fmt.Fprintf(w, "      agent: %s\n", agentFacts(d.Agent))
		}
		if len(d.Job) > 0 {
			fmt.Fprintf(w, "      job: %s\n", jobText(d))
		}
		if len(d.Done) > 0 {
			fmt.Fprintf(w, "      done: %s\n", strings.Join(d.Done, ", "))
		}
		for _, b := range d.Blockers {
			fmt.Fprintf(w, "      %s %s\n", pal.del("blocked:"), b.Message)
		}
		if len(checks) == 0 {
			checks = d.Checks
		}
	}
	if len(checks) > 0 {
		fmt.Fprintf(w, "  Checked by the agent on each device before it runs: %s\n", strings.Join(checks, "; "))
	}
	fmt.Fprintf(w, "  %d devices: %d ready, %d scheduled, %d blocked, %d done\n", co.Devices, co.Ready, co.Scheduled, co.Blocked, co.Done)
}

// appendQuoted quotes a value for display. Unlike strconv.Quote it leaves
// backslashes alone, so a DN such as CN=Smith\, John reads as the
// directory spells it; only quotes and control characters are escaped.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == utf8.RuneError && size == 1:
			b = append(b, fmt.Sprintf("\\x%02x", s[i])...)
		case !unicode.IsPrint(r) && r != ' ':
			if r < 0x10000 {
				b = append(b, fmt.Sprintf("\\u%04x", r)...)
			} else {
				b = append(b, fmt.Sprintf("\\U%08x", r)...)
			}
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendDN writes a DN between quotes exactly as RFC 4514 spells it, so
// that a DN copied from the plan is right: a DN escapes its own quotes
// (\"), so nothing is escaped again. Only bytes a terminal cannot show
// (control characters, invalid UTF-8) are written as RFC 4514 hex pairs.
func appendDN(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (!unicode.IsPrint(r) && r != ' ') {
			for _, c := range []byte(s[i : i+size]) {
				b = append(b, fmt.Sprintf("\\%02X", c)...)
			}
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// dnText is appendDN as a string.
func dnText(s string) string { return string(appendDN(nil, s)) }
