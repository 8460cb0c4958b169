package lab

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/adshift/adshift/hub/api"
	"github.com/google/go-cmp/cmp"
)

func TestReACLRollback_conflict(t *testing.T) {
	b := newDevice(t, 20)
	before := snapshot(t, b)
	mustRun(t, b, api.ActionReACL, reaclParams("replace"))
	touched := filepath.Join(DiskDir, "d000", "d000", "f000003.txt")
	other, _ := encodeSDDL("O:BAG:SYD:(A;;FA;;;WD)")
	if err := setNTACL(filepath.Join(b.dir, touched), other); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, context.Background(), b, api.ActionReACLRollback, nil)
	if err == nil || !strings.Contains(err.Error(), touched+": changed since reacl") {
		t.Fatalf("rollback over a changed item: %v (%s), want an error naming %s", err, out, touched)
	}
	after := snapshot(t, b)
	for k, v := range before {
		if k != touched && after[k] != v {
			t.Errorf("%s not restored", k)
		}
	}
	// Put back what reacl wrote: the retry finishes and marks the journal.
	j, _ := openJournal(filepath.Join(b.dir, JournalDir))
	it := j.gens[0].items[j.gens[0].index[itemXattr+"\x00"+touched]]
	setNTACL(filepath.Join(b.dir, touched), it.New)
	mustRun(t, b, api.ActionReACLRollback, nil)
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Fatalf("(-before +after):\n%s", diff)
	}
}

// TestReACLRollback_conflictStopsLayers: a conflict in the newest
// generation leaves the older ones alone until it is resolved.
func TestReACLRollback_conflictStopsLayers(t *testing.T) {
	b := newDevice(t, 20)
	before := snapshot(t, b)
	mustRun(t, b, api.ActionReACL, reaclParams("add"))
	mustRun(t, b, api.ActionCleanup, map[string]string{api.ParamSIDMap: testSIDMap()})
	touched := filepath.Join(DiskDir, "d000", "d000", "f000004.txt")
	keep, _ := getNTACL(filepath.Join(b.dir, touched), nil)
	other, _ := encodeSDDL("O:BAG:SYD:(A;;FA;;;WD)")
	setNTACL(filepath.Join(b.dir, touched), other)
	if _, err := run(t, context.Background(), b, api.ActionReACLRollback, nil); err == nil {
		t.Fatal("rollback over a changed item succeeded")
	}
	j, _ := openJournal(filepath.Join(b.dir, JournalDir))
	if j.gens[0].rolledBack || j.gens[1].rolledBack {
		t.Fatalf("generations marked rolled back (%v, %v) after a conflict in the newest", j.gens[0].rolledBack, j.gens[1].rolledBack)
	}
	setNTACL(filepath.Join(b.dir, touched), keep)
	out := mustRun(t, b, api.ActionReACLRollback, nil)
	if !strings.HasSuffix(out, "(rolled back: reacl-0002, reacl-0001)") {
		t.Errorf("retry: %s", out)
	}
	if diff := cmp.Diff(before, snapshot(t, b)); diff != "" {
		t.Fatalf("(-before +after):\n%s", diff)
	}
}
