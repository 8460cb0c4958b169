package config

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func decodeSrc(t *testing.T, src string) (*Config, hcl.Diagnostics) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "main.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Decode([]*hcl.File{f})
}

func TestDecodeBackend(t *testing.T) {
	cfg, diags := decodeSrc(t, `
adshift {
  backend "pg" {
    conn_str = var.pg
    schema   = "wave_1"
  }
}
`)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	be := cfg.Settings.Backend
	if be == nil || be.Type != BackendPG || be.Schema != "wave_1" || be.ConnStr == nil {
		t.Fatalf("backend = %+v", be)
	}
	if vars := be.ConnStr.Variables(); len(vars) != 1 || vars[0].RootName() != "var" {
		t.Errorf("conn_str refers to %v", vars)
	}

	cfg, diags = decodeSrc(t, `adshift {
  backend "local" { path = "s.state" }
}`)
	if diags.HasErrors() || cfg.Settings.Backend.Path != "s.state" {
		t.Fatalf("local: %+v %v", cfg.Settings.Backend, diags)
	}
}

func TestDecodeBackend_errors(t *testing.T) {
	for name, tc := range map[string]struct{ src, summary string }{
		"schema":  {"adshift {\n  backend \"pg\" {\n    schema = \"Bad-Name\"\n  }\n}", "Invalid schema name"},
		"type":    {"adshift {\n  backend \"s3\" {}\n}", "Unsupported backend type"},
		"pg-path": {"adshift {\n  backend \"pg\" {\n    path = \"x\"\n  }\n}", "Unsupported argument"},
	} {
		t.Run(name, func(t *testing.T) {
			_, diags := decodeSrc(t, tc.src)
			if !diags.HasErrors() || diags[0].Summary != tc.summary || diags[0].Subject == nil {
				t.Fatalf("diags = %v, want %q", diags, tc.summary)
			}
		})
	}
}
