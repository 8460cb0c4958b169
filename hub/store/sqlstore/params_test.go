package sqlstore

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/pgtest"
)

// sidMap is a SID map of n lines, about 40 bytes each.
func sidMap(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "S-1-5-21-1-2-3-%d=S-1-5-21-4-5-6-%d\n", 1000+i, 1000+i)
	}
	return b.String()
}

// wave enrolls n devices and queues each a job carrying m.
func wave(t *testing.T, s *Store, n int, m string) []api.Job {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	if err := s.CreateToken(ctx, api.Token{ID: "t", ExpiresAt: now.Add(time.Hour), Uses: n}, []byte("h")); err != nil {
		t.Fatal(err)
	}
	var jobs []api.Job
	for i := range n {
		id := fmt.Sprintf("d%d", i)
		if _, err := s.Enroll(ctx, []byte("h"), api.Device{ID: id, Hostname: "ws" + id, CertSerial: id}, now); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, api.Job{ID: "j" + id, DeviceID: id, IdempotencyKey: "wave", CreatedAt: now,
			Actions: []api.Action{{Name: api.ActionReACL, Params: map[string]string{api.ParamSIDMap: m, api.ParamMode: "add"}}}})
	}
	return jobs
}

// testStoredOnce: a wave's shared SID map is stored once, not per job.
func testStoredOnce(t *testing.T, s *Store) {
	ctx := t.Context()
	m := sidMap(25_000) // ~1 MB
	jobs := wave(t, s, 20, m)
	if _, _, err := s.QueueJob(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	qs, err := s.QueueJobs(ctx, jobs[1:], api.AuditEntry{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Err != nil {
			t.Fatal(q.Err)
		}
	}
	var values, total int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), SUM(size) FROM params`).Scan(&values, &total); err != nil {
		t.Fatal(err)
	}
	if values != 1 || total != int64(len(m)) {
		t.Errorf("params hold %d values of %d bytes; want 1 of %d", values, total, len(m))
	}
	var actions int64
	if err := s.db.QueryRowContext(ctx, `SELECT SUM(LENGTH(actions)) FROM jobs`).Scan(&actions); err != nil {
		t.Fatal(err)
	}
	if actions > 20*1024 {
		t.Errorf("the jobs' actions take %d bytes; want the SID map stored by reference", actions)
	}
	got, err := s.Job(ctx, jobs[7].ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jobs[7].Actions, got.Actions); diff != "" {
		t.Errorf("job read back (-want +got):\n%s", diff)
	}
}

func TestSQLite_largeParamsStoredOnce(t *testing.T) {
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStoredOnce(t, s)
}

func TestPostgres_largeParamsStoredOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping PostgreSQL")
	}
	s, err := OpenPostgres(t.Context(), pgtest.StartT(t).DatabaseT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testStoredOnce(t, s)
}

// TestSQLite_migration6MovesParams: jobs stored before migration 6, with
// their values inline, get them moved into params and read back the same.
func TestSQLite_migration6MovesParams(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "hub.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	m := sidMap(1000)
	jobs := wave(t, s, 3, m)
	jobs[2].Actions[0].Params[api.ParamSIDMap] = "short"
	// Store the jobs as a hub before migration 6 did, and undo it.
	for _, j := range jobs {
		if _, _, err := s.QueueJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	err = s.ownTx(ctx, func(t *txn) error {
		for _, j := range jobs {
			if _, err := t.ExecContext(ctx, `UPDATE jobs SET actions = ? WHERE id = ?`, mustJSON(j.Actions), j.ID); err != nil {
				return err
			}
		}
		for _, q := range []string{`DROP TABLE params`, `DELETE FROM schema_migrations WHERE version = 6`} {
			if _, err := t.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	s.Close()
	if err != nil {
		t.Fatal(err)
	}

	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen (migration 6): %v", err)
	}
	defer s.Close()
	var values int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM params`).Scan(&values); err != nil || values != 1 {
		t.Errorf("params after migration 6 = %d, %v; want the one SID map", values, err)
	}
	for _, j := range jobs {
		got, err := s.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(j.Actions, got.Actions); diff != "" {
			t.Errorf("job %s after migration 6 (-want +got):\n%s", j.ID, diff)
		}
	}
}

func mustJSON(actions []api.Action) string {
	b, err := json.Marshal(actions)
	if err != nil {
		panic(err)
	}
	return string(b)
}
