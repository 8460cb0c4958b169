package state

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeTwice commits two changes, so that a snapshot and its backup exist.
func writeTwice(t *testing.T, l *Local) *State {
	t.Helper()
	ctx := context.Background()
	for _, addr := range []string{"a", "b"} {
		s, err := l.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		txn, err := l.Begin(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := txn.PutObject(&Object{Address: addr, Kind: KindUser}); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := l.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoad_damagedStateNamesPositionAndBackup(t *testing.T) {
	l := NewLocal(filepath.Join(t.TempDir(), "adshift.state"))
	writeTwice(t, l)
	data, _ := os.ReadFile(l.Path())
	os.WriteFile(l.Path(), data[:len(data)/2], 0o644)
	_, err := l.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "it was truncated") || !strings.Contains(err.Error(), "copy it over") ||
		!strings.Contains(err.Error(), l.BackupPath()) {
		t.Fatalf("got %v, want the truncation and the backup to restore from", err)
	}
	os.Remove(l.BackupPath())
	_, err = l.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "No backup snapshot exists") {
		t.Fatalf("got %v, want it said that no backup exists", err)
	}
}

func TestLoad_replacedLineageIsRefused(t *testing.T) {
	l := NewLocal(filepath.Join(t.TempDir(), "adshift.state"))
	s := writeTwice(t, l)
	data, _ := os.ReadFile(l.Path())
	os.WriteFile(l.Path(), []byte(strings.Replace(string(data), s.Lineage, "0e1d2c3b-0000-4000-8000-000000000000", 1)), 0o644)
	_, err := l.Load(context.Background())
	if !errors.Is(err, ErrLineageMismatch) || !strings.Contains(err.Error(), s.Lineage) || !strings.Contains(err.Error(), "0e1d2c3b-0000-4000-8000-000000000000") {
		t.Fatalf("got %v, want both lineages named", err)
	}
}

func TestLock_pathProblemsAreNotLocks(t *testing.T) {
	dir := t.TempDir()
	missing := NewLocal(filepath.Join(dir, "nowhere", "adshift.state"))
	_, err := missing.Lock(context.Background(), NewLockInfo("plan"))
	var le *LockError
	if err == nil || errors.As(err, &le) || !strings.Contains(err.Error(), "its directory "+filepath.Join(dir, "nowhere")+" does not exist") {
		t.Fatalf("missing directory: got %v", err)
	}
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	if os.Geteuid() == 0 {
		// root ignores permission bits; an immutable directory refuses it.
		if out, err := exec.Command("chattr", "+i", ro).CombinedOutput(); err != nil {
			t.Skipf("chattr +i: %v %s (needs root on ext4)", err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", ro).Run() })
	} else {
		os.Chmod(ro, 0o555)
	}
	_, err = NewLocal(filepath.Join(ro, "adshift.state")).Lock(context.Background(), NewLockInfo("plan"))
	if err == nil || errors.As(err, &le) || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "may write "+ro) {
		t.Fatalf("read-only directory: got %v", err)
	}
}
