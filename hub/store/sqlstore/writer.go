package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// txn is one store call's view of a transaction. On SQLite it is one of
// several calls sharing a group-committed transaction, each inside a
// savepoint of its own, and its statements are prepared once per
// transaction (database/sql with modernc would otherwise parse every
// statement on every call). Statements run as the call's own.
type txn struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // nil: no caching (PostgreSQL: pgx caches)
}

// stmt is query prepared in t's transaction, nil when it cannot be (the
// caller then runs it unprepared, to get its error). On SQLite ctx is
// made uncancellable by the caller: one call's cancellation must not
// interrupt a statement of the group's shared transaction, and
// database/sql would start a goroutine per query to watch it.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if st, ok := t.stmts[query]; ok {
		return st
	}
	st, err := t.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	t.stmts[query] = st
	return st
}

// ExecContext runs a statement in the transaction.
func (t *txn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.stmts != nil {
		ctx = context.WithoutCancel(ctx)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryRowContext runs a query for at most one row in the transaction.
func (t *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if t.stmts != nil {
		ctx = context.WithoutCancel(ctx)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.stmts != nil {
		ctx = context.WithoutCancel(ctx)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

// closeStmts closes the statements prepared in t.
func (t *txn) closeStmts() {
	for _, st := range t.stmts {
		st.Close()
	}
}

// write is one call waiting for the group-committing writer.
type write struct {
	ctx  context.Context
	fn   func(*txn) error
	done chan error
}

// maxGroup caps the calls committed together: a group's calls wait for
// its commit, so an unbounded group would delay its first ones.
const maxGroup = 256

// writer owns SQLite's one writing connection: it runs the calls queued
// on writes in one transaction, each in a savepoint (a refused call rolls
// back its own changes only), commits once, and only then answers each
// call. A call therefore returns after its changes are durable, and the
// database pays one commit (one WAL fsync) per group instead of per call.
// Groups form by themselves: the calls that arrive while a group commits
// make the next one, so an idle store adds no delay. It runs until ctx
// ends.
//
// Calls on urgent (queuing and leasing jobs: what a job's pickup waits
// for) go first: under a flood of reports, thousands of calls may wait on
// writes, and a job queued behind them would reach its agent only after
// all of them.
func (s *Store) writer(ctx context.Context, urgent, writes chan *write) {
	batch := make([]*write, 0, maxGroup)
	for {
		select {
		case <-ctx.Done():
			return
		case w := <-urgent:
			batch = append(batch[:0], w)
		case w := <-writes:
			batch = append(batch[:0], w)
		}
		batch = drain(batch, urgent)
		batch = drain(batch, writes)
		s.commitGroup(ctx, batch)
	}
}

// drain adds the calls waiting on ch to batch, up to maxGroup.
func drain(batch []*write, ch chan *write) []*write {
	for len(batch) < maxGroup {
		select {
		case w := <-ch:
			batch = append(batch, w)
		default:
			return batch
		}
	}
	return batch
}

// commitGroup runs batch in one transaction and answers each call.
func (s *Store) commitGroup(ctx context.Context, batch []*write) {
	errs := make([]error, len(batch))
	answer := func(all error) {
		for i, w := range batch {
			if errs[i] == nil {
				errs[i] = all
			}
			w.done <- errs[i]
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		answer(fmt.Errorf("begin: %w", err))
		return
	}
	t := &txn{tx: tx, stmts: map[string]*sql.Stmt{}}
	defer t.closeStmts()
	for i, w := range batch {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT call`); err != nil {
			tx.Rollback()
			answer(fmt.Errorf("savepoint: %w", err))
			return
		}
		errs[i] = w.fn(t)
		undo := ""
		if errs[i] != nil {
			undo = `ROLLBACK TO call; `
		}
		if _, err := tx.ExecContext(ctx, undo+`RELEASE call`); err != nil {
			tx.Rollback()
			answer(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	var commit error
	if err := tx.Commit(); err != nil {
		commit = fmt.Errorf("commit: %w", err)
	}
	answer(commit)
}

// errClosed answers calls made after Close.
var errClosed = errors.New("store closed")

// tx runs fn in a transaction, committing when it returns nil and rolling
// its changes back when it returns an error. On SQLite fn shares the
// transaction with other calls (see writer): it must do nothing but
// statements through its txn until it returns.
func (s *Store) tx(ctx context.Context, fn func(*txn) error) error {
	return s.txOn(ctx, s.writes, fn)
}

// urgentTx is tx for the calls a job's pickup waits for (see writer).
func (s *Store) urgentTx(ctx context.Context, fn func(*txn) error) error {
	return s.txOn(ctx, s.urgent, fn)
}

func (s *Store) txOn(ctx context.Context, ch chan *write, fn func(*txn) error) error {
	if ch == nil {
		return s.ownTx(ctx, fn)
	}
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case ch <- w:
	case <-s.stop.Done():
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the call is answered even if ctx ends: its changes may
	// be committing.
	return <-w.done
}

// ownTx runs fn in a transaction of its own.
func (s *Store) ownTx(ctx context.Context, fn func(*txn) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&txn{tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// exec runs one statement as a transaction of its own (grouped on SQLite).
func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.tx(ctx, func(t *txn) error {
		var err error
		res, err = t.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}
