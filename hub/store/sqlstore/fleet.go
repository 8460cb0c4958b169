package sqlstore

import (
	"context"
	"fmt"

	"github.com/adshift/adshift/hub/api"
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

// Changes implements store.Store.
func (s *Store) Changes(ctx context.Context, since int64, limit int) ([]api.Change, int64, error) {
	if since < 0 {
		var head int64
		if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM reports`).Scan(&head); err != nil {
			return nil, since, fmt.Errorf("newest report: %w", err)
		}
		return nil, head, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.seq, j.device_id, j.state, r.job_id, r.id, r.action, r.kind, r.done, r.total, r.status, r.output, r.at
		FROM reports r JOIN jobs j ON j.id = r.job_id WHERE r.seq > ? ORDER BY r.seq LIMIT ?`), since, limit)
	if err != nil {
		return nil, since, fmt.Errorf("reports after %d: %w", since, err)
	}
	defer rows.Close()
	var out []api.Change
	cursor := since
	for rows.Next() {
		var c api.Change
		var at int64
		if err := rows.Scan(&c.Seq, &c.DeviceID, &c.JobState, &c.JobID, &c.ID, &c.Action, &c.Kind, &c.Done, &c.Total, &c.Status, &c.Output, &at); err != nil {
			return nil, since, fmt.Errorf("reports after %d: %w", since, err)
		}
		c.At = fromNanos(at)
		out = append(out, c)
		cursor = c.Seq
	}
	if err := rows.Err(); err != nil {
		return nil, since, fmt.Errorf("reports after %d: %w", since, err)
	}
	return out, cursor, nil
}
