package state

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// memJournal is an in-memory Journal that counts what the Txn asks of it.
type memJournal struct {
	mu       sync.Mutex
	records  int
	syncs    int
	folded   *State
	closed   bool
	syncErr  error
	appended chan struct{} // receives after each Append, when not nil
	syncing  chan struct{} // receives when the first Sync starts, when not nil
	gate     chan struct{} // the first Sync waits for it, when not nil
}

var _ Journal = (*memJournal)(nil)

func (j *memJournal) Append([]byte) error {
	j.mu.Lock()
	j.records++
	j.mu.Unlock()
	if j.appended != nil {
		j.appended <- struct{}{}
	}
	return nil
}

func (j *memJournal) Sync() error {
	j.mu.Lock()
	j.syncs++
	first := j.syncs == 1
	j.mu.Unlock()
	if first && j.gate != nil {
		j.syncing <- struct{}{}
		<-j.gate
	}
	return j.syncErr
}

func (j *memJournal) Close() error { j.closed = true; return nil }

func (j *memJournal) Fold(s *State) error { j.folded = s.Clone(); return nil }

// TestTxn_groupCommit holds the first fsync while nine more records arrive:
// one further fsync must cover all nine.
func TestTxn_groupCommit(t *testing.T) {
	j := &memJournal{
		appended: make(chan struct{}, 10),
		syncing:  make(chan struct{}),
		gate:     make(chan struct{}),
	}
	txn := NewTxn(New(), j)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	wg.Go(func() { errs <- txn.PutObject(testObject(0)) })
	<-j.appended
	<-j.syncing
	for i := 1; i < 10; i++ {
		wg.Go(func() { errs <- txn.PutObject(testObject(i)) })
	}
	for range 9 {
		<-j.appended
	}
	close(j.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if j.records != 10 || j.syncs != 2 {
		t.Errorf("%d records, %d syncs; want 10 records sharing 2 syncs", j.records, j.syncs)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if !j.closed || j.folded == nil || len(j.folded.Objects) != 10 || j.folded.Serial != 10 {
		t.Errorf("after Commit: closed %v, folded %+v; want closed and 10 objects at serial 10", j.closed, j.folded)
	}
}

// TestTxn_syncFails checks that a failed fsync is sticky (nothing more is
// appended after it) while memory and the final fold keep every change.
func TestTxn_syncFails(t *testing.T) {
	boom := errors.New("fsync: input/output error")
	j := &memJournal{syncErr: boom}
	s := New()
	txn := NewTxn(s, j)
	for i := range 3 {
		if err := txn.PutObject(testObject(i)); !errors.Is(err, boom) {
			t.Fatalf("PutObject %d: err = %v, want %v", i, err, boom)
		}
	}
	if j.records != 1 || j.syncs != 1 {
		t.Errorf("%d records appended, %d syncs; want 1 and 1 (nothing after a failed sync)", j.records, j.syncs)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, j.folded); diff != "" {
		t.Errorf("folded (-memory +folded):\n%s", diff)
	}
	if len(s.Objects) != 3 {
		t.Errorf("%d objects in memory, want 3", len(s.Objects))
	}
}

// TestTxn_noChanges: a Txn that recorded nothing does not fold.
func TestTxn_noChanges(t *testing.T) {
	j := &memJournal{}
	if err := NewTxn(New(), j).Commit(); err != nil {
		t.Fatal(err)
	}
	if j.folded != nil || !j.closed {
		t.Errorf("folded %v, closed %v; want no fold, closed", j.folded, j.closed)
	}
}
