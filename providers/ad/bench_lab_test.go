package ad

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adshift/adshift/internal/cputime"
	"github.com/adshift/adshift/providers"
)

// benchAttrs are the attributes the discovery benchmark reads; lab/bench.sh
// asks ldapsearch for the same ones plus the identity attributes the
// provider always reads.
var benchAttrs = []string{"samaccountname", "userprincipalname", "displayname", "mail", "useraccountcontrol"}

// BenchmarkDiscover10k discovers the 10,000 users of lab/seed.sh's Bench OU
// (10 sub-OUs) with the default page size, at several connection counts.
//
//	lab/seed.sh source Bench 10000 0 10
//	go test ./providers/ad -run '^$' -bench Discover10k -benchtime 3x
func BenchmarkDiscover10k(b *testing.B) {
	l := needLab(b)
	root := "OU=Bench," + l.Source.Base
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("connections=%d", conns), func(b *testing.B) {
			p := configured(b, l, l.Source, cfgOpts{connections: conns})
			scope := providers.Scope{BaseDN: l.Source.Base, IncludeOUs: []string{root}, Kinds: []providers.Kind{providers.KindUser}, Attributes: benchAttrs}
			b.ResetTimer()
			cpu0 := cputime.Self()
			for range b.N {
				n := 0
				err := p.Discover(b.Context(), scope, func(os []providers.Object) error {
					for _, o := range os {
						if o.Kind == providers.KindUser {
							n++
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if n != 10000 {
					b.Fatalf("discovered %d users, want 10000 (seed: lab/seed.sh source Bench 10000 0 10)", n)
				}
			}
			b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "users/s")
			// The client's CPU (discovery, conversion, TLS) per discovery:
			// on this 2-core machine it competes with the DC's.
			b.ReportMetric((cputime.Self()-cpu0).Seconds()/float64(b.N), "client-cpu-s/op")
		})
	}
}

// BenchmarkApplyCreates creates ADSHIFT_BENCH_CREATES (default 2000) users
// in a fresh OU of the target, created disabled (as ldapadd's LDIF in
// lab/bench.sh), with ADSHIFT_BENCH_WRITERS write connections (default 1)
// and ADSHIFT_BENCH_CONNECTIONS read connections (default 4); with
// ADSHIFT_BENCH_ADDS_ONLY=N it sends only the adds (see addsOnly).
func BenchmarkApplyCreates(b *testing.B) {
	l := needLab(b)
	n := envInt("ADSHIFT_BENCH_CREATES", 2000)
	conns := envInt("ADSHIFT_BENCH_CONNECTIONS", DefaultConnections)
	writers := envInt("ADSHIFT_BENCH_WRITERS", DefaultWriteConnections)
	b.StopTimer()
	for range b.N {
		run := time.Now().UnixNano() % 1e6
		root := fmt.Sprintf("OU=BenchApply-%d,%s", run, l.Target.Base)
		changes := make([]providers.Change, n)
		for j := range changes {
			sam := fmt.Sprintf("b%d-%05d", run, j)
			changes[j] = providers.Change{ID: int64(j + 2), Op: providers.OpCreate, Kind: providers.KindUser, DN: JoinDN("CN", sam, root),
				Attrs: []providers.AttrChange{replace("sAMAccountName", sam), replace("userPrincipalName", sam+"@target.test"),
					replace("givenName", "Bench"), replace("sn", sam), replace("displayName", "Bench "+sam), replace("mail", sam+"@target.test")}}
		}
		// Timed as ldapadd's run is: connect and bind, the OU, the users.
		b.StartTimer()
		start := time.Now()
		p := configured(b, l, l.Target, cfgOpts{connections: conns, writers: writers, newUsers: PasswordDisabled})
		ou := providers.Change{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}
		if depth := envInt("ADSHIFT_BENCH_ADDS_ONLY", 0); depth > 0 {
			addsOnly(b, p, append([]providers.Change{ou}, changes...), depth)
		} else {
			applyOK(b, p, []providers.Change{ou})
			applyOK(b, p, changes)
		}
		b.StopTimer()
		_ = p.Stop(context.Background())
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "creates/s")
		b.Logf("created under %s", root)
	}
}

// addsOnly is the floor of any client: the provider's add requests on one
// connection and no read-back (so no identities for the state), one at a
// time as ldapadd sends them (depth 1) or pipelined, depth requests in
// flight, so that the DC never waits for the client between two adds.
func addsOnly(b *testing.B, p *Provider, changes []providers.Change, depth int) {
	s, _ := p.configured()
	if err := s.add(b.Context(), changes[0]); err != nil { // the OU
		b.Fatal(err)
	}
	c, err := s.writes.get(b.Context()) // the same connection: the pool keeps it
	if err != nil {
		b.Fatal(err)
	}
	defer s.writes.put(c, false)
	sem := make(chan struct{}, depth)
	var wg sync.WaitGroup
	var failed atomic.Value
	for _, ch := range changes[1:] {
		req, _, _, err := s.addRequest(ch)
		if err != nil {
			b.Fatal(err)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := c.l.Add(req); err != nil {
				failed.Store(fmt.Errorf("%s: %w", req.DN, err))
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
