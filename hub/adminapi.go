package hub

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

const adminActor = "admin"

// tokenHash is what the store keeps of an enrollment token's secret.
func tokenHash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// adminFail answers a failed admin call: the store's refusal, or 500.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, action, object string, err error) {
	s.fail(w, r, adminActor, action, object, err)
}

// adminDone audits a successful admin call and answers v.
func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, action, object string, v any) {
	s.audit(r.Context(), api.AuditEntry{Actor: adminActor, Action: action, Object: object, Result: "ok"})
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) {
	var req api.TokenRequest
	err := api.Decode(r.Body, &req)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, adminActor, "token.create", "", status, code, err.Error())
		return
	}
	now := s.opts.Now().UTC()
	t := api.TokenCreated{
		Token:         api.Token{ID: uuid.NewString(), Scope: req.Scope, ExpiresAt: now.Add(req.TTL), Uses: req.Uses, CreatedAt: now},
		Secret:        "adshift-enroll-" + randomString(24),
		CAFingerprint: s.ServerCAFingerprint(),
	}
	if err := s.store.CreateToken(r.Context(), t.Token, tokenHash(t.Secret)); err != nil {
		s.adminFail(w, r, "token.create", "", err)
		return
	}
	s.adminDone(w, r, "token.create", "token:"+t.ID, t)
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		s.adminFail(w, r, "token.list", "", err)
		return
	}
	s.adminDone(w, r, "token.list", "", nonNil(ts))
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.store.RevokeToken(r.Context(), id); err != nil {
		s.adminFail(w, r, "token.revoke", "token:"+id, err)
		return
	}
	s.adminDone(w, r, "token.revoke", "token:"+id, nil)
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request) {
	ds, err := s.store.Devices(r.Context())
	if err != nil {
		s.adminFail(w, r, "device.list", "", err)
		return
	}
	s.adminDone(w, r, "device.list", "", nonNil(ds))
}

func (s *Server) showDevice(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	d, err := s.store.Device(r.Context(), key)
	if err != nil {
		s.adminFail(w, r, "device.show", "device:"+key, err)
		return
	}
	jobs, err := s.store.Jobs(r.Context(), d.ID)
	if err != nil {
		s.adminFail(w, r, "device.show", "device:"+d.ID, err)
		return
	}
	s.adminDone(w, r, "device.show", "device:"+d.ID, api.DeviceDetail{Device: d, Jobs: nonNil(jobs)})
}

func (s *Server) revokeDevice(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	d, err := s.store.Device(r.Context(), key)
	if err == nil {
		err = s.store.RevokeDevice(r.Context(), d.ID)
	}
	if err != nil {
		s.adminFail(w, r, "device.revoke", "device:"+key, err)
		return
	}
	s.notify.notify(d.ID)
	s.adminDone(w, r, "device.revoke", "device:"+d.ID, nil)
}

// decodeJobs reads a job request or batch into v and validates it,
// refusing (audited) what does not; it reports whether to go on.
func (s *Server) decodeJobs(w http.ResponseWriter, r *http.Request, v interface{ Validate() error }) bool {
	err := api.DecodeLimit(r.Body, v, api.MaxJobBodyBytes)
	if err == nil {
		err = v.Validate()
	}
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, adminActor, "job.queue", "", status, code, err.Error())
		return false
	}
	return true
}

func (s *Server) queueJob(w http.ResponseWriter, r *http.Request) {
	var req api.JobRequest
	if !s.decodeJobs(w, r, &req) {
		return
	}
	out, err := s.queueJobs(r.Context(), []api.JobRequest{req})
	if err != nil {
		s.internal(w, r, adminActor, "job.queue", err)
		return
	}
	if res := out[0]; res.Error != nil {
		writeJSON(w, res.status, res.Error)
		return
	}
	writeJSON(w, http.StatusOK, out[0].Job)
}

// queueJobBatch queues several jobs in one store transaction.
func (s *Server) queueJobBatch(w http.ResponseWriter, r *http.Request) {
	var req api.JobBatch
	if !s.decodeJobs(w, r, &req) {
		return
	}
	out, err := s.queueJobs(r.Context(), req.Jobs)
	if err != nil {
		s.internal(w, r, adminActor, "job.queue", err)
		return
	}
	res := api.JobBatchResult{Results: make([]api.JobResult, len(out))}
	for i, o := range out {
		res.Results[i] = o.JobResult
	}
	writeJSON(w, http.StatusOK, res)
}

// queued is the outcome of one job request, with the HTTP status of its
// error.
type queued struct {
	api.JobResult
	status int
}

// queueJobs queues the requests in one store transaction (each request
// refused or queued on its own; every outcome audited in it) and wakes
// the devices of new jobs. A job queued before with the same key comes
// back with its reports, so the caller learns what it has done.
func (s *Server) queueJobs(ctx context.Context, reqs []api.JobRequest) ([]queued, error) {
	out := make([]queued, len(reqs))
	now := s.opts.Now().UTC()
	var jobs []api.Job
	var at []int
	for i, req := range reqs {
		if err := req.Validate(); err != nil {
			out[i] = queued{api.JobResult{Error: &api.Error{Code: api.CodeBadRequest, Message: err.Error()}}, http.StatusBadRequest}
			continue
		}
		jobs = append(jobs, api.Job{ID: uuid.NewString(), DeviceID: req.DeviceID, IdempotencyKey: req.IdempotencyKey, Actions: req.Actions, CreatedAt: now})
		at = append(at, i)
	}
	if len(jobs) == 0 {
		return out, nil
	}
	qs, err := s.store.QueueJobs(ctx, jobs, api.AuditEntry{At: now, Actor: adminActor, Action: "job.queue"})
	if err != nil {
		return nil, err
	}
	for k, q := range qs {
		i := at[k]
		if q.Err != nil {
			status, code := storeError(q.Err)
			out[i] = queued{api.JobResult{Error: &api.Error{Code: code, Message: refusal(q.Err)}}, status}
			continue
		}
		if !q.Existing {
			s.notify.notify(q.Job.DeviceID)
		}
		j := q.Job
		j.Existing = q.Existing
		out[i] = queued{api.JobResult{Job: &j}, http.StatusOK}
	}
	return out, nil
}

func (s *Server) showJob(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	j, err := s.store.Job(r.Context(), id)
	if err != nil {
		s.adminFail(w, r, "job.show", "job:"+id, err)
		return
	}
	s.adminDone(w, r, "job.show", "job:"+id, j)
}

// fleet lists a page of devices with their newest jobs.
func (s *Server) fleet(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryInt(q.Get("limit"), api.MaxFleetPage, 1, api.MaxFleetPage)
	jobs := 0
	if err == nil {
		jobs, err = queryInt(q.Get("jobs"), 5, 0, api.MaxFleetJobs)
	}
	after := q.Get("after")
	if err == nil && len(after) > 64 {
		err = errors.New("after: too long")
	}
	if err != nil {
		s.refuse(r.Context(), w, adminActor, "device.fleet", "", http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	ds, err := s.store.Fleet(r.Context(), after, limit, jobs)
	if err != nil {
		s.adminFail(w, r, "device.fleet", "", err)
		return
	}
	// A planner needs each job's key, state and outcomes, never the
	// parameters: a wave's shared SID map would otherwise come back once
	// per device and job (megabytes each).
	for i := range ds {
		for j := range ds[i].Jobs {
			for k := range ds[i].Jobs[j].Actions {
				ds[i].Jobs[j].Actions[k].Params = nil
			}
		}
	}
	page := api.FleetPage{Devices: nonNil(ds)}
	if len(ds) == limit {
		page.Next = ds[len(ds)-1].ID
	}
	// Reads are not audited one by one: a planner pages through the fleet
	// on every plan.
	writeJSON(w, http.StatusOK, page)
}

// changesRecheck bounds how long the changes long poll waits without
// looking at the store: reports recorded through this process wake it at
// once, those recorded through another hub process sharing the store are
// seen within this.
const changesRecheck = 2 * time.Second

// changes answers the reports recorded after a cursor, holding the
// request until there are some or the wait passes.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since, err := parseCursor(q.Get("since"))
	limit := 0
	if err == nil {
		limit, err = queryInt(q.Get("limit"), api.MaxChanges, 1, api.MaxChanges)
	}
	var wait time.Duration
	if err == nil {
		wait, err = parseWait(q.Get("wait"))
	}
	if err != nil {
		s.refuse(r.Context(), w, adminActor, "job.changes", "", http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	if q.Get("since") == api.ChangesEnd {
		end, err := s.store.ChangesEnd(r.Context())
		if err != nil {
			s.adminFail(w, r, "job.changes", "", err)
			return
		}
		writeJSON(w, http.StatusOK, api.Changes{Changes: []api.Change{}, Cursor: formatCursor(end)})
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		woken, cancel := s.reports.wait("")
		chs, cursor, err := s.store.Changes(r.Context(), since, limit)
		if err != nil || len(chs) > 0 {
			cancel()
			if err != nil {
				s.adminFail(w, r, "job.changes", "", err)
				return
			}
			writeJSON(w, http.StatusOK, api.Changes{Changes: chs, Cursor: formatCursor(cursor)})
			return
		}
		again := s.pause(r, woken, changesRecheck, deadline.C)
		cancel()
		if !again {
			if r.Context().Err() == nil {
				writeJSON(w, http.StatusOK, api.Changes{Changes: []api.Change{}, Cursor: formatCursor(since)})
			}
			return
		}
	}
}

// formatCursor and parseCursor write and read a changes cursor, "TX.SEQ"
// ("" is the zero cursor; parseCursor reads api.ChangesEnd as zero too,
// the caller handles it).
func formatCursor(c store.Cursor) string {
	if c == (store.Cursor{}) {
		return ""
	}
	return strconv.FormatInt(c.Tx, 10) + "." + strconv.FormatInt(c.Seq, 10)
}

func parseCursor(v string) (store.Cursor, error) {
	var c store.Cursor
	if v == "" || v == api.ChangesEnd {
		return c, nil
	}
	tx, seq, ok := strings.Cut(v, ".")
	var err1, err2 error
	if ok {
		c.Tx, err1 = strconv.ParseInt(tx, 10, 64)
		c.Seq, err2 = strconv.ParseInt(seq, 10, 64)
	}
	if !ok || err1 != nil || err2 != nil || c.Tx < 0 || c.Seq < 0 {
		return store.Cursor{}, fmt.Errorf("since: %q is not a cursor of this hub's changes feed", trimText(v))
	}
	return c, nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func queryInt(v string, def, lo, hi int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("want a number between %d and %d, not %q", lo, hi, trimText(v))
	}
	return n, nil
}

// trimText shortens untrusted text quoted in an answer.
func trimText(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			s.refuse(r.Context(), w, adminActor, "audit.read", "", http.StatusBadRequest, api.CodeBadRequest, "limit must be between 1 and 10000")
			return
		}
		limit = n
	}
	es, err := s.store.AuditLog(r.Context(), limit)
	if err != nil {
		s.adminFail(w, r, "audit.read", "", err)
		return
	}
	s.adminDone(w, r, "audit.read", "", nonNil(es))
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
