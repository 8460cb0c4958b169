package ad

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/providers"
)

// labDC is one lab domain controller as lab/env.sh describes it.
type labDC struct {
	Name, URL, CA, Admin, Base, Domain, SMBConf string
}

type lab struct {
	Password       string
	Dir            string
	Source, Target labDC
}

// needLab skips the test unless the Samba lab is up (ADSHIFT_LAB=1, see
// lab/up.sh and eval "$(lab/env.sh)").
func needLab(t testing.TB) *lab {
	t.Helper()
	if os.Getenv("ADSHIFT_LAB") != "1" {
		t.Skip(`needs the Samba AD lab: run lab/up.sh as root, then eval "$(lab/env.sh)" (sets ADSHIFT_LAB=1)`)
	}
	dc := func(name string) labDC {
		up := strings.ToUpper(name)
		g := func(k string) string {
			v := os.Getenv("ADSHIFT_LAB_" + up + "_" + k)
			if v == "" {
				t.Fatalf("ADSHIFT_LAB=1 but ADSHIFT_LAB_%s_%s is empty; eval \"$(lab/env.sh)\"", up, k)
			}
			return v
		}
		return labDC{Name: name, URL: g("URL"), CA: g("CA"), Admin: g("ADMIN"), Base: g("BASE"), Domain: g("DOMAIN"), SMBConf: g("SMBCONF")}
	}
	return &lab{Password: os.Getenv("ADSHIFT_LAB_PASSWORD"), Dir: os.Getenv("ADSHIFT_LAB_DIR"), Source: dc("source"), Target: dc("target")}
}

// cfgOpts are the knobs tests turn; zero values mean the defaults.
type cfgOpts struct {
	servers     []string
	password    string
	caFile      string
	insecure    bool
	pageSize    int
	rangeSize   int
	connections int
	writers     int
	timeout     string
	newUsers    string
	startTLS    bool
}

// configValue builds the provider configuration the host would send.
func configValue(dc labDC, pw string, o cfgOpts) cty.Value {
	servers := o.servers
	if servers == nil {
		servers = []string{dc.URL}
	}
	sv := make([]cty.Value, len(servers))
	for i, s := range servers {
		sv[i] = cty.StringVal(s)
	}
	if o.password != "" {
		pw = o.password
	}
	ca := dc.CA
	if o.caFile != "" {
		ca = o.caFile
	}
	num := func(n int) cty.Value {
		if n == 0 {
			return cty.NullVal(cty.Number)
		}
		return cty.NumberIntVal(int64(n))
	}
	str := func(s string) cty.Value {
		if s == "" {
			return cty.NullVal(cty.String)
		}
		return cty.StringVal(s)
	}
	ty := configSchema.ImpliedType()
	return cty.ObjectVal(map[string]cty.Value{
		"servers":           cty.ListVal(sv),
		"page_size":         num(o.pageSize),
		"range_size":        num(o.rangeSize),
		"timeout":           str(o.timeout),
		"connections":       num(o.connections),
		"write_connections": num(o.writers),
		"bind": cty.ObjectVal(map[string]cty.Value{
			"username": cty.StringVal(dc.Admin), "password": cty.StringVal(pw),
		}),
		"tls": cty.ObjectVal(map[string]cty.Value{
			"ca_file": cty.StringVal(ca), "start_tls": cty.BoolVal(o.startTLS), "insecure_skip_verify": cty.BoolVal(o.insecure),
		}),
		"new_users":      cty.ObjectVal(map[string]cty.Value{"password": str(o.newUsers)}),
		"created_marker": cty.NullVal(ty.AttributeType("created_marker")),
	})
}

// configured returns a provider configured against dc.
func configured(t testing.TB, l *lab, dc labDC, o cfgOpts) *Provider {
	t.Helper()
	p := New(hclog.NewNullLogger())
	diags, err := p.Configure(context.Background(), configValue(dc, l.Password, o))
	if err != nil {
		t.Fatalf("Configure: %v", err)
	}
	if diags.HasErrors() {
		t.Fatalf("Configure: %v", diags.Err())
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	return p
}

// discoverAll collects every object Discover emits.
func discoverAll(t testing.TB, p *Provider, scope providers.Scope) ([]providers.Object, int) {
	t.Helper()
	var out []providers.Object
	batches := 0
	err := p.Discover(context.Background(), scope, func(os []providers.Object) error {
		batches++
		out = append(out, os...)
		return nil
	})
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return out, batches
}

// ldapTool runs an OpenLDAP client against dc, bound as the admin, with
// the lab CA; the password goes through a file, never argv.
func ldapTool(t testing.TB, l *lab, dc labDC, tool string, args ...string) string {
	t.Helper()
	pwFile := l.Dir + "/.run/password"
	full := append([]string{"-H", dc.URL, "-x", "-D", dc.Admin, "-y", pwFile}, args...)
	cmd := exec.Command(tool, full...)
	cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+dc.CA, "LDAPTLS_REQCERT=demand")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %v: %v\n%s", tool, args, err, stderr)
	}
	return string(out)
}

// sambaTool runs samba-tool against dc's local database.
func sambaTool(t testing.TB, dc labDC, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("samba-tool", append(args, "-s", dc.SMBConf)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("samba-tool %v: %w\n%s", args, err, out)
	}
	return string(out), nil
}

// seed runs lab/seed.sh (idempotent) for a test's data set.
func seed(t testing.TB, l *lab, dc labDC, name string, users, members, ous int) {
	t.Helper()
	cmd := exec.Command(l.Dir+"/seed.sh", dc.Name, name, fmt.Sprint(users), fmt.Sprint(members), fmt.Sprint(ous))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seed %s: %v\n%s", name, err, out)
	}
}

// applyAll sends changes one at a time in order (as a planner would after
// each dependency completes) and returns the results by ID and Apply's error.
func applyAll(t testing.TB, p *Provider, changes []providers.Change) (map[int64]providers.Result, error) {
	t.Helper()
	in := make(chan providers.Change)
	var mu sync.Mutex
	res := map[int64]providers.Result{}
	done := make(chan error, 1)
	go func() {
		done <- p.Apply(context.Background(), in, func(r providers.Result) error {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := res[r.ID]; dup {
				t.Errorf("result %d emitted twice", r.ID)
			}
			res[r.ID] = r
			return nil
		})
	}()
	for _, c := range changes {
		select {
		case in <- c:
		case err := <-done:
			return res, err
		}
	}
	close(in)
	err := <-done
	mu.Lock()
	defer mu.Unlock()
	return res, err
}

// applyOK applies changes in dependency waves: each wave is sent, then
// awaited, like the planner's graph walk.
func applyOK(t testing.TB, p *Provider, waves ...[]providers.Change) map[int64]providers.Result {
	t.Helper()
	all := map[int64]providers.Result{}
	for _, w := range waves {
		res, err := applyAll(t, p, w)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		for _, c := range w {
			r, ok := res[c.ID]
			if !ok {
				t.Fatalf("no result for change %d (%s %s)", c.ID, c.Op, c.DN)
			}
			if r.Error != "" {
				t.Fatalf("change %d (%s %s): %s", c.ID, c.Op, c.DN, r.Error)
			}
			all[c.ID] = r
		}
	}
	return all
}

// testOU creates a fresh OU for one test under dc's base and removes its
// subtree when the test ends.
func testOU(t testing.TB, l *lab, dc labDC, name string) string {
	t.Helper()
	ou := fmt.Sprintf("OU=%s-%d,%s", name, time.Now().UnixNano()%1e9, dc.Base)
	t.Cleanup(func() {
		cmd := exec.Command("ldapdelete", "-H", dc.URL, "-x", "-D", dc.Admin, "-y", l.Dir+"/.run/password", "-r", ou)
		cmd.Env = append(os.Environ(), "LDAPTLS_CACERT="+dc.CA)
		if out, err := cmd.CombinedOutput(); err != nil && !t.Failed() {
			t.Logf("cleanup %s: %v %s", ou, err, out)
		}
	})
	return ou
}

func replace(name string, vals ...string) providers.AttrChange {
	return providers.AttrChange{Name: name, Op: providers.AttrReplace, Values: vals}
}
