package sqlstore

import (
	"context"
	"fmt"
	"math"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// Fleet implements store.Store: three queries (devices, their newest jobs,
// those jobs' reports) whatever the page size.
func (s *Store) Fleet(ctx context.Context, after string, limit, jobs int) ([]api.DeviceDetail, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+deviceCols+` FROM devices WHERE id > ? ORDER BY id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("list devices after %q: %w", after, err)
	}
	var out []api.DeviceDetail
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list devices after %q: %w", after, err)
		}
		d.PingKey = nil
		out = append(out, api.DeviceDetail{Device: d, Jobs: []api.Job{}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list devices after %q: %w", after, err)
	}
	if len(out) == 0 || jobs <= 0 {
		return out, nil
	}
	index := make(map[string]int, len(out))
	args := make([]any, 0, len(out)+1)
	for i, d := range out {
		index[d.ID] = i
		args = append(args, d.ID)
	}
	args = append(args, jobs)
	all, err := s.queryJobs(ctx, `SELECT `+jobCols+` FROM (SELECT `+jobCols+`, ROW_NUMBER() OVER (PARTITION BY device_id ORDER BY created_at DESC, id) AS rn FROM jobs WHERE device_id IN (`+placeholders(len(out))+`)) newest WHERE rn <= ? ORDER BY device_id, created_at DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("jobs of devices after %q: %w", after, err)
	}
	if err := s.addReports(ctx, all); err != nil {
		return nil, err
	}
	for _, j := range all {
		d := &out[index[j.DeviceID]]
		d.Jobs = append(d.Jobs, j)
	}
	return out, nil
}

// Changes implements store.Store. Reports are ordered by their
// transaction, then number; on PostgreSQL only those of transactions
// older than every running one are returned (a report numbered before
// another may commit after it; no transaction that starts later can
// record one before the cursor).
func (s *Store) Changes(ctx context.Context, since store.Cursor, limit int) ([]api.Change, store.Cursor, error) {
	cond := ""
	if s.d.finished != "" {
		cond = " AND " + s.d.finished
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.tx, r.seq, j.device_id, j.state, r.job_id, r.id, r.action, r.kind, r.done, r.total, r.status, r.output, r.at
		FROM reports r JOIN jobs j ON j.id = r.job_id WHERE (r.tx > ? OR (r.tx = ? AND r.seq > ?))`+cond+` ORDER BY r.tx, r.seq LIMIT ?`), since.Tx, since.Tx, since.Seq, limit)
	if err != nil {
		return nil, since, fmt.Errorf("reports after %v: %w", since, err)
	}
	defer rows.Close()
	var out []api.Change
	cursor := since
	for rows.Next() {
		var c api.Change
		var at int64
		if err := rows.Scan(&cursor.Tx, &c.Seq, &c.DeviceID, &c.JobState, &c.JobID, &c.ID, &c.Action, &c.Kind, &c.Done, &c.Total, &c.Status, &c.Output, &at); err != nil {
			return nil, since, fmt.Errorf("reports after %v: %w", since, err)
		}
		c.At = fromNanos(at)
		cursor.Seq = c.Seq
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, since, fmt.Errorf("reports after %v: %w", since, err)
	}
	return out, cursor, nil
}

// ChangesEnd implements store.Store: on SQLite after the newest report;
// on PostgreSQL before the oldest running transaction (its reports, and
// later ones, are still to come).
func (s *Store) ChangesEnd(ctx context.Context) (store.Cursor, error) {
	var c store.Cursor
	var err error
	if s.d.finished == "" {
		err = s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM reports`).Scan(&c.Seq)
	} else {
		err = s.r.QueryRowContext(ctx, `SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint) - 1`).Scan(&c.Tx)
		c.Seq = math.MaxInt64
	}
	if err != nil {
		return c, fmt.Errorf("end of the changes feed: %w", err)
	}
	return c, nil
}
