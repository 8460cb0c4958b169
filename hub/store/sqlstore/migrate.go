package sqlstore

import (
	"context"
	"fmt"
	"strings"
)

// migrations are applied in order, each once, in its own transaction;
// schema_migrations records the version reached. Never edit a released
// migration: append a new one. {{ID}} and {{BLOB}} are the dialect's
// auto-increment key and byte-string types, {{TX}} the recording
// transaction's ID.
var migrations = []string{
	// 1: tokens, devices, jobs, reports, audit.
	`CREATE TABLE tokens (
		id TEXT PRIMARY KEY,
		hash {{BLOB}} NOT NULL UNIQUE,
		scope TEXT NOT NULL,
		expires_at BIGINT NOT NULL,
		uses INTEGER NOT NULL,
		used INTEGER NOT NULL DEFAULT 0,
		revoked INTEGER NOT NULL DEFAULT 0,
		created_at BIGINT NOT NULL
	);
	CREATE TABLE devices (
		id TEXT PRIMARY KEY,
		hostname TEXT NOT NULL,
		scope TEXT NOT NULL,
		state TEXT NOT NULL,
		cert_serial TEXT NOT NULL UNIQUE,
		cert_expires BIGINT NOT NULL,
		enrolled_at BIGINT NOT NULL,
		last_seen BIGINT NOT NULL DEFAULT 0,
		inventory TEXT NOT NULL DEFAULT ''
	);
	CREATE UNIQUE INDEX devices_active_hostname ON devices (hostname) WHERE state = 'active';
	CREATE TABLE jobs (
		id TEXT PRIMARY KEY,
		device_id TEXT NOT NULL REFERENCES devices (id),
		idem_key TEXT NOT NULL,
		actions TEXT NOT NULL,
		state TEXT NOT NULL,
		attempt INTEGER NOT NULL DEFAULT 0,
		lease_id TEXT NOT NULL DEFAULT '',
		lease_until BIGINT NOT NULL DEFAULT 0,
		available_at BIGINT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		UNIQUE (device_id, idem_key)
	);
	CREATE INDEX jobs_available ON jobs (device_id, available_at) WHERE state IN ('queued', 'leased');
	CREATE TABLE reports (
		seq {{ID}},
		job_id TEXT NOT NULL REFERENCES jobs (id),
		id TEXT NOT NULL,
		action INTEGER NOT NULL,
		kind TEXT NOT NULL,
		done BIGINT NOT NULL,
		total BIGINT NOT NULL,
		status TEXT NOT NULL,
		output TEXT NOT NULL,
		at BIGINT NOT NULL,
		UNIQUE (job_id, id)
	);
	CREATE UNIQUE INDEX reports_one_result ON reports (job_id, action) WHERE kind = 'result';
	CREATE TABLE audit (
		id {{ID}},
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		object TEXT NOT NULL,
		result TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
	// 2: each device's key for the UDP "is work waiting?" ping.
	`ALTER TABLE devices ADD COLUMN ping_key TEXT NOT NULL DEFAULT ''`,
	// 3: a renewed certificate, valid beside the current one until its
	// first use makes it the current one.
	`ALTER TABLE devices ADD COLUMN next_serial TEXT NOT NULL DEFAULT '';
	ALTER TABLE devices ADD COLUMN next_expires BIGINT NOT NULL DEFAULT 0`,
	// 4: devices by host name, revoked ones included (device show).
	`CREATE INDEX devices_hostname ON devices (hostname, enrolled_at)`,
	// 5: the transaction that recorded each report, the changes feed's
	// order.
	`ALTER TABLE reports ADD COLUMN tx BIGINT NOT NULL DEFAULT {{TX}};
	CREATE INDEX reports_feed ON reports (tx, seq)`,
	// 6: large parameter values stored once, by the SHA-256 of their
	// bytes (params.go); the jobs' actions refer to them. Its data step
	// moves the values of jobs stored before. Values are byte strings:
	// PostgreSQL's text holds no NUL.
	`CREATE TABLE params (
		hash TEXT PRIMARY KEY,
		value {{BLOB}} NOT NULL,
		size BIGINT NOT NULL,
		created_at BIGINT NOT NULL
	)`,
}

// migrationSteps are data steps run after a migration's statements, in
// its transaction, by version.
var migrationSteps = map[int]func(s *Store, ctx context.Context, t *txn) error{
	6: (*Store).externalizeParams,
}

// migrate brings the schema up to the newest version.
func (s *Store) migrate(ctx context.Context) error {
	for i, m := range migrations {
		version := i + 1
		err := s.tx(ctx, func(tx *txn) error {
			if s.d.lockMigrations != "" {
				if _, err := tx.ExecContext(ctx, s.d.lockMigrations); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM schema_migrations WHERE version >= ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			ddl := strings.NewReplacer("{{ID}}", s.d.serial, "{{BLOB}}", s.d.blob, "{{TX}}", s.d.txDefault).Replace(m)
			for _, stmt := range strings.Split(ddl, ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			if step := migrationSteps[version]; step != nil {
				if err := step(s, ctx, tx); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version) VALUES (?)`), version)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %d: %w", version, err)
		}
	}
	return nil
}
