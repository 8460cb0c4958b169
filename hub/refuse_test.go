package hub

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/hub/api"
)

// fixture is a hub with two enrolled devices, a and b, and a two-action
// job of a's leased by a.
type fixture struct {
	*testHub
	a, b   *api.Client
	aID    string
	job    *api.Job
	report api.Report // a valid result for the job's first action
	secret string     // an enrollment token a case sets up
}

func newFixture(t *testing.T) *fixture {
	h := startHub(t)
	tok := h.token(2, time.Hour)
	a, ea := h.enroll("ws-a", tok.Secret)
	b, _ := h.enroll("ws-b", tok.Secret)
	h.queue(ea.DeviceID, "k1", "one", "two")
	job, err := a.Poll(t.Context(), time.Second)
	if err != nil || job == nil {
		t.Fatalf("poll: %v, %v", job, err)
	}
	return &fixture{testHub: h, a: a, b: b, aID: ea.DeviceID, job: job,
		report: api.Report{ID: "r1", JobID: job.ID, LeaseID: job.LeaseID, Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "one"}}
}

// snapshot is everything in the store but the audit log.
type snapshot struct {
	Tokens  []api.Token
	Devices []api.Device
	Jobs    [][]api.Job
}

func (h *testHub) snapshot() snapshot {
	h.t.Helper()
	ctx := h.t.Context()
	var s snapshot
	var err error
	if s.Tokens, err = h.st.Tokens(ctx); err != nil {
		h.t.Fatal(err)
	}
	if s.Devices, err = h.st.Devices(ctx); err != nil {
		h.t.Fatal(err)
	}
	for _, d := range s.Devices {
		jobs, err := h.st.Jobs(ctx, d.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		s.Jobs = append(s.Jobs, jobs)
	}
	return s
}

// raw sends body as is to path with c's TLS identity.
func raw(ctx context.Context, c *api.Client, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.HTTP.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// otherCAClient is a client with a certificate that looks like a's but
// comes from another CA.
func (f *fixture) otherCAClient(t *testing.T) *api.Client {
	other, err := LoadOrCreateCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, req := csr(t, "ws-a")
	parsed, err := decodeCSR(req)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := other.IssueDevice(parsed, f.aID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return f.client(&tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key})
}

func TestServer_refusals(t *testing.T) {
	type result struct {
		status int
		err    error
	}
	statusOf := func(err error) int {
		var se *api.StatusError
		if err == nil {
			return 200
		}
		if errors.As(err, &se) {
			return se.Status
		}
		return -1
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, f *fixture) // before the snapshot
		call   func(t *testing.T, f *fixture) result
		status int
		action string
		audit  string
	}{
		{"no client certificate", nil, func(t *testing.T, f *fixture) result {
			_, err := f.client(nil).Poll(t.Context(), 0)
			return result{statusOf(err), err}
		}, 401, "agent.auth", "refused"},
		{"certificate from another CA", nil, func(t *testing.T, f *fixture) result {
			_, err := f.otherCAClient(t).Report(t.Context(), f.report)
			return result{statusOf(err), err}
		}, 401, "agent.auth", "refused"},
		{"revoked device", func(t *testing.T, f *fixture) {
			if err := f.admin.RevokeDevice(t.Context(), f.aID); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, f *fixture) result {
			_, err := f.a.Report(t.Context(), f.report)
			return result{statusOf(err), err}
		}, 403, "agent.auth", "refused"},
		{"report on another device's job", nil, func(t *testing.T, f *fixture) result {
			_, err := f.b.Report(t.Context(), f.report)
			return result{statusOf(err), err}
		}, 403, "job.report", "refused"},
		{"replayed result", func(t *testing.T, f *fixture) {
			if _, err := f.a.Report(t.Context(), f.report); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, f *fixture) result {
			ack, err := f.a.Report(t.Context(), f.report)
			if err == nil && !ack.Duplicate {
				t.Errorf("replay acknowledged as new: %+v", ack)
			}
			return result{statusOf(err), err}
		}, 200, "job.report", "duplicate"},
		{"second result for an action", func(t *testing.T, f *fixture) {
			if _, err := f.a.Report(t.Context(), f.report); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, f *fixture) result {
			r := f.report
			r.ID = "r2"
			_, err := f.a.Report(t.Context(), r)
			return result{statusOf(err), err}
		}, 409, "job.report", "refused"},
		{"expired lease", func(t *testing.T, f *fixture) { f.clock.Add(2 * time.Minute) }, func(t *testing.T, f *fixture) result {
			_, err := f.a.Report(t.Context(), f.report)
			if !api.HasCode(err, api.CodeLeaseLost) {
				t.Errorf("err = %v, want lease_lost", err)
			}
			return result{statusOf(err), err}
		}, 409, "job.report", "refused"},
		{"malformed body", nil, func(t *testing.T, f *fixture) result {
			resp, err := raw(t.Context(), f.a, "POST", api.PathReport, strings.NewReader(`{"id": r1}`))
			return result{resp.StatusCode, err}
		}, 400, "job.report", "refused"},
		{"truncated body", nil, func(t *testing.T, f *fixture) result {
			resp, err := raw(t.Context(), f.a, "POST", api.PathReport, strings.NewReader(`{"id":"r1","job_id":`))
			return result{resp.StatusCode, err}
		}, 400, "job.report", "refused"},
		{"unknown field", nil, func(t *testing.T, f *fixture) result {
			resp, err := raw(t.Context(), f.a, "POST", api.PathHeartbeat, strings.NewReader(`{"leases":[],"evil":1}`))
			return result{resp.StatusCode, err}
		}, 400, "agent.heartbeat", "refused"},
		{"oversized body", nil, func(t *testing.T, f *fixture) result {
			resp, err := raw(t.Context(), f.a, "POST", api.PathReport, bytes.NewReader(bytes.Repeat([]byte(" "), api.MaxBodyBytes+10)))
			return result{resp.StatusCode, err}
		}, 413, "request", "refused"},
		{"oversized body without a length", nil, func(t *testing.T, f *fixture) result {
			// A reader without a known size is sent chunked.
			body := io.MultiReader(strings.NewReader(`{"output":"`), bytes.NewReader(bytes.Repeat([]byte("x"), api.MaxBodyBytes)), strings.NewReader(`"}`))
			resp, err := raw(t.Context(), f.a, "POST", api.PathReport, body)
			return result{resp.StatusCode, err}
		}, 413, "job.report", "refused"},
		{"oversized enrollment", nil, func(t *testing.T, f *fixture) result {
			body := io.MultiReader(strings.NewReader(`{"csr":"`), bytes.NewReader(bytes.Repeat([]byte("x"), api.MaxBodyBytes)), strings.NewReader(`"}`))
			resp, err := raw(t.Context(), f.client(nil), "POST", api.PathEnroll, body)
			return result{resp.StatusCode, err}
		}, 413, "agent.enroll", "refused"},
		{"expired token", func(t *testing.T, f *fixture) {
			f.secret = f.token(5, time.Minute).Secret
			f.clock.Add(2 * time.Minute)
		}, func(t *testing.T, f *fixture) result {
			_, _, err := f.tryEnroll("ws-c", f.secret)
			return result{statusOf(err), err}
		}, 401, "agent.enroll", "refused"},
		{"used-up token", func(t *testing.T, f *fixture) {
			tok := f.token(1, time.Hour)
			f.enroll("ws-c", tok.Secret)
			f.secret = tok.Secret
		}, func(t *testing.T, f *fixture) result {
			_, _, err := f.tryEnroll("ws-d", f.secret)
			return result{statusOf(err), err}
		}, 401, "agent.enroll", "refused"},
		{"same host name twice", func(t *testing.T, f *fixture) { f.secret = f.token(1, time.Hour).Secret }, func(t *testing.T, f *fixture) result {
			_, _, err := f.tryEnroll("ws-a", f.secret)
			return result{statusOf(err), err}
		}, 409, "agent.enroll", "refused"},
		{"admin call with an agent certificate", nil, func(t *testing.T, f *fixture) result {
			c := *f.a
			c.AdminToken = f.admin.AdminToken
			_, err := c.Tokens(t.Context())
			return result{statusOf(err), err}
		}, 403, "admin.auth", "refused"},
		{"admin call without the token", nil, func(t *testing.T, f *fixture) result {
			_, err := f.client(nil).Devices(t.Context())
			return result{statusOf(err), err}
		}, 401, "admin.auth", "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			before := f.snapshot()
			auditBefore, err := f.st.AuditLog(t.Context(), 1)
			if err != nil {
				t.Fatal(err)
			}
			got := tc.call(t, f)
			if got.status != tc.status {
				t.Fatalf("status %d (%v), want %d", got.status, got.err, tc.status)
			}
			if diff := cmp.Diff(before, f.snapshot()); diff != "" {
				t.Errorf("store changed (-before +after):\n%s", diff)
			}
			entries, err := f.st.AuditLog(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			var added []api.AuditEntry
			for _, e := range entries {
				if len(auditBefore) > 0 && e.ID <= auditBefore[0].ID {
					break
				}
				added = append(added, e)
			}
			if len(added) != 1 || added[0].Action != tc.action || added[0].Result != tc.audit {
				t.Errorf("audit entries added = %+v; want one %s %s", added, tc.action, tc.audit)
			}
		})
	}
}
