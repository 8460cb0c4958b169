package state

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanKey(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(filepath.Join(t.TempDir(), "s.json"))
	if _, err := l.PlanKey(ctx, "L1", false); !errors.Is(err, ErrNoPlanKey) {
		t.Fatalf("no key yet: got %v, want ErrNoPlanKey", err)
	}
	k1, err := l.PlanKey(ctx, "L1", true)
	if err != nil || len(k1) != PlanKeySize {
		t.Fatalf("create: %v, %d bytes", err, len(k1))
	}
	again, err := l.PlanKey(ctx, "L1", false)
	if err != nil || !bytes.Equal(again, k1) {
		t.Fatalf("read back: %v, same=%v", err, bytes.Equal(again, k1))
	}
	k2, _ := l.PlanKey(ctx, "L2", true)
	if bytes.Equal(k1, k2) {
		t.Fatal("two lineages share a key")
	}
	fi, err := os.Stat(l.KeysPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("keys file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if s, _ := l.Load(ctx); s != nil && len(s.Objects) != 0 {
		t.Fatal("a key made state objects")
	}
	// The state file itself never holds a key.
	if _, err := os.Stat(l.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("making a key wrote the state file: %v", err)
	}
}

func TestPlanKey_keepsTheNewest(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(filepath.Join(t.TempDir(), "s.json"))
	first, _ := l.PlanKey(ctx, "first", true)
	for i := range maxPlanKeys + 3 {
		if _, err := l.PlanKey(ctx, "L"+strings.Repeat("x", i), true); err != nil {
			t.Fatal(err)
		}
	}
	kf, err := l.readKeys()
	if err != nil || len(kf.Keys) != maxPlanKeys {
		t.Fatalf("%v; %d keys kept, want %d", err, len(kf.Keys), maxPlanKeys)
	}
	if k, err := l.PlanKey(ctx, "first", false); err == nil && bytes.Equal(k, first) {
		t.Fatal("the oldest key was kept past the bound")
	}
}

func TestPlanKey_damagedFile(t *testing.T) {
	l := NewLocal(filepath.Join(t.TempDir(), "s.json"))
	os.WriteFile(l.KeysPath(), []byte("{not json"), 0o600)
	_, err := l.PlanKey(context.Background(), "L1", false)
	if err == nil || !strings.Contains(err.Error(), l.KeysPath()) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v, want the damaged file named", err)
	}
}
