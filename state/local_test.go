package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLocal_missingState(t *testing.T) {
	l := newTestLocal(t)
	s := mustLoad(t, l)
	if !s.empty() || s.Lineage == "" {
		t.Fatalf("Load of a missing state = %+v, want New()", s)
	}
	txn := mustBegin(t, l, s)
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, filepath.Dir(l.Path())); len(names) != 0 {
		t.Errorf("files after an apply without changes: %v, want none", names)
	}
}

// TestLocal_crash records changes without Commit — the process dies —
// and checks that a fresh Local loads every one of them.
func TestLocal_crash(t *testing.T) {
	for _, snapshot := range []bool{false, true} {
		name := "first apply"
		if snapshot {
			name = "over a snapshot"
		}
		t.Run(name, func(t *testing.T) {
			l := newTestLocal(t)
			s := mustLoad(t, l)
			if snapshot {
				txn := mustBegin(t, l, s)
				for i := range 10 {
					if err := txn.PutObject(testObject(i)); err != nil {
						t.Fatal(err)
					}
				}
				if err := txn.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			txn := mustBegin(t, l, s)
			for i := 5; i < 30; i++ {
				if err := txn.PutObject(testObject(i)); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 3 {
				if err := txn.PutDevice(testDevice(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := txn.DeleteObject(testObject(7).Address); err != nil {
				t.Fatal(err)
			}
			if err := txn.DeleteDevice(testDevice(1).Address); err != nil {
				t.Fatal(err)
			}
			// No Commit: the journal is all there is.
			got := mustLoad(t, NewLocal(l.Path()))
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("state after crash (-in memory +loaded):\n%s", diff)
			}
			wantSerial := uint64(25 + 3 + 2)
			if snapshot {
				wantSerial += 10
			}
			if got.Serial != wantSerial {
				t.Errorf("serial = %d, want %d (one per record)", got.Serial, wantSerial)
			}
			// The next run folds the journal before recording anything.
			txn2 := mustBegin(t, l, got)
			if _, err := os.Stat(l.JournalPath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal after Begin: %v, want it folded away", err)
			}
			if err := txn2.Commit(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, mustLoad(t, l)); diff != "" {
				t.Errorf("state after fold (-want +got):\n%s", diff)
			}
		})
	}
}

// journalWith records n objects over a committed state of 2 objects and
// returns the Local, the in-memory state and the journal's lines.
func journalWith(t *testing.T, n int) (*Local, *State, [][]byte) {
	t.Helper()
	l := newTestLocal(t)
	s := mustLoad(t, l)
	txn := mustBegin(t, l, s)
	for i := range 2 {
		if err := txn.PutObject(testObject(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	txn = mustBegin(t, l, s)
	for i := 2; i < 2+n; i++ {
		if err := txn.PutObject(testObject(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	lines = slices.DeleteFunc(lines, func(b []byte) bool { return len(b) == 0 })
	if len(lines) != n {
		t.Fatalf("journal has %d lines, want %d", len(lines), n)
	}
	return l, s, lines
}

func TestLocal_tornLastLine(t *testing.T) {
	l, s, lines := journalWith(t, 4)
	last := lines[len(lines)-1]
	tests := []struct {
		name string
		tail []byte // replaces the last line
	}{
		{"cut in the middle", last[:len(last)/2]},
		{"cut after one byte", last[:1]},
		{"cut before the newline, mid-value", last[:len(last)-3]},
		{"zeros from a crashed filesystem", bytes.Repeat([]byte{0}, len(last))},
		{"cut and zero padded", append(slices.Clone(last[:10]), make([]byte, 40)...)},
		{"garbage line then blank lines", []byte("{\"version\":1,\"lin\n\n  \n")},
	}
	want := s.Clone()
	delete(want.Objects, testObject(5).Address)
	want.Serial--
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := slices.Concat(slices.Concat(lines[:len(lines)-1]...), tt.tail)
			if err := os.WriteFile(l.JournalPath(), data, 0o644); err != nil {
				t.Fatal(err)
			}
			got := mustLoad(t, l)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("complete last record without its newline is kept", func(t *testing.T) {
		data := slices.Concat(slices.Concat(lines...))
		data = bytes.TrimSuffix(data, []byte("\n"))
		if err := os.WriteFile(l.JournalPath(), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(s, mustLoad(t, l)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("Begin folds the torn journal and recording goes on", func(t *testing.T) {
		data := slices.Concat(slices.Concat(lines[:len(lines)-1]...), last[:7])
		if err := os.WriteFile(l.JournalPath(), data, 0o644); err != nil {
			t.Fatal(err)
		}
		got := mustLoad(t, l)
		txn := mustBegin(t, l, got)
		if err := txn.PutObject(testObject(99)); err != nil {
			t.Fatal(err)
		}
		if err := txn.Close(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, mustLoad(t, l)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestLocal_corruptJournal(t *testing.T) {
	l, _, lines := journalWith(t, 4)
	tests := []struct {
		name    string
		lines   [][]byte
		wantErr string
	}{
		{
			name:    "bad line before good ones",
			lines:   [][]byte{lines[0], []byte("not json\n"), lines[2], lines[3]},
			wantErr: "line 2: invalid character",
		},
		{
			name:    "missing record",
			lines:   [][]byte{lines[0], lines[2], lines[3]},
			wantErr: "line 2: serial 5 follows serial 3: records are missing",
		},
		{
			name:    "unknown operation",
			lines:   [][]byte{lines[0], bytes.Replace(lines[1], []byte(`"put_object"`), []byte(`"rename"`), 1)},
			wantErr: `line 2: unknown operation "rename"`,
		},
		{
			name:    "put without an object",
			lines:   [][]byte{[]byte(`{"version":1,"lineage":"x","serial":9,"op":"put_object"}` + "\n"), lines[0]},
			wantErr: "line 1: put_object without an object address",
		},
		{
			name:    "delete without an address",
			lines:   [][]byte{[]byte(`{"version":1,"lineage":"x","serial":9,"op":"delete_device"}` + "\n"), lines[0]},
			wantErr: "line 1: delete_device without an address",
		},
		{
			name:    "no version",
			lines:   [][]byte{bytes.Replace(lines[0], []byte(`"version":1,`), nil, 1), lines[1]},
			wantErr: "line 1: missing or invalid format version 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(l.JournalPath(), slices.Concat(tt.lines...), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := l.Load(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load err = %v, want it to contain %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), l.JournalPath()) {
				t.Errorf("err %q does not name the journal", err)
			}
		})
	}
}

// TestLocal_crashAfterFold covers a crash between the snapshot's rename and
// the journal's removal: the journal's records are all in the snapshot.
func TestLocal_crashAfterFold(t *testing.T) {
	l, s, lines := journalWith(t, 4)
	txn := mustBegin(t, l, mustLoad(t, l)) // folds
	if err := txn.PutObject(testObject(50)); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	s.Objects[testObject(50).Address] = testObject(50)
	s.Serial++
	if err := os.WriteFile(l.JournalPath(), slices.Concat(lines...), 0o644); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, l)
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := l.Begin(t.Context(), got); err != nil {
		t.Errorf("Begin over a stale journal: %v", err)
	}
}

func TestLocal_newerVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "adshift.state")
	t.Chdir(dir)
	l := NewLocal("adshift.state")
	if err := os.WriteFile(path, []byte(`{"version": 7, "lineage": "L", "serial": 3, "objects": {"x": 1}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "state file adshift.state has format version 7; this adshift understands up to 1: upgrade adshift"
	_, err := l.Load(t.Context())
	if err == nil || err.Error() != want || !errors.Is(err, ErrNewerFormat) {
		t.Errorf("Load err = %v, want %q wrapping ErrNewerFormat", err, want)
	}
	s := New()
	s.Lineage, s.Serial = "L", 3
	if _, err := l.Begin(t.Context(), s); err == nil || err.Error() != want {
		t.Errorf("Begin err = %v, want %q (never overwrite a newer file)", err, want)
	}

	// A journal record from a newer adshift is refused too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rec := `{"version":2,"lineage":"L","serial":1,"op":"put_object","object":{"address":"a"}}` + "\n"
	if err := os.WriteFile(l.JournalPath(), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	const wantJ = "journal adshift.state.journal has format version 2; this adshift understands up to 1: upgrade adshift"
	if _, err := l.Load(t.Context()); err == nil || err.Error() != wantJ || !errors.Is(err, ErrNewerFormat) {
		t.Errorf("Load err = %v, want %q", err, wantJ)
	}
}

func TestLocal_lineageMismatch(t *testing.T) {
	a, _, _ := journalWith(t, 2)
	b, _, _ := journalWith(t, 3)
	// b's journal next to a's snapshot.
	data, err := os.ReadFile(b.JournalPath())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.JournalPath(), data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = a.Load(t.Context())
	if !errors.Is(err, ErrLineageMismatch) {
		t.Fatalf("Load err = %v, want ErrLineageMismatch", err)
	}
	for _, name := range []string{a.Path(), a.JournalPath()} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("err %q does not name %s", err, name)
		}
	}
	if _, err := a.Begin(t.Context(), New()); !errors.Is(err, ErrLineageMismatch) {
		t.Errorf("Begin err = %v, want ErrLineageMismatch", err)
	}

	// A State from another backend cannot be recorded into this one.
	c, _, _ := journalWith(t, 1)
	if _, err := c.Begin(t.Context(), mustLoad(t, b)); !errors.Is(err, ErrLineageMismatch) {
		t.Errorf("Begin with a foreign state: err = %v, want ErrLineageMismatch", err)
	}
}

func TestLocal_serialMismatch(t *testing.T) {
	l, _, _ := journalWith(t, 2)
	stale := mustLoad(t, l)
	fresh := mustLoad(t, l)
	txn := mustBegin(t, l, fresh)
	if err := txn.PutObject(testObject(70)); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	_, err := l.Begin(t.Context(), stale)
	if !errors.Is(err, ErrSerialMismatch) {
		t.Fatalf("Begin with a stale state: err = %v, want ErrSerialMismatch", err)
	}
	if !strings.Contains(err.Error(), "is at serial 5 but the state to record into was loaded at serial 4") {
		t.Errorf("err = %v", err)
	}
}

func TestLocal_commitKeepsBackup(t *testing.T) {
	l := newTestLocal(t)
	s := mustLoad(t, l)
	commit := func(i int) []byte {
		t.Helper()
		txn := mustBegin(t, l, s)
		if err := txn.PutObject(testObject(i)); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(l.Path())
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := Encode(&want, s); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), string(data)); diff != "" {
			t.Fatalf("snapshot is not Encode(state) (-want +got):\n%s", diff)
		}
		return data
	}
	first := commit(1)
	if _, err := os.Stat(l.BackupPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("backup after the first commit: %v, want none", err)
	}
	second := commit(2)
	backup, err := os.ReadFile(l.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(backup, first) {
		t.Error("backup is not the previous snapshot")
	}
	// A temporary snapshot left by a crashed run is cleaned up.
	if err := os.WriteFile(l.Path()+".tmp-12345", []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	commit(3)
	if backup, _ = os.ReadFile(l.BackupPath()); !bytes.Equal(backup, second) {
		t.Error("backup is not the previous snapshot after a third commit")
	}
	want := []string{"adshift.state", "adshift.state.backup"}
	if diff := cmp.Diff(want, dirNames(t, filepath.Dir(l.Path()))); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}

	// A snapshot that cannot be decoded points at the backup.
	if err := os.WriteFile(l.Path(), first[:len(first)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(t.Context()); err == nil || !strings.Contains(err.Error(), l.BackupPath()) {
		t.Errorf("Load of a damaged snapshot: err = %v, want it to name the backup", err)
	}
}

// TestLocal_beginMovedState writes a State that did not come from this
// backend (a state moved from another backend) as the first snapshot, so the
// journal's serials follow on from it.
func TestLocal_beginMovedState(t *testing.T) {
	src := testState(5)
	src.Serial = 17
	l := newTestLocal(t)
	txn := mustBegin(t, l, src)
	if _, err := os.Stat(l.Path()); err != nil {
		t.Fatalf("snapshot after Begin: %v", err)
	}
	if err := txn.PutObject(testObject(100)); err != nil {
		t.Fatal(err)
	}
	got := mustLoad(t, l) // before Commit: snapshot + journal
	if diff := cmp.Diff(src, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Serial != 18 {
		t.Errorf("serial = %d, want 18", got.Serial)
	}
}
