package sqlstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/adshift/adshift/hub/api"
)

// TestSQLite_groupCommitIsolatesCalls: calls that share the writer's
// transactions keep their own outcome: a call that wrote and then failed
// leaves nothing, its neighbours' writes stay, and each gets its own error.
func TestSQLite_groupCommitIsolatesCalls(t *testing.T) {
	ctx := t.Context()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	refused := errors.New("refused")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.tx(ctx, func(t *txn) error {
				if err := s.audit(ctx, t, api.AuditEntry{Actor: fmt.Sprint(i), Action: "test", Result: "ok"}); err != nil {
					return err
				}
				if i%2 == 1 {
					return refused
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%2 == 1; errors.Is(err, refused) != want || (!want && err != nil) {
			t.Errorf("call %d: err = %v", i, err)
		}
	}
	log, err := s.AuditLog(ctx, 2*n)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range log {
		got[e.Actor] = true
	}
	for i := range n {
		if got[fmt.Sprint(i)] != (i%2 == 0) {
			t.Errorf("call %d's write kept = %v; want only the successful calls' writes", i, got[fmt.Sprint(i)])
		}
	}
	if len(log) != n/2 {
		t.Errorf("%d audit entries; want %d", len(log), n/2)
	}
}

// TestSQLite_closedStoreRefusesWrites: a write after Close is refused,
// not left waiting.
func TestSQLite_closedStoreRefusesWrites(t *testing.T) {
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.Audit(t.Context(), api.AuditEntry{Actor: "a", Action: "test"}); err == nil {
		t.Error("Audit after Close succeeded")
	}
}
