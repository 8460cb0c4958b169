package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Local is the backend that keeps the state in a file on the local
// filesystem:
//
//	<path>          the snapshot (pretty JSON, see Encode)
//	<path>.journal  changes recorded since the snapshot (JSON lines)
//	<path>.backup   the snapshot before the last fold
//	<path>.lock     the lock file; it holds the holder's LockInfo while
//	                locked and stays behind, empty, afterwards
//
// A Local holds no open files between calls and is safe for concurrent use;
// the lock, not the Local, serialises runs.
type Local struct {
	path string

	// pollMin and pollMax bound the wait between two attempts to take a
	// held lock (the wait doubles from pollMin up to pollMax).
	pollMin, pollMax time.Duration
}

var _ Backend = (*Local)(nil)

// NewLocal returns the local backend for the state file at path. Nothing is
// read or created until a method is called; the directory must exist.
func NewLocal(path string) *Local {
	return &Local{path: path, pollMin: 20 * time.Millisecond, pollMax: time.Second}
}

// Path returns the snapshot's path.
func (l *Local) Path() string { return l.path }

// JournalPath returns the journal's path: Path() + ".journal".
func (l *Local) JournalPath() string { return l.path + ".journal" }

// BackupPath returns the path of the snapshot kept by the last fold.
func (l *Local) BackupPath() string { return l.path + ".backup" }

// LockPath returns the lock file's path.
func (l *Local) LockPath() string { return l.path + ".lock" }

func (l *Local) stateName() string   { return "state file " + l.path }
func (l *Local) journalName() string { return "journal " + l.JournalPath() }

// Load returns the snapshot with the journal replayed onto it, or New() when
// neither exists. Load only reads: a journal is folded by the next Begin.
// The previous snapshot is named in the error when the current one cannot
// be decoded.
func (l *Local) Load(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := l.readSnapshot()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(l.JournalPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", l.JournalPath(), err)
	default:
		if s, _, err = replay(s, data, l.journalName(), l.stateName()); err != nil {
			return nil, err
		}
	}
	if s == nil {
		s = New()
	}
	return s, nil
}

// readSnapshot returns the decoded snapshot, or nil when there is none.
func (l *Local) readSnapshot() (*State, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", l.path, err)
	}
	s, err := Decode(l.stateName(), data)
	if err != nil && !errors.Is(err, ErrNewerFormat) {
		if _, serr := os.Stat(l.BackupPath()); serr == nil {
			err = fmt.Errorf("%w. The previous snapshot is in %s: copy it over %s to restore it (the journal, if any, then replays what came after), and plan again", err, l.BackupPath(), l.path)
		} else {
			err = fmt.Errorf("%w. No backup snapshot exists beside it (%s): restore %s from your own copy, or move it away to start a new state (adshift then matches the migrated objects again by the match rules)", err, l.BackupPath(), l.path)
		}
		return nil, err
	}
	if s != nil {
		if err := l.checkBackupLineage(s); err != nil {
			return nil, err
		}
	}
	return s, err
}

// checkBackupLineage refuses a snapshot whose lineage differs from the
// backup's (the snapshot before it): a lineage never changes over a
// state's life, so the state file was replaced or edited.
func (l *Local) checkBackupLineage(s *State) error {
	f, err := os.Open(l.BackupPath())
	if err != nil {
		return nil // no backup: nothing to compare
	}
	defer f.Close()
	h, err := readHeader(f)
	if err != nil || h.Lineage == "" || h.Lineage == s.Lineage {
		return nil
	}
	return &lineageError{
		what: l.stateName(), lineage: s.Lineage,
		otherWhat: "its backup " + l.BackupPath(), otherLineage: h.Lineage,
		hint: "a state keeps its lineage for life, so the state file was replaced or edited; put the right state file back (or, if the new one is right, move the backup away)",
	}
}

// stored describes what is on disk, as far as Begin needs to know.
type stored struct {
	snapshot, journal bool
	lineage           string
	serial            uint64
}

// inspect reads the snapshot's header and scans the journal, without
// decoding the objects of either.
func (l *Local) inspect() (stored, error) {
	var st stored
	f, err := os.Open(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return st, fmt.Errorf("open %s: %w", l.path, err)
	default:
		h, err := readHeader(io.Reader(f))
		f.Close()
		if err != nil {
			return st, fmt.Errorf("decode %s: %w", l.stateName(), err)
		}
		if h.Version > FormatVersion {
			return st, &newerFormatError{what: l.stateName(), version: h.Version}
		}
		st.snapshot, st.lineage, st.serial = true, h.Lineage, h.Serial
	}
	data, err := os.ReadFile(l.JournalPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return st, nil
	case err != nil:
		return st, fmt.Errorf("read %s: %w", l.JournalPath(), err)
	}
	st.journal = true
	jh, err := scanJournal(data, l.journalName())
	if err != nil {
		return st, err
	}
	if jh.Lineage == "" { // no complete record
		return st, nil
	}
	if st.snapshot && jh.Lineage != st.lineage {
		return st, &lineageError{
			what: l.journalName(), lineage: jh.Lineage,
			otherWhat: l.stateName(), otherLineage: st.lineage,
			hint: "the journal belongs to another state; move it away to use the state file alone",
		}
	}
	st.lineage = jh.Lineage
	st.serial = max(st.serial, jh.Serial)
	return st, nil
}

// Begin starts recording changes into s, which must be the State Load
// returned under the same lock. When a journal is left from an earlier run
// (a crash, or a Txn closed without Commit), Begin first folds it: s, which
// Load replayed it into, is written as the new snapshot and the journal
// removed. A State for an empty backend that already holds something (a
// state moved from another backend) is written as the first snapshot.
func (l *Local) Begin(ctx context.Context, s *State) (*Txn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Only O(1) checks here: Begin must not cost O(state).
	if s.Lineage == "" {
		return nil, fmt.Errorf("begin recording into %s: the state has no lineage", l.path)
	}
	if s.Objects == nil {
		s.Objects = map[string]*Object{}
	}
	if s.Devices == nil {
		s.Devices = map[string]*Device{}
	}
	st, err := l.inspect()
	if err != nil {
		return nil, err
	}
	fold := st.journal
	if st.lineage == "" {
		fold = fold || !s.empty()
	} else {
		if st.lineage != s.Lineage {
			return nil, &lineageError{
				what: "the state to record into", lineage: s.Lineage,
				otherWhat: l.stateName(), otherLineage: st.lineage,
				hint: "it was not loaded from this backend",
			}
		}
		if st.serial != s.Serial {
			return nil, fmt.Errorf("%s is at serial %d but the state to record into was loaded at serial %d: it changed since; load it again: %w",
				l.stateName(), st.serial, s.Serial, ErrSerialMismatch)
		}
	}
	if fold {
		if err := l.fold(s, st.snapshot); err != nil {
			return nil, err
		}
	}
	return NewTxn(s, &localJournal{local: l}), nil
}

// Write implements Backend: s becomes the snapshot (the previous one kept
// as the backup) and any journal is removed. When s is of another lineage
// than the snapshot it replaces (a forced state push), the replaced
// snapshot is kept as ReplacedPath(its lineage) instead, since a backup of
// another lineage makes Load refuse the state.
func (l *Local) Write(ctx context.Context, s *State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.Lineage == "" {
		return fmt.Errorf("write %s: the state has no lineage", l.path)
	}
	old, err := l.inspect()
	if err != nil && !errors.Is(err, ErrLineageMismatch) {
		return err
	}
	if err := l.fold(s, true); err != nil {
		return err
	}
	if old.snapshot && old.lineage != "" && old.lineage != s.Lineage {
		if err := os.Rename(l.BackupPath(), l.ReplacedPath(old.lineage)); err != nil {
			return fmt.Errorf("keep the replaced state of lineage %s: %w", old.lineage, err)
		}
	}
	return nil
}

// ReplacedPath is where Write keeps a snapshot of lineage that a state of
// another lineage replaced: Path() + ".replaced-" + lineage.
func (l *Local) ReplacedPath(lineage string) string {
	return l.path + ".replaced-" + lineage
}

// fold makes s the snapshot and removes the journal. An empty s with no
// snapshot on disk is not written (a state is not created until its first
// change).
func (l *Local) fold(s *State, haveSnapshot bool) error {
	if haveSnapshot || !s.empty() {
		if err := l.writeSnapshot(s); err != nil {
			return err
		}
	}
	if err := os.Remove(l.JournalPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", l.JournalPath(), err)
	}
	if err := syncDir(filepath.Dir(l.path)); err != nil {
		return fmt.Errorf("sync %s: %w", filepath.Dir(l.path), err)
	}
	return nil
}

// writeSnapshot replaces the snapshot with s atomically: temp file in the
// same directory, fsync, previous snapshot kept as the backup, rename,
// directory fsync. A crash at any point leaves either the old or the new
// snapshot, never a torn one.
func (l *Local) writeSnapshot(s *State) (err error) {
	dir := filepath.Dir(l.path)
	l.removeStaleTemps()
	tmp, err := os.CreateTemp(dir, filepath.Base(l.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", l.path, describeFSError(err, filepath.Join(dir, filepath.Base(l.path)+".tmp-*")))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	mode := fs.FileMode(0o644)
	prev, statErr := os.Stat(l.path)
	if statErr == nil {
		mode = prev.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := Encode(tmp, s); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if statErr == nil {
		if err := l.keepBackup(); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp.Name(), l.path); err != nil {
		return fmt.Errorf("replace %s: %w", l.path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// removeStaleTemps removes temporary snapshots a crashed run left behind
// ("<path>.tmp-*"). Only a run holding the lock writes snapshots, so none
// of them is in use. Failures are ignored: the files are only clutter.
func (l *Local) removeStaleTemps() {
	dir, prefix := filepath.Dir(l.path), filepath.Base(l.path)+".tmp-"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// keepBackup makes <path>.backup the current snapshot, atomically: a hard
// link (or, where links are not supported, a copy) under a temporary name
// renamed over the old backup. The snapshot itself is never moved, so
// there is no moment without one.
func (l *Local) keepBackup() error {
	tmp := l.BackupPath() + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", tmp, err)
	}
	if err := os.Link(l.path, tmp); err != nil {
		if err := copyFile(l.path, tmp); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("back up %s: %w", l.path, err)
		}
	}
	if err := os.Rename(tmp, l.BackupPath()); err != nil {
		return fmt.Errorf("back up %s: %w", l.path, err)
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// Lock takes the lock file's OS lock, trying at least once (so a context
// that is already done means "try once": a zero -lock-timeout) and then
// every 20ms to 1s until ctx is done, when it returns a *LockError naming
// the holder. On success the holder's LockInfo is written into the lock
// file; empty fields of info are filled as NewLockInfo does. The returned
// Unlocker also has a method Info() LockInfo giving the info as written.
func (l *Local) Lock(ctx context.Context, info LockInfo) (Unlocker, error) {
	info.fill()
	path := l.LockPath()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.path, describeFSError(err, path))
	}
	err = pollLock(ctx, l.pollMin, l.pollMax, func() (bool, error) {
		ok, err := tryLock(f)
		if err != nil {
			return false, fmt.Errorf("lock %s: %w", path, err)
		}
		return ok, nil
	})
	if err != nil {
		f.Close()
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			holder, _ := readLockInfo(path)
			return nil, &LockError{Info: holder, Path: path, Err: err}
		}
		return nil, err
	}
	if err := writeLockInfo(f, info); err != nil {
		unlockFile(f)
		f.Close()
		return nil, fmt.Errorf("lock %s: write holder: %w", path, err)
	}
	return &localLock{f: f, info: info}, nil
}

// pollLock calls try until it reports the lock taken, waiting between
// attempts from lo doubling up to hi. It tries at least once, even when
// ctx is already done; once ctx is done it returns ctx.Err().
func pollLock(ctx context.Context, lo, hi time.Duration, try func() (bool, error)) error {
	delay := lo
	var timer *time.Timer
	for {
		ok, err := try()
		if err != nil || ok {
			return err
		}
		if timer == nil {
			timer = time.NewTimer(delay)
			defer timer.Stop()
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		delay = min(2*delay, hi)
	}
}

// PollLock is the retry loop of Local's Lock, for other backends: it calls
// try at least once (even when ctx is already done: -lock-timeout 0), then
// every 20ms to 1s, doubling, until try reports the lock taken or fails;
// once ctx is done it returns ctx.Err().
func PollLock(ctx context.Context, try func() (bool, error)) error {
	return pollLock(ctx, 20*time.Millisecond, time.Second, try)
}

// ForceUnlock clears the lock whose ID is id. Since the OS releases a lock
// when its holder exits, a dead run never keeps the state locked; what it
// leaves is its LockInfo in the lock file, and ForceUnlock clears that. A
// run that is still alive keeps its OS lock: ForceUnlock then fails and
// names it, since only stopping that process (or letting it finish) can
// release it. A wrong id is refused.
func (l *Local) ForceUnlock(id string) error {
	path := l.LockPath()
	holder, err := readLockInfo(path)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", l.path, err)
	}
	if holder.ID == "" {
		return fmt.Errorf("force-unlock %s: the state is not locked", l.path)
	}
	if holder.ID != id {
		return fmt.Errorf("force-unlock %s: lock ID %q does not match the current lock (ID %s, held by %s)", l.path, id, holder.ID, holder.Who)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", l.path, err)
	}
	defer f.Close()
	ok, err := tryLock(f)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", l.path, err)
	}
	if !ok {
		return fmt.Errorf("force-unlock %s: lock %s is still held by a running process (pid %d, %s); stop that run: its lock is released when it exits",
			l.path, id, holder.PID, holder.Who)
	}
	defer unlockFile(f)
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("force-unlock %s: %w", l.path, err)
	}
	return nil
}

// readLockInfo returns the LockInfo in a lock file; the zero LockInfo when
// the file is missing, empty or being written.
func readLockInfo(path string) (LockInfo, error) {
	var info LockInfo
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return info, nil
	}
	if err != nil {
		return info, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return info, nil
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return LockInfo{}, nil // a holder in the middle of writing it
	}
	return info, nil
}

func writeLockInfo(f *os.File, info LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return err
	}
	return f.Sync()
}

// localLock is a held Local lock.
type localLock struct {
	mu   sync.Mutex
	f    *os.File
	info LockInfo
}

// Info returns the LockInfo the lock was taken with.
func (k *localLock) Info() LockInfo { return k.info }

// Unlock clears the holder information and releases the OS lock.
func (k *localLock) Unlock() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.f == nil {
		return nil
	}
	f := k.f
	k.f = nil
	terr := f.Truncate(0)
	uerr := unlockFile(f)
	cerr := f.Close()
	if err := errors.Join(terr, uerr, cerr); err != nil {
		return fmt.Errorf("unlock %s: %w", f.Name(), err)
	}
	return nil
}

// localJournal is Local's Journal: the file <path>.journal, created by the
// first record.
type localJournal struct {
	local *Local
	f     *os.File
}

func (j *localJournal) Append(rec []byte) error {
	if j.f == nil {
		path := j.local.JournalPath()
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("create %s: %w", path, describeFSError(err, path))
		}
		// The journal's directory entry must be durable before any record
		// in it is reported durable.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return fmt.Errorf("sync %s: %w", filepath.Dir(path), err)
		}
		j.f = f
	}
	if _, err := j.f.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", j.local.JournalPath(), err)
	}
	return nil
}

func (j *localJournal) Sync() error {
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", j.local.JournalPath(), err)
	}
	return nil
}

func (j *localJournal) Close() error {
	if j.f == nil {
		return nil
	}
	f := j.f
	j.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", j.local.JournalPath(), err)
	}
	return nil
}

func (j *localJournal) Fold(s *State) error {
	return j.local.fold(s, true)
}
