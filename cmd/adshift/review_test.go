package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/adshift/adshift/bench/estate"
)

// chromium returns the Chromium binary, or skips the test saying how to
// get one. scripts/test.sh installs Debian's chromium when run as root.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("ADSHIFT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("skipping the browser test of show -html: Chromium is not installed " +
		"(apt-get install -y --no-install-recommends chromium fonts-dejavu-core; scripts/test.sh does this when run as root on Debian; or set ADSHIFT_CHROMIUM)")
	return ""
}

// artifacts is where screenshots and timings go: $ADSHIFT_ARTIFACTS (CI
// keeps it), else a temporary directory.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ADSHIFT_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium tab that records console errors,
// uncaught exceptions and every request that is not for the page file.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	errors   []string
	requests []string
}

func newBrowser(t *testing.T, scripts bool) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.errors = append(b.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				b.errors = append(b.errors, "log: "+ev.Entry.Text)
			}
		case *network.EventRequestWillBeSent:
			if !strings.HasPrefix(ev.Request.URL, "file://") && !strings.HasPrefix(ev.Request.URL, "data:") {
				b.requests = append(b.requests, ev.Request.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if !scripts {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a JavaScript expression and decodes its value into T.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	return eval[string](t, b, fmt.Sprintf(`(document.querySelector(%q) || {textContent: %q}).textContent`, sel, "(no "+sel+")"))
}

// clean fails the test on console errors or requests beyond the page.
func (b *browser) clean(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		t.Errorf("browser error: %s", e)
	}
	for _, r := range b.requests {
		t.Errorf("the review fetched %s: it must be self-contained", r)
	}
}

// countRE reads the filter bar's "N of M changes, K of L devices".
var countRE = regexp.MustCompile(`^([\d,]+) of ([\d,]+) changes, ([\d,]+) of ([\d,]+) devices$`)

func (b *browser) counts(t *testing.T) (changes, devices int) {
	t.Helper()
	s := b.text(t, "#f-count")
	m := countRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("filter count %q", s)
	}
	n := func(x string) int { v, _ := strconv.Atoi(strings.ReplaceAll(x, ",", "")); return v }
	return n(m[1]), n(m[3])
}

// filter sets a filter control as a user does (typing into the search
// box, choosing an option) and waits until the page has filtered, which
// review.js marks by counting data-filtered up; it returns how long that
// took, as seen from the test and as the page measured its filter and render.
func (b *browser) filter(t *testing.T, sel, value string) string {
	t.Helper()
	before := eval[string](t, b, `document.documentElement.getAttribute("data-filtered")`)
	start := time.Now()
	if sel == "#f-q" {
		eval[string](t, b, `document.getElementById("f-q").value = ""`)
		b.do(t, "search "+value, chromedp.SendKeys(chromedp.CSS(sel), value))
	} else {
		b.do(t, "choose "+value, chromedp.SetValue(chromedp.CSS(sel), value))
		eval[bool](t, b, fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change"))`, sel))
	}
	for time.Since(start) < 10*time.Second {
		// Searching waits for typing to pause: only the filter of the
		// whole search string counts.
		st := eval[[]string](t, b, `[document.documentElement.getAttribute("data-filtered"), document.documentElement.getAttribute("data-filtered-q")]`)
		if st[0] != before && (sel != "#f-q" || st[1] == strings.ToLower(value)) {
			return fmt.Sprintf("%s (in page %s ms)", time.Since(start).Round(time.Millisecond),
				eval[string](t, b, `document.documentElement.getAttribute("data-filter-ms")`))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("filter %s=%q: the page did not filter within 10 s (search box %q, filtered %q)", sel, value,
		eval[string](t, b, `document.getElementById("f-q").value`), eval[string](t, b, `document.documentElement.getAttribute("data-filtered-q")`))
	return ""
}

func (b *browser) resetFilters(t *testing.T) {
	t.Helper()
	eval[bool](t, b, `(function(){
		document.getElementById("f-q").value = "";
		for (const id of ["f-kind","f-action","f-wave","f-ready"]) document.getElementById(id).value = "";
		return document.getElementById("f-kind").dispatchEvent(new Event("change"));
	})()`)
}

// allText returns the text of every element matching sel.
func (b *browser) allText(t *testing.T, sel string) []string {
	t.Helper()
	return eval[[]string](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).map(e => e.textContent)`, sel))
}

// screenshot writes a PNG of the viewport, scrolled to the element sel
// ("" for the top of the page).
func (b *browser) screenshot(t *testing.T, path, sel string) {
	t.Helper()
	if sel != "" {
		// A section from its start, a row in the middle of the view (clear
		// of the sticky filter bar).
		block := "center"
		if strings.HasPrefix(sel, "#") {
			block = "start"
		}
		eval[bool](t, b, fmt.Sprintf(`(function(){ const e = document.querySelector(%q); if (e) e.scrollIntoView({block: %q}); return !!e })()`, sel, block))
	} else {
		eval[bool](t, b, `(window.scrollTo(0, 0), true)`)
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// reviewFacts are what the review of a plan must show: its summary line,
// one device with a blocker, and one attribute diff.
type reviewFacts struct {
	summary                 string
	device, blocker         string
	address, attr, old, new string
	// staticChange says the change is among the first ones the page
	// renders as static HTML.
	staticChange bool
}

// checkReview opens review.html with scripts off and on and checks the
// facts, filtering, self-containment and that nothing errs.
func checkReview(t *testing.T, page, shots, name string, want reviewFacts) {
	url := "file://" + page

	// Scripts off: the static tables carry the core content.
	off := newBrowser(t, false)
	off.do(t, "open "+url, chromedp.Navigate(url))
	if s := off.text(t, "#summary-line"); s != want.summary {
		t.Errorf("scripts off: summary %q, want %q", s, want.summary)
	}
	devRows := off.allText(t, ".static table.devices tbody tr")
	if !containsAll(devRows, want.device, want.blocker) {
		t.Errorf("scripts off: no device row with %q and blocker %q", want.device, want.blocker)
	}
	changes := off.allText(t, ".static .change")
	if len(changes) == 0 {
		t.Errorf("scripts off: no change is shown")
	}
	if want.staticChange && !containsAll(changes, want.address, want.attr, want.old, want.new) {
		t.Errorf("scripts off: no change %s with %s %q -> %q", want.address, want.attr, want.old, want.new)
	}
	if hidden := off.allText(t, "#filters[hidden]"); len(hidden) != 1 {
		t.Errorf("scripts off: the filter bar, which needs scripts, is shown")
	}
	off.screenshot(t, filepath.Join(shots, name+"-noscript.png"), "")
	off.screenshot(t, filepath.Join(shots, name+"-noscript-changes.png"), "#changes")
	off.clean(t)

	// Scripts on.
	on := newBrowser(t, true)
	start := time.Now()
	on.do(t, "open "+url, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#changes-live")))
	opened := time.Since(start)
	scriptMS := eval[string](t, on, `document.documentElement.getAttribute("data-ready")`)
	if s := on.text(t, "#summary-line"); s != want.summary {
		t.Errorf("summary %q, want %q", s, want.summary)
	}
	allChanges, allDevices := on.counts(t)
	if len(on.allText(t, ".static")) != 0 {
		t.Errorf("the static tables stay when scripts run")
	}

	// Search a device: its blockers show.
	searchDevice := on.filter(t, "#f-q", want.device)
	if rows := on.allText(t, ".devices-live:not([hidden]) tbody tr"); !containsAll(rows, want.device, want.blocker) {
		t.Errorf("search %q: devices %q lack the blocker %q", want.device, rows, want.blocker)
	}
	on.screenshot(t, filepath.Join(shots, name+"-search-device.png"), ".devices-live:not([hidden]) tr.st-blocked")
	// Search a change: its attribute diff shows.
	searchChange := on.filter(t, "#f-q", want.address)
	if ch := on.allText(t, "#changes-body .change"); !containsAll(ch, want.address, want.attr, want.old, want.new) {
		t.Errorf("search %q: changes %q lack %s %q -> %q", want.address, ch, want.attr, want.old, want.new)
	}
	on.screenshot(t, filepath.Join(shots, name+"-search-change.png"), "#changes")

	// Filter by action and kind: only such changes, fewer than all.
	on.resetFilters(t)
	filterAction := on.filter(t, "#f-action", "create")
	n, _ := on.counts(t)
	if n == 0 || n >= allChanges {
		t.Errorf("action create: %d of %d changes", n, allChanges)
	}
	for _, a := range on.allText(t, "#changes-body .act") {
		if a != "create" {
			t.Errorf("action filter create shows a %q change", a)
			break
		}
	}
	on.filter(t, "#f-kind", "group")
	for _, k := range on.allText(t, "#changes-body .kind") {
		if k != "group" {
			t.Errorf("kind filter group shows a %q change", k)
			break
		}
	}
	// Filter by readiness and wave: only such devices.
	on.resetFilters(t)
	filterReady := on.filter(t, "#f-ready", "blocked")
	_, nd := on.counts(t)
	if nd == 0 || nd > allDevices {
		t.Errorf("readiness blocked: %d of %d devices", nd, allDevices)
	}
	for _, b := range on.allText(t, ".devices-live .badge") {
		if b != "blocked" {
			t.Errorf("readiness filter blocked shows a %q device", b)
			break
		}
	}
	waves := eval[[]string](t, on, `Array.from(document.querySelectorAll("#f-wave option")).map(o => o.value).filter(v => v)`)
	if len(waves) > 0 {
		on.filter(t, "#f-wave", waves[len(waves)-1])
		shown := eval[[]string](t, on, `Array.from(document.querySelectorAll(".devices-live:not([hidden])")).map(e => e.getAttribute("data-wave"))`)
		if len(shown) != 1 || shown[0] != waves[len(waves)-1] {
			t.Errorf("wave filter %s shows the devices of waves %q", waves[len(waves)-1], shown)
		}
		if rows := on.allText(t, ".devices-live:not([hidden]) tbody tr.st-blocked"); len(rows) == 0 {
			t.Errorf("wave filter %s and readiness blocked: no device shown", waves[len(waves)-1])
		}
	}
	// Paging.
	on.resetFilters(t)
	on.do(t, "next page", chromedp.Click(chromedp.CSS(`.pager[data-for="changes"] button[data-go="next"]`), chromedp.NodeVisible))
	if allChanges > 100 {
		if p := on.text(t, `.pager[data-for="changes"] span`); !strings.HasPrefix(p, "101–") {
			t.Errorf("after next: pager says %q", p)
		}
	}
	if allDevices > 100 {
		on.resetFilters(t)
		on.do(t, "next devices page", chromedp.Click(chromedp.CSS(`.pager[data-for^="dev:"] button[data-go="next"]:not([disabled])`), chromedp.NodeVisible))
		if p := on.text(t, `.pager[data-for^="dev:"] span`); !strings.HasPrefix(p, "101–") {
			t.Errorf("after next: the devices pager says %q", p)
		}
	}
	on.resetFilters(t)
	on.screenshot(t, filepath.Join(shots, name+".png"), "")
	on.screenshot(t, filepath.Join(shots, name+"-changes.png"), "#changes")
	on.clean(t)

	report := fmt.Sprintf("%s: %d changes, %d devices, %.1f MiB; open (navigate, parse, script) %s, of which script %s ms; search device %s, search change %s, action filter %s, readiness filter %s\n",
		name, allChanges, allDevices, float64(fileSize(t, page))/(1<<20), opened.Round(time.Millisecond), scriptMS,
		searchDevice, searchChange, filterAction, filterReady)
	t.Log(report)
	f, err := os.OpenFile(filepath.Join(shots, "review-timings.txt"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		f.WriteString(report)
		f.Close()
	}
}

func containsAll(items []string, subs ...string) bool {
	for _, it := range items {
		ok := true
		for _, s := range subs {
			if !strings.Contains(it, s) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func fileSize(t *testing.T, path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// writeReview runs plan -out and show -html in dir and returns the page.
func writeReview(t *testing.T, bin, dir string) (page, summary, text string) {
	t.Helper()
	r := runAdshift(t, bin, dir, nil, "plan", "-no-color", "-out", "review.plan")
	if r.code != 0 {
		t.Fatalf("plan: exit %d\n%s", r.code, r.stderr)
	}
	text = r.stdout
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "Plan: ") {
			summary = l
		}
	}
	r = runAdshift(t, bin, dir, nil, "show", "-html", "review.plan")
	if r.code != 0 {
		t.Fatalf("show -html: exit %d\n%s", r.code, r.stderr)
	}
	page = filepath.Join(dir, "review.html")
	if err := os.WriteFile(page, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return page, summary, text
}

// TestReviewChromium_quickstart opens the quickstart's review in headless
// Chromium, with scripts off and on.
func TestReviewChromium_quickstart(t *testing.T) {
	chromium(t)
	shots := artifacts(t)
	bin := adshiftBin(t)
	dir := quickstart(t)
	page, summary, _ := writeReview(t, bin, dir)
	checkReview(t, page, shots, "review-quickstart", reviewFacts{staticChange: true,
		summary: summary,
		device:  "FIN-WS-005", blocker: "Windows XP Professional is not a supported operating system",
		address: `workflow.identities.user["jsmith"]`, attr: "department", old: "Accounting", new: "Finance",
	})
}

// TestReviewChromium_estate opens the review of a generated estate of
// ADSHIFT_REVIEW_OBJECTS objects (default 100,000; 0 skips) in headless
// Chromium, and checks its Markdown review's size. Its known facts come
// from the text plan: the first blocked
// device and the first attribute update.
func TestReviewChromium_estate(t *testing.T) {
	objects := 100000
	if s := os.Getenv("ADSHIFT_REVIEW_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("ADSHIFT_REVIEW_OBJECTS=%q: %v", s, err)
		}
		objects = n
	}
	if objects == 0 {
		t.Skip("ADSHIFT_REVIEW_OBJECTS=0")
	}
	shots := artifacts(t)
	dir := writeEstate(t, objects)
	bin := adshiftBin(t)
	page, summary, text := writeReview(t, bin, dir)

	// The Markdown review of the same plan fits a comment, split and
	// saying so.
	r := runAdshift(t, bin, dir, nil, "show", "-markdown", "review.plan")
	if r.code != 0 || len(r.stdout) > 65535 || !strings.Contains(r.stdout, "<details><summary>") {
		t.Errorf("show -markdown: exit %d, %d bytes (at most 65,535), details %v", r.code, len(r.stdout), strings.Contains(r.stdout, "<details>"))
	}
	if !strings.Contains(r.stdout, "This review is split into") || !strings.Contains(r.stdout, "more devices, ") {
		t.Errorf("show -markdown of %d objects does not say it is split and cut short:\n%s", objects, tail(r.stdout, 800))
	}
	t.Logf("show -markdown: part 1 has %d bytes", len(r.stdout))

	chromium(t)

	// Facts from the text plan: the first blocked device and the first
	// attribute update.
	dev := regexp.MustCompile(`(?m)^  ✗ (\S+) .*blocked\n      blocked: (.*)$`).FindStringSubmatch(text)
	upd := regexp.MustCompile(`(?m)^  # (\S+) will be updated in place.*\n.*\n      ~ (\S+) += "([^"]*)" -> "([^"]*)"$`).FindStringSubmatch(text)
	if dev == nil || upd == nil {
		t.Fatalf("the plan of the estate has no blocked device (%v) or no attribute update (%v)", dev != nil, upd != nil)
	}
	checkReview(t, page, shots, fmt.Sprintf("review-estate-%d", objects), reviewFacts{
		summary: summary, device: dev[1], blocker: dev[2],
		address: upd[1], attr: upd[2], old: upd[3], new: upd[4],
	})
}

// writeEstate generates a bench estate of the given size with the bench
// configuration into a new directory.
func writeEstate(t *testing.T, objects int) string {
	t.Helper()
	dir := t.TempDir()
	opts := estate.Options{Objects: objects, Seed: 1, TargetUsers: 0.3}
	for name, write := range map[string]func(*os.File) error{
		"source.ldif": func(f *os.File) error { _, err := estate.WriteSource(f, opts); return err },
		"target.ldif": func(f *os.File) error { _, err := estate.WriteTarget(f, opts); return err },
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := write(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyFile(filepath.Join("..", "..", "bench", "genestate", "main.hcl"), filepath.Join(dir, "main.hcl")); err != nil {
		t.Fatal(err)
	}
	return dir
}
