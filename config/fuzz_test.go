package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// FuzzDecode feeds arbitrary text through parsing, decoding and evaluation:
// whatever a user writes gives diagnostics, never a panic.
func FuzzDecode(f *testing.F) {
	for _, glob := range []string{"testdata/valid/*.hcl", "testdata/errors/*.hcl", "../examples/*/*.hcl"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		file, diags := hclparse.NewParser().ParseHCL(src, "fuzz.hcl")
		if diags.HasErrors() || file == nil {
			return
		}
		cfg, _ := Decode([]*hcl.File{file})
		if cfg == nil {
			t.Fatal("Decode returned no configuration")
		}
		cfg.Dir = t.TempDir()
		cfg.Evaluate(EvalOptions{AllowMissing: true})
		cfg.Evaluate(EvalOptions{Inputs: Inputs{"x": {Raw: "1", Source: "-var flag"}}})
	})
}
