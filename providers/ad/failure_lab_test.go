package ad

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/providers/ad/wire"
)

// TestConfigure_failures: a wrong CA names the server in a verification
// error, a wrong password says so, insecure_skip_verify warns every time,
// and no password ever shows in a diagnostic or log.
func TestConfigure_failures(t *testing.T) {
	l := needLab(t)
	src := l.Source
	var logs strings.Builder
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	tests := []struct {
		name        string
		opts        cfgOpts
		wantSummary string
		wantDetail  []string
		severity    providers.Severity
	}{
		{"wrong CA", cfgOpts{caFile: l.Target.CA}, "Cannot connect to the domain controller",
			[]string{src.URL, "TLS certificate verification", "tls.ca_file"}, providers.SeverityError},
		// Samba answers a failed bind only after recording it (tens of
		// seconds on the loaded CI machine), hence the long timeout.
		{"wrong password", cfgOpts{password: "Not-The-Password-1", timeout: "150s"}, "Cannot log in to the domain controller",
			[]string{"invalid credentials", src.Admin, src.URL}, providers.SeverityError},
		{"failover past a dead server", cfgOpts{servers: []string{"ldaps://127.0.0.1:1", src.URL}}, "", nil, 0},
		{"start_tls on ldap://", cfgOpts{servers: []string{"ldap://" + strings.TrimSuffix(strings.TrimPrefix(src.URL, "ldaps://"), ":636") + ":389"}, startTLS: true}, "", nil, 0},
		{"insecure skip verify", cfgOpts{caFile: l.Target.CA, insecure: true}, "TLS certificate verification is disabled",
			[]string{"insecure_skip_verify"}, providers.SeverityWarning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 2 // every Configure warns, not only the first
			if tt.severity == providers.SeverityError {
				runs = 1
			}
			for range runs {
				p := New(logger)
				diags, err := p.Configure(context.Background(), configValue(src, l.Password, tt.opts))
				if err != nil {
					t.Fatal(err)
				}
				_ = p.Stop(context.Background())
				if tt.wantSummary == "" {
					if len(diags) != 0 {
						t.Fatalf("diagnostics: %+v", diags)
					}
					discoverDC(t, l, tt.opts)
					continue
				}
				if len(diags) != 1 {
					t.Fatalf("diagnostics = %+v, want one", diags)
				}
				d := diags[0]
				if d.Summary != tt.wantSummary || d.Severity != tt.severity {
					t.Errorf("diagnostic %q (severity %d), want %q (%d)", d.Summary, d.Severity, tt.wantSummary, tt.severity)
				}
				for _, w := range tt.wantDetail {
					if !strings.Contains(d.Detail, w) {
						t.Errorf("detail %q does not mention %q", d.Detail, w)
					}
				}
				for _, secret := range []string{l.Password, "Not-The-Password-1"} {
					if strings.Contains(d.Detail+d.Summary, secret) {
						t.Errorf("diagnostic leaks the password: %s", d.Detail)
					}
				}
			}
		})
	}
	for _, secret := range []string{l.Password, "Not-The-Password-1"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log leaks a password")
		}
	}
}

// discoverDC discovers the source DC's own computer account with opts, so
// that discovery's connections (package wire: their own TLS, StartTLS,
// failover and bind) are proven on each configuration Configure accepted.
func discoverDC(t *testing.T, l *lab, opts cfgOpts) {
	t.Helper()
	p := configured(t, l, l.Source, opts)
	var dcs []string
	err := p.Discover(context.Background(), providers.Scope{BaseDN: l.Source.Base, IncludeOUs: []string{"OU=Domain Controllers," + l.Source.Base},
		Kinds: []providers.Kind{providers.KindComputer}}, func(os []providers.Object) error {
		for _, o := range os {
			if o.Kind == providers.KindComputer && o.GUID != "" && o.SID != "" {
				dcs = append(dcs, o.DN)
			}
		}
		return nil
	})
	if err != nil || len(dcs) == 0 {
		t.Errorf("discovery of the domain controllers: %v, found %v", err, dcs)
	}
}

// TestDiscoveryConnections_refuseBadCertificate: discovery's own
// connections verify the DC's certificate like the rest (Configure's
// connection would refuse first; this dials discovery's pool directly).
func TestDiscoveryConnections_refuseBadCertificate(t *testing.T) {
	l := needLab(t)
	cfg, diags := decodeConfig(configValue(l.Source, l.Password, cfgOpts{caFile: l.Target.CA}))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	pl := newPool(cfg, hclog.NewNullLogger(), backoff{attempts: 1}, cfg.Connections, &dcChoice{})
	pl.wire = true
	c, err := pl.get(context.Background())
	if err == nil {
		pl.put(c, false)
		pl.close()
		t.Fatal("a wire connection verified the source DC with the target's CA")
	}
	for _, w := range []string{"TLS certificate verification of " + l.Source.URL, "tls.ca_file"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), l.Password) {
		t.Error("the error shows the password")
	}
}

// TestEscaping_roundTrip: DNs and values with every RFC 4514 special
// character, leading/trailing spaces and non-ASCII are written and read back
// unchanged; data in a filter cannot widen a search.
func TestEscaping_roundTrip(t *testing.T) {
	l := needLab(t)
	tgt := l.Target
	p := configured(t, l, tgt, cfgOpts{})
	root := testOU(t, l, tgt, "Esc")
	names := []string{`Smith, John`, `a+b"c\d`, `#hash <lt> >gt; semi=eq`, ` lead and trail `, `Zoë Ñandú 東京`}
	ou := JoinDN("OU", `Ünïcode, "quoted" + more`, root)
	waves := [][]providers.Change{
		{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}},
		{{ID: 2, Op: providers.OpCreate, Kind: providers.KindOU, DN: ou}},
	}
	var users []providers.Change
	for i, n := range names {
		users = append(users, providers.Change{ID: int64(10 + i), Op: providers.OpCreate, Kind: providers.KindUser, DN: JoinDN("CN", n, ou),
			Attrs: []providers.AttrChange{replace("sAMAccountName", fmt.Sprintf("esc%d%s", i, root[6:12])), replace("description", n), replace("displayName", "*)(cn=*\\"+n)}})
	}
	waves = append(waves, users)
	res := applyOK(t, p, waves...)
	objs, _ := discoverAll(t, p, providers.Scope{BaseDN: tgt.Base, IncludeOUs: []string{root}, Kinds: []providers.Kind{providers.KindUser},
		Attributes: []string{"description", "displayname"}})
	got := map[string][2]string{}
	for _, o := range objs {
		if o.Kind == providers.KindUser {
			_, v, parent, err := SplitDN(o.DN)
			if err != nil {
				t.Fatal(err)
			}
			if NormalizeDN(parent) != NormalizeDN(ou) {
				t.Errorf("%s: parent %q, want %q", o.DN, parent, ou)
			}
			got[v] = [2]string{o.Get("description"), o.Get("displayname")}
		}
	}
	want := map[string][2]string{}
	for _, n := range names {
		want[n] = [2]string{n, "*)(cn=*\\" + n}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	for _, r := range res {
		if r.Error != "" {
			t.Error(r.Error)
		}
	}

	// Filter injection: values that would widen an unescaped filter match
	// nothing (or exactly the one object that holds that literal value).
	s, err := p.configured()
	if err != nil {
		t.Fatal(err)
	}
	search := func(filter string) int {
		t.Helper()
		fb, err := compileFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = s.reads.do(context.Background(), opCtx{op: "search", dn: root}, func(c *conn) error {
			n = 0
			return searchPages(c, root, wire.ScopeSubtree, fb, []string{"1.1"}, 100, func(*wire.Entry) error {
				n++
				return nil
			}, nil)
		})
		if err != nil {
			t.Fatalf("search %s: %v", filter, err)
		}
		return n
	}
	if n := search("(description=*)"); n != len(names) {
		t.Fatalf("sanity: %d objects with a description, want %d", n, len(names))
	}
	eq := func(attr, v string) string {
		f, err := equalityFilter(attr, v)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, v := range []string{"Smith, John\x00", "\x00", "*\x00"} {
		if f, err := equalityFilter("description", v); err == nil {
			t.Errorf("value %q with NUL accepted into filter %q (Samba cuts at \\00 and would match a shorter value)", v, f)
		}
	}
	for _, v := range []string{"*", "Smith*", "x)(description=*", "*)(|(objectClass=*", `\2a`, `Smith\2c John`} {
		if n := search(eq("description", v)); n != 0 {
			t.Errorf("filter value %q matched %d objects; escaping let it widen the search", v, n)
		}
	}
	for _, n := range names {
		if got := search(eq("description", n)); got != 1 {
			t.Errorf("exact value %q matched %d objects, want 1", n, got)
		}
		if got := search(eq("displayName", "*)(cn=*\\"+n)); got != 1 {
			t.Errorf("value with filter syntax %q matched %d objects, want 1", n, got)
		}
	}
	dbcheck(t, tgt, root)
}

// TestApply_dcStoppedMidApply stops the target DC in the middle of an
// apply: the provider retries, then fails with a clear error; every result
// it emitted as applied is in the directory after the DC comes back, and
// every change got exactly one result.
func TestApply_dcStoppedMidApply(t *testing.T) {
	l := needLab(t)
	tgt := l.Target
	dcsh := filepath.Join(l.Dir, "dc.sh")
	t.Cleanup(func() {
		if out, err := exec.Command(dcsh, "start", "target").CombinedOutput(); err != nil {
			t.Errorf("restart target DC: %v\n%s", err, out)
		}
	})
	p := New(hclog.NewNullLogger())
	p.retry = backoff{attempts: 4, first: 200 * time.Millisecond, max: time.Second}
	diags, err := p.Configure(context.Background(), configValue(tgt, l.Password, cfgOpts{connections: 2, timeout: "5s"}))
	if err != nil || diags.HasErrors() {
		t.Fatal(err, diags)
	}
	defer p.Stop(context.Background())
	root := testOU(t, l, tgt, "Stop")
	applyOK(t, p, []providers.Change{{ID: 1, Op: providers.OpCreate, Kind: providers.KindOU, DN: root}})

	const n = 200
	in := make(chan providers.Change)
	var mu sync.Mutex
	results := map[int64]providers.Result{}
	var stopOnce sync.Once
	stopped := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- p.Apply(context.Background(), in, func(r providers.Result) error {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := results[r.ID]; dup {
				t.Errorf("result %d twice", r.ID)
			}
			results[r.ID] = r
			if len(results) == 10 {
				stopOnce.Do(func() {
					go func() {
						defer close(stopped)
						if out, err := exec.Command(dcsh, "stop", "target").CombinedOutput(); err != nil {
							t.Errorf("stop target DC: %v\n%s", err, out)
						}
					}()
				})
			}
			return nil
		})
	}()
	sent := 0
	var applyErr error
send:
	for i := range n {
		select {
		case in <- providers.Change{ID: int64(100 + i), Op: providers.OpCreate, Kind: providers.KindContact, DN: JoinDN("CN", fmt.Sprintf("c%03d", i), root)}:
			sent++
		case applyErr = <-done:
			break send
		}
	}
	if applyErr == nil {
		close(in)
		applyErr = <-done
	}
	<-stopped
	if applyErr == nil {
		t.Fatal("Apply returned no error although the DC was stopped")
	}
	if !strings.Contains(applyErr.Error(), "unreachable") || !strings.Contains(applyErr.Error(), tgt.URL) {
		t.Errorf("Apply error not clear: %v", applyErr)
	}
	t.Logf("sent %d, results %d, error: %v", sent, len(results), applyErr)
	if len(results) != sent {
		t.Errorf("%d results for %d changes sent", len(results), sent)
	}
	var applied []string
	for _, r := range results {
		if r.Error == "" {
			applied = append(applied, r.DN)
		}
	}
	if len(applied) < 10 {
		t.Errorf("only %d applied before the stop", len(applied))
	}

	if out, err := exec.Command(dcsh, "start", "target").CombinedOutput(); err != nil {
		t.Fatalf("restart target DC: %v\n%s", err, out)
	}
	// Durable: everything reported applied is there. Read through the same
	// provider, whose pooled connections the restart dropped: it redials.
	objs, _ := discoverAll(t, p, providers.Scope{BaseDN: tgt.Base, IncludeOUs: []string{root}, Kinds: []providers.Kind{providers.KindContact}})
	have := map[string]bool{}
	for _, o := range objs {
		have[NormalizeDN(o.DN)] = true
	}
	for _, dn := range applied {
		if !have[NormalizeDN(dn)] {
			t.Errorf("%s reported applied but not in the directory", dn)
		}
	}
	_ = os.Getenv
}
