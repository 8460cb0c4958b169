package providers

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFindPlugin(t *testing.T) {
	root := t.TempDir()
	mk := func(rel string, mode os.FileMode) string {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := mk("a/adshift-provider-acme", 0o755)
	second := mk("b/adshift-provider-acme", 0o755)
	mk("c/adshift-provider-noexec", 0o644)
	mk("w/adshift-provider-acme.exe", 0o644)
	if err := os.MkdirAll(filepath.Join(root, "d/adshift-provider-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := func(name string) string { return filepath.Join(root, name) }

	tests := []struct {
		name     string
		provider string
		dirs     []string
		goos     string
		want     string
		wantErr  []string // substrings
	}{
		{name: "first directory wins", provider: "acme", dirs: []string{dir("a"), dir("b")}, goos: "linux", want: first},
		{name: "later directory", provider: "acme", dirs: []string{dir("missing"), "", dir("b")}, goos: "linux", want: second},
		{name: "windows adds .exe", provider: "acme", dirs: []string{dir("a"), dir("w")}, goos: "windows", want: filepath.Join(dir("w"), "adshift-provider-acme.exe")},
		{
			name: "not found lists every directory", provider: "ghost", dirs: []string{dir("a"), dir("b")}, goos: "linux",
			wantErr: []string{`find provider "ghost"`, "no adshift-provider-ghost in:", dir("a"), dir("b")},
		},
		{
			name: "not executable", provider: "noexec", dirs: []string{dir("c")}, goos: "linux",
			wantErr: []string{dir("c") + " (adshift-provider-noexec is not executable)"},
		},
		{
			name: "directory, not a file", provider: "dir", dirs: []string{dir("d")}, goos: "linux",
			wantErr: []string{"(adshift-provider-dir is a directory)"},
		},
		{name: "no directories", provider: "acme", goos: "linux", wantErr: []string{"no plugin directories to search for adshift-provider-acme"}},
		{name: "path in the name", provider: "../a/acme", dirs: []string{dir("b")}, goos: "linux", wantErr: []string{"invalid provider name"}},
		{name: "empty name", provider: "", dirs: []string{dir("a")}, goos: "linux", wantErr: []string{"invalid provider name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.goos != "windows" {
				t.Skip("file modes carry no execute bits on Windows")
			}
			got, err := findPlugin(tt.provider, tt.dirs, tt.goos)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("path (-want +got):\n%s", diff)
				}
				return
			}
			if err == nil {
				t.Fatalf("found %s, want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(tt.name, "not found") && !errors.Is(err, ErrPluginNotFound) {
				t.Errorf("error does not wrap ErrPluginNotFound")
			}
		})
	}
}

// FindPlugin finds a real binary for the host platform.
func TestFindPlugin_hostPlatform(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, pluginFileName("x", runtime.GOOS))
	if err := os.WriteFile(want, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := FindPlugin("x", []string{dir})
	if err != nil || got != want {
		t.Errorf("FindPlugin = %q, %v; want %q", got, err, want)
	}
}
