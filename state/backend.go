package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/google/uuid"
)

// Backend stores one State (one workspace's). Implementations: Local (a
// file and its journal) and state/pg (PostgreSQL: versions and a journal
// table).
//
// A run that changes the state holds the lock around Load, Begin and the
// Txn's Commit:
//
//	unlock, err := b.Lock(ctx, state.NewLockInfo("apply"))
//	...
//	defer unlock.Unlock()
//	s, err := b.Load(ctx)
//	txn, err := b.Begin(ctx, s)
//	... txn.PutObject(o) after each finished change ...
//	err = txn.Commit()
type Backend interface {
	// Lock takes the state's lock, retrying until ctx is done; it then
	// returns a *LockError naming the holder. Lock does not wait for a
	// deadline of its own: give ctx the -lock-timeout.
	Lock(ctx context.Context, info LockInfo) (Unlocker, error)
	// Load returns the stored state with every recorded change. A state
	// that was never written gives New() (nothing is written until the
	// first change).
	Load(ctx context.Context) (*State, error)
	// Begin starts recording the changes an apply makes to s, which must be
	// the State Load returned (same lineage and serial as stored; otherwise
	// the error wraps ErrLineageMismatch or ErrSerialMismatch).
	Begin(ctx context.Context, s *State) (*Txn, error)
	// PlanKey returns the secret key that authenticates the saved plans of
	// a state lineage (see planner/plans). It is kept with the state but
	// never inside it, a plan or a log. With create a missing key is made;
	// without, a missing key is an error wrapping ErrNoPlanKey. Plan holds
	// the lock when it creates a key.
	PlanKey(ctx context.Context, lineage string, create bool) ([]byte, error)
	// Write stores s whole as the new state (a new snapshot, and on
	// backends that keep history a new version), discarding a journal
	// left from an earlier run: what state push does. The caller holds the
	// lock and has decided that s may replace what is stored (same
	// lineage and a serial not below, or a forced push).
	Write(ctx context.Context, s *State) error
}

// Unlocker releases a lock taken by Backend.Lock.
type Unlocker interface {
	// Unlock releases the lock; calling it again is a no-op.
	Unlock() error
}

// LockInfo says who holds a state lock. It is stored beside the lock so a
// second run can name the holder.
type LockInfo struct {
	// ID identifies this lock for force-unlock; Lock fills in a random one
	// when it is empty.
	ID string `json:"id"`
	// Operation is the command holding the lock: "plan", "apply", …
	Operation string `json:"operation"`
	// Who is user@host.
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
	PID     int       `json:"pid"`
}

// NewLockInfo returns a LockInfo for this process: a random ID, the
// operation, user@host, the current time and the PID.
func NewLockInfo(operation string) LockInfo {
	return LockInfo{
		ID:        uuid.NewString(),
		Operation: operation,
		Who:       whoAmI(),
		Created:   time.Now().UTC().Truncate(time.Second),
		PID:       os.Getpid(),
	}
}

// Fill sets the fields of info left empty the way NewLockInfo does;
// backends call it in Lock.
func (info *LockInfo) Fill() { info.fill() }

// fill sets the fields of info left empty the way NewLockInfo does.
func (info *LockInfo) fill() {
	def := NewLockInfo(info.Operation)
	if info.ID == "" {
		info.ID = def.ID
	}
	if info.Who == "" {
		info.Who = def.Who
	}
	if info.Created.IsZero() {
		info.Created = def.Created
	}
	if info.PID == 0 {
		info.PID = def.PID
	}
}

func whoAmI() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		name = v
	} else if v := os.Getenv("USERNAME"); v != "" {
		name = v
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}

// LockError is returned by Lock when the state stayed locked until the
// context was done. Info is the holder as recorded beside the lock (zero
// when the holder had not written it yet); Err is the context's error.
type LockError struct {
	Info LockInfo
	Path string // the lock file (or another backend's lock name)
	Err  error
}

func (e *LockError) Error() string {
	if e.Info.ID == "" {
		return fmt.Sprintf("state is locked by another run (%s holds no information about it); wait for it to finish", e.Path)
	}
	who := e.Info.Who
	if e.Info.PID != 0 {
		who = fmt.Sprintf("%s (pid %d)", who, e.Info.PID)
	}
	return fmt.Sprintf("state is locked by %s since %s for %q (lock ID %s); wait, or if that run is dead run `adshift force-unlock %s`",
		who, e.Info.Created.Format(time.RFC3339), e.Info.Operation, e.Info.ID, e.Info.ID)
}

func (e *LockError) Unwrap() error { return e.Err }

// ErrTxnClosed is returned by a Txn's methods after Commit or Close.
var ErrTxnClosed = errors.New("state transaction already ended")
