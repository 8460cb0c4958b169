package state

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
)

// Journal is where a Txn persists its records; each backend implements it
// (see NewTxn). The Txn serialises calls to Append and, separately, to
// Sync; Sync may run while another record is being appended, and must then
// make durable at least everything appended before it started.
type Journal interface {
	// Append writes one record, a JSON line ending in '\n'. It need not be
	// durable before Sync returns.
	Append(record []byte) error
	// Sync makes every record appended so far durable.
	Sync() error
	// Close releases the journal without folding it; recorded changes
	// stay and a later Load replays them.
	Close() error
	// Fold stores s as the new base state and discards the records, so
	// that a crash at any point leaves either the old base and its
	// records or the new base. It is called after Close.
	Fold(s *State) error
}

// Txn records the changes an apply makes to a State: each Put or Delete
// updates the State and appends one fsynced record to the journal before it
// returns, at a cost that does not grow with the state's size. Commit folds
// the journal into a new snapshot.
//
// A Txn is safe for concurrent use by the apply walk. Records are written
// in serial order; concurrent callers share fsyncs (group commit), so many
// goroutines finishing changes at once do not wait for one fsync each.
//
// Each method records a change that already happened in a directory or on a
// device, so the in-memory State takes the change even when writing the
// journal fails: the error says the change may not be durable yet. After
// such an error the journal is not written again (later records would
// follow a possibly torn line); Commit still writes the whole State as the
// snapshot, and when that succeeds nothing is lost.
//
// While a Txn is open, read the State through the Txn (Object, Device,
// SIDMap, Serial), not directly.
type Txn struct {
	j Journal

	mu      sync.Mutex // guards everything below except synced
	state   *State
	buf     bytes.Buffer
	err     error  // sticky journal error
	written uint64 // records appended to the journal
	changes int    // records taken into state, written or not
	closed  bool

	inflight sync.WaitGroup // records written but not yet synced

	syncMu sync.Mutex // serialises fsyncs; guards synced
	synced uint64     // records known durable
}

// NewTxn returns a Txn recording into s through j. Backends call it from
// Begin; s must be the State the journal's records follow on from.
func NewTxn(s *State, j Journal) *Txn {
	return &Txn{j: j, state: s}
}

// PutObject records o (a copy of it) under o.Address, replacing any object
// recorded there.
func (t *Txn) PutObject(o *Object) error {
	if o == nil || o.Address == "" {
		return errors.New("put object: missing address")
	}
	return t.record(&record{Op: opPutObject, Object: o.Clone()})
}

// DeleteObject removes the object at address. Deleting an address that is
// not recorded does nothing and writes no record.
func (t *Txn) DeleteObject(address string) error {
	t.mu.Lock()
	_, ok := t.state.Objects[address]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return t.record(&record{Op: opDeleteObject, Address: address})
}

// PutDevice records d (a copy of it) under d.Address, replacing any device
// recorded there.
func (t *Txn) PutDevice(d *Device) error {
	if d == nil || d.Address == "" {
		return errors.New("put device: missing address")
	}
	return t.record(&record{Op: opPutDevice, Device: d.Clone()})
}

// DeleteDevice removes the device at address. Deleting an address that is
// not recorded does nothing and writes no record.
func (t *Txn) DeleteDevice(address string) error {
	t.mu.Lock()
	_, ok := t.state.Devices[address]
	t.mu.Unlock()
	if !ok {
		return nil
	}
	return t.record(&record{Op: opDeleteDevice, Address: address})
}

// record takes r into the State and makes it durable in the journal.
func (t *Txn) record(r *record) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrTxnClosed
	}
	r.Version = FormatVersion
	r.Lineage = t.state.Lineage
	r.Serial = t.state.Serial + 1
	t.buf.Reset()
	if err := appendRecord(&t.buf, r); err != nil {
		// Invalid input (a time outside years 0-9999): the snapshot could
		// not hold it either, so it is refused rather than taken.
		t.mu.Unlock()
		return fmt.Errorf("record %s: %w", r.Op, err)
	}
	r.apply(t.state)
	t.changes++
	if t.err != nil {
		err := t.err
		t.mu.Unlock()
		return err
	}
	if err := t.j.Append(t.buf.Bytes()); err != nil {
		t.err = err
		err := t.err
		t.mu.Unlock()
		return err
	}
	t.written++
	n := t.written
	t.inflight.Add(1)
	t.mu.Unlock()
	defer t.inflight.Done()
	return t.sync(n)
}

// sync returns once record n is durable. One fsync covers every record
// written before it starts, so concurrent callers share it.
func (t *Txn) sync(n uint64) error {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	if t.synced >= n {
		return nil
	}
	t.mu.Lock()
	target, err := t.written, t.err
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if err := t.j.Sync(); err != nil {
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		err = t.err
		t.mu.Unlock()
		return err
	}
	t.synced = target
	return nil
}

// Durable returns how many records are durable in the journal: the
// changes the next Load replays even if Commit fails.
func (t *Txn) Durable() uint64 {
	t.syncMu.Lock()
	defer t.syncMu.Unlock()
	return t.synced
}

// Commit ends the transaction and folds it: when anything was recorded,
// the State is written as the new snapshot (the previous one kept as the
// backup) and the journal removed. When Commit fails the journal stays, so
// the next Load still has every recorded change. Commit waits for
// concurrent records in flight; later ones fail with ErrTxnClosed.
func (t *Txn) Commit() error {
	closeErr := t.end()
	if errors.Is(closeErr, ErrTxnClosed) {
		return closeErr
	}
	if t.changes == 0 {
		return closeErr
	}
	// A journal that failed to close is about to be replaced anyway.
	if err := t.j.Fold(t.state); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Close ends the transaction without folding: the journal stays and the
// next Load replays it (the next Begin folds it). Use it when the snapshot
// should not be rewritten now; Commit is the normal end.
func (t *Txn) Close() error {
	return t.end()
}

// end marks t closed, waits for records in flight and closes the journal.
func (t *Txn) end() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ErrTxnClosed
	}
	t.closed = true
	t.mu.Unlock()
	t.inflight.Wait()
	return t.j.Close()
}

// Object returns a copy of the object recorded at address.
func (t *Txn) Object(address string) (*Object, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	o, ok := t.state.Objects[address]
	return o.Clone(), ok
}

// Device returns a copy of the device recorded at address.
func (t *Txn) Device(address string) (*Device, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d, ok := t.state.Devices[address]
	return d.Clone(), ok
}

// SIDMap returns State.SIDMap as of now.
func (t *Txn) SIDMap() map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state.SIDMap()
}

// Serial returns the State's serial as of now.
func (t *Txn) Serial() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state.Serial
}
