package hub

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
)

// enroll exchanges a token and CSR for a device certificate.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request) {
	actor := "enroll@" + remoteIP(r)
	req, csr, err := decodeEnroll(r.Body)
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, actor, "agent.enroll", "", status, code, err.Error())
		return
	}
	actor = "enroll:" + req.Hostname + "@" + remoteIP(r)
	now := s.opts.Now()
	// Refuse a bad token before signing anything.
	if err := s.store.CheckToken(r.Context(), tokenHash(req.Token), now); err != nil {
		s.fail(w, r, actor, "agent.enroll", req.Hostname, err)
		return
	}
	id := uuid.NewString()
	cert, err := s.ca.IssueDevice(csr, id, now)
	if err != nil {
		s.internal(w, r, actor, "agent.enroll", err)
		return
	}
	pingKey := make([]byte, 32)
	rand.Read(pingKey)
	dev := api.Device{ID: id, Hostname: req.Hostname, CertSerial: cert.SerialNumber.Text(16), CertExpires: cert.NotAfter, PingKey: pingKey}
	dev, err = s.store.Enroll(r.Context(), tokenHash(req.Token), dev, now)
	if err != nil {
		s.fail(w, r, actor, "agent.enroll", req.Hostname, err)
		return
	}
	s.audit(r.Context(), api.AuditEntry{Actor: actor, Action: "agent.enroll", Object: "device:" + id, Result: "ok", Detail: "scope " + dev.Scope})
	s.log.Info("device enrolled", "device", id, "hostname", req.Hostname)
	writeJSON(w, http.StatusOK, api.EnrollResponse{DeviceID: id, Certificate: string(pemCert(cert.Raw)), CA: string(s.serverCA), PingKey: base64.StdEncoding.EncodeToString(pingKey)})
}

// refusal is the message for a refused store call: the sentinel's text,
// without internal IDs.
func refusal(err error) string {
	for _, e := range []error{store.ErrTokenInvalid, store.ErrHostnameTaken, store.ErrForbidden, store.ErrLeaseLost, store.ErrConflict, store.ErrDeviceRevoked, store.ErrNotFound} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "refused"
}

// poll holds the request until a job is available for the device or the
// wait ends (204). Queuing a job wakes it at once.
func (s *Server) poll(w http.ResponseWriter, r *http.Request, dev api.Device) {
	actor := "device:" + dev.ID
	wait, err := parseWait(r.URL.Query().Get("wait"))
	if err != nil {
		s.refuse(r.Context(), w, actor, "agent.poll", "", http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	if err := s.seen(r, dev, nil); err != nil {
		s.internal(w, r, actor, "agent.poll", err)
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		woken, cancel := s.notify.wait(dev.ID)
		now := s.opts.Now()
		// A read first: most polls find nothing, and need not queue for
		// the database's writer to learn so.
		next, err := s.store.NextAvailable(r.Context(), dev.ID)
		if err != nil {
			cancel()
			s.internal(w, r, actor, "agent.poll", err)
			return
		}
		if !next.IsZero() && !next.After(now) {
			lease := store.Lease{ID: uuid.NewString(), Now: now, Until: now.Add(s.opts.LeaseDuration), Backoff: s.opts.Backoff,
				Audit: api.AuditEntry{At: now, Actor: actor, Action: "job.lease", Result: "ok"}}
			job, err := s.store.LeaseJob(r.Context(), dev.ID, lease)
			if err != nil {
				cancel()
				s.internal(w, r, actor, "agent.poll", err)
				return
			}
			if job != nil {
				cancel()
				writeJSON(w, http.StatusOK, job)
				return
			}
			if next, err = s.store.NextAvailable(r.Context(), dev.ID); err != nil {
				cancel()
				s.internal(w, r, actor, "agent.poll", err)
				return
			}
		}
		recheck := s.opts.Recheck
		if !next.IsZero() {
			recheck = min(recheck, max(next.Sub(now), time.Millisecond))
		}
		again := s.pause(r, woken, recheck, deadline.C)
		cancel()
		if !again {
			if r.Context().Err() == nil {
				w.WriteHeader(http.StatusNoContent)
			}
			return
		}
	}
}

// pause holds a long poll until woken or recheck passes (true: look
// again), or until the poll ends (false): its deadline passed, the hub is
// shutting down, or the caller went (r's context is then done).
func (s *Server) pause(r *http.Request, woken <-chan struct{}, recheck time.Duration, deadline <-chan time.Time) bool {
	t := time.NewTimer(recheck)
	defer t.Stop()
	select {
	case <-woken:
	case <-t.C:
	case <-deadline:
		return false
	case <-s.closing:
		return false
	case <-r.Context().Done():
		return false
	}
	return true
}

// seenEvery is how stale a device's last seen may get before a call
// records it again (inventory is always recorded): a fleet's polls and
// heartbeats would otherwise each cost a database write.
const seenEvery = 30 * time.Second

// seen records that dev called now, with its inventory when not nil.
func (s *Server) seen(r *http.Request, dev api.Device, inv *api.Inventory) error {
	now := s.opts.Now()
	if inv == nil && now.Sub(dev.LastSeen) < seenEvery {
		return nil
	}
	return s.store.Seen(r.Context(), dev.ID, now, inv)
}

// heartbeat records inventory and last seen, and extends leases.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request, dev api.Device) {
	actor := "device:" + dev.ID
	hb, err := decodeHeartbeat(r.Body)
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, actor, "agent.heartbeat", "", status, code, err.Error())
		return
	}
	now := s.opts.Now()
	if err := s.seen(r, dev, hb.Inventory); err != nil {
		s.internal(w, r, actor, "agent.heartbeat", err)
		return
	}
	if hb.Inventory != nil {
		s.audit(r.Context(), api.AuditEntry{Actor: actor, Action: "agent.inventory", Object: "device:" + dev.ID, Result: "ok"})
	}
	resp := api.HeartbeatResponse{Extended: []api.Lease{}}
	if len(hb.Leases) > 0 {
		l := store.Lease{Now: now, Until: now.Add(s.opts.LeaseDuration), Backoff: s.opts.Backoff}
		ext, err := s.store.ExtendLeases(r.Context(), dev.ID, hb.Leases, l)
		if err != nil {
			s.internal(w, r, actor, "agent.heartbeat", err)
			return
		}
		resp.Extended, resp.LeaseUntil = ext, l.Until
	}
	writeJSON(w, http.StatusOK, resp)
}

// report records progress or a result exactly once.
func (s *Server) report(w http.ResponseWriter, r *http.Request, dev api.Device) {
	actor := "device:" + dev.ID
	rep, err := decodeReport(r.Body)
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, actor, "job.report", "", status, code, err.Error())
		return
	}
	object := fmt.Sprintf("job:%s/action:%d", rep.JobID, rep.Action)
	now := s.opts.Now()
	audit := api.AuditEntry{At: now, Actor: actor, Action: "job.report", Object: object, Detail: string(rep.Kind) + " " + string(rep.Status)}
	ack, err := s.store.Report(r.Context(), dev.ID, rep, now, audit)
	if err != nil {
		s.fail(w, r, actor, "job.report", object, err)
		return
	}
	if !ack.Duplicate {
		s.reports.notify("")
	}
	writeJSON(w, http.StatusOK, ack)
}

// renew issues a new certificate for a new key; the current one stays
// valid until the new one is first used.
func (s *Server) renew(w http.ResponseWriter, r *http.Request, dev api.Device) {
	actor := "device:" + dev.ID
	csr, err := decodeRenew(r.Body, dev.Hostname)
	if err != nil {
		status, code := decodeError(err)
		s.refuse(r.Context(), w, actor, "agent.renew", "", status, code, err.Error())
		return
	}
	cert, err := s.ca.IssueDevice(csr, dev.ID, s.opts.Now())
	if err != nil {
		s.internal(w, r, actor, "agent.renew", err)
		return
	}
	if err := s.store.RenewCert(r.Context(), dev.ID, dev.CertSerial, cert.SerialNumber.Text(16), cert.NotAfter); err != nil {
		s.fail(w, r, actor, "agent.renew", "device:"+dev.ID, err)
		return
	}
	s.audit(r.Context(), api.AuditEntry{Actor: actor, Action: "agent.renew", Object: "device:" + dev.ID, Result: "ok", Detail: "valid until " + cert.NotAfter.UTC().Format(time.RFC3339)})
	writeJSON(w, http.StatusOK, api.RenewResponse{Certificate: string(pemCert(cert.Raw)), Expires: cert.NotAfter})
}
