package state

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTxn_concurrent records from many goroutines at once, as the apply
// walk does (run it with -race), and checks that every change is in memory
// and on disk, one serial each.
func TestTxn_concurrent(t *testing.T) {
	const workers, perWorker = 32, 24
	l := newTestLocal(t)
	s := mustLoad(t, l)
	txn := mustBegin(t, l, s)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				n := w*perWorker + i
				if err := txn.PutObject(testObject(n)); err != nil {
					errs <- err
					return
				}
				if i%10 == 0 {
					if err := txn.PutDevice(testDevice(n)); err != nil {
						errs <- err
						return
					}
				}
				if i%8 == 7 { // delete one this worker put earlier
					if err := txn.DeleteObject(testObject(n - 3).Address); err != nil {
						errs <- err
						return
					}
				}
				if _, ok := txn.Object(testObject(n).Address); !ok {
					errs <- fmt.Errorf("object %d not visible after PutObject", n)
					return
				}
				_ = txn.SIDMap()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	deletes := workers * (perWorker / 8)
	devices := workers * ((perWorker + 9) / 10)
	wantObjects := workers*perWorker - deletes
	if len(s.Objects) != wantObjects || len(s.Devices) != devices {
		t.Errorf("%d objects and %d devices, want %d and %d", len(s.Objects), len(s.Devices), wantObjects, devices)
	}
	if want := uint64(workers*perWorker + devices + deletes); s.Serial != want || txn.Serial() != want {
		t.Errorf("serial = %d, want %d (one per record)", s.Serial, want)
	}
	if diff := cmp.Diff(s, mustLoad(t, NewLocal(l.Path()))); diff != "" {
		t.Fatalf("journal replay (-memory +disk):\n%s", diff)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, mustLoad(t, NewLocal(l.Path()))); diff != "" {
		t.Fatalf("snapshot (-memory +disk):\n%s", diff)
	}
}

func TestTxn_ended(t *testing.T) {
	for _, end := range []string{"Commit", "Close"} {
		t.Run(end, func(t *testing.T) {
			l := newTestLocal(t)
			txn := mustBegin(t, l, mustLoad(t, l))
			if err := txn.PutObject(testObject(1)); err != nil {
				t.Fatal(err)
			}
			var err error
			if end == "Commit" {
				err = txn.Commit()
			} else {
				err = txn.Close()
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, f := range map[string]func() error{
				"PutObject":    func() error { return txn.PutObject(testObject(2)) },
				"PutDevice":    func() error { return txn.PutDevice(testDevice(2)) },
				"DeleteObject": func() error { return txn.DeleteObject(testObject(1).Address) },
				"Commit":       txn.Commit,
				"Close":        txn.Close,
			} {
				if err := f(); !errors.Is(err, ErrTxnClosed) {
					t.Errorf("%s after %s: err = %v, want ErrTxnClosed", name, end, err)
				}
			}
		})
	}
}

func TestTxn_records(t *testing.T) {
	l := newTestLocal(t)
	s := mustLoad(t, l)
	txn := mustBegin(t, l, s)

	o := testObject(1)
	o.SIDHistory = []string{"S-1-5-21-9-9-9-1"}
	if err := txn.PutObject(o); err != nil {
		t.Fatal(err)
	}
	o.Target.DN = "changed after Put"
	o.SIDHistory[0] = "changed after Put"
	got, _ := txn.Object(o.Address)
	if got.Target.DN == o.Target.DN || got.SIDHistory[0] == o.SIDHistory[0] {
		t.Error("the Txn kept the caller's object instead of a copy")
	}
	got.Target.DN = "changed the copy"
	if again, _ := txn.Object(o.Address); again.Target.DN == got.Target.DN {
		t.Error("Object returned the State's own object instead of a copy")
	}

	tests := []struct {
		name       string
		do         func() error
		wantErr    string
		wantSerial uint64
	}{
		{name: "put without address", do: func() error { return txn.PutObject(&Object{}) }, wantErr: "put object: missing address", wantSerial: 1},
		{name: "put nil", do: func() error { return txn.PutObject(nil) }, wantErr: "put object: missing address", wantSerial: 1},
		{name: "device without address", do: func() error { return txn.PutDevice(&Device{}) }, wantErr: "put device: missing address", wantSerial: 1},
		{name: "delete absent object", do: func() error { return txn.DeleteObject("nothing") }, wantSerial: 1},
		{name: "delete absent device", do: func() error { return txn.DeleteDevice("nothing") }, wantSerial: 1},
		{
			name: "time out of range",
			do: func() error {
				return txn.PutObject(&Object{Address: "a", UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
			},
			wantErr:    "record put_object:",
			wantSerial: 1,
		},
		{name: "replace", do: func() error { return txn.PutObject(testObject(1)) }, wantSerial: 2},
		{name: "delete", do: func() error { return txn.DeleteObject(testObject(1).Address) }, wantSerial: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || len(err.Error()) < len(tt.wantErr) || err.Error()[:len(tt.wantErr)] != tt.wantErr):
				t.Fatalf("err = %v, want it to start with %q", err, tt.wantErr)
			}
			if got := txn.Serial(); got != tt.wantSerial {
				t.Errorf("serial = %d, want %d", got, tt.wantSerial)
			}
		})
	}
	if err := txn.Close(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, mustLoad(t, l)); diff != "" {
		t.Errorf("(-memory +disk):\n%s", diff)
	}
}

// TestTxn_journalFails makes the journal unwritable in the middle of an
// apply: the changes still reach memory, the error is reported, and
// Commit's snapshot saves everything.
func TestTxn_journalFails(t *testing.T) {
	l := newTestLocal(t)
	s := mustLoad(t, l)
	txn := mustBegin(t, l, s)
	if err := txn.PutObject(testObject(1)); err != nil {
		t.Fatal(err)
	}
	txn.j.(*localJournal).f.Close() // the disk goes away under the journal
	if err := txn.PutObject(testObject(2)); err == nil {
		t.Fatal("PutObject with a broken journal: want an error")
	}
	if err := txn.PutObject(testObject(3)); err == nil {
		t.Fatal("PutObject after a journal error: want the error again")
	}
	if _, ok := txn.Object(testObject(3).Address); !ok {
		t.Error("a change that could not be journaled is missing from memory")
	}
	if err := txn.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	got := mustLoad(t, l)
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("(-memory +disk):\n%s", diff)
	}
	if len(got.Objects) != 3 || got.Serial != 3 {
		t.Errorf("%d objects at serial %d, want 3 at 3", len(got.Objects), got.Serial)
	}
	if _, err := os.Stat(l.JournalPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("journal after Commit: %v, want removed", err)
	}
}
