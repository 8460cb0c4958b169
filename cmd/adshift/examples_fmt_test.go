package main

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamplesAreFormatted runs adshift fmt -check over every example, as a
// user copying one would: an example must pass the check it teaches.
func TestExamplesAreFormatted(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	n := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatalf("no .hcl files under %s", root)
	}
	var out, errOut bytes.Buffer
	m := newMeta(context.Background(), root, nil, &out, &errOut, nil)
	defer m.close()
	if code := runFmt(m, []string{"-check", "-recursive"}); code != exitOK {
		t.Fatalf("adshift fmt -check -recursive examples: exit %d; not formatted (run adshift fmt on them):\n%s%s", code, out.String(), errOut.String())
	}
	t.Logf("%d example files are formatted", n)
}
