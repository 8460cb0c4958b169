package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script")

// TestMain lets the test binary act as adshift: testscript runs it under
// that name, and adshift re-executes it to serve built-in providers.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"adshift": func() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *update,
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"flipbyte": cmdFlipByte, "planedit": cmdPlanEdit, "replace": cmdReplace},
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "")
			env.Setenv("ADSHIFT_LOG", "")
			return copyDir(filepath.Join("..", "..", "examples", "quickstart"), filepath.Join(env.WorkDir, "quickstart"))
		},
	})
}

// copyDir copies the regular files of one directory (not recursive).
func copyDir(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "adshift.state" {
			continue
		}
		if err := copyFile(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// cmdFlipByte flips the low bit of one byte of a file: flipbyte FILE
// OFFSET, a negative OFFSET counting from the end.
func cmdFlipByte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE OFFSET")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	if off < 0 {
		off += len(data)
	}
	if off < 0 || off >= len(data) {
		ts.Fatalf("offset %s outside %d bytes", args[1], len(data))
	}
	data[off] ^= 1
	ts.Check(os.WriteFile(path, data, 0o644))
}

// cmdPlanEdit does what someone without the plan key can do to a plan
// file: decompress its JSON, replace the first OLD with NEW, and compress
// it again between the untouched header and trailer. planedit FILE OLD NEW
func cmdPlanEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: planedit FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	start := bytes.Index(data, []byte{0x1f, 0x8b})
	trailer := len(data) - len("mac \n") - 64
	if start < 0 || trailer <= start || !bytes.HasPrefix(data[trailer:], []byte("mac ")) {
		ts.Fatalf("%s does not look like a plan file", path)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data[start:trailer]))
	ts.Check(err)
	js, err := io.ReadAll(zr)
	ts.Check(err)
	if !bytes.Contains(js, []byte(args[1])) {
		ts.Fatalf("%q is not in the plan", args[1])
	}
	js = bytes.Replace(js, []byte(args[1]), []byte(args[2]), 1)
	var out bytes.Buffer
	out.Write(data[:start])
	zw := gzip.NewWriter(&out)
	zw.Write(js)
	ts.Check(zw.Close())
	out.Write(data[trailer:])
	ts.Check(os.WriteFile(path, out.Bytes(), 0o644))
}

// cmdReplace replaces the first OLD in a file with NEW (\n in either
// stands for a newline): replace FILE OLD NEW
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	unq := func(s string) string { return strings.ReplaceAll(s, `\n`, "\n") }
	if !strings.Contains(string(data), unq(args[1])) {
		ts.Fatalf("%q is not in %s", args[1], args[0])
	}
	ts.Check(os.WriteFile(path, []byte(strings.Replace(string(data), unq(args[1]), unq(args[2]), 1)), 0o644))
}
