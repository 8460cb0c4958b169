package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
)

func TestUploadLogs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "WS0001")
	os.MkdirAll(filepath.Join(dir, JournalDir), 0o755)
	b := New(dir)
	mustRun(t, b, api.ActionNoop, nil) // writes actions.log
	if err := writeSummary(filepath.Join(dir, JournalDir), journalSummary{Generation: "reacl-0001", Action: "reacl", Mode: "add", Items: 3}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, JournalDir, "reacl-0001.jnl"), []byte("not shipped\n"), 0o600)
	repo := t.TempDir()
	now := time.Date(2026, 12, 7, 3, 4, 5, 6e6, time.UTC)
	out, err := b.uploadLogs(context.Background(), repo, now, func(int64, int64) {})
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(repo, "WS0001", "logs", "20261207T030405.006Z")
	if !strings.HasPrefix(out, "upload_logs: 2 files, ") || !strings.HasSuffix(out, dest) {
		t.Errorf("output %q", out)
	}
	for _, f := range []string{ActionsLog, "reacl-0001.summary.json"} {
		want, _ := os.ReadFile(filepath.Join(dir, f))
		if f != ActionsLog {
			want, _ = os.ReadFile(filepath.Join(dir, JournalDir, f))
		}
		got, err := os.ReadFile(filepath.Join(dest, f))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: %q (%v), want %q", f, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "reacl-0001.jnl")); err == nil {
		t.Error("the journal itself (descriptor bytes) was uploaded; only summaries should be")
	}
	if _, err := run(t, context.Background(), b, api.ActionUploadLogs, map[string]string{api.ParamRepository: filepath.Join(repo, "missing")}); err == nil {
		t.Error("a missing repository was accepted")
	}
}

func TestDownload(t *testing.T) {
	dir := t.TempDir()
	b := New(dir)
	repo := t.TempDir()
	os.MkdirAll(filepath.Join(repo, "odj"), 0o755)
	os.WriteFile(filepath.Join(repo, "odj", "WS0001.odj"), []byte("blob"), 0o644)
	os.WriteFile(filepath.Join(repo, "readme.txt"), []byte("hello"), 0o644)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(repo, "link"))

	out := mustRun(t, b, api.ActionDownload, map[string]string{api.ParamRepository: repo, api.ParamFiles: "odj/WS0001.odj\n\nreadme.txt\n"})
	if out != "download: 2 files, 9 bytes to downloads" {
		t.Errorf("output %q", out)
	}
	for f, want := range map[string]string{"odj/WS0001.odj": "blob", "readme.txt": "hello"} {
		if got, err := os.ReadFile(filepath.Join(dir, DownloadsDir, f)); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", f, got, err)
		}
	}
	// Again: idempotent.
	mustRun(t, b, api.ActionDownload, map[string]string{api.ParamRepository: repo, api.ParamFiles: "readme.txt"})

	for _, tc := range []struct{ files, want string }{
		{"../" + filepath.Base(outside) + "/secret", "is not a path inside the repository"},
		{filepath.Join(outside, "secret"), "is not a path inside the repository"},
		{"odj/../../x", "is not a path inside the repository"},
		{"link", "leads out of the repository"},
		{"readme.txt\nmissing.txt", "line 2"},
		{"", "lists no file"},
		{"odj", "not a regular file"},
	} {
		_, err := run(t, context.Background(), b, api.ActionDownload, map[string]string{api.ParamRepository: repo, api.ParamFiles: tc.files})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("files %q: %v, want %q", tc.files, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, DownloadsDir, "secret")); err == nil {
		t.Error("a file from outside the repository was copied")
	}
}
