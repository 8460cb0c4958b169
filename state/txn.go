package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

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
	local *Local

	mu      sync.Mutex // guards everything below except synced
	state   *State
	f       *os.File // the journal, opened by the first record
	buf     bytes.Buffer
	err     error  // sticky journal error
	written uint64 // records written to f
	changes int    // records taken into state, written or not
	closed  bool

	inflight sync.WaitGroup // records written but not yet synced

	syncMu sync.Mutex // serialises fsyncs; guards synced
	synced uint64     // records known durable
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
	if err := t.write(); err != nil {
		t.err = fmt.Errorf("write %s: %w", t.local.JournalPath(), err)
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

// write appends t.buf to the journal, creating it on first use. t.mu is held.
func (t *Txn) write() error {
	if t.f == nil {
		f, err := os.OpenFile(t.local.JournalPath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		// The journal's directory entry must be durable before any record
		// in it is reported durable.
		if err := syncDir(filepath.Dir(t.local.JournalPath())); err != nil {
			f.Close()
			return err
		}
		t.f = f
	}
	_, err := t.f.Write(t.buf.Bytes())
	return err
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
	target, f, err := t.written, t.f, t.err
	t.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		t.mu.Lock()
		if t.err == nil {
			t.err = fmt.Errorf("sync %s: %w", t.local.JournalPath(), err)
		}
		err = t.err
		t.mu.Unlock()
		return err
	}
	t.synced = target
	return nil
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
	if err := t.local.fold(t.state, true); err != nil {
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
	if t.f != nil {
		if err := t.f.Close(); err != nil {
			return fmt.Errorf("close %s: %w", t.local.JournalPath(), err)
		}
	}
	return nil
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
