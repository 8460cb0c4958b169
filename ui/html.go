package ui

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/state"
)

// HTML review limits: what the page renders as static HTML, readable with
// scripts off. With scripts on, the page renders every change and device
// from the embedded data, a page of rows at a time.
const (
	htmlStaticChanges = 1000 // changes rendered as static HTML
	htmlStaticDevices = 2000 // devices per wave rendered as static HTML
	htmlStaticValues  = 50   // values per attribute rendered as static HTML
)

//go:embed review.css
var reviewCSS string

//go:embed review.js
var reviewJS string

// HTML writes a plan as one self-contained review page for a change board:
// the summary; per wave a table of devices with readiness, blockers and the
// actions that will run; every directory change with its attribute-level
// diff; search and filters by kind, action, wave and readiness. It fetches
// nothing: styles, script and data are inside the file. The summary, the
// device tables and the first changes are plain HTML, readable with scripts
// off; the script renders the rest, a page at a time, so a 100,000-object
// plan opens and filters without freezing the browser.
func HTML(w io.Writer, p *plans.Plan) error {
	return HTMLReview(w, p, nil)
}

// HTMLReview is HTML with, per device, every result apply recorded in st,
// the current state (nil: no results), and a note saying whether that
// state is newer than the plan.
func HTMLReview(w io.Writer, p *plans.Plan, st *state.State) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	h := &htmlWriter{w: bw, res: reviewResults(p, st)}
	s := p.Summary()
	h.raw("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	h.raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
	h.raw("<title>adshift plan review</title>\n<style>\n" + reviewCSS + "</style>\n</head>\n<body>\n")
	h.raw("<header>\n<h1>adshift plan review</h1>\n")
	meta := plannedLine(p)
	if meta != "" {
		meta += fmt.Sprintf(", state serial %d", p.Serial)
		if p.Lineage != "" {
			meta += " of lineage " + p.Lineage
		}
		h.tag("p", "class=\"meta\"", meta+".")
	}
	h.raw("<p class=\"summary-line\" id=\"summary-line\"><strong>")
	h.text(summaryLine(s))
	h.raw("</strong></p>\n")
	if h.res.note != "" {
		h.tag("p", "class=\"results-note\" id=\"results-note\"", h.res.note)
	}
	h.raw("</header>\n")

	h.summary(p)
	h.filters(p)
	h.waves(p)
	h.changes(p)

	h.raw("<script type=\"application/json\" id=\"plan-data\">")
	if err := json.NewEncoder(bw).Encode(reviewData(p, h.res)); err != nil {
		return err
	}
	h.raw("</script>\n<script>\n" + reviewJS + "</script>\n</body>\n</html>\n")
	if h.err != nil {
		return h.err
	}
	return bw.Flush()
}

type htmlWriter struct {
	w   *bufio.Writer
	err error
	res results
}

func (h *htmlWriter) raw(s string) {
	if h.err == nil {
		_, h.err = h.w.WriteString(s)
	}
}

func (h *htmlWriter) text(s string) { h.raw(html.EscapeString(s)) }

// wrap writes open, the escaped text, then close.
func (h *htmlWriter) wrap(open, text, close string) {
	h.raw(open)
	h.text(text)
	h.raw(close)
}

// tag writes <name attrs>escaped text</name>.
func (h *htmlWriter) tag(name, attrs, text string) {
	if attrs != "" {
		attrs = " " + attrs
	}
	h.raw("<" + name + attrs + ">")
	h.text(text)
	h.raw("</" + name + ">\n")
}

func (h *htmlWriter) row(class string, cells ...string) {
	if class != "" {
		h.raw("<tr class=\"" + class + "\">")
	} else {
		h.raw("<tr>")
	}
	for _, c := range cells {
		h.raw("<td>")
		h.text(c)
		h.raw("</td>")
	}
	h.raw("</tr>\n")
}

func (h *htmlWriter) summary(p *plans.Plan) {
	h.raw("<section id=\"summary\">\n<h2>Summary</h2>\n")
	kinds, counts := changeCounts(p)
	if len(kinds) > 0 {
		h.raw("<table class=\"counts\" id=\"change-counts\"><caption>Directory changes by object kind</caption>\n<thead><tr><th>object</th>")
		for _, c := range changeColumns {
			h.raw("<th class=\"num\">" + c + "</th>")
		}
		h.raw("</tr></thead>\n<tbody>\n")
		for _, k := range kinds {
			h.raw("<tr><td>")
			h.text(k)
			h.raw("</td>")
			for _, c := range changeColumns {
				fmt.Fprintf(h.w, "<td class=\"num\">%d</td>", counts[[2]string{k, c}])
			}
			h.raw("</tr>\n")
		}
		h.raw("</tbody></table>\n")
	} else {
		h.tag("p", "", "No directory changes.")
	}
	if len(p.Counts) > 0 {
		h.raw("<table class=\"counts\" id=\"match-counts\"><caption>Matching</caption>\n<thead><tr><th>workflow</th><th>kind</th><th class=\"num\">in source</th><th class=\"num\">matched</th><th class=\"num\">new</th><th class=\"num\">unmatched</th><th class=\"num\">ambiguous</th></tr></thead>\n<tbody>\n")
		for _, c := range p.Counts {
			h.raw("<tr><td>")
			h.text(c.Workflow)
			h.raw("</td><td>")
			h.text(c.Kind)
			fmt.Fprintf(h.w, "</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">%d</td><td class=\"num\">%d</td></tr>\n", c.Source, c.Matched, c.New, c.Unmatched, c.Ambiguous)
		}
		h.raw("</tbody></table>\n")
	}
	var record []*plans.Match
	for _, m := range p.Matches {
		if m.Status == plans.Matched {
			record = append(record, m)
		}
	}
	h.matchTable("matches", fmt.Sprintf("Matches to record in state (%d)", len(record)), []string{"object", "target", "matched by"}, len(record), func(i int) []string {
		return []string{record[i].Address, record[i].Target.DN, record[i].Rule}
	})
	probs := problems(p)
	h.matchTable("problems", fmt.Sprintf("Not matched (%d)", len(probs)), []string{"object", "why"}, len(probs), func(i int) []string {
		return []string{probs[i].Address, probs[i].Reason}
	})
	if len(p.Warnings) > 0 {
		h.raw("<h3>Warnings</h3>\n<ul class=\"warnings\">\n")
		for _, w := range p.Warnings {
			h.raw("<li>")
			if w.Address != "" {
				h.wrap("<code>", w.Address, "</code>: ")
			}
			detail := ""
			if w.Detail != "" {
				detail = " — " + w.Detail
			}
			h.wrap("", w.Summary+detail, "</li>\n")
		}
		h.raw("</ul>\n")
	}
	h.raw("</section>\n")
}

// matchTable writes a collapsed table of n rows (at most htmlStaticDevices,
// saying so), or nothing when n is 0.
func (h *htmlWriter) matchTable(class, title string, head []string, n int, row func(int) []string) {
	if n == 0 {
		return
	}
	h.wrap("<details class=\""+class+"\"><summary>", title, "</summary>\n<table><thead><tr>")
	for _, c := range head {
		h.wrap("<th>", c, "</th>")
	}
	h.raw("</tr></thead><tbody>\n")
	for i := range min(n, htmlStaticDevices) {
		h.row("", row(i)...)
	}
	h.raw("</tbody></table>\n")
	if n > htmlStaticDevices {
		h.tag("p", "class=\"note\"", fmt.Sprintf("The first %d of %d; adshift show PLANFILE lists them all.", htmlStaticDevices, n))
	}
	h.raw("</details>\n")
}

// filters writes the search and filter bar; the script shows it (it does
// nothing without scripts, so it starts hidden).
func (h *htmlWriter) filters(p *plans.Plan) {
	kinds, _ := changeCounts(p)
	h.raw("<form id=\"filters\" class=\"filters\" hidden role=\"search\" onsubmit=\"return false\">\n")
	h.raw("<label>Search <input type=\"search\" id=\"f-q\" placeholder=\"address, DN, device, blocker\"></label>\n")
	h.raw("<span class=\"group\">Changes:</span>\n")
	h.selectBox("f-kind", "Kind", kinds)
	h.selectBox("f-action", "Action", changeColumns)
	h.raw("<span class=\"group\">Devices:</span>\n")
	var waves []string
	for _, co := range p.Cutovers {
		waves = append(waves, co.Name)
	}
	h.selectBox("f-wave", "Wave", waves)
	h.selectBox("f-ready", "Readiness", []string{string(plans.DeviceReady), string(plans.DeviceBlocked), string(plans.DeviceScheduled), string(plans.DeviceDone)})
	h.raw("<span id=\"f-count\" class=\"count\" aria-live=\"polite\"></span>\n</form>\n")
}

func (h *htmlWriter) selectBox(id, label string, options []string) {
	h.raw("<label>" + label + " <select id=\"" + id + "\"><option value=\"\">all</option>")
	for _, o := range options {
		e := html.EscapeString(o)
		h.raw("<option value=\"" + e + "\">" + e + "</option>")
	}
	h.raw("</select></label>\n")
}

func (h *htmlWriter) waves(p *plans.Plan) {
	if len(p.Cutovers) == 0 {
		return
	}
	h.raw("<section id=\"waves\">\n<h2>Device cutovers</h2>\n")
	for _, co := range p.Cutovers {
		devs := waveDevices(p, co.Name, h.res)
		h.raw("<section class=\"wave\" id=\"wave-" + html.EscapeString(co.Name) + "\">\n")
		h.tag("h3", "", "Wave "+co.Name)
		h.raw("<ul class=\"wave-facts\">")
		h.tag("li", "", fmt.Sprintf("Schedule: %s, %d devices at a time", schedule(co), co.BatchSize))
		h.tag("li", "", "Actions, in order: "+strings.Join(co.Actions, " → "))
		h.tag("li", "", "Hub: "+waveHub(co))
		h.tag("li", "", fmt.Sprintf("Devices: %d — %d ready, %d scheduled, %d blocked, %d done", co.Devices, co.Ready, co.Scheduled, co.Blocked, co.Done))
		if h.res.devices != nil {
			with, failed := h.res.wave(devs)
			h.tag("li", "", fmt.Sprintf("Results recorded in state: %d of %d devices, %d of them with a failed action last", with, len(devs), failed))
		}
		if checks := waveChecks(devs); len(checks) > 0 {
			h.tag("li", "", "Checked by the agent on each device before it runs: "+strings.Join(checks, "; "))
		}
		h.raw("</ul>\n<div class=\"static\">\n<table class=\"devices\"><thead>" + h.deviceHead() + "</thead>\n<tbody>\n")
		for i, d := range devs {
			if i == htmlStaticDevices {
				break
			}
			h.device(d)
		}
		h.raw("</tbody></table>\n")
		if len(devs) > htmlStaticDevices {
			h.tag("p", "class=\"note\"", fmt.Sprintf("Without scripts this page lists the first %d of %d devices (blocked first, then failed ones); with scripts it lists, searches and filters all of them. adshift show -json PLANFILE has every device.", htmlStaticDevices, len(devs)))
		}
		h.raw("</div>\n")
		// With scripts, this wave's devices are rendered here, a page at
		// a time (review.js).
		name := html.EscapeString(co.Name)
		h.raw("<div class=\"devices-live\" data-wave=\"" + name + "\" hidden><div class=\"pager\" data-for=\"dev:" + name + "\"></div>")
		h.raw("<table class=\"devices\"><thead>" + h.deviceHead() + "</thead><tbody></tbody></table></div>\n")
		h.raw("</section>\n")
	}
	h.raw("</section>\n")
}

// deviceHead is the header row of a wave's device table; review.js
// renders the rows of the same columns (renderDevice).
func (h *htmlWriter) deviceHead() string {
	head := "<tr><th>device</th><th>operating system</th><th>readiness</th><th>agent</th><th>job (actions to run)</th><th>blockers</th>"
	if h.res.devices != nil {
		head += "<th>results recorded in state</th>"
	}
	return head + "</tr>"
}

// device writes one device's row as review.js renderDevice does.
func (h *htmlWriter) device(d *plans.Device) {
	h.raw("<tr class=\"st-" + string(d.Status) + "\"><td>")
	h.text(d.Name)
	h.raw("</td><td>")
	h.text(d.OS)
	h.raw("</td><td><span class=\"badge " + string(d.Status) + "\">" + string(d.Status) + "</span></td><td class=\"agent\">")
	if d.Agent != nil {
		h.text(agentFacts(d.Agent))
	}
	h.raw("</td><td class=\"job\">")
	if d.Rollback {
		h.raw("<span class=\"badge rollback\">rollback</span> ")
	}
	h.list("", jobSteps(d))
	h.raw("</td><td class=\"blockers\">")
	bl := make([]string, 0, len(d.Blockers))
	for _, b := range d.Blockers {
		bl = append(bl, b.Message)
	}
	h.list("", bl)
	if h.res.devices != nil {
		h.raw("</td><td class=\"results\">")
		if sd := h.res.devices[d.Address]; sd != nil {
			h.raw("<ul>")
			for _, a := range sd.Actions {
				h.raw("<li class=\"res-" + html.EscapeString(a.Status) + "\">")
				h.text(resultText(a, -1))
				h.raw("</li>")
			}
			h.raw("</ul>")
		}
	}
	h.raw("</td></tr>\n")
}

// list writes items as a <ul>, nothing when there are none.
func (h *htmlWriter) list(class string, items []string) {
	if len(items) == 0 {
		return
	}
	if class != "" {
		h.raw("<ul class=\"" + class + "\">")
	} else {
		h.raw("<ul>")
	}
	for _, it := range items {
		h.wrap("<li>", it, "</li>")
	}
	h.raw("</ul>")
}

func (h *htmlWriter) changes(p *plans.Plan) {
	h.raw("<section id=\"changes\">\n")
	h.tag("h2", "", fmt.Sprintf("Directory changes (%d)", len(p.Changes)))
	h.raw("<div class=\"static\">\n")
	for i, c := range p.Changes {
		if i == htmlStaticChanges {
			break
		}
		h.change(c)
	}
	if len(p.Changes) > htmlStaticChanges {
		h.tag("p", "class=\"note\"", fmt.Sprintf("Without scripts this page shows the first %d of %d changes; with scripts it shows, searches and filters all of them. adshift show PLANFILE prints every change.", htmlStaticChanges, len(p.Changes)))
	}
	h.raw("</div>\n<div id=\"changes-live\" hidden><div class=\"pager\" data-for=\"changes\"></div><div id=\"changes-body\"></div></div>\n</section>\n")
}

// change writes one change as the script renders it too (review.js
// renderChange): a header line and a table of attribute diffs.
func (h *htmlWriter) change(c *plans.Change) {
	class := changeClass(c)
	dn := changeDNs(c)
	h.raw("<div class=\"change\"><div class=\"ch-head\"><span class=\"act act-" + class + "\">" + class + "</span> ")
	h.wrap("<code class=\"addr\">", c.Address, "</code> ")
	h.wrap("<span class=\"kind\">", c.Kind, "</span> ")
	h.wrap("<span class=\"dn\">", dn, "</span>")
	if c.Reason != "" {
		h.wrap(" <span class=\"reason\">(", c.Reason, ")</span>")
	}
	h.raw("</div>\n")
	if len(c.Attrs) > 0 {
		h.raw("<table class=\"attrs\"><thead><tr><th></th><th>attribute</th><th>before</th><th>after</th></tr></thead><tbody>\n")
		for _, a := range c.Attrs {
			mark := attrMark(c, a)
			h.raw("<tr class=\"op-" + a.Op + "\"><td class=\"op\">" + mark + "</td><td class=\"name\">")
			h.text(a.Name)
			h.raw("</td><td class=\"before\">")
			h.values(a.Before)
			h.raw("</td><td class=\"after\">")
			h.values(a.After)
			h.raw("</td></tr>\n")
		}
		h.raw("</tbody></table>\n")
	}
	h.raw("</div>\n")
}

func (h *htmlWriter) values(vs []string) {
	for i, v := range vs {
		if i == htmlStaticValues {
			h.raw("<div class=\"more\">")
			h.text(fmt.Sprintf("… and %d more", len(vs)-i))
			h.raw("</div>")
			return
		}
		h.raw("<div class=\"v\">")
		h.text(v)
		h.raw("</div>")
	}
}

// reviewData is the page's embedded data: every string once in S, and
// changes and devices as arrays of indices into it, which keeps a plan
// whose groups list thousands of members each small enough to load.
type reviewPayload struct {
	S []string `json:"s"`
	// C: [id, address, kind, class, dn, new_dn, reason, attrs]; attrs:
	// [name, op, [before...], [after...]]; -1 for no string.
	C [][]any `json:"c"`
	// D: [address, wave, name, os, status, [job steps...], [blocker...],
	// [done...], agent, rollback (0 or 1), [results...]]; job steps are
	// the remaining actions when the plan has no job for the device.
	D [][]any `json:"d"`
	// R is 1 when the page shows results recorded in state (a results
	// column), else 0.
	R int `json:"r"`
}

type interner struct {
	idx  map[string]int
	list []string
}

func (in *interner) id(s string) int {
	if s == "" {
		return -1
	}
	if i, ok := in.idx[s]; ok {
		return i
	}
	in.idx[s] = len(in.list)
	in.list = append(in.list, s)
	return len(in.list) - 1
}

func (in *interner) ids(ss []string) []int {
	out := make([]int, len(ss))
	for i, s := range ss {
		out[i] = in.id(s)
	}
	return out
}

func reviewData(p *plans.Plan, res results) reviewPayload {
	in := &interner{idx: map[string]int{}}
	out := reviewPayload{C: make([][]any, 0, len(p.Changes)), D: make([][]any, 0, len(p.Devices))}
	if res.devices != nil {
		out.R = 1
	}
	for _, c := range p.Changes {
		attrs := make([][]any, 0, len(c.Attrs))
		for _, a := range c.Attrs {
			attrs = append(attrs, []any{in.id(a.Name), a.Op, in.ids(a.Before), in.ids(a.After)})
		}
		out.C = append(out.C, []any{c.ID, in.id(c.Address), in.id(c.Kind), changeClass(c), in.id(c.DN), in.id(c.NewDN), in.id(c.Reason), attrs})
	}
	for _, co := range p.Cutovers {
		for _, d := range waveDevices(p, co.Name, res) {
			bl := make([]string, 0, len(d.Blockers))
			for _, b := range d.Blockers {
				bl = append(bl, b.Message)
			}
			agent, rollback := "", 0
			if d.Agent != nil {
				agent = agentFacts(d.Agent)
			}
			if d.Rollback {
				rollback = 1
			}
			var rs []string
			if sd := res.devices[d.Address]; sd != nil {
				rs = make([]string, 0, 2*len(sd.Actions))
				for _, a := range sd.Actions {
					rs = append(rs, a.Status, resultText(a, -1))
				}
			}
			out.D = append(out.D, []any{in.id(d.Address), in.id(d.Cutover), in.id(d.Name), in.id(d.OS), string(d.Status), in.ids(jobSteps(d)), in.ids(bl), in.ids(d.Done),
				in.id(agent), rollback, in.ids(rs)})
		}
	}
	out.S = in.list
	if out.S == nil {
		out.S = []string{}
	}
	return out
}
