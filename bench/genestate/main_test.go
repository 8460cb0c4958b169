package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "estate")
	var stderr bytes.Buffer
	if code := run([]string{"-objects", "1000", "-seed", "5", "-out", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"source.ldif", "target.ldif", "main.hcl"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Size() == 0 || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: size %d mode %v", name, info.Size(), info.Mode())
		}
	}
	hcl, err := os.ReadFile(filepath.Join(dir, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hcl, benchConfig) || !bytes.Contains(hcl, []byte(`file     = "source.ldif"`)) {
		t.Errorf("main.hcl is not the benchmark configuration:\n%s", hcl)
	}
	if !strings.Contains(stderr.String(), "source.ldif: ") || !strings.Contains(stderr.String(), "(600 users, 200 groups, 200 computers") {
		t.Errorf("summary missing: %s", stderr.String())
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestRun_quickstartMatchesCommitted(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	if code := run([]string{"-quickstart", "-out", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, name := range []string{"source.ldif", "target.ldif"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("..", "..", "examples", "quickstart", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from examples/quickstart/%s", name, name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "main.hcl")); !os.IsNotExist(err) {
		t.Errorf("quickstart mode wrote main.hcl (err %v)", err)
	}
}

func TestRun_errors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"-objects", "1000"}, 2, "usage: genestate"},
		{"extra argument", []string{"-out", "x", "y"}, 2, "usage: genestate"},
		{"bad flag", []string{"-nope"}, 2, "flag provided but not defined"},
		{"too small", []string{"-objects", "5", "-out", "DIR"}, 1, "genestate: estate of 5 objects: need at least 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, a := range tt.args {
				if a == "DIR" {
					tt.args[i] = t.TempDir()
				}
			}
			var stderr bytes.Buffer
			if code := run(tt.args, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}
