package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/adshift/adshift/planner/plans"
)

// TestHTML_escapes: directory values are text, never markup or script,
// in the static tables and in the embedded data alike.
func TestHTML_escapes(t *testing.T) {
	p := samplePlan()
	evil := `</script><script>alert(1)</script><b>x</b>`
	p.Changes[2].Attrs[0].After = []string{evil}
	p.Devices[1].Blockers[0].Message = evil
	var out bytes.Buffer
	if err := HTML(&out, p); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if strings.Contains(page, evil) || strings.Contains(page, "<b>x</b>") {
		t.Fatalf("the page holds the raw markup %q", evil)
	}
	if n := strings.Count(page, "</script>"); n != 2 {
		t.Errorf("%d </script> tags, want 2 (data and script)", n)
	}
	data := regexp.MustCompile(`(?s)<script type="application/json" id="plan-data">(.*?)</script>`).FindStringSubmatch(page)
	if data == nil {
		t.Fatal("no embedded plan data")
	}
	var d struct {
		S []string `json:"s"`
		C [][]any  `json:"c"`
		D [][]any  `json:"d"`
	}
	if err := json.Unmarshal([]byte(data[1]), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.C) != len(p.Changes) || len(d.D) != len(p.Devices) {
		t.Errorf("data holds %d changes and %d devices, want %d and %d", len(d.C), len(d.D), len(p.Changes), len(p.Devices))
	}
	found := false
	for _, s := range d.S {
		found = found || s == evil
	}
	if !found {
		t.Errorf("the data lost the value %q", evil)
	}
	for _, want := range []string{"Windows XP Professional", "Clerk", "employeeID", "Matches to record in state (1)", "Not matched (1)", `workflow.id.user[&#34;ann&#34;]`} {
		if !strings.Contains(page, want) {
			t.Errorf("the static page lacks %q", want)
		}
	}
}

// TestHTML_selfContained: nothing the page refers to is outside it.
func TestHTML_selfContained(t *testing.T) {
	var out bytes.Buffer
	if err := HTML(&out, samplePlan()); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`\bsrc=`, `\bhref=`, `@import`, `url\(`, `https?://`, `fetch\(`, `XMLHttpRequest`} {
		if m := regexp.MustCompile(re).FindString(out.String()); m != "" {
			t.Errorf("the page refers outside itself: %q", m)
		}
	}
}

// TestHTML_staticLimit: a large plan's static part stops at the limit and
// says so; the data still holds every change.
func TestHTML_staticLimit(t *testing.T) {
	p := &plans.Plan{}
	for i := range htmlStaticChanges + 500 {
		p.Changes = append(p.Changes, &plans.Change{ID: int64(i + 1), Address: fmt.Sprintf(`workflow.w.user["u%d"]`, i), Kind: "user", Action: plans.Create, DN: fmt.Sprintf("CN=u%d,DC=t", i)})
	}
	var out bytes.Buffer
	if err := HTML(&out, p); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	if n := strings.Count(page, `<div class="change">`); n != htmlStaticChanges {
		t.Errorf("%d static changes, want %d", n, htmlStaticChanges)
	}
	if want := fmt.Sprintf("the first %d of %d changes", htmlStaticChanges, len(p.Changes)); !strings.Contains(page, want) {
		t.Errorf("the page does not say %q", want)
	}
	if !strings.Contains(page, `"u1499"`) && !strings.Contains(page, `u1499`) {
		t.Errorf("the data lacks the last change")
	}
}
