package pg

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations[i] brings the schema from version i to i+1. Append only:
// a released migration never changes. "%s" stands for the quoted schema.
var migrations = []string{
	`CREATE TABLE %s.workspaces (
		name    text PRIMARY KEY,
		created timestamptz NOT NULL DEFAULT now()
	);
	CREATE TABLE %s.versions (
		id        bigserial PRIMARY KEY,
		workspace text NOT NULL,
		lineage   text NOT NULL,
		serial    bigint NOT NULL,
		state     jsonb NOT NULL,
		created   timestamptz NOT NULL DEFAULT now()
	);
	CREATE INDEX versions_workspace ON %s.versions (workspace, id);
	CREATE TABLE %s.journal (
		workspace text NOT NULL,
		serial    bigint NOT NULL,
		lineage   text NOT NULL,
		record    text NOT NULL,
		PRIMARY KEY (workspace, serial)
	);
	CREATE TABLE %s.locks (
		workspace   text PRIMARY KEY,
		id          text NOT NULL,
		who         text NOT NULL,
		host        text NOT NULL,
		operation   text NOT NULL,
		since       timestamptz NOT NULL,
		pid         integer NOT NULL,
		backend_pid integer NOT NULL
	);
	CREATE TABLE %s.plan_keys (
		lineage   text PRIMARY KEY,
		workspace text NOT NULL,
		key       bytea NOT NULL,
		created   timestamptz NOT NULL DEFAULT now()
	);`,
}

// SchemaVersion returns the schema version this adshift migrates to.
func SchemaVersion() int { return len(migrations) }

// migrate brings the schema up to SchemaVersion, once per Store. A schema
// of a newer adshift is refused.
func (s *Store) migrate(ctx context.Context, conn *pgx.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated {
		return nil
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockKey("\x00migrate")); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+s.q); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+s.q+`.schema_migrations (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+s.q+`.schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("the schema is at version %d, written by a newer adshift (this one knows up to %d): upgrade adshift", have, len(migrations))
		}
		for v := have; v < len(migrations); v++ {
			sql := strings.ReplaceAll(migrations[v], "%s", s.q)
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO `+s.q+`.schema_migrations (version) VALUES ($1)`, v+1); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prepare %s: %w", s.Describe(), err)
	}
	s.migrated = true
	return nil
}
