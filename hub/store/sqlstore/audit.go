package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
)

// Audit implements store.Store.
func (s *Store) Audit(ctx context.Context, e api.AuditEntry) error {
	return s.tx(ctx, func(t *txn) error { return s.audit(ctx, t, e) })
}

// execer is a database or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// audit appends e through x, so that it can share a transaction.
func (s *Store) audit(ctx context.Context, x execer, e api.AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := x.ExecContext(ctx, s.q(`INSERT INTO audit (at, actor, action, object, result, detail) VALUES (?, ?, ?, ?, ?, ?)`),
		nanos(e.At), e.Actor, e.Action, e.Object, e.Result, e.Detail)
	if err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Actor, e.Action, err)
	}
	return nil
}

// auditMany appends entries through x in one statement per 500 of them,
// in order.
func (s *Store) auditMany(ctx context.Context, x execer, entries []api.AuditEntry) error {
	for part := range slices.Chunk(entries, 500) {
		args := make([]any, 0, 6*len(part))
		for _, e := range part {
			if e.At.IsZero() {
				e.At = time.Now()
			}
			args = append(args, nanos(e.At), e.Actor, e.Action, e.Object, e.Result, e.Detail)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(part)), ", ")
		if _, err := x.ExecContext(ctx, s.q(`INSERT INTO audit (at, actor, action, object, result, detail) VALUES `+values), args...); err != nil {
			return fmt.Errorf("audit %d entries (%s %s): %w", len(part), part[0].Actor, part[0].Action, err)
		}
	}
	return nil
}

// AuditLog implements store.Store.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]api.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, at, actor, action, object, result, detail FROM audit ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	var out []api.AuditEntry
	for rows.Next() {
		var e api.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &e.Result, &e.Detail); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		e.At = fromNanos(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
