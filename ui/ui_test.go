package ui

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/adshift/adshift/planner/plans"
)

var update = flag.Bool("update", false, "rewrite golden files")

func samplePlan() *plans.Plan {
	return &plans.Plan{
		FormatVersion: plans.FormatVersion,
		Changes: []*plans.Change{
			{ID: 1, Address: `environment.target.ou["OU=Users,DC=t"]`, Environment: "target", Kind: "ou", Action: plans.Create, DN: "OU=Users,DC=t", Reason: "a target_ou that does not exist yet"},
			{ID: 2, DependsOn: []int64{1}, Address: `workflow.id.user["jgarcia"]`, Workflow: "id", Environment: "target", Kind: "user", Action: plans.Create,
				DN: `CN=García\, José,OU=Users,DC=t`, Reason: "no target object matches by mail",
				Attrs: []plans.AttrDiff{{Name: "sAMAccountName", Op: "replace", After: []string{"jgarcia"}}, {Name: "displayName", Op: "replace", After: []string{"José García"}}, {Name: "otherMailbox", Op: "replace", After: []string{"a@x", "b@x"}}}},
			{ID: 3, Address: `workflow.id.user["ann"]`, Workflow: "id", Environment: "target", Kind: "user", Action: plans.Update, DN: "CN=Ann,DC=t", Reason: "matched by mail",
				Attrs: []plans.AttrDiff{{Name: "title", Op: "replace", Before: []string{"Clerk"}, After: []string{"Manager"}}, {Name: "employeeID", Op: "replace", After: []string{"7"}}}},
			{ID: 4, Address: `workflow.id.group["g"]`, Workflow: "id", Environment: "target", Kind: "group", Action: plans.Update, DN: "CN=G,DC=t", Members: true,
				Attrs: []plans.AttrDiff{{Name: "member", Op: "add", After: []string{`CN=García\, José,OU=Users,DC=t`}}, {Name: "member", Op: "delete", Before: []string{"CN=Old,DC=t"}}}},
			{ID: 5, Address: `workflow.id.user["bo"]`, Workflow: "id", Environment: "target", Kind: "user", Action: plans.Move, DN: "CN=Bo,DC=t", NewDN: "CN=Bo,OU=Users,DC=t"},
			{ID: 6, Address: `workflow.id.user["x"]`, Workflow: "id", Environment: "target", Kind: "user", Action: plans.Delete, DN: "CN=X,DC=t", Reason: "the source object is gone from scope"},
		},
		Matches: []*plans.Match{
			{Address: `workflow.id.user["ann"]`, Workflow: "id", Kind: "user", Status: plans.Matched, Target: plans.Identity{DN: "CN=Ann,DC=t"}, Rule: "mail"},
			{Address: `workflow.id.user["dup"]`, Workflow: "id", Kind: "user", Status: plans.Ambiguous, Reason: "2 target objects fit by mail; none is chosen", Candidates: []string{"CN=D1,DC=t", "CN=D2,DC=t"}},
		},
		Counts: []plans.MatchCount{{Workflow: "id", Kind: "user", Source: 4, Matched: 1, New: 1, Ambiguous: 1, Unmatched: 1}},
		Devices: []*plans.Device{
			{Address: `device_cutover.w1["WS-1"]`, Cutover: "w1", Name: "WS-1", OS: "Windows 10", Status: plans.DeviceReady, Target: plans.Identity{DN: "CN=WS-1,DC=t"}, Actions: []string{"reacl", "cutover"}, Checks: []string{"PowerShell 2.0 or newer"}},
			{Address: `device_cutover.w1["WS-2"]`, Cutover: "w1", Name: "WS-2", OS: "Windows XP Professional", Status: plans.DeviceBlocked, Actions: []string{"reacl", "cutover"},
				Blockers: []plans.Blocker{{Code: "os_unsupported", Message: "Windows XP Professional is not a supported operating system"}}},
			{Address: `device_cutover.w1["WS-3"]`, Cutover: "w1", Name: "WS-3", OS: "Windows 11", Status: plans.DeviceDone, Done: []string{"reacl", "cutover"}},
		},
		Cutovers: []*plans.Cutover{{Name: "w1", Workflow: "dev", Actions: []string{"reacl", "cutover"}, NotBefore: time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC), BatchSize: 50, Devices: 3, Ready: 1, Blocked: 1, Done: 1}},
		Warnings: []plans.Warning{{Address: `workflow.id.group["g"]`, Summary: "Group members not mapped", Detail: "1 member(s) have no target counterpart"}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestPlanHuman(t *testing.T) {
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out}
	v.Plan(samplePlan())
	golden(t, "plan.txt", out.Bytes())

	out.Reset()
	v.Plan(&plans.Plan{})
	golden(t, "plan_empty.txt", out.Bytes())
}

func TestPlanColor(t *testing.T) {
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out, Color: true}
	v.Plan(samplePlan())
	if !bytes.Contains(out.Bytes(), []byte("\x1b[32m+")) {
		t.Errorf("colour on: want a green +, got:\n%q", out.String()[:200])
	}
	out.Reset()
	v.Color = false
	v.Plan(samplePlan())
	if bytes.Contains(out.Bytes(), []byte("\x1b[")) {
		t.Errorf("colour off must write no escape codes")
	}
}

func TestPlanJSON(t *testing.T) {
	var out bytes.Buffer
	j := NewJSON(&out)
	j.now = func() time.Time { return time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) }
	j.Version("0.1.0-test")
	j.Plan(samplePlan())
	r := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 3, Column: 5, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 24}}
	j.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Bad", Detail: "Fix it.", Subject: &r}})
	golden(t, "plan.jsonl", out.Bytes())
	// Every line, including the kinds of change the quickstart lacks (move,
	// delete, an ambiguous match, a done device), is valid in the published
	// schema.
	validateLines(t, out.Bytes())

	out.Reset()
	if err := PlanDocument(&out, samplePlan()); err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(&out)
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "show-plan.schema.json").Validate(v); err != nil {
		t.Errorf("show -json of the sample plan: %v", err)
	}
}

// TestJSONSchemaStrict: the schemas reject what the format does not have,
// so a field added to the output without the schema fails the tests.
func TestJSONSchemaStrict(t *testing.T) {
	s := compileSchema(t, "show-plan.schema.json")
	var out bytes.Buffer
	if err := PlanDocument(&out, samplePlan()); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(doc map[string]any){
		"unknown change field": func(doc map[string]any) {
			doc["plan"].(map[string]any)["changes"].([]any)[0].(map[string]any)["token"] = "1"
		},
		"unknown action": func(doc map[string]any) {
			doc["plan"].(map[string]any)["changes"].([]any)[0].(map[string]any)["action"] = "rename"
		},
		"blocked without blockers": func(doc map[string]any) {
			doc["plan"].(map[string]any)["devices"].([]any)[1].(map[string]any)["blockers"] = []any{}
		},
		"missing before": func(doc map[string]any) {
			delete(doc["plan"].(map[string]any)["changes"].([]any)[1].(map[string]any)["attrs"].([]any)[0].(map[string]any), "before")
		},
	} {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		mutate(v.(map[string]any))
		if err := s.Validate(v); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// validateLines checks every JSON line against the published schema and
// returns the lines decoded.
func validateLines(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	s := compileSchema(t, "json-lines.schema.json")
	var lines []map[string]any
	for i, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, line)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	return lines
}

func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	path, err := filepath.Abs(filepath.Join("..", "docs", "schema", name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidationDocument(t *testing.T) {
	r := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 3, Column: 5, Byte: 20}, End: hcl.Pos{Line: 3, Column: 9, Byte: 24}}
	diags := hcl.Diagnostics{
		{Severity: hcl.DiagError, Summary: "Bad", Detail: "Fix it.", Subject: &r, Context: &r},
		{Severity: hcl.DiagWarning, Summary: "Odd", Detail: "Look at it."},
	}
	var out bytes.Buffer
	if err := Validation(&out, diags); err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := compileSchema(t, "validate.schema.json").Validate(v); err != nil {
		t.Fatal(err)
	}
	var got jsonValidation
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Valid || got.ErrorCount != 1 || got.WarningCount != 1 || len(got.Diagnostics) != 2 || got.Diagnostics[0].Range.Start.Line != 3 {
		t.Errorf("got %+v", got)
	}
}

func TestDiagnosticsFileLineCol(t *testing.T) {
	src := []byte("environment \"x\" {\n  provder = \"ldif\"\n}\n")
	f := &hcl.File{Bytes: src}
	r := hcl.Range{Filename: "main.hcl", Start: hcl.Pos{Line: 2, Column: 3, Byte: 20}, End: hcl.Pos{Line: 2, Column: 10, Byte: 27}}
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out, Files: map[string]*hcl.File{"main.hcl": f}}
	v.Diagnostics(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Unsupported argument", Detail: "Did you mean \"provider\"?", Subject: &r}})
	golden(t, "diagnostic.txt", out.Bytes())
}

func TestPlanMarkdown(t *testing.T) {
	var out bytes.Buffer
	p := samplePlan()
	p.Created = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	p.Version = "0.1.0"
	if err := Markdown(&out, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.md", out.Bytes())
}

// TestWriteChangesParallel checks that a large plan rendered in parallel
// chunks reads exactly as one rendered in order.
func TestWriteChangesParallel(t *testing.T) {
	var cs []*plans.Change
	for i := 0; i < 12345; i++ {
		c := *samplePlan().Changes[i%6]
		c.ID = int64(i + 1)
		cs = append(cs, &c)
	}
	var seq, par bytes.Buffer
	pal := (&View{}).palette()
	for _, c := range cs {
		writeChange(&seq, pal, c)
	}
	writeChanges(&par, pal, cs)
	if !bytes.Equal(seq.Bytes(), par.Bytes()) {
		t.Fatal("parallel rendering differs from sequential rendering")
	}
}

// TestMarkdownParts_limit: a plan far too large for one comment is
// summarised and split, every part within the limit, each saying so.
func TestMarkdownParts_limit(t *testing.T) {
	p := samplePlan()
	base := p.Changes[1]
	for i := range 20000 {
		c := *base
		c.ID = int64(100 + i)
		c.Address = fmt.Sprintf(`workflow.id.user["u%05d"]`, i)
		p.Changes = append(p.Changes, &c)
	}
	big := make([]string, 5000)
	for i := range big {
		big[i] = fmt.Sprintf("CN=Member %d,OU=Users,DC=t", i)
	}
	p.Changes = append(p.Changes, &plans.Change{ID: 99999, Address: `workflow.id.group["big"]`, Kind: "group", Action: plans.Update, Members: true, DN: "CN=Big,DC=t",
		Attrs: []plans.AttrDiff{{Name: "member", Op: "add", After: big}}})
	for i := range 3000 {
		d := *p.Devices[1]
		d.Name = fmt.Sprintf("WS-%04d", i)
		p.Devices = append(p.Devices, &d)
	}
	parts := MarkdownParts(p, MarkdownLimit)
	if len(parts) != MarkdownMaxParts {
		t.Fatalf("%d parts, want %d", len(parts), MarkdownMaxParts)
	}
	for i, part := range parts {
		if len(part) > MarkdownLimit {
			t.Errorf("part %d has %d bytes, more than %d", i+1, len(part), MarkdownLimit)
		}
		if want := fmt.Sprintf("this is part %d.", i+1); !strings.Contains(part, want) {
			t.Errorf("part %d does not say %q", i+1, want)
		}
	}
	first, last := parts[0], parts[len(parts)-1]
	for _, want := range []string{"**Plan: ", "## Device cutover `w1`", "| WS-0000 | Windows XP Professional | blocked |", "more devices, ", "<details><summary>", "`adshift show -markdown -part 2 PLANFILE` writes the next."} {
		if !strings.Contains(first, want) {
			t.Errorf("part 1 lacks %q", want)
		}
	}
	if !strings.Contains(last, "more changes are not listed here") {
		t.Errorf("the last part does not say that changes were left out")
	}
	// Small plans are one part, without a split note.
	if parts := MarkdownParts(samplePlan(), MarkdownLimit); len(parts) != 1 || strings.Contains(parts[0], "split") {
		t.Errorf("the sample plan: %d parts", len(parts))
	}
}
