package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store/sqlstore"
)

// storeSnapshot is all a hub keeps but the audit log, read from its
// database while it runs.
type storeSnapshot struct {
	Tokens  []api.Token
	Devices []api.Device
	Jobs    [][]api.Job
}

func snapshotStore(t *testing.T, st *sqlstore.Store) storeSnapshot {
	t.Helper()
	ctx := t.Context()
	var s storeSnapshot
	var err error
	if s.Tokens, err = st.Tokens(ctx); err != nil {
		t.Fatal(err)
	}
	if s.Devices, err = st.Devices(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range s.Devices {
		jobs, err := st.Jobs(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		s.Jobs = append(s.Jobs, jobs)
	}
	return s
}

// agentClient is a hub client with an enrolled agent's identity.
func agentClient(t *testing.T, d *fleetDevice) *api.Client {
	t.Helper()
	id, err := agent.LoadIdentity(d.data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := id.Client(agent.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.HTTP.CloseIdleConnections)
	return c
}

// foreignClient presents a certificate for device id from another CA.
func foreignClient(t *testing.T, h *hubRun, id string) *api.Client {
	t.Helper()
	other, err := hub.LoadOrCreateCA(t.TempDir(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ws-a"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := other.IssueDevice(csr, id, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c := *h.admin
	cfg := c.HTTP.Transport.(*http.Transport).TLSClientConfig.Clone()
	cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key}}
	c.HTTP, c.AdminToken = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}, ""
	return &c
}

// decodeJSON decodes a -json document into v.
func decodeJSON(t *testing.T, doc string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(doc), v); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
}

// rawStatus posts body as is and returns the answer's status.
func rawStatus(ctx context.Context, c *api.Client, path string, body io.Reader) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, body)
	if err != nil {
		return 0, err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func statusOf(err error) int {
	var se *api.StatusError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &se):
		return se.Status
	}
	return -1
}

// TestHubE2E_refusals runs each refusal of the issue against a hub
// process: each is refused, leaves one audit entry, and leaves the store
// (read from the hub's database) as it was.
func TestHubE2E_refusals(t *testing.T) {
	forEachBackend(t, testRefusals)
}

func testRefusals(t *testing.T, backend hubBackend) {
	bin := adshiftBin(t)
	data := t.TempDir()
	h := serveHub(t, bin, data, "127.0.0.1:0", backend.args()...)
	da, db := enrollAgent(t, h, "ws-a"), enrollAgent(t, h, "ws-b")
	a, b := agentClient(t, da), agentClient(t, db)
	h.queue(t, da, "k", echoAction("one"), echoAction("two"))
	job, err := a.Poll(t.Context(), time.Second)
	if err != nil || job == nil {
		t.Fatalf("poll: %v %v", job, err)
	}
	result := api.Report{ID: "r1", JobID: job.ID, LeaseID: job.LeaseID, Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "one"}
	st := backend.open(t, data)
	var secret, pin string
	// enrollCmd enrolls host with secret through a real agent process and
	// returns the HTTP status in its error message.
	enrollCmd := func(host string) int {
		out, err := exec.Command(agentBin(t), "enroll", "-hub", h.admin.BaseURL, "-token", secret, "-ca-fingerprint", pin,
			"-data-dir", t.TempDir(), "-hostname", host).CombinedOutput()
		if err == nil {
			return http.StatusOK
		}
		for _, code := range []int{401, 403, 409, 413} {
			if strings.Contains(string(out), "hub: "+strconv.Itoa(code)) {
				return code
			}
		}
		t.Logf("enroll: %s", out)
		return -1
	}
	ctx := t.Context()
	cases := []struct {
		name   string
		setup  func()
		call   func() int
		status int
		action string
		result string
	}{
		{"no client certificate", nil, func() int {
			c := *h.admin
			c.AdminToken = ""
			_, err := c.Poll(ctx, 0)
			return statusOf(err)
		}, 401, "agent.auth", "refused"},
		{"certificate from another CA", nil, func() int {
			_, err := foreignClient(t, h, da.id).Report(ctx, result)
			return statusOf(err)
		}, 401, "agent.auth", "refused"},
		{"report on another device's job", nil, func() int {
			_, err := b.Report(ctx, result)
			return statusOf(err)
		}, 403, "job.report", "refused"},
		{"replayed result", func() {
			if _, err := a.Report(ctx, result); err != nil {
				t.Fatal(err)
			}
		}, func() int {
			ack, err := a.Report(ctx, result)
			if err == nil && !ack.Duplicate {
				t.Error("a replayed result was not marked duplicate")
			}
			return statusOf(err)
		}, 200, "job.report", "duplicate"},
		{"malformed message", nil, func() int {
			s, _ := rawStatus(ctx, a, api.PathReport, strings.NewReader(`{"id": r1}`))
			return s
		}, 400, "job.report", "refused"},
		{"truncated message", nil, func() int {
			s, _ := rawStatus(ctx, a, api.PathReport, strings.NewReader(`{"id":"r9","job_id":"`+job.ID))
			return s
		}, 400, "job.report", "refused"},
		{"oversized message", nil, func() int {
			s, _ := rawStatus(ctx, a, api.PathReport, bytes.NewReader(bytes.Repeat([]byte(" "), 2*api.MaxBodyBytes)))
			return s
		}, 413, "request", "refused"},
		{"oversized message, chunked", nil, func() int {
			s, _ := rawStatus(ctx, a, api.PathHeartbeat, io.MultiReader(strings.NewReader(`{"inventory":{"os":"`), bytes.NewReader(bytes.Repeat([]byte("x"), 2*api.MaxBodyBytes))))
			return s
		}, 413, "agent.heartbeat", "refused"},
		{"token past its expiry", func() {
			var doc struct{ Token api.TokenCreated }
			decodeJSON(t, h.cli(t, "token", "create", "-json", "-ttl", "1s"), &doc)
			secret, pin = doc.Token.Secret, doc.Token.CAFingerprint
			eventually(t, "token expiry", func() string {
				if time.Now().Before(doc.Token.ExpiresAt) {
					return "valid"
				}
				return ""
			})
		}, func() int { return enrollCmd("ws-c") }, 401, "agent.enroll", "refused"},
		{"token past its use count", func() {
			var doc struct{ Token api.TokenCreated }
			decodeJSON(t, h.cli(t, "token", "create", "-json", "-uses", "1"), &doc)
			secret, pin = doc.Token.Secret, doc.Token.CAFingerprint
			if code := enrollCmd("ws-d"); code != 200 {
				t.Fatalf("first use: %d", code)
			}
		}, func() int { return enrollCmd("ws-e") }, 401, "agent.enroll", "refused"},
		{"admin call with an agent's certificate", nil, func() int {
			c := *a
			c.AdminToken = h.admin.AdminToken
			_, err := c.Devices(ctx)
			return statusOf(err)
		}, 403, "admin.auth", "refused"},
		{"revoked device", func() { h.cli(t, "device", "revoke", "ws-b") }, func() int {
			_, err := b.Poll(ctx, 0)
			return statusOf(err)
		}, 403, "agent.auth", "refused"},
		{"expired lease", func() {
			eventually(t, "lease expiry", func() string {
				if time.Now().Before(job.LeaseUntil.Add(100 * time.Millisecond)) {
					return "leased"
				}
				return ""
			})
		}, func() int {
			r := result
			r.ID, r.Action = "r2", 1
			_, err := a.Report(ctx, r)
			return statusOf(err)
		}, 409, "job.report", "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			before := snapshotStore(t, st)
			last, err := st.AuditLog(ctx, 1)
			if err != nil || len(last) == 0 {
				t.Fatal(last, err)
			}
			if got := tc.call(); got != tc.status {
				t.Fatalf("status %d, want %d", got, tc.status)
			}
			if diff := cmp.Diff(before, snapshotStore(t, st)); diff != "" {
				t.Errorf("store changed (-before +after):\n%s", diff)
			}
			entries, err := st.AuditLog(ctx, 20)
			if err != nil {
				t.Fatal(err)
			}
			var added []api.AuditEntry
			for _, e := range entries {
				if e.ID > last[0].ID {
					added = append(added, e)
				}
			}
			if len(added) != 1 || added[0].Action != tc.action || added[0].Result != tc.result {
				t.Errorf("audit entries added: %+v; want one %s %s", added, tc.action, tc.result)
			}
		})
	}
}
