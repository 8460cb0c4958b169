package hub

import (
	"crypto/sha256"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/adshift/adshift/hub/api"
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

func (s *Server) queueJob(w http.ResponseWriter, r *http.Request) {
	var req api.JobRequest
	err := api.Decode(r.Body, &req)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, adminActor, "job.queue", "", status, code, err.Error())
		return
	}
	job := api.Job{ID: uuid.NewString(), DeviceID: req.DeviceID, IdempotencyKey: req.IdempotencyKey, Actions: req.Actions, CreatedAt: s.opts.Now().UTC()}
	job, existing, err := s.store.QueueJob(r.Context(), job)
	if err != nil {
		s.adminFail(w, r, "job.queue", "device:"+req.DeviceID, err)
		return
	}
	if !existing {
		s.notify.notify(job.DeviceID)
	}
	s.adminDone(w, r, "job.queue", "job:"+job.ID, job)
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
