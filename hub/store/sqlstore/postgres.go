package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/adshift/adshift/hub/store"
)

// jobsChannel is the PostgreSQL notification channel of queued jobs.
const jobsChannel = "adshift_jobs"

var postgres = dialect{
	name: "postgres", dollar: true, serial: "BIGSERIAL PRIMARY KEY", blob: "BYTEA", maxConns: 16,
	forUpdate: " FOR UPDATE", skipLocked: " FOR UPDATE SKIP LOCKED",
	lockMigrations: `SELECT pg_advisory_xact_lock(7201512)`,
	txDefault:      `(pg_current_xact_id()::text::bigint)`,
	finished:       `r.tx < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint)`,
	notifyValues:   `SELECT pg_notify('` + jobsChannel + `', v.d) FROM (VALUES %s) AS v(d)`,
}

// OpenPostgres connects to PostgreSQL (dsn as pgx takes it, e.g.
// postgres://user@host:port/db) and migrates the schema. Several hub
// processes may share one database: rows are locked where two could race,
// and a job queued through one process wakes the long polls of the others
// (Watch).
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	s := &Store{db: db, r: db, d: postgres, dsn: dsn, params: newParamCache()}
	db.SetMaxOpenConns(s.d.maxConns)
	db.SetMaxIdleConns(s.d.maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate PostgreSQL: %w", err)
	}
	return s, nil
}

var _ store.Watcher = (*Store)(nil)

// Watch calls fn with the device of each job queued through any process
// sharing the database, until ctx ends (nil) or the listening connection
// fails (its error; the caller may watch again). On SQLite, which no
// other process shares, it only waits for ctx.
func (s *Store) Watch(ctx context.Context, fn func(deviceID string)) error {
	if s.d.notifyValues == "" {
		<-ctx.Done()
		return nil
	}
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return fmt.Errorf("listen for queued jobs: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+jobsChannel); err != nil {
		return fmt.Errorf("listen for queued jobs: %w", err)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listen for queued jobs: %w", err)
		}
		fn(n.Payload)
	}
}
