package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func loadFile(t *testing.T, path string) (*Config, hcl.Diagnostics) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := NewParser()
	f, diags := p.p.ParseHCL(src, filepath.Base(path))
	if diags.HasErrors() {
		return nil, diags
	}
	cfg, d := Decode([]*hcl.File{f})
	diags = append(diags, d...)
	cfg.Dir = filepath.Dir(path)
	_, d = cfg.Evaluate(EvalOptions{AllowMissing: true})
	return cfg, append(diags, d...)
}

var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+)$`)

// TestErrors checks that each file under testdata/errors produces exactly
// the error diagnostics its "# ERROR: Summary" markers name, on the marked
// lines.
func TestErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.hcl")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, _ := os.ReadFile(path)
			var want []string
			sc := bufio.NewScanner(bytes.NewReader(src))
			for line := 1; sc.Scan(); line++ {
				if m := errorMarker.FindStringSubmatch(sc.Text()); m != nil {
					for _, s := range strings.Split(m[1], ";") {
						want = append(want, fmt.Sprintf("%d: %s", line, strings.TrimSpace(s)))
					}
				}
			}
			_, diags := loadFile(t, path)
			var got []string
			for _, d := range diags {
				if d.Severity != hcl.DiagError {
					continue
				}
				if d.Subject == nil {
					t.Errorf("diagnostic %q has no source range", d.Summary)
					continue
				}
				if d.Detail == "" {
					t.Errorf("diagnostic %q has no detail", d.Summary)
				}
				got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
			}
			sort.Strings(want)
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s\nall: %v", diff, diags)
			}
		})
	}
}

func TestValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.hcl")
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, diags := loadFile(t, path)
			if diags.HasErrors() {
				t.Fatalf("unexpected errors: %v", diags)
			}
		})
	}
}

func TestVariables(t *testing.T) {
	src := `
variable "name" { type = string }
variable "count" {
  type    = number
  default = 3
  validation {
    condition     = var.count > 0
    error_message = "count must be positive"
  }
}
variable "secret" {
  type      = string
  sensitive = true
}
locals {
  greeting = "hello ${var.name}"
  loud     = upper(local.greeting)
  mixed    = "${var.secret}-x"
}
`
	p := NewParser()
	f, diags := p.p.ParseHCL([]byte(src), "v.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	cfg, diags := Decode([]*hcl.File{f})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	tests := []struct {
		name    string
		inputs  Inputs
		env     []string
		wantErr string
		check   func(t *testing.T, s *Scope)
	}{
		{
			name:   "flags and env",
			inputs: Inputs{"count": {Raw: "5", Source: "-var flag"}},
			env:    []string{"ADSHIFT_VAR_name=world", "ADSHIFT_VAR_secret=hunter2", "ADSHIFT_VAR_unknown=x"},
			check: func(t *testing.T, s *Scope) {
				if got := s.Locals["loud"]; !got.RawEquals(cty.StringVal("HELLO WORLD")) {
					t.Errorf("loud = %#v", got)
				}
				if !s.Locals["mixed"].IsMarked() {
					t.Errorf("a local derived from a sensitive variable must stay marked")
				}
				if n, _ := s.Vars["count"].AsBigFloat().Int64(); n != 5 {
					t.Errorf("count = %d", n)
				}
			},
		},
		{
			name:    "validation fails",
			inputs:  Inputs{"count": {Raw: "0", Source: "-var flag"}, "name": {Raw: "x"}, "secret": {Raw: "y"}},
			wantErr: "Invalid value for variable",
		},
		{
			name:    "missing required",
			inputs:  Inputs{"secret": {Raw: "y"}},
			wantErr: "No value for required variable",
		},
		{
			name:    "undeclared flag",
			inputs:  Inputs{"nmae": {Raw: "x", Source: "-var flag"}, "name": {Raw: "x"}, "secret": {Raw: "y"}},
			wantErr: "Value for undeclared variable",
		},
		{
			name:    "wrong type",
			inputs:  Inputs{"count": {Raw: `"many"`, Source: "-var flag"}, "name": {Raw: "x"}, "secret": {Raw: "y"}},
			wantErr: "Invalid value for variable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Inputs{}
			in.AddEnv(tt.env)
			for k, v := range tt.inputs {
				in[k] = v
			}
			s, diags := cfg.Evaluate(EvalOptions{Inputs: in})
			if tt.wantErr != "" {
				if !diags.HasErrors() || !strings.Contains(diags.Error(), tt.wantErr) {
					t.Fatalf("want error %q, got %v", tt.wantErr, diags)
				}
				if strings.Contains(diags.Error(), "hunter2") {
					t.Fatalf("a diagnostic shows a sensitive value: %v", diags)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			tt.check(t, s)
		})
	}
}
