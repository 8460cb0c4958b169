package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

func runFmt(m *meta, args []string) int {
	var check, diff, recursive, list bool
	fset := newFlags(m, "fmt", "fmt [options] [DIR|FILE...]")
	fset.BoolVar(&check, "check", false, "Only check; exit 3 when a file is not formatted")
	fset.BoolVar(&diff, "diff", false, "Show the changes as a diff")
	fset.BoolVar(&recursive, "recursive", false, "Also format files in subdirectories")
	fset.BoolVar(&list, "list", true, "List the files whose formatting differs")
	if code, ok := parseFlags(fset, args); !ok {
		return code
	}
	targets := fset.Args()
	if len(targets) == 0 {
		targets = []string{m.dir}
	}
	var files []string
	for _, t := range targets {
		if !filepath.IsAbs(t) && len(fset.Args()) > 0 {
			t = filepath.Join(m.dir, t)
		}
		info, err := os.Stat(t)
		if err != nil {
			fmt.Fprintf(m.stderr, "Error: %v\n", err)
			return exitError
		}
		if !info.IsDir() {
			files = append(files, t)
			continue
		}
		err = filepath.WalkDir(t, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != t && (!recursive || strings.HasPrefix(d.Name(), ".")) {
					return filepath.SkipDir
				}
				return nil
			}
			if strings.HasSuffix(path, ".hcl") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(m.stderr, "Error: %v\n", err)
			return exitError
		}
	}
	changed := false
	var diags hcl.Diagnostics
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(m.stderr, "Error: %v\n", err)
			return exitError
		}
		// Refuse to format what does not parse: formatting would hide the
		// syntax error's position.
		if _, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		out := hclwrite.Format(src)
		if bytes.Equal(src, out) {
			continue
		}
		changed = true
		rel, _ := filepath.Rel(m.dir, path)
		if list {
			fmt.Fprintln(m.stdout, rel)
		}
		if diff {
			m.writeDiff(rel, src, out)
		}
		if !check {
			info, _ := os.Stat(path)
			if err := os.WriteFile(path, out, info.Mode().Perm()); err != nil {
				fmt.Fprintf(m.stderr, "Error: %v\n", err)
				return exitError
			}
		}
	}
	if len(diags) > 0 {
		m.view.Diagnostics(diags)
		return exitError
	}
	if check && changed {
		return 3
	}
	return exitOK
}

// writeDiff prints a unified diff of a formatting change, using diff(1)
// when present and a plain before/after otherwise.
func (m *meta) writeDiff(name string, before, after []byte) {
	dir, err := os.MkdirTemp("", "adshift-fmt")
	if err == nil {
		defer os.RemoveAll(dir)
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if os.WriteFile(a, before, 0o600) == nil && os.WriteFile(b, after, 0o600) == nil {
			out, _ := exec.Command("diff", "-u", "--label", "old/"+name, "--label", "new/"+name, a, b).Output()
			if len(out) > 0 {
				m.stdout.Write(out)
				return
			}
		}
	}
	fmt.Fprintf(m.stdout, "--- old/%s\n+++ new/%s\n", name, name)
	for _, l := range strings.Split(strings.TrimSuffix(string(before), "\n"), "\n") {
		fmt.Fprintf(m.stdout, "-%s\n", l)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(after), "\n"), "\n") {
		fmt.Fprintf(m.stdout, "+%s\n", l)
	}
}
