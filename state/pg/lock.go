package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/adshift/adshift/state"
)

// lock is a held workspace lock: its own connection, on which the session
// holds the advisory lock.
type lock struct {
	b    *Backend
	info state.LockInfo
	ctx  context.Context // Lock's, without its cancellation: Unlock has none

	mu   sync.Mutex // serialises use of conn
	conn *pgx.Conn
}

// Info returns the LockInfo the lock was taken with.
func (k *lock) Info() state.LockInfo { return k.info }

// lockName names a workspace's lock in errors.
func (b *Backend) lockName() string {
	return "the lock of " + b.name()
}

// Lock implements state.Backend: it opens a connection for the lock and
// tries the workspace's advisory lock at least once (a context already
// done means one try: -lock-timeout 0), then every 20ms to 1s until ctx is
// done, when it returns a *state.LockError naming the holder from the
// locks table. On success the holder row is written and every later call
// of this Backend uses the lock's connection until Unlock.
func (b *Backend) Lock(ctx context.Context, info state.LockInfo) (state.Unlocker, error) {
	info.Fill()
	// The attempt itself must run even when ctx is already done.
	try := context.WithoutCancel(ctx)
	conn, err := b.store.connect(try)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", b.name(), err)
	}
	fail := func(err error) (state.Unlocker, error) {
		conn.Close(try)
		return nil, err
	}
	key := b.store.lockKey(b.workspace)
	err = state.PollLock(ctx, func() (bool, error) {
		var ok bool
		if err := conn.QueryRow(try, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			return false, fmt.Errorf("lock %s: %w", b.name(), err)
		}
		return ok, nil
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			holder, _ := b.holder(try, conn)
			return fail(&state.LockError{Info: holder, Path: b.lockName(), Err: err})
		}
		return fail(err)
	}
	host := info.Who
	if _, h, ok := strings.Cut(info.Who, "@"); ok {
		host = h
	}
	if _, err := conn.Exec(try, `INSERT INTO `+b.store.q+`.locks (workspace, id, who, host, operation, since, pid, backend_pid)
		VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid())
		ON CONFLICT (workspace) DO UPDATE SET id = $2, who = $3, host = $4, operation = $5, since = $6, pid = $7, backend_pid = pg_backend_pid()`,
		b.workspace, info.ID, info.Who, host, info.Operation, info.Created, info.PID); err != nil {
		return fail(fmt.Errorf("lock %s: write the holder: %w", b.name(), err))
	}
	k := &lock{b: b, info: info, conn: conn, ctx: try}
	b.mu.Lock()
	b.held = k
	b.mu.Unlock()
	return k, nil
}

// holder reads the locks row of the workspace; the zero LockInfo when
// there is none.
func (b *Backend) holder(ctx context.Context, conn *pgx.Conn) (state.LockInfo, error) {
	var info state.LockInfo
	var pid int32
	err := conn.QueryRow(ctx, `SELECT id, who, operation, since, pid FROM `+b.store.q+`.locks WHERE workspace = $1`, b.workspace).
		Scan(&info.ID, &info.Who, &info.Operation, &info.Created, &pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return state.LockInfo{}, nil
	}
	info.PID = int(pid)
	info.Created = info.Created.UTC()
	return info, err
}

// Unlock deletes the holder row and ends the lock's session, which
// releases the advisory lock. Calling it again is a no-op.
func (k *lock) Unlock() error {
	k.b.mu.Lock()
	if k.b.held == k {
		k.b.held = nil
	}
	k.b.mu.Unlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conn == nil {
		return nil
	}
	conn := k.conn
	k.conn = nil
	ctx, cancel := context.WithTimeout(k.ctx, 30*time.Second)
	defer cancel()
	_, derr := conn.Exec(ctx, `DELETE FROM `+k.b.store.q+`.locks WHERE workspace = $1 AND id = $2`, k.b.workspace, k.info.ID)
	// Released explicitly, so that it is free when Unlock returns (the
	// server ends a closed session a moment later); the session's end
	// releases it too, should this fail.
	_, uerr := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, k.b.store.lockKey(k.b.workspace))
	cerr := conn.Close(ctx)
	if err := errors.Join(derr, uerr, cerr); err != nil {
		return fmt.Errorf("unlock %s: %w", k.b.name(), err)
	}
	return nil
}

// ForceUnlock implements state.Workspaces. When the holder's session is
// gone the lock already went with it, and only the holder row is cleared.
// When the session is still there (a holder that hangs, or whose network
// went away before the server noticed), ForceUnlock ends that session with
// pg_terminate_backend: the advisory lock goes with it, and the holder,
// which writes through that session, can no longer change the state.
func (s *Store) ForceUnlock(ctx context.Context, workspace, id string) error {
	bk, err := s.Backend(ctx, workspace)
	if err != nil {
		return err
	}
	b := bk.(*Backend)
	conn, err := s.connect(ctx)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", b.name(), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	holder, err := b.holder(ctx, conn)
	if err != nil {
		return fmt.Errorf("force-unlock %s: %w", b.name(), err)
	}
	if holder.ID == "" {
		return fmt.Errorf("force-unlock %s: the workspace is not locked", b.name())
	}
	if holder.ID != id {
		return fmt.Errorf("force-unlock %s: lock ID %q does not match the current lock (ID %s, held by %s)", b.name(), id, holder.ID, holder.Who)
	}
	key := s.lockKey(workspace)
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		return fmt.Errorf("force-unlock %s: %w", b.name(), err)
	}
	if !ok {
		// End the session that holds the advisory lock, if it is the one
		// the holder row names.
		var ended bool
		err := conn.QueryRow(ctx, `SELECT coalesce(bool_or(pg_terminate_backend(l.pid)), false)
			FROM pg_locks l JOIN `+s.q+`.locks h ON h.backend_pid = l.pid AND h.workspace = $2 AND h.id = $3
			WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1`, key, workspace, id).Scan(&ended)
		if err != nil {
			return fmt.Errorf("force-unlock %s: end the holder's session: %w", b.name(), err)
		}
		if !ended {
			return fmt.Errorf("force-unlock %s: the lock is held by a database session other than the one lock %s recorded; run force-unlock again with the current lock ID", b.name(), id)
		}
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := conn.Exec(wait, `SELECT pg_advisory_lock($1)`, key); err != nil {
			return fmt.Errorf("force-unlock %s: take the lock after ending the holder's session: %w", b.name(), err)
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM `+s.q+`.locks WHERE workspace = $1 AND id = $2`, workspace, id); err != nil {
		return fmt.Errorf("force-unlock %s: %w", b.name(), err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		return fmt.Errorf("force-unlock %s: release: %w", b.name(), err)
	}
	return nil
}
