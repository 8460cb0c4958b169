package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestHelpEveryCommand runs adshift help COMMAND for every command and
// checks that it succeeds, names the command, and describes every option
// it lists (a flag line is followed by its description).
func TestHelpEveryCommand(t *testing.T) {
	names := append(visibleCommands(), "provider-serve")
	for sub := range usages {
		names = append(names, sub)
	}
	flagLine := regexp.MustCompile(`^  -[a-z-]+( [A-Za-z=]+)?$`)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"help"}, strings.Fields(name)...)
			if code := run(args, strings.NewReader(""), &out, &errb); code != exitOK {
				t.Fatalf("adshift %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
			}
			text := out.String()
			if !strings.HasPrefix(text, "Usage: adshift "+name) {
				t.Errorf("help %s starts %q", name, firstLine(text))
			}
			if !strings.Contains(text, synopses[name]) {
				t.Errorf("help %s lacks its synopsis %q", name, synopses[name])
			}
			lines := strings.Split(text, "\n")
			for i, l := range lines {
				if flagLine.MatchString(l) {
					if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    \t") || len(strings.TrimSpace(lines[i+1])) < 10 {
						t.Errorf("help %s: option %q has no description", name, strings.TrimSpace(l))
					}
				}
			}
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func TestDidYouMean(t *testing.T) {
	names := []string{"apply", "plan", "validate", "version"}
	for _, tc := range []struct{ got, want string }{
		{"pln", `. Did you mean "plan"?`},
		{"aply", `. Did you mean "apply"?`},
		{"vali", `. Did you mean "validate"?`},
		{"v", ""}, // too short a prefix to guess
		{"ve", `. Did you mean "version"?`},
		{"frobnicate", ""},
	} {
		if got := didYouMean(tc.got, names); got != tc.want {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.got, got, tc.want)
		}
	}
}

// TestREADMECommands checks the README's command table against the CLI:
// every command it lists exists, and every option it names for a command
// is one that command's -h lists (the example pipelines are checked
// against the same table, in examples/ci).
func TestREADMECommands(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmdRE := regexp.MustCompile("`adshift ([a-z-]+)([^`]*)`")
	flagRE := regexp.MustCompile(`(?:^|[\s\[|(])(-[a-z][a-z-]*)`)
	rows := 0
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `adshift ") {
			continue
		}
		cell := strings.SplitN(line, " | ", 2)[0]
		for _, m := range cmdRE.FindAllStringSubmatch(cell, -1) {
			rows++
			name := m[1]
			if name == "state" || name == "odj" || name == "workspace" {
				name += " " + strings.Fields(m[2])[0]
			}
			var out, errb bytes.Buffer
			if code := run(append([]string{"help"}, strings.Fields(name)...), strings.NewReader(""), &out, &errb); code != exitOK {
				t.Errorf("README documents adshift %s, which does not exist: %s", name, errb.String())
				continue
			}
			for _, f := range flagRE.FindAllStringSubmatch(m[2], -1) {
				if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(f[1]) + `\b`).MatchString(out.String()) {
					t.Errorf("README documents adshift %s %s, which adshift %s -h does not list", name, f[1], name)
				}
			}
		}
	}
	if rows < 10 {
		t.Fatalf("found %d commands in the README's table", rows)
	}
}
