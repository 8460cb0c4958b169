package ad

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/providers"
)

// dropProxy forwards TCP connections to a lab DC, cutting some: cut(n) is
// how many bytes of the server's answer the n-th connection (from 0) gets
// before the proxy closes it, or -1 to pass it whole. It listens on the
// DC's own loopback address, so the DC's certificate still names it.
type dropProxy struct {
	URL   string
	conns atomic.Int64
}

func newDropProxy(t *testing.T, dc labDC, cut func(n int) int) *dropProxy {
	t.Helper()
	u, err := url.Parse(dc.URL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(u.Hostname(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{URL: "ldaps://" + ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := int(p.conns.Add(1) - 1)
			limit := cut(n)
			if limit == 0 {
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", u.Host)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer wg.Done()
				if limit > 0 {
					io.CopyN(c, s, int64(limit))
				} else {
					io.Copy(c, s)
				}
				c.Close()
				s.Close()
			}()
		}
	}()
	return p
}

// TestConfigure_retriesDroppedConnection: a DC that accepts a connection
// and drops it (restarting, a load balancer) is retried; one that keeps
// dropping every connection fails with a clear message after the retries,
// not at once and not forever.
func TestConfigure_retriesDroppedConnection(t *testing.T) {
	l := needLab(t)
	dc := l.Target

	flaky := newDropProxy(t, dc, func(n int) int {
		if n == 0 {
			return 0 // the first connection dies before the TLS handshake
		}
		return -1
	})
	p := New(hclog.NewNullLogger())
	p.retry = backoff{attempts: 4, first: 50 * time.Millisecond, max: 200 * time.Millisecond}
	diags, err := p.Configure(context.Background(), configValue(dc, l.Password, cfgOpts{servers: []string{flaky.URL}}))
	if err != nil || diags.HasErrors() {
		t.Fatalf("Configure through a DC that dropped one connection: %v %v", err, diags)
	}
	p.Stop(context.Background())
	if n := flaky.conns.Load(); n < 2 {
		t.Errorf("%d connections: the dropped one was not retried", n)
	}

	dead := newDropProxy(t, dc, func(int) int { return 0 })
	p = New(hclog.NewNullLogger())
	p.retry = backoff{attempts: 4, first: 50 * time.Millisecond, max: 200 * time.Millisecond}
	diags, err = p.Configure(context.Background(), configValue(dc, l.Password, cfgOpts{servers: []string{dead.URL}}))
	if err != nil || !diags.HasErrors() {
		t.Fatalf("Configure through a DC that drops every connection: %v %v, want an error diagnostic", err, diags)
	}
	msg := diags[0].Summary + ": " + diags[0].Detail
	for _, w := range []string{"Cannot connect", dead.URL, "after 4 attempts", "was lost"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if n := dead.conns.Load(); n != 4 {
		t.Errorf("%d connections, want 4 attempts", n)
	}
}

// TestDiscover_connectionCutMidPage: the first discovery connection is cut
// in the middle of its first page; the search is retried on a new one
// (nothing was emitted yet) and every user still arrives exactly once.
func TestDiscover_connectionCutMidPage(t *testing.T) {
	l := needLab(t)
	seed(t, l, l.Source, "Scale", 3000, 2000, 4)
	cut := newDropProxy(t, l.Source, func(n int) int {
		// Connection 0 is Configure's (go-ldap, put back idle); the
		// discovery's first wire connection is the next one.
		if n == 1 {
			return 64 << 10 // TLS handshake, bind and part of the first page
		}
		return -1
	})
	p := New(hclog.NewNullLogger())
	p.retry = backoff{attempts: 4, first: 50 * time.Millisecond, max: 200 * time.Millisecond}
	diags, err := p.Configure(context.Background(), configValue(l.Source, l.Password, cfgOpts{servers: []string{cut.URL}, connections: 1}))
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	defer p.Stop(context.Background())
	scope := providers.Scope{BaseDN: l.Source.Base, IncludeOUs: []string{"OU=Scale," + l.Source.Base},
		Kinds: []providers.Kind{providers.KindUser}, Attributes: []string{"samaccountname"}}
	users := func(p *Provider) map[string]int {
		seen := map[string]int{}
		err := p.Discover(context.Background(), scope, func(os []providers.Object) error {
			for _, o := range os {
				seen[o.GUID]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seen
	}
	seen := users(p)
	want := users(configured(t, l, l.Source, cfgOpts{connections: 1})) // straight to the DC
	if len(want) < 3000 {
		t.Fatalf("sanity: %d users seeded, want at least 3000", len(want))
	}
	for g := range want {
		want[g] = 1
	}
	if d := cmp.Diff(want, seen); d != "" {
		t.Errorf("users through the cut connection (GUID -> times emitted; -want +got):\n%s", d)
	}
	if n := cut.conns.Load(); n < 3 {
		t.Errorf("%d connections through the proxy: the cut one was not replaced", n)
	}
}

// After a failover a provider's read and write connections go to the same
// DC: the write pool dials the DC that answered Configure, not the dead
// first one. Here the first server drops every connection.
func TestFailover_poolsFollowOneDC(t *testing.T) {
	l := needLab(t)
	dead := newDropProxy(t, l.Target, func(int) int { return 0 })
	p := configured(t, l, l.Target, cfgOpts{servers: []string{dead.URL, l.Target.URL}})
	if n := dead.conns.Load(); n != 1 {
		t.Fatalf("Configure tried the dead DC %d times, want 1", n)
	}
	ou := testOU(t, l, l.Target, "Follow")
	res := applyOK(t, p, []providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: ou}})
	if res[1].GUID == "" {
		t.Errorf("no identity read back: %+v", res[1])
	}
	if n := dead.conns.Load(); n != 1 {
		t.Errorf("the dead DC got %d connection attempts, want only Configure's 1: the writer did not follow the DC that answered", n)
	}
}
