// Package hubtest starts a real hub (HTTPS on a loopback port, SQLite in
// a temp directory) for the tests of the packages that talk to one.
package hubtest

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store/sqlstore"
)

// Hub is a running hub and an admin client of it.
type Hub struct {
	URL         string
	UDPAddr     string // the ping listener
	Fingerprint string
	Admin       *api.Client
	Server      *hub.Server
}

// Start serves a hub until the test ends; opts may set LeaseDuration,
// Backoff and Recheck, and Store (the caller closes it; default a SQLite
// store in a temp directory). DataDir and Logger are filled in.
func Start(t testing.TB, opts hub.Options) *Hub {
	t.Helper()
	dir := t.TempDir()
	if opts.Store == nil {
		st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "hub.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		opts.Store = st
	}
	opts.DataDir, opts.Logger = dir, hclog.NewNullLogger()
	srv, err := hub.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeUDP(pc)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("hub: %v", err)
		}
	})
	token, err := os.ReadFile(filepath.Join(dir, hub.AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := api.ClientTLS("127.0.0.1", srv.CA().PEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: cfg}
	t.Cleanup(tr.CloseIdleConnections)
	return &Hub{
		URL:         "https://" + ln.Addr().String(),
		UDPAddr:     pc.LocalAddr().String(),
		Fingerprint: srv.ServerCAFingerprint(),
		Admin:       &api.Client{BaseURL: "https://" + ln.Addr().String(), HTTP: &http.Client{Transport: tr}, AdminToken: strings.TrimSpace(string(token))},
		Server:      srv,
	}
}

// Token creates an enrollment token for uses enrollments within an hour.
func (h *Hub) Token(t testing.TB, uses int) api.TokenCreated {
	t.Helper()
	tok, err := h.Admin.CreateToken(t.Context(), api.TokenRequest{Scope: "test", TTL: time.Hour, Uses: uses})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// WaitJob polls the admin API until the job reaches a final state, and
// returns it; it fails the test after 20 seconds.
func (h *Hub) WaitJob(t *testing.T, id string) api.Job {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(20 * time.Second)
	for {
		j, err := h.Admin.Job(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == api.JobSucceeded || j.State == api.JobFailed {
			return j
		}
		select {
		case <-deadline:
			t.Fatalf("job %s still %s after 20s", id, j.State)
		case <-tick.C:
		}
	}
}
