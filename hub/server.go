package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store"
	"github.com/adshift/adshift/internal/atomicfile"
)

// Options configure a Server. Store and DataDir are required.
type Options struct {
	Store store.Store
	// DataDir holds the CA (ca.pem, ca.key) and the admin token
	// (admin.token), created on first start.
	DataDir string
	// CertFile and KeyFile, when set, are the server certificate (its
	// chain ending with the CA agents pin) and key; otherwise the hub's
	// CA issues one for Hosts.
	CertFile, KeyFile string
	// Hosts are the names and addresses in a generated server
	// certificate; default 127.0.0.1, ::1 and localhost.
	Hosts []string
	// LeaseDuration is how long a job handed out is held without a
	// heartbeat; default 2 minutes.
	LeaseDuration time.Duration
	// Backoff is how long after an expired lease the job is offered
	// again, by attempt; default none.
	Backoff func(attempt int) time.Duration
	// Recheck, when set, bounds how long a long poll waits without
	// looking at the store. By default a poll looks only when notified
	// (a job queued through this process, or through another one sharing
	// a store.Watcher) and when the device's next known job becomes
	// available (an expiring lease): re-checking 10,000 waiting polls
	// every few seconds would be most of a hub's database load.
	Recheck time.Duration
	Logger  hclog.Logger
	Version string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Server is the hub. Create it with New, then Serve a listener.
type Server struct {
	opts      Options
	store     store.Store
	log       hclog.Logger
	ca        *CA
	caPool    *x509.CertPool // the hub CA alone, for client certificates
	verified  certCache
	serverCA  []byte // PEM of the CA agents verify the server with
	tlsCert   tls.Certificate
	adminHash [sha256.Size]byte
	notify    *notifier
	reports   *notifier    // key "": a report was recorded (changes long polls)
	http      *http.Server // set by Serve under mu
	closing   chan struct{}

	mu  sync.Mutex
	udp net.PacketConn // set by ServeUDP, closed by Shutdown
}

// AdminTokenFile is the admin token's file name in the data directory.
const AdminTokenFile = "admin.token"

// New prepares a hub: it loads or creates the CA and the admin token.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.DataDir == "" {
		return nil, errors.New("hub: a store and a data directory are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	if opts.LeaseDuration <= 0 {
		opts.LeaseDuration = 2 * time.Minute
	}
	if opts.Recheck <= 0 {
		opts.Recheck = api.MaxPollWait
	}
	if len(opts.Hosts) == 0 {
		opts.Hosts = []string{"127.0.0.1", "::1", "localhost"}
	}
	if err := os.MkdirAll(opts.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("hub data directory: %w", err)
	}
	s := &Server{opts: opts, store: opts.Store, log: opts.Logger, notify: newNotifier(), reports: newNotifier(), closing: make(chan struct{})}
	var err error
	if s.ca, err = LoadOrCreateCA(opts.DataDir, opts.Now()); err != nil {
		return nil, err
	}
	s.caPool = s.ca.Pool()
	if err := s.loadServerCert(); err != nil {
		return nil, err
	}
	token, err := loadOrCreateAdminToken(filepath.Join(opts.DataDir, AdminTokenFile))
	if err != nil {
		return nil, err
	}
	s.adminHash = sha256.Sum256([]byte(token))
	return s, nil
}

func (s *Server) loadServerCert() error {
	if s.opts.CertFile == "" {
		cert, err := s.ca.ServerCert(s.opts.Hosts, s.opts.Now())
		s.tlsCert, s.serverCA = cert, s.ca.PEM
		return err
	}
	cert, err := tls.LoadX509KeyPair(s.opts.CertFile, s.opts.KeyFile)
	if err != nil {
		return fmt.Errorf("hub server certificate: %w", err)
	}
	s.tlsCert = cert
	// Agents pin and keep the CA at the end of the served chain.
	last := cert.Certificate[len(cert.Certificate)-1]
	if len(cert.Certificate) < 2 {
		return fmt.Errorf("hub server certificate %s: the file must hold the chain up to its CA, which agents pin", s.opts.CertFile)
	}
	s.serverCA = pemCert(last)
	return nil
}

// loadOrCreateAdminToken reads the admin token, creating it (0600) once.
func loadOrCreateAdminToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	token := "adshift-admin-" + randomString(32)
	if err := atomicfile.Write(path, []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}

// randomString is n random bytes, base64url.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CA returns the hub's certificate authority.
func (s *Server) CA() *CA { return s.ca }

// ServerCAFingerprint is what an agent pins at enrollment: the CA of the
// served certificate chain.
func (s *Server) ServerCAFingerprint() string {
	return api.Fingerprint(s.tlsCert.Certificate[len(s.tlsCert.Certificate)-1])
}

// ServerCAPEM is the PEM of the CA that verifies the hub's certificate,
// which admin clients trust.
func (s *Server) ServerCAPEM() []byte { return s.serverCA }

// TLSConfig is the server's TLS configuration: TLS 1.2 or newer; client
// certificates are requested and checked per request (not at the
// handshake), so that a refused certificate is answered and audited.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{s.tlsCert},
		ClientAuth:   tls.RequestClientCert,
		// HTTP/2: an agent's long poll, heartbeats and reports share one
		// connection (one descriptor per agent on the hub).
		NextProtos: []string{"h2", "http/1.1"},
	}
}

// Serve serves HTTPS on ln until Shutdown. It returns nil after Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         s.TLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          s.log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug}),
	}
	// Shutdown may run in another goroutine before or while Serve starts.
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		ln.Close()
		return nil
	default:
	}
	s.http = srv
	s.mu.Unlock()
	if w, ok := s.store.(store.Watcher); ok {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.watch(ctx, w)
	}
	err := srv.Serve(tls.NewListener(ln, srv.TLSConfig))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// watch wakes this process's long polls for jobs queued through other
// hub processes sharing the store, re-listening after a failure (in the
// meantime polls still find jobs within Recheck).
func (s *Server) watch(ctx context.Context, w store.Watcher) {
	for ctx.Err() == nil {
		err := w.Watch(ctx, s.notify.notify)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("not hearing of jobs queued by other hub processes; retrying", "error", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// Shutdown stops accepting, answers open long polls with "no job" at
// once, and waits (until ctx is done) for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	s.mu.Lock()
	if s.udp != nil {
		s.udp.Close()
	}
	srv := s.http
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Shutdown(ctx)
}

// Handler routes the API. Every request body is capped.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+api.PathHealth, s.health)
	mux.HandleFunc("POST "+api.PathEnroll, s.enroll)
	mux.HandleFunc("GET "+api.PathPoll, s.agent(s.poll))
	mux.HandleFunc("POST "+api.PathHeartbeat, s.agent(s.heartbeat))
	mux.HandleFunc("POST "+api.PathReport, s.agent(s.report))
	mux.HandleFunc("POST "+api.PathRenew, s.agent(s.renew))

	mux.HandleFunc("GET "+api.PathTokens, s.admin(s.listTokens))
	mux.HandleFunc("POST "+api.PathTokens, s.admin(s.createToken))
	mux.HandleFunc("DELETE "+api.PathTokens+"/{id}", s.admin(s.revokeToken))
	mux.HandleFunc("GET "+api.PathDevices, s.admin(s.listDevices))
	mux.HandleFunc("GET "+api.PathDevices+"/{id}", s.admin(s.showDevice))
	mux.HandleFunc("POST "+api.PathDevices+"/{id}/revoke", s.admin(s.revokeDevice))
	mux.HandleFunc("POST "+api.PathJobs, s.admin(s.queueJob))
	mux.HandleFunc("POST "+api.PathJobBatch, s.admin(s.queueJobBatch))
	mux.HandleFunc("GET "+api.PathJobs+"/{id}", s.admin(s.showJob))
	mux.HandleFunc("GET "+api.PathAudit, s.admin(s.auditLog))
	mux.HandleFunc("GET "+api.PathFleet, s.admin(s.fleet))
	mux.HandleFunc("GET "+api.PathChanges, s.admin(s.changes))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := int64(api.MaxBodyBytes)
		if r.Method == http.MethodPost && (r.URL.Path == api.PathJobs || r.URL.Path == api.PathJobBatch) {
			// Only a job request may be large (a SID map); the token is
			// checked before the body is read.
			limit = api.MaxJobBodyBytes
		}
		if r.ContentLength > limit {
			s.refuse(r.Context(), w, "anonymous@"+remoteIP(r), "request", r.URL.Path, http.StatusRequestEntityTooLarge, api.CodeTooLarge, "the body is larger than the hub accepts")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit+1)
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, api.Health{Status: "ok", Version: s.opts.Version})
}

// writeJSON writes v as the answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// refuse answers an error and records it in the audit log.
func (s *Server) refuse(ctx context.Context, w http.ResponseWriter, actor, action, object string, status int, code, msg string) {
	s.audit(ctx, api.AuditEntry{Actor: actor, Action: action, Object: object, Result: "refused", Detail: msg})
	writeJSON(w, status, api.Error{Code: code, Message: msg})
}

// audit appends to the audit log; a failure to is logged, not fatal to
// the request (the store is then failing the request anyway).
func (s *Server) audit(ctx context.Context, e api.AuditEntry) {
	e.At = s.opts.Now()
	if err := s.store.Audit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("cannot write the audit log", "action", e.Action, "error", err)
	}
}

// storeError maps a store error to an answer.
func storeError(err error) (int, string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, api.CodeNotFound
	case errors.Is(err, store.ErrTokenInvalid):
		return http.StatusUnauthorized, api.CodeUnauthorized
	case errors.Is(err, store.ErrForbidden), errors.Is(err, store.ErrDeviceRevoked):
		return http.StatusForbidden, api.CodeForbidden
	case errors.Is(err, store.ErrLeaseLost):
		return http.StatusConflict, api.CodeLeaseLost
	case errors.Is(err, store.ErrHostnameTaken), errors.Is(err, store.ErrConflict):
		return http.StatusConflict, api.CodeConflict
	}
	return http.StatusInternalServerError, api.CodeInternal
}

// decodeError maps a decoding error to an answer.
func decodeError(err error) (int, string) {
	var mbe *http.MaxBytesError
	if errors.Is(err, api.ErrTooLarge) || errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, api.CodeTooLarge
	}
	return http.StatusBadRequest, api.CodeBadRequest
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
