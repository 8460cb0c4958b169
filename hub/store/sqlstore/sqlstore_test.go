package sqlstore

import (
	"path/filepath"
	"testing"

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
