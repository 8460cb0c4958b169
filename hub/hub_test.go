package hub

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
	"github.com/adshift/adshift/hub/store/sqlstore"
)

// clock is a settable clock for leases and expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testHub struct {
	t     *testing.T
	srv   *Server
	st    store.Store
	url   string
	clock *clock
	admin *api.Client
	// polls receives a device ID each time a long poll starts waiting.
	polls chan string
	dir   string
}

// startHub serves a hub on a loopback port with a SQLite store.
func startHub(t *testing.T) *testHub {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Now()}
	srv, err := New(Options{Store: st, DataDir: dir, Now: c.Now, Logger: hclog.NewNullLogger(), LeaseDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	polls := make(chan string, 64)
	srv.notify.registered = func(dev string) {
		select {
		case polls <- dev:
		default:
		}
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	h := &testHub{t: t, srv: srv, st: st, url: "https://" + ln.Addr().String(), clock: c, dir: dir, polls: polls}
	token, err := loadOrCreateAdminToken(filepath.Join(dir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	h.admin = h.client(nil)
	h.admin.AdminToken = token
	return h
}

// client returns a client trusting the hub's CA, presenting cert if set.
func (h *testHub) client(cert *tls.Certificate) *api.Client {
	h.t.Helper()
	cfg, err := api.ClientTLS("127.0.0.1", h.srv.CA().PEM, cert)
	if err != nil {
		h.t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &api.Client{BaseURL: h.url, HTTP: &http.Client{Transport: tr}}
}

// token creates an enrollment token.
func (h *testHub) token(uses int, ttl time.Duration) api.TokenCreated {
	h.t.Helper()
	tok, err := h.admin.CreateToken(h.t.Context(), api.TokenRequest{Scope: "wave1", TTL: ttl, Uses: uses})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// csr makes a key and a certificate request for host.
func csr(t *testing.T, host string) (*ecdsa.PrivateKey, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: host}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// enroll enrolls host with secret over a pinned connection and returns
// the device's mutual-TLS client.
func (h *testHub) enroll(host, secret string) (*api.Client, api.EnrollResponse) {
	h.t.Helper()
	c, resp, err := h.tryEnroll(host, secret)
	if err != nil {
		h.t.Fatalf("enroll %s: %v", host, err)
	}
	return c, resp
}

func (h *testHub) tryEnroll(host, secret string) (*api.Client, api.EnrollResponse, error) {
	h.t.Helper()
	key, req := csr(h.t, host)
	pinned, err := api.PinnedTLS("127.0.0.1", h.srv.ServerCAFingerprint())
	if err != nil {
		h.t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: pinned}
	defer tr.CloseIdleConnections()
	ec := &api.Client{BaseURL: h.url, HTTP: &http.Client{Transport: tr}}
	resp, err := ec.Enroll(h.t.Context(), api.EnrollRequest{Token: secret, Hostname: host, CSR: req})
	if err != nil {
		return nil, resp, err
	}
	block, _ := pem.Decode([]byte(resp.Certificate))
	cert := tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key}
	return h.client(&cert), resp, nil
}

// queue queues a job of echo actions for a device.
func (h *testHub) queue(dev, key string, messages ...string) api.Job {
	h.t.Helper()
	req := api.JobRequest{DeviceID: dev, IdempotencyKey: key}
	for _, m := range messages {
		req.Actions = append(req.Actions, api.Action{Name: "echo", Params: map[string]string{"message": m}})
	}
	j, err := h.admin.QueueJob(h.t.Context(), req)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func TestServer_enrollPollReport(t *testing.T) {
	h := startHub(t)
	ctx := t.Context()
	if got, err := h.admin.Health(ctx); err != nil || got.Status != "ok" {
		t.Fatalf("health = %+v, %v", got, err)
	}
	tok := h.token(1, time.Hour)
	if tok.CAFingerprint != h.srv.ServerCAFingerprint() || tok.Secret == "" {
		t.Fatalf("token = %+v", tok)
	}
	agent, enr := h.enroll("ws001", tok.Secret)

	// A long poll waiting before the job is queued gets it well within a
	// second of queuing.
	type polled struct {
		job *api.Job
		err error
		at  time.Time
	}
	got := make(chan polled, 1)
	go func() {
		j, err := agent.Poll(ctx, 10*time.Second)
		got <- polled{j, err, time.Now()}
	}()
	// Wait until the poll is registered, so the pickup measured is the
	// notification's, not the request's set-up.
	select {
	case <-h.polls:
	case p := <-got:
		t.Fatalf("poll returned early: %+v", p)
	}
	queued := time.Now()
	job := h.queue(enr.DeviceID, "k1", "hello", "world")
	p := <-got
	if p.err != nil || p.job == nil || p.job.ID != job.ID || p.job.LeaseID == "" || p.job.Attempt != 1 {
		t.Fatalf("poll = %+v, %v; want job %s leased", p.job, p.err, job.ID)
	}
	if lat := p.at.Sub(queued); lat > 500*time.Millisecond {
		t.Errorf("pickup took %v, want well under a second", lat)
	}

	hb, err := agent.Heartbeat(ctx, api.HeartbeatRequest{Inventory: &api.Inventory{OS: "Windows 10", Domain: "source.test"}, Leases: []api.Lease{{JobID: job.ID, LeaseID: p.job.LeaseID}}})
	if err != nil || len(hb.Extended) != 1 {
		t.Fatalf("heartbeat = %+v, %v; want the lease extended", hb, err)
	}
	reports := []api.Report{
		{ID: "r1", JobID: job.ID, LeaseID: p.job.LeaseID, Action: 0, Kind: api.ReportProgress, Done: 1, Total: 2},
		{ID: "r2", JobID: job.ID, LeaseID: p.job.LeaseID, Action: 0, Kind: api.ReportResult, Status: api.StatusOK, Output: "hello"},
		{ID: "r3", JobID: job.ID, LeaseID: p.job.LeaseID, Action: 1, Kind: api.ReportResult, Status: api.StatusOK, Output: "world"},
	}
	for _, r := range reports {
		if _, err := agent.Report(ctx, r); err != nil {
			t.Fatalf("report %s: %v", r.ID, err)
		}
	}
	d, err := h.admin.Device(ctx, "ws001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Inventory == nil || d.Inventory.OS != "Windows 10" || d.LastSeen.IsZero() || len(d.Jobs) != 1 || d.Jobs[0].State != api.JobSucceeded || len(d.Jobs[0].Reports) != 3 {
		t.Errorf("device show = %+v", d)
	}
	audit, err := h.admin.Audit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range audit {
		seen[e.Action+" "+e.Result]++
	}
	for _, want := range []string{"agent.enroll ok", "job.lease ok", "job.report ok", "job.queue ok", "token.create ok", "agent.inventory ok"} {
		if seen[want] == 0 {
			t.Errorf("audit log has no %q: %v", want, seen)
		}
	}
}

func TestServer_shutdownEndsLongPolls(t *testing.T) {
	h := startHub(t)
	agent, _ := h.enroll("ws001", h.token(1, time.Hour).Secret)
	done := make(chan error, 1)
	go func() {
		j, err := agent.Poll(t.Context(), time.Minute)
		if j != nil {
			t.Errorf("poll got a job: %v", j.ID)
		}
		done <- err
	}()
	// Shut down once the poll is held.
	<-h.polls
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("poll: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v with a long poll open", d)
	}
}
