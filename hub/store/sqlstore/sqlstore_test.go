package sqlstore

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
	"github.com/adshift/adshift/hub/store/storetest"
	"github.com/adshift/adshift/internal/pgtest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestSQLite_reopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(t.Context(), api.AuditEntry{Actor: "admin", Action: "token.create", Result: "ok"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = OpenSQLite(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.AuditLog(t.Context(), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("after reopen: %v, %v; want the one entry", got, err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(migrations) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(migrations))
	}
}

func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the PostgreSQL store suite")
	}
	c := pgtest.StartT(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := OpenPostgres(t.Context(), c.DatabaseT(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPostgres_changesWaitForOlderTransactions: a report committed while
// an older transaction that recorded one is still running stays out of
// the changes feed until that one ends, so the cursor never passes it.
func TestPostgres_changesWaitForOlderTransactions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping PostgreSQL")
	}
	ctx := t.Context()
	s, err := OpenPostgres(ctx, pgtest.StartT(t).DatabaseT(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	now := time.Now()
	if err := s.CreateToken(ctx, api.Token{ID: "t", ExpiresAt: now.Add(time.Hour), Uses: 1}, []byte("h")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enroll(ctx, []byte("h"), api.Device{ID: "d1", Hostname: "ws1", CertSerial: "1"}, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.QueueJob(ctx, api.Job{ID: "j1", DeviceID: "d1", IdempotencyKey: "k", Actions: []api.Action{{Name: "noop"}}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	insert := `INSERT INTO reports (job_id, id, action, kind, done, total, status, output, at) VALUES ('j1', $1, 0, 'progress', 0, 0, '', '', 1)`
	older, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer older.Rollback()
	if _, err := older.ExecContext(ctx, insert, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.exec(ctx, insert, "b"); err != nil {
		t.Fatal(err)
	}
	if chs, _, err := s.Changes(ctx, store.Cursor{}, 10); err != nil || len(chs) != 0 {
		t.Fatalf("changes while the older transaction runs = %v, %v; want none", chs, err)
	}
	end, err := s.ChangesEnd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := older.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, since := range []store.Cursor{{}, end} {
		chs, _, err := s.Changes(ctx, since, 10)
		if err != nil || len(chs) != 2 || chs[0].ID != "a" || chs[1].ID != "b" {
			t.Errorf("changes from %+v after the commit = %+v, %v; want a, b", since, chs, err)
		}
	}
}
