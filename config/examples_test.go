package config

import (
	"path/filepath"
	"testing"
)

// TestExamples loads and evaluates every example configuration of the
// repository (provider-owned settings are checked by the CLI tests, which
// run the providers).
func TestExamples(t *testing.T) {
	dirs, _ := filepath.Glob("../examples/*")
	dirs = append(dirs, "../bench/genestate")
	for _, dir := range dirs {
		names, err := ConfigFiles(dir)
		if err != nil || len(names) == 0 {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, diags := NewParser().LoadDir(dir)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			if _, diags := cfg.Evaluate(EvalOptions{AllowMissing: true}); diags.HasErrors() {
				t.Fatal(diags)
			}
		})
	}
}
