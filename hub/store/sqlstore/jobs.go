package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

const jobCols = `id, device_id, idem_key, actions, state, attempt, lease_id, lease_until, created_at, updated_at`

func scanJob(row interface{ Scan(...any) error }) (api.Job, error) {
	var j api.Job
	var actions string
	var until, created, updated int64
	if err := row.Scan(&j.ID, &j.DeviceID, &j.IdempotencyKey, &actions, &j.State, &j.Attempt, &j.LeaseID, &until, &created, &updated); err != nil {
		return j, err
	}
	j.LeaseUntil, j.CreatedAt, j.UpdatedAt = fromNanos(until), fromNanos(created), fromNanos(updated)
	var err error
	if j.Actions, err = decodeActions(actions); err != nil {
		return j, fmt.Errorf("job %s actions: %w", j.ID, err)
	}
	return j, nil
}

// QueueJob implements store.Store.
func (s *Store) QueueJob(ctx context.Context, j api.Job) (api.Job, bool, error) {
	existing := false
	err := s.urgentTx(ctx, func(tx *txn) error {
		states, err := s.deviceStates(ctx, tx, []api.Job{j})
		if err != nil {
			return err
		}
		if j, existing, err = s.queueTx(ctx, tx, j, states); err != nil {
			return err
		}
		if !existing {
			return s.notifyQueued(ctx, tx, []string{j.DeviceID})
		}
		return nil
	})
	if err != nil {
		return j, false, fmt.Errorf("queue job %s: %w", j.ID, err)
	}
	return j, existing, nil
}

// deviceStates reads the states of the jobs' devices, in one query per
// 500 of them; a device missing from the map does not exist.
func (s *Store) deviceStates(ctx context.Context, tx *txn, jobs []api.Job) (map[string]string, error) {
	states := map[string]string{}
	var ids []any
	for _, j := range jobs {
		if _, ok := states[j.DeviceID]; !ok {
			states[j.DeviceID] = ""
			ids = append(ids, j.DeviceID)
		}
	}
	clear(states)
	for part := range slices.Chunk(ids, 500) {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, state FROM devices WHERE id IN (`+placeholders(len(part))+`)`), part...)
		if err != nil {
			return nil, fmt.Errorf("device states: %w", err)
		}
		for rows.Next() {
			var id, state string
			if err := rows.Scan(&id, &state); err != nil {
				rows.Close()
				return nil, fmt.Errorf("device states: %w", err)
			}
			states[id] = state
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("device states: %w", err)
		}
	}
	return states, nil
}

// notifyQueued tells other hub processes (PostgreSQL) of the devices with
// a new job, in one statement per 500 of them.
func (s *Store) notifyQueued(ctx context.Context, tx *txn, devices []string) error {
	if s.d.notifyValues == "" {
		return nil
	}
	for part := range slices.Chunk(devices, 500) {
		args := make([]any, len(part))
		for i, d := range part {
			args[i] = d
		}
		values := strings.TrimSuffix(strings.Repeat("(?), ", len(part)), ", ")
		if _, err := tx.ExecContext(ctx, s.q(fmt.Sprintf(s.d.notifyValues, values)), args...); err != nil {
			return fmt.Errorf("notify queued jobs: %w", err)
		}
	}
	return nil
}

// queueTx queues j in tx, or returns the job queued before with its
// device and key (existing true); states are its device's (deviceStates).
// A new job of an active device costs one statement (two with large
// parameter values): the device is known and the insert finds a known key.
func (s *Store) queueTx(ctx context.Context, tx *txn, j api.Job, states map[string]string) (api.Job, bool, error) {
	existing := func() (api.Job, bool, error) {
		old, err := scanJob(tx.QueryRowContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE device_id = ? AND idem_key = ?`), j.DeviceID, j.IdempotencyKey))
		if err != nil {
			return old, false, err
		}
		jobs := []api.Job{old}
		return jobs[0], true, s.resolve(ctx, tx, jobs)
	}
	state, ok := states[j.DeviceID]
	if !ok {
		// A known key implies a known device: nothing to look up.
		return j, false, fmt.Errorf("device %s: %w", j.DeviceID, store.ErrNotFound)
	}
	if state != string(api.DeviceActive) {
		// A revoked device's known key still answers its job.
		if old, ok, err := existing(); ok || !errors.Is(err, sql.ErrNoRows) {
			return old, ok, err
		}
		return j, false, fmt.Errorf("device %s: %w", j.DeviceID, store.ErrDeviceRevoked)
	}
	j.State, j.Attempt, j.UpdatedAt = api.JobQueued, 0, j.CreatedAt
	actions, err := s.encodeActions(ctx, tx, j.Actions, j.CreatedAt)
	if err != nil {
		return j, false, err
	}
	// A known key (queued before, or by another hub process meanwhile)
	// inserts nothing: the job queued first wins.
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO jobs (id, device_id, idem_key, actions, state, available_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, idem_key) DO NOTHING`),
		j.ID, j.DeviceID, j.IdempotencyKey, actions, j.State, nanos(j.CreatedAt), nanos(j.CreatedAt), nanos(j.CreatedAt))
	if err != nil {
		return j, false, err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return existing()
	}
	return j, false, nil
}

// QueueJobs implements store.Store.
func (s *Store) QueueJobs(ctx context.Context, jobs []api.Job, audit api.AuditEntry) ([]store.Queued, error) {
	out := make([]store.Queued, len(jobs))
	err := s.urgentTx(ctx, func(tx *txn) error {
		states, err := s.deviceStates(ctx, tx, jobs)
		if err != nil {
			return err
		}
		var queued []string
		var entries []api.AuditEntry
		for i, j := range jobs {
			job, existing, err := s.queueTx(ctx, tx, j, states)
			if err == nil && existing && (job.State == api.JobQueued || job.State == api.JobLeased) && states[job.DeviceID] != string(api.DeviceActive) {
				// An unfinished job of a revoked device never ends.
				err = fmt.Errorf("device %s: %w", job.DeviceID, store.ErrDeviceRevoked)
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrDeviceRevoked) {
				return fmt.Errorf("job %s: %w", j.ID, err)
			}
			out[i] = store.Queued{Job: job, Existing: existing, Err: err}
			if err == nil && !existing {
				queued = append(queued, job.DeviceID)
			}
			if audit.Action == "" {
				continue
			}
			e := audit
			switch {
			case err != nil:
				e.Object, e.Result, e.Detail = "device:"+j.DeviceID, "refused", err.Error()
			case existing:
				e.Object, e.Result = "job:"+job.ID, "duplicate"
			default:
				e.Object, e.Result = "job:"+job.ID, "ok"
			}
			entries = append(entries, e)
		}
		if err := s.auditMany(ctx, tx, entries); err != nil {
			return err
		}
		return s.notifyQueued(ctx, tx, queued)
	})
	if err != nil {
		return nil, fmt.Errorf("queue %d jobs: %w", len(jobs), err)
	}
	var old []api.Job
	var at []int
	for i, q := range out {
		if q.Existing && q.Err == nil {
			old, at = append(old, q.Job), append(at, i)
		}
	}
	if err := s.addReports(ctx, old); err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i].Job = old[k]
	}
	return out, nil
}

// LeaseJob implements store.Store.
func (s *Store) LeaseJob(ctx context.Context, deviceID string, l store.Lease) (*api.Job, error) {
	var out *api.Job
	err := s.urgentTx(ctx, func(tx *txn) error {
		j, err := scanJob(tx.QueryRowContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE device_id = ? AND state IN ('queued', 'leased') AND available_at <= ? ORDER BY created_at, id LIMIT 1`+s.d.skipLocked), deviceID, nanos(l.Now)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		j.State, j.Attempt, j.LeaseID, j.LeaseUntil, j.UpdatedAt = api.JobLeased, j.Attempt+1, l.ID, l.Until.UTC(), l.Now.UTC()
		_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET state = ?, attempt = ?, lease_id = ?, lease_until = ?, available_at = ?, updated_at = ? WHERE id = ?`),
			j.State, j.Attempt, j.LeaseID, nanos(j.LeaseUntil), nanos(retryAt(l, j.Attempt)), nanos(l.Now), j.ID)
		if err == nil && l.Audit.Action != "" {
			e := l.Audit
			e.Object, e.Detail = "job:"+j.ID, fmt.Sprintf("attempt %d", j.Attempt)
			err = s.audit(ctx, tx, e)
		}
		if err != nil {
			return err
		}
		jobs := []api.Job{j}
		if err := s.resolve(ctx, tx, jobs); err != nil {
			return err
		}
		out = &jobs[0]
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lease a job of device %s: %w", deviceID, err)
	}
	return out, nil
}

// retryAt is when a job leased under l is offered again if the lease is
// not extended.
func retryAt(l store.Lease, attempt int) time.Time {
	if l.Backoff == nil {
		return l.Until
	}
	return l.Until.Add(l.Backoff(attempt))
}

// NextAvailable implements store.Store.
func (s *Store) NextAvailable(ctx context.Context, deviceID string) (time.Time, error) {
	var n sql.NullInt64
	err := s.queryRow(ctx, `SELECT MIN(available_at) FROM jobs WHERE device_id = ? AND state IN ('queued', 'leased')`, deviceID).Scan(&n)
	if err != nil {
		return time.Time{}, fmt.Errorf("next job of device %s: %w", deviceID, err)
	}
	if !n.Valid {
		return time.Time{}, nil
	}
	return fromNanos(n.Int64), nil
}

// ExtendLeases implements store.Store.
func (s *Store) ExtendLeases(ctx context.Context, deviceID string, leases []api.Lease, l store.Lease) ([]api.Lease, error) {
	var out []api.Lease
	err := s.tx(ctx, func(tx *txn) error {
		out = out[:0]
		for _, ls := range leases {
			var attempt int
			err := tx.QueryRowContext(ctx, s.q(`SELECT attempt FROM jobs WHERE id = ? AND device_id = ? AND state = 'leased' AND lease_id = ? AND lease_until > ?`),
				ls.JobID, deviceID, ls.LeaseID, nanos(l.Now)).Scan(&attempt)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE jobs SET lease_until = ?, available_at = ? WHERE id = ?`), nanos(l.Until), nanos(retryAt(l, attempt)), ls.JobID); err != nil {
				return err
			}
			out = append(out, ls)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("extend leases of device %s: %w", deviceID, err)
	}
	return out, nil
}

// Report implements store.Store.
func (s *Store) Report(ctx context.Context, deviceID string, r api.Report, now time.Time, audit api.AuditEntry) (api.ReportAck, error) {
	var ack api.ReportAck
	record := func(tx *txn, result string) error {
		if audit.Action == "" {
			return nil
		}
		audit.Result = result
		return s.audit(ctx, tx, audit)
	}
	err := s.tx(ctx, func(tx *txn) error {
		j, err := scanJob(tx.QueryRowContext(ctx, s.q(`SELECT `+jobCols+` FROM jobs WHERE id = ?`+s.d.forUpdate), r.JobID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("job %s: %w", r.JobID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if j.DeviceID != deviceID {
			return fmt.Errorf("job %s: %w", r.JobID, store.ErrForbidden)
		}
		ack.JobState = j.State
		var old api.Report
		err = tx.QueryRowContext(ctx, s.q(`SELECT action, kind, status FROM reports WHERE job_id = ? AND id = ?`), r.JobID, r.ID).Scan(&old.Action, &old.Kind, &old.Status)
		if err == nil {
			if old.Action != r.Action || old.Kind != r.Kind || old.Status != r.Status {
				return fmt.Errorf("report %s: %w", r.ID, store.ErrConflict)
			}
			ack.Duplicate = true
			return record(tx, "duplicate")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if j.State != api.JobLeased || j.LeaseID != r.LeaseID || !now.Before(j.LeaseUntil) {
			return fmt.Errorf("job %s: %w", r.JobID, store.ErrLeaseLost)
		}
		if r.Action >= len(j.Actions) {
			return fmt.Errorf("job %s has no action %d: %w", r.JobID, r.Action, store.ErrConflict)
		}
		// The job's results, and whether this action has one: one round trip.
		var results, this int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN action = ? THEN 1 ELSE 0 END), 0) FROM reports WHERE job_id = ? AND kind = 'result'`), r.Action, r.JobID).Scan(&results, &this); err != nil {
			return err
		}
		if r.Kind == api.ReportResult && this > 0 {
			return fmt.Errorf("job %s action %d has a result: %w", r.JobID, r.Action, store.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, s.q(`INSERT INTO reports (job_id, id, action, kind, done, total, status, output, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			r.JobID, r.ID, r.Action, r.Kind, r.Done, r.Total, r.Status, r.Output, nanos(now))
		if err != nil {
			return err
		}
		state := j.State
		switch {
		case r.Kind != api.ReportResult:
		case r.Status == api.StatusFailed:
			state = api.JobFailed
		case results+1 == len(j.Actions):
			state = api.JobSucceeded
		}
		ack.JobState = state
		if state == j.State {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET updated_at = ? WHERE id = ?`), nanos(now), r.JobID)
		} else {
			_, err = tx.ExecContext(ctx, s.q(`UPDATE jobs SET state = ?, lease_id = '', lease_until = 0, updated_at = ? WHERE id = ?`), state, nanos(now), r.JobID)
		}
		if err != nil {
			return err
		}
		return record(tx, "ok")
	})
	if err != nil {
		return ack, fmt.Errorf("report on job %s: %w", r.JobID, err)
	}
	return ack, nil
}

// Job implements store.Store.
func (s *Store) Job(ctx context.Context, id string) (api.Job, error) {
	j, err := scanJob(s.queryRow(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if err != nil {
		return j, notFound(err, "job "+id)
	}
	jobs := []api.Job{j}
	if err := s.resolve(ctx, s.r, jobs); err != nil {
		return j, err
	}
	if err := s.addReports(ctx, jobs); err != nil {
		return j, err
	}
	return jobs[0], nil
}

// Jobs implements store.Store.
func (s *Store) Jobs(ctx context.Context, deviceID string) ([]api.Job, error) {
	jobs, err := s.queryJobs(ctx, `SELECT `+jobCols+` FROM jobs WHERE device_id = ? ORDER BY created_at DESC, id`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("jobs of device %s: %w", deviceID, err)
	}
	return jobs, s.addReports(ctx, jobs)
}

// queryJobs reads the jobs a query of jobCols selects (without reports).
func (s *Store) queryJobs(ctx context.Context, query string, args ...any) ([]api.Job, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []api.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return jobs, s.resolve(ctx, s.r, jobs)
}

// addReports fills in each job's reports, oldest first, in one query per
// chunk of jobs.
func (s *Store) addReports(ctx context.Context, jobs []api.Job) error {
	const chunk = 500
	for start := 0; start < len(jobs); start += chunk {
		part := jobs[start:min(start+chunk, len(jobs))]
		byID := make(map[string]*api.Job, len(part))
		args := make([]any, len(part))
		for i := range part {
			byID[part[i].ID] = &part[i]
			args[i] = part[i].ID
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT job_id, id, action, kind, done, total, status, output, at FROM reports WHERE job_id IN (`+placeholders(len(part))+`) ORDER BY seq`), args...)
		if err != nil {
			return fmt.Errorf("reports of job %s: %w", part[0].ID, err)
		}
		for rows.Next() {
			var r api.Report
			var at int64
			if err := rows.Scan(&r.JobID, &r.ID, &r.Action, &r.Kind, &r.Done, &r.Total, &r.Status, &r.Output, &at); err != nil {
				rows.Close()
				return fmt.Errorf("reports of job %s: %w", part[0].ID, err)
			}
			r.At = fromNanos(at)
			j := byID[r.JobID]
			j.Reports = append(j.Reports, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reports of job %s: %w", part[0].ID, err)
		}
	}
	return nil
}

// placeholders is n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
