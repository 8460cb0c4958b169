package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaDir holds the published JSON Schema files of docs/json-format.md.
var schemaDir = filepath.Join("..", "..", "docs", "schema")

// compileSchema compiles one schema file of docs/schema, with formats
// (date-time) asserted.
func compileSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	path, err := filepath.Abs(filepath.Join(schemaDir, name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return s
}

// validateDoc checks one JSON document against a schema and returns it
// decoded.
func validateDoc(t *testing.T, s *jsonschema.Schema, what, doc string) map[string]any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", what, err, tail(doc, 2000))
	}
	if err := s.Validate(v); err != nil {
		t.Fatalf("%s does not match its schema: %v", what, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// validateLines checks every line of a -json stream against the JSON lines
// schema and returns how many lines of each type there were.
func validateLines(t *testing.T, s *jsonschema.Schema, what, out string) map[string]int {
	t.Helper()
	types := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		n++
		m := validateDoc(t, s, fmt.Sprintf("%s line %d", what, n), sc.Text())
		if n == 1 && m["type"] != "version" {
			t.Errorf("%s: the first line is %v, want type version", what, m["type"])
		}
		types[m["type"].(string)]++
	}
	if n == 0 {
		t.Fatalf("%s wrote no lines", what)
	}
	return types
}

// TestJSONFormat_quickstart validates the real plan -json, show -json (plan
// and state), apply -json and validate -json output of the quickstart
// against the schema files, and checks that the facts a pipeline needs are
// in it: an attribute-level diff, a match, a device with its blockers.
func TestJSONFormat_quickstart(t *testing.T) {
	lines := compileSchema(t, "json-lines.schema.json")
	showPlan := compileSchema(t, "show-plan.schema.json")
	showState := compileSchema(t, "show-state.schema.json")
	validate := compileSchema(t, "validate.schema.json")
	bin := adshiftBin(t)
	dir := quickstart(t)

	r := runAdshift(t, bin, dir, nil, "validate", "-json")
	doc := validateDoc(t, validate, "validate -json", r.stdout)
	if r.code != 0 || doc["valid"] != true || doc["error_count"] != 0.0 {
		t.Fatalf("validate -json of the quickstart: exit %d, %v", r.code, doc)
	}

	r = runAdshift(t, bin, dir, nil, "plan", "-json", "-out", "p")
	if r.code != 0 {
		t.Fatalf("plan -json: exit %d\n%s", r.code, r.stderr)
	}
	types := validateLines(t, lines, "plan -json", r.stdout)
	for _, typ := range []string{"version", "refresh_start", "refresh_complete", "planned_change", "match", "match_summary", "device_plan", "cutover_summary", "change_summary"} {
		if types[typ] == 0 {
			t.Errorf("plan -json wrote no %s line (types: %v)", typ, types)
		}
	}

	r = runAdshift(t, bin, dir, nil, "show", "-json", "p")
	doc = validateDoc(t, showPlan, "show -json PLANFILE", r.stdout)
	plan := doc["plan"].(map[string]any)
	if !hasAttrDiff(plan, `workflow.identities.user["jsmith"]`, "department", "Accounting", "Finance") {
		t.Errorf("show -json lacks jsmith's department Accounting -> Finance")
	}
	if !hasBlocker(plan, `device_cutover.wave-1["FIN-WS-005"]`, "os_unsupported") {
		t.Errorf("show -json lacks FIN-WS-005's os_unsupported blocker")
	}

	r = runAdshift(t, bin, dir, nil, "apply", "-json", "p")
	if r.code != 0 {
		t.Fatalf("apply -json p: exit %d\n%s\n%s", r.code, tail(r.stdout, 2000), r.stderr)
	}
	types = validateLines(t, lines, "apply -json", r.stdout)
	if types["apply_complete"] == 0 {
		t.Errorf("apply -json wrote no apply_complete line (types: %v)", types)
	}

	r = runAdshift(t, bin, dir, nil, "show", "-json")
	doc = validateDoc(t, showState, "show -json (state)", r.stdout)
	if n := len(doc["state"].(map[string]any)["objects"].(map[string]any)); n == 0 {
		t.Errorf("show -json after apply: no objects in state")
	}
}

func hasAttrDiff(plan map[string]any, addr, name, before, after string) bool {
	for _, c := range plan["changes"].([]any) {
		c := c.(map[string]any)
		if c["address"] != addr {
			continue
		}
		for _, a := range c["attrs"].([]any) {
			a := a.(map[string]any)
			b, f := a["before"].([]any), a["after"].([]any)
			if a["name"] == name && len(b) == 1 && b[0] == before && len(f) == 1 && f[0] == after {
				return true
			}
		}
	}
	return false
}

func hasBlocker(plan map[string]any, addr, code string) bool {
	for _, d := range plan["devices"].([]any) {
		d := d.(map[string]any)
		if d["address"] != addr {
			continue
		}
		for _, b := range d["blockers"].([]any) {
			if b.(map[string]any)["code"] == code {
				return true
			}
		}
	}
	return false
}

// TestJSONFormat_estate validates plan -json and show -json of a generated
// 2,000-object estate: groups with many members, unmatched devices, users
// whose attributes drifted.
func TestJSONFormat_estate(t *testing.T) {
	lines := compileSchema(t, "json-lines.schema.json")
	showPlan := compileSchema(t, "show-plan.schema.json")
	bin := adshiftBin(t)
	dir := writeEstate(t, 2000)
	r := runAdshift(t, bin, dir, nil, "plan", "-json", "-out", "p")
	if r.code != 0 {
		t.Fatalf("plan -json: exit %d\n%s", r.code, r.stderr)
	}
	types := validateLines(t, lines, "plan -json (estate)", r.stdout)
	if types["planned_change"] == 0 || types["device_plan"] == 0 || types["match"] == 0 {
		t.Errorf("plan -json of the estate: %v", types)
	}
	r = runAdshift(t, bin, dir, nil, "show", "-json", "p")
	doc := validateDoc(t, showPlan, "show -json PLANFILE (estate)", r.stdout)
	if n := len(doc["plan"].(map[string]any)["changes"].([]any)); n != types["planned_change"] {
		t.Errorf("show -json has %d changes, plan -json %d", n, types["planned_change"])
	}
}

// TestJSONFormat_diagnostics validates validate -json and plan -json of a
// broken configuration: every error counted, each with its range.
func TestJSONFormat_diagnostics(t *testing.T) {
	lines := compileSchema(t, "json-lines.schema.json")
	validate := compileSchema(t, "validate.schema.json")
	bin := adshiftBin(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.hcl"), `environment "source" {
  provider = "ldif"
  file     = "source.ldif"
  base_dn  = ["DC=source,DC=test"]
}

environment "target" {
  provider = "ldif"
  base_dn  = "DC=target,DC=test"
  fiel     = "target.ldif"
}
`)
	writeFile(t, filepath.Join(dir, "workflow.hcl"), `workflow "identities" {
  source = environment.sorce
  target = environment.target
}
`)
	r := runAdshift(t, bin, dir, nil, "validate", "-json")
	doc := validateDoc(t, validate, "validate -json", r.stdout)
	if r.code != 1 || doc["valid"] != false {
		t.Fatalf("validate -json of a broken configuration: exit %d, valid %v", r.code, doc["valid"])
	}
	diags := doc["diagnostics"].([]any)
	if int(doc["error_count"].(float64)) != len(diags) || len(diags) < 3 {
		t.Errorf("error_count %v, %d diagnostics; want at least 3, all counted", doc["error_count"], len(diags))
	}
	files := map[string]bool{}
	for _, d := range diags {
		rg, ok := d.(map[string]any)["range"].(map[string]any)
		if !ok {
			t.Errorf("diagnostic without a range: %v", d)
			continue
		}
		files[rg["filename"].(string)] = true
	}
	if !files["main.hcl"] || !files["workflow.hcl"] {
		t.Errorf("diagnostics name files %v, want main.hcl and workflow.hcl", files)
	}

	r = runAdshift(t, bin, dir, nil, "plan", "-json")
	types := validateLines(t, lines, "plan -json (broken)", r.stdout)
	if r.code != 1 || types["diagnostic"] < 3 {
		t.Errorf("plan -json of a broken configuration: exit %d, %d diagnostics, want 1 and at least 3", r.code, types["diagnostic"])
	}
}

// TestJSONFormat_examples validates validate -json of every example.
func TestJSONFormat_examples(t *testing.T) {
	validate := compileSchema(t, "validate.schema.json")
	bin := adshiftBin(t)
	dirs, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*", "*.hcl"))
	seen := map[string]bool{}
	for _, f := range dirs {
		dir, err := filepath.Abs(filepath.Dir(f))
		if err != nil {
			t.Fatal(err)
		}
		if seen[dir] {
			continue
		}
		seen[dir] = true
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := runAdshift(t, bin, dir, nil, "validate", "-json")
			validateDoc(t, validate, "validate -json", r.stdout)
		})
	}
	if len(seen) < 2 {
		t.Fatalf("found %d example directories, want at least quickstart and two-domains", len(seen))
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
