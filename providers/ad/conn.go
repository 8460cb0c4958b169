package ad

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/providers/ad/wire"
)

// conn is one bound LDAP connection and the server it reached: a go-ldap
// connection for writes and small reads, or a wire connection for bulk
// searches (see package wire).
type conn struct {
	l      *ldap.Conn
	w      *wire.Conn
	server string
}

func (c *conn) closing() bool {
	if c.w != nil {
		return c.w.Broken()
	}
	return c.l.IsClosing()
}

func (c *conn) close() {
	if c.w != nil {
		_ = c.w.Close()
		return
	}
	_ = c.l.Close()
}

// backoff is the retry schedule: attempts in total, the first pause, and
// the cap of the doubling pause.
type backoff struct {
	attempts int
	first    time.Duration
	max      time.Duration
}

var defaultBackoff = backoff{attempts: 6, first: 250 * time.Millisecond, max: 4 * time.Second}

// pool hands out bound connections, at most size at a time, and reuses them
// across calls. Safe for concurrent use.
type pool struct {
	wire  bool // dial wire connections (discovery) instead of go-ldap ones
	cfg   *Config
	log   hclog.Logger
	retry backoff
	slots chan struct{}

	dc     *dcChoice // shared by a provider's pools
	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// dcChoice is the index in cfg.Servers of the DC that answered last. A
// provider's pools share it, so that after a failover reads and writes go
// to the same DC: a read-back or a uSNChanged check on another DC than the
// write would see that DC's replica (and its own USNs), not the write.
type dcChoice struct{ preferred atomic.Int32 }

func newPool(cfg *Config, log hclog.Logger, retry backoff, size int, dc *dcChoice) *pool {
	return &pool{cfg: cfg, log: log, retry: retry, slots: make(chan struct{}, size), dc: dc}
}

// get returns a connection, taking one of the pool's slots until put.
func (p *pool) get(ctx context.Context) (*conn, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, errors.New("provider stopped")
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.closing() {
			p.mu.Unlock()
			return c, nil
		}
		c.close()
	}
	p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// put returns c to the pool; a broken connection is closed instead.
func (p *pool) put(c *conn, broken bool) {
	p.mu.Lock()
	if broken || p.closed || c.closing() {
		p.mu.Unlock()
		c.close()
	} else {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.slots
}

// close closes the idle connections and refuses new ones.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.close()
	}
	p.idle = nil
}

// dial connects and binds to the first server that answers, starting with
// the one that worked last (failover in configuration order). A bind that
// the server refuses is not retried elsewhere: other DCs of the domain would
// refuse it too.
func (p *pool) dial(ctx context.Context) (*conn, error) {
	start := int(p.dc.preferred.Load())
	var errs []error
	for i := range p.cfg.Servers {
		idx := (start + i) % len(p.cfg.Servers)
		server := p.cfg.Servers[idx]
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := p.dialOne(ctx, server)
		if err == nil {
			p.dc.preferred.Store(int32(idx))
			return c, nil
		}
		p.log.Debug("domain controller failed", "server", server, "error", err)
		errs = append(errs, err)
		if !transportFailure(err) {
			break // a refused bind or certificate: the next DC would say the same
		}
	}
	return nil, errors.Join(errs...)
}

func (p *pool) dialOne(ctx context.Context, server string) (*conn, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, &OpError{Op: "connect", Server: server, Message: "invalid URL", Err: err}
	}
	tc := p.cfg.tls.Clone()
	if tc.ServerName == "" {
		tc.ServerName = u.Hostname()
	}
	d := &net.Dialer{Timeout: p.cfg.Timeout}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d.Timeout {
		d.Deadline = dl
	}
	if p.wire {
		return p.dialWire(ctx, u, server, d, tc)
	}
	l, err := ldap.DialURL(server, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, mapError(opCtx{op: "connect", server: server}, err)
	}
	l.SetTimeout(p.cfg.Timeout)
	if u.Scheme == "ldap" && p.cfg.StartTLS {
		if err := l.StartTLS(tc); err != nil {
			_ = l.Close()
			return nil, mapError(opCtx{op: "start TLS", server: server}, err)
		}
	}
	if err := l.Bind(p.cfg.Username, p.cfg.Password); err != nil {
		if l.IsClosing() {
			err = lostConnection(err)
		}
		_ = l.Close()
		return nil, mapError(opCtx{op: "bind", dn: p.cfg.Username, server: server}, err)
	}
	return &conn{l: l, server: server}, nil
}

// dialWire is dialOne for a wire connection: the same schemes, ports,
// TLS and bind, with errors shaped like go-ldap's so that mapError and
// retryable treat both alike.
func (p *pool) dialWire(ctx context.Context, u *url.URL, server string, d *net.Dialer, tc *tls.Config) (*conn, error) {
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldaps": "636", "ldap": "389"}[u.Scheme]
	}
	if port == "" {
		return nil, &OpError{Op: "connect", Server: server, Message: fmt.Sprintf("unsupported scheme %q: use ldaps:// or ldap://", u.Scheme)}
	}
	nc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return nil, mapError(opCtx{op: "connect", server: server}, ldap.NewError(ldap.ErrorNetwork, err))
	}
	if u.Scheme == "ldaps" {
		tlsc := tls.Client(nc, tc)
		hctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
		err := tlsc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			_ = nc.Close()
			return nil, mapError(opCtx{op: "connect", server: server}, ldap.NewError(ldap.ErrorNetwork, err))
		}
		nc = tlsc
	}
	w := wire.NewConn(nc, p.cfg.Timeout)
	if u.Scheme == "ldap" && p.cfg.StartTLS {
		if err := w.StartTLS(ctx, tc); err != nil {
			_ = w.Close()
			return nil, mapError(opCtx{op: "start TLS", server: server}, wireError(err))
		}
	}
	if err := w.Bind(p.cfg.Username, p.cfg.Password); err != nil {
		_ = w.Close()
		return nil, mapError(opCtx{op: "bind", dn: p.cfg.Username, server: server}, wireError(err))
	}
	return &conn{w: w, server: server}, nil
}

// wireError shapes an error of package wire like go-ldap's: a result code
// as *ldap.Error with the server's diagnostic, and anything that broke the
// connection as ldap.ErrorNetwork (so it is retried on a new connection).
func wireError(err error) error {
	var re *wire.ResultError
	if errors.As(err, &re) {
		return ldap.NewError(uint16(re.Code), errors.New(re.Diagnostic))
	}
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return ldap.NewError(ldap.ErrorNetwork, err)
}

// do runs fn on a pooled connection. Busy and unavailable results and lost
// connections are retried with exponential backoff (a lost connection is
// redialled, possibly to the next server); other errors return at once,
// mapped to an *OpError by oc. fn may be run more than once, on different
// connections.
func (p *pool) do(ctx context.Context, oc opCtx, fn func(c *conn) error) error {
	pause := p.retry.first
	var last error
	for attempt := 1; ; attempt++ {
		err := p.once(ctx, fn)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var oe *OpError
		if errors.As(err, &oe) && oe.Op != oc.op {
			last = err // a dial or bind failure: already mapped
		} else {
			if oe == nil {
				oc.server = serverOf(err, oc.server)
			}
			last = mapError(oc, err)
		}
		if !retryable(err) || attempt >= p.retry.attempts {
			if attempt > 1 {
				return fmt.Errorf("after %d attempts: %w", attempt, last)
			}
			return last
		}
		p.log.Debug("retrying", "op", oc.op, "dn", oc.dn, "attempt", attempt, "pause", pause, "error", last)
		if pause, err = p.retry.wait(ctx, pause); err != nil {
			return err
		}
	}
}

// wait sleeps for pause (or until ctx ends) and returns the next pause of
// the doubling schedule.
func (b backoff) wait(ctx context.Context, pause time.Duration) (time.Duration, error) {
	t := time.NewTimer(pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return pause, ctx.Err()
	case <-t.C:
	}
	return min(2*pause, b.max), nil
}

// lostConnection classifies an error that came with the end of a go-ldap
// connection as the network failure it is: go-ldap hands the request in
// flight a plain "unable to read LDAP response packet" error (not an
// *ldap.Error, nor wrapping the net error), which would otherwise fail the
// change at once instead of retrying it on a new connection or the next DC.
func lostConnection(err error) error {
	var le *ldap.Error
	var oe *OpError
	var pd *pageDone
	if errors.As(err, &le) || errors.As(err, &oe) || errors.As(err, &pd) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return ldap.NewError(ldap.ErrorNetwork, err)
}

// serverErr tags an error from fn with the server it ran against.
type serverErr struct {
	server string
	err    error
}

func (e *serverErr) Error() string { return e.err.Error() }
func (e *serverErr) Unwrap() error { return e.err }

func serverOf(err error, def string) string {
	var se *serverErr
	if errors.As(err, &se) {
		return se.server
	}
	return def
}

func (p *pool) once(ctx context.Context, fn func(c *conn) error) error {
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	err = fn(c)
	if err != nil && c.l != nil && c.closing() {
		err = lostConnection(err)
	}
	p.put(c, err != nil && transportFailure(err))
	if err != nil {
		return &serverErr{server: c.server, err: err}
	}
	return nil
}
