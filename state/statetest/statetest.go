// Package statetest is the suite every state backend passes: the same
// cases run against the local backend and PostgreSQL (state/pg).
package statetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/state"
)

// Run runs the suite; open returns the workspaces of an empty backend.
func Run(t *testing.T, open func(t *testing.T) state.Workspaces) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("CommitLoad", func(t *testing.T) { testCommitLoad(t, open(t)) })
	t.Run("JournalReplay", func(t *testing.T) { testJournalReplay(t, open(t)) })
	t.Run("Stale", func(t *testing.T) { testStale(t, open(t)) })
	t.Run("Lock", func(t *testing.T) { testLock(t, open(t)) })
	t.Run("LockWaits", func(t *testing.T) { testLockWaits(t, open(t)) })
	t.Run("ForceUnlock", func(t *testing.T) { testForceUnlock(t, open(t)) })
	t.Run("PlanKey", func(t *testing.T) { testPlanKey(t, open(t)) })
	t.Run("Write", func(t *testing.T) { testWrite(t, open(t)) })
	t.Run("MoveRemove", func(t *testing.T) { testMoveRemove(t, open(t)) })
	t.Run("Workspaces", func(t *testing.T) { testWorkspaces(t, open(t)) })
}

var at = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// Object returns a matched user number i of workflow wf.
func Object(wf string, i int) *state.Object {
	name := fmt.Sprintf("user%04d", i)
	return &state.Object{
		Address:  fmt.Sprintf("workflow.%s.user[%q]", wf, name),
		Workflow: wf,
		Kind:     state.KindUser,
		Source:   state.Identity{DN: "CN=" + name + ",DC=source,DC=test", GUID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), SID: fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i)},
		Target:   state.Identity{DN: "CN=" + name + ",DC=target,DC=test", SID: fmt.Sprintf("S-1-5-21-4-5-6-%d", 1000+i)},
		Created:  i%2 == 0, UpdatedAt: at,
	}
}

// Device returns a device number i of cutover wave1.
func Device(i int) *state.Device {
	name := fmt.Sprintf("WS%03d", i)
	return &state.Device{
		Address: fmt.Sprintf("device_cutover.wave1[%q]", name), Cutover: "wave1", Name: name,
		Actions:   []state.DeviceAction{{Name: "reacl", Status: state.ActionDone, At: at}},
		UpdatedAt: at,
	}
}

func backend(t *testing.T, ws state.Workspaces, name string) state.Backend {
	t.Helper()
	b, err := ws.Backend(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lock(t *testing.T, b state.Backend, op string) state.Unlocker {
	t.Helper()
	u, err := b.Lock(t.Context(), state.NewLockInfo(op))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Unlock() })
	return u
}

func load(t *testing.T, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func begin(t *testing.T, b state.Backend, s *state.State) *state.Txn {
	t.Helper()
	txn, err := b.Begin(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return txn
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// apply records n objects and a device into b's state and commits.
func apply(t *testing.T, b state.Backend, wf string, n int) *state.State {
	t.Helper()
	u := lock(t, b, "apply")
	defer u.Unlock()
	s := load(t, b)
	txn := begin(t, b, s)
	for i := range n {
		check(t, txn.PutObject(Object(wf, i)))
	}
	check(t, txn.PutDevice(Device(1)))
	check(t, txn.Commit())
	return s
}

func testEmpty(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	s := load(t, b)
	if s.Lineage == "" || s.Serial != 0 || len(s.Objects)+len(s.Devices) != 0 {
		t.Fatalf("empty backend loads %+v", s)
	}
	// Begin and Commit without changes write nothing: the next Load
	// makes up another lineage.
	u := lock(t, b, "apply")
	txn := begin(t, b, s)
	check(t, txn.Commit())
	check(t, u.Unlock())
	if s2 := load(t, b); s2.Lineage == s.Lineage {
		t.Errorf("an empty commit stored lineage %s", s.Lineage)
	}
}

func testCommitLoad(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	s := apply(t, b, "identities", 5)
	got := load(t, b)
	if diff := cmp.Diff(s, got); diff != "" {
		t.Fatalf("loaded state (-committed +loaded):\n%s", diff)
	}
	if got.Serial != 6 {
		t.Errorf("serial = %d, want 6", got.Serial)
	}
	// A second apply builds on the first.
	u := lock(t, b, "apply")
	txn := begin(t, b, got)
	check(t, txn.DeleteObject(Object("identities", 0).Address))
	check(t, txn.Commit())
	check(t, u.Unlock())
	if s := load(t, b); s.Serial != 7 || len(s.Objects) != 4 {
		t.Errorf("after a delete: serial %d, %d objects", s.Serial, len(s.Objects))
	}
}

func testJournalReplay(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	base := apply(t, b, "identities", 2)
	u := lock(t, b, "apply")
	s := load(t, b)
	txn := begin(t, b, s)
	check(t, txn.PutObject(Object("identities", 7)))
	check(t, txn.PutObject(Object("identities", 8)))
	// A run that dies before Commit: the records are durable.
	check(t, txn.Close())
	check(t, u.Unlock())
	got := load(t, b)
	if got.Serial != base.Serial+2 || got.Objects[Object("identities", 8).Address] == nil || got.Lineage != base.Lineage {
		t.Fatalf("replayed state: serial %d (want %d), %d objects", got.Serial, base.Serial+2, len(got.Objects))
	}
	// The next Begin folds the journal and goes on from it.
	u = lock(t, b, "apply")
	txn = begin(t, b, got)
	check(t, txn.PutObject(Object("identities", 9)))
	check(t, txn.Commit())
	check(t, u.Unlock())
	if s := load(t, b); s.Serial != base.Serial+3 || len(s.Objects) != 5 {
		t.Errorf("after the fold: serial %d, %d objects", s.Serial, len(s.Objects))
	}
}

func testStale(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	apply(t, b, "identities", 1)
	old := load(t, b)
	apply(t, b, "identities", 2)
	u := lock(t, b, "apply")
	defer u.Unlock()
	if _, err := b.Begin(t.Context(), old); !errors.Is(err, state.ErrSerialMismatch) {
		t.Errorf("Begin with a stale state: %v, want ErrSerialMismatch", err)
	}
	other := state.New()
	other.Serial = load(t, b).Serial
	if _, err := b.Begin(t.Context(), other); !errors.Is(err, state.ErrLineageMismatch) {
		t.Errorf("Begin with another lineage: %v, want ErrLineageMismatch", err)
	}
}

func testLock(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	info := state.NewLockInfo("apply")
	u, err := b.Lock(t.Context(), info)
	check(t, err)
	// A second run fails at once with a done context, naming the holder.
	done, cancel := contextDone(t)
	defer cancel()
	_, err = backend(t, ws, state.DefaultWorkspace).Lock(done, state.NewLockInfo("plan"))
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: %v, want a *LockError", err)
	}
	if le.Info.ID != info.ID || le.Info.Who != info.Who || le.Info.Operation != "apply" || !le.Info.Created.Equal(info.Created) || le.Info.PID != info.PID {
		t.Errorf("LockError names %+v, want %+v", le.Info, info)
	}
	for _, want := range []string{info.ID, info.Who, info.Created.Format(time.RFC3339), `"apply"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	check(t, u.Unlock())
	check(t, u.Unlock()) // a no-op
	u2, err := b.Lock(done, state.NewLockInfo("plan"))
	if err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	check(t, u2.Unlock())
}

func testLockWaits(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	u := lock(t, b, "apply")
	got := make(chan error, 1)
	go func() {
		u2, err := backend(t, ws, state.DefaultWorkspace).Lock(t.Context(), state.NewLockInfo("apply"))
		if err == nil {
			err = u2.Unlock()
		}
		got <- err
	}()
	check(t, u.Unlock())
	if err := <-got; err != nil {
		t.Fatalf("a waiting Lock: %v", err)
	}
}

func testForceUnlock(t *testing.T, ws state.Workspaces) {
	ctx := t.Context()
	if err := ws.ForceUnlock(ctx, state.DefaultWorkspace, "nope"); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Errorf("ForceUnlock of an unlocked workspace: %v", err)
	}
	b := backend(t, ws, state.DefaultWorkspace)
	info := state.NewLockInfo("apply")
	u, err := b.Lock(ctx, info)
	check(t, err)
	defer u.Unlock()
	if err := ws.ForceUnlock(ctx, state.DefaultWorkspace, "wrong-id"); err == nil || !strings.Contains(err.Error(), info.ID) {
		t.Errorf("ForceUnlock with a wrong ID: %v, want a refusal naming %s", err, info.ID)
	}
}

func testPlanKey(t *testing.T, ws state.Workspaces) {
	ctx := t.Context()
	b := backend(t, ws, state.DefaultWorkspace)
	if _, err := b.PlanKey(ctx, "lineage-1", false); !errors.Is(err, state.ErrNoPlanKey) {
		t.Errorf("PlanKey of an unknown lineage: %v", err)
	}
	k1, err := b.PlanKey(ctx, "lineage-1", true)
	check(t, err)
	if len(k1) != state.PlanKeySize {
		t.Fatalf("key of %d bytes", len(k1))
	}
	k2, err := b.PlanKey(ctx, "lineage-1", false)
	check(t, err)
	k3, err := b.PlanKey(ctx, "lineage-2", true)
	check(t, err)
	if string(k1) != string(k2) || string(k1) == string(k3) {
		t.Errorf("keys: the same lineage gave another key, or two lineages the same")
	}
}

func testWrite(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	s := apply(t, b, "identities", 3)
	u := lock(t, b, "state push")
	// A journal left behind is discarded by Write.
	txn := begin(t, b, load(t, b))
	check(t, txn.PutObject(Object("identities", 50)))
	check(t, txn.Close())
	pushed := s.Clone()
	delete(pushed.Objects, Object("identities", 1).Address)
	pushed.Serial += 10
	check(t, b.Write(t.Context(), pushed))
	check(t, u.Unlock())
	if diff := cmp.Diff(pushed, load(t, b)); diff != "" {
		t.Errorf("after Write (-pushed +loaded):\n%s", diff)
	}
	// A state of another lineage (a forced push) replaces it too, and
	// the backend goes on from it.
	other := state.New()
	other.Serial = 3
	other.Objects[Object("x", 1).Address] = Object("x", 1)
	u = lock(t, b, "state push")
	check(t, b.Write(t.Context(), other))
	check(t, u.Unlock())
	if diff := cmp.Diff(other, load(t, b)); diff != "" {
		t.Errorf("after Write of another lineage (-pushed +loaded):\n%s", diff)
	}
	apply(t, b, "x", 2)
	if s := load(t, b); s.Lineage != other.Lineage || s.Serial != 6 {
		t.Errorf("after an apply on the pushed state: lineage %s serial %d", s.Lineage, s.Serial)
	}
}

func testMoveRemove(t *testing.T, ws state.Workspaces) {
	b := backend(t, ws, state.DefaultWorkspace)
	apply(t, b, "identities", 3)
	u := lock(t, b, "state mv")
	s := load(t, b)
	txn := begin(t, b, s)
	from, to := Object("identities", 1).Address, `workflow.people.user["renamed"]`
	check(t, txn.Move(from, to))
	for _, bad := range [][2]string{
		{from, `workflow.x.user["y"]`},                   // gone
		{to, Object("identities", 2).Address},            // taken
		{to, `workflow.people.group["g"]`},               // another kind
		{Device(1).Address, `workflow.x.user["y"]`},      // device to object
		{Object("identities", 2).Address, "not-an-addr"}, // not an address
	} {
		if err := txn.Move(bad[0], bad[1]); err == nil {
			t.Errorf("Move(%s, %s) succeeded", bad[0], bad[1])
		}
	}
	check(t, txn.Remove(Device(1).Address))
	if err := txn.Remove(Device(1).Address); err == nil {
		t.Errorf("removing a removed device succeeded")
	}
	check(t, txn.Commit())
	check(t, u.Unlock())
	got := load(t, b)
	o := got.Objects[to]
	if o == nil || o.Address != to || o.Workflow != "people" || got.Objects[from] != nil || len(got.Devices) != 0 {
		t.Fatalf("after mv and rm: %v / %+v", got.Objects, o)
	}
}

func testWorkspaces(t *testing.T, ws state.Workspaces) {
	ctx := t.Context()
	names, err := ws.List(ctx)
	check(t, err)
	if diff := cmp.Diff([]string{"default"}, names); diff != "" {
		t.Errorf("List of a new backend (-want +got):\n%s", diff)
	}
	check(t, ws.Create(ctx, "wave2"))
	check(t, ws.Create(ctx, "wave1"))
	if err := ws.Create(ctx, "wave1"); !errors.Is(err, state.ErrWorkspaceExists) {
		t.Errorf("Create twice: %v", err)
	}
	if err := ws.Create(ctx, "default"); !errors.Is(err, state.ErrWorkspaceExists) {
		t.Errorf("Create default: %v", err)
	}
	if err := ws.Create(ctx, "../x"); err == nil {
		t.Errorf("Create ../x succeeded")
	}
	names, err = ws.List(ctx)
	check(t, err)
	if diff := cmp.Diff([]string{"default", "wave1", "wave2"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if _, err := ws.Backend(ctx, "wave3"); !errors.Is(err, state.ErrNoWorkspace) {
		t.Errorf("Backend of a missing workspace: %v", err)
	}
	// Each workspace has its own state and lock: wave1 is locked while
	// wave2 applies.
	w1, w2 := backend(t, ws, "wave1"), backend(t, ws, "wave2")
	u1 := lock(t, w1, "apply")
	s2 := apply(t, w2, "wave2", 2)
	check(t, u1.Unlock())
	s1 := apply(t, w1, "wave1", 4)
	if s1.Lineage == s2.Lineage || len(load(t, w1).Objects) != 4 || len(load(t, w2).Objects) != 2 {
		t.Errorf("workspaces share state")
	}
	if d := load(t, backend(t, ws, "default")); len(d.Objects) != 0 {
		t.Errorf("default workspace got %d objects", len(d.Objects))
	}
	if err := ws.Delete(ctx, "default"); err == nil {
		t.Errorf("deleting the default workspace succeeded")
	}
	u2 := lock(t, w2, "workspace delete")
	check(t, ws.Delete(ctx, "wave2"))
	u2.Unlock()
	if _, err := ws.Backend(ctx, "wave2"); !errors.Is(err, state.ErrNoWorkspace) {
		t.Errorf("Backend of a deleted workspace: %v", err)
	}
	if err := ws.Delete(ctx, "wave2"); !errors.Is(err, state.ErrNoWorkspace) {
		t.Errorf("Delete twice: %v", err)
	}
	// A workspace created again starts empty.
	check(t, ws.Create(ctx, "wave2"))
	if s := load(t, backend(t, ws, "wave2")); len(s.Objects) != 0 || s.Serial != 0 {
		t.Errorf("a re-created workspace has %d objects at serial %d", len(s.Objects), s.Serial)
	}
	if ws.Describe() == "" {
		t.Errorf("Describe is empty")
	}
}

// contextDone returns a context that is already done: Lock tries once.
func contextDone(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}
