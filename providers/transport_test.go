package providers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
)

// ctyCmp compares cty values and types (and so cty.Paths) in cmp.Diff.
var ctyCmp = cmp.Options{
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
	cmp.Comparer(func(a, b cty.Type) bool { return a.Equals(b) }),
	cmp.Comparer(func(a, b cty.Path) bool { return a.Equals(b) }),
}

// inProcess serves impl over go-plugin's in-process gRPC connection and
// returns the host side.
func inProcess(t testing.TB, impl Provider) Provider {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		PluginName: &ProviderPlugin{Impl: impl, Name: "fake"},
	})
	// Closing the client shuts the server down (go-plugin's controller);
	// stopping the server as well races inside go-plugin.
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(Provider)
}

func TestGRPC_getSchema(t *testing.T) {
	p := inProcess(t, newFakeProvider())
	got, err := p.GetSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := fakeSchema
	want.PID = os.Getpid() // served in this process
	if diff := cmp.Diff(&want, got, ctyCmp); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}
}

func TestGRPC_configure(t *testing.T) {
	tests := []struct {
		name      string
		config    cty.Value
		wantDiags Diagnostics
		wantErr   string
	}{
		{
			name: "clean",
			config: fakeConfig(map[string]cty.Value{
				"password": cty.StringVal("s3cret").Mark("sensitive"),
				"ous":      cty.ListVal([]cty.Value{cty.StringVal("OU=A,DC=x")}),
				"labels":   cty.MapVal(map[string]cty.Value{"env": cty.StringVal("lab")}),
				"tls":      cty.ObjectVal(map[string]cty.Value{"ca_file": cty.StringVal("ca.pem")}),
				"objects":  cty.NumberIntVal(3),
			}),
		},
		{
			name: "diagnostics with attribute paths",
			config: fakeConfig(map[string]cty.Value{
				"ous":    cty.ListVal([]cty.Value{cty.StringVal("OU=A"), cty.StringVal("CN=B"), cty.StringVal("x")}),
				"labels": cty.MapVal(map[string]cty.Value{"bad": cty.StringVal("1")}),
				"tls":    cty.ObjectVal(map[string]cty.Value{"ca_file": cty.StringVal("")}),
			}),
			wantDiags: Diagnostics{
				{Severity: SeverityWarning, Summary: "No password", Detail: "The fake directory is read anonymously.", Attribute: cty.GetAttrPath("password")},
				{Severity: SeverityError, Summary: "Invalid OU", Detail: `"CN=B" is not an OU DN.`, Attribute: cty.GetAttrPath("ous").IndexInt(1)},
				{Severity: SeverityError, Summary: "Invalid OU", Detail: `"x" is not an OU DN.`, Attribute: cty.GetAttrPath("ous").IndexInt(2)},
				{Severity: SeverityError, Summary: "Bad label", Attribute: cty.GetAttrPath("labels").IndexString("bad")},
				{Severity: SeverityError, Summary: "Empty CA file", Attribute: cty.GetAttrPath("tls").GetAttr("ca_file")},
			},
		},
		{
			name:    "provider error names the provider",
			config:  cty.NilVal,
			wantErr: `provider "fake": Configure: no configuration`,
		},
		{
			name:    "wrong type",
			config:  cty.ObjectVal(map[string]cty.Value{"x": cty.True}),
			wantErr: `provider "fake": Configure: configuration of type object`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider()
			p := inProcess(t, f)
			diags, err := p.Configure(t.Context(), tt.config)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantDiags, diags, ctyCmp); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			// The provider receives the value, unmarked.
			want, _ := tt.config.UnmarkDeep()
			if diff := cmp.Diff(want, f.config, ctyCmp); diff != "" {
				t.Errorf("config received (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGRPC_discover(t *testing.T) {
	tests := []struct {
		name        string
		objects     int
		batch       int
		attrs       int
		wantBatches int
	}{
		{name: "empty", objects: -1, batch: 10, wantBatches: 0},
		{name: "small batches stay batches", objects: 25, batch: 10, attrs: 3, wantBatches: 3},
		{name: "one huge emit is cut by size", objects: 6000, batch: 6000, attrs: 10, wantBatches: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeProvider()
			f.batch = tt.batch
			if tt.objects < 0 {
				f.objects = nil
			} else {
				f.objects = makeObjects(tt.objects, tt.attrs)
			}
			p := inProcess(t, f)
			var got []Object
			batches := 0
			err := p.Discover(t.Context(), Scope{BaseDN: "DC=fake,DC=test"}, func(objs []Object) error {
				batches++
				got = append(got, objs...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(f.objects, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantBatches >= 0 && batches != tt.wantBatches:
				t.Errorf("emit called %d times, want %d", batches, tt.wantBatches)
			case tt.wantBatches < 0 && batches < 2:
				t.Errorf("emit called %d times; a large emit should arrive as several size-bounded batches", batches)
			}
		})
	}
}

func TestGRPC_discoverScope(t *testing.T) {
	var got Scope
	f := &scopeRecorder{fakeProvider: newFakeProvider(), got: &got}
	p := inProcess(t, f)
	scopes := []Scope{
		{BaseDN: "DC=x", IncludeOUs: []string{"OU=A,DC=x"}, ExcludeOUs: []string{"OU=B,OU=A,DC=x"}, Kinds: []Kind{KindUser, KindComputer}, Attributes: []string{"mail"}},
		{BaseDN: "DC=x"},                         // all attributes
		{BaseDN: "DC=x", Attributes: []string{}}, // identity only
	}
	for i, want := range scopes {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if err := p.Discover(t.Context(), want, func([]Object) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scope (-want +got):\n%s", diff)
			}
		})
	}
}

type scopeRecorder struct {
	*fakeProvider
	got *Scope
}

func (s *scopeRecorder) Discover(_ context.Context, scope Scope, _ func([]Object) error) error {
	*s.got = scope
	return nil
}

func TestGRPC_discoverEmitError(t *testing.T) {
	f := newFakeProvider()
	f.objects = makeObjects(50, 1)
	f.batch = 5
	p := inProcess(t, f)
	stop := errors.New("planner had enough")
	calls := 0
	err := p.Discover(t.Context(), Scope{}, func([]Object) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("error = %v, want the emit error", err)
	}
	if calls != 2 {
		t.Errorf("emit called %d times after it failed, want 2", calls)
	}
}

func TestGRPC_discoverCancel(t *testing.T) {
	f := newFakeProvider()
	f.blockDiscover = true
	p := inProcess(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- p.Discover(ctx, Scope{}, func([]Object) error { return nil })
	}()
	<-f.started
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), `provider "fake": Discover`) {
		t.Errorf("error = %v, want context.Canceled naming the provider", err)
	}
	// The cancellation crossed the boundary: the provider's context ended.
	if perr := <-f.cancelled; !errors.Is(perr, context.Canceled) {
		t.Errorf("provider saw %v, want context.Canceled", perr)
	}
}

// sendChanges returns a closed channel holding changes.
func sendChanges(changes []Change) <-chan Change {
	in := make(chan Change, len(changes))
	for _, c := range changes {
		in <- c
	}
	close(in)
	return in
}

func sortResults(rs []Result) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
}

func TestGRPC_apply(t *testing.T) {
	changes := []Change{
		{ID: 1, Op: OpCreate, Kind: KindUser, DN: "CN=a,DC=t", Attrs: []AttrChange{
			{Name: "displayName", Op: AttrReplace, Values: []string{"A"}},
			{Name: "unicodePwd", Op: AttrReplace, Values: []string{"\"\x00p\x00w\x00\"\x00"}}, // binary
		}},
		{ID: 2, Op: OpUpdate, Kind: KindGroup, DN: "CN=g,DC=t", GUID: "g-2", Token: "7", Attrs: []AttrChange{
			{Name: "member", Op: AttrAdd, Values: []string{"CN=a,DC=t"}},
			{Name: "member", Op: AttrDelete},
		}},
		{ID: 3, Op: OpMove, Kind: KindComputer, DN: "CN=ws,DC=t", NewDN: "CN=ws,OU=M,DC=t"},
		{ID: 4, Op: OpDelete, Kind: KindContact, DN: "CN=fail,DC=t"},
		{ID: 5, Op: OpCreate, Kind: KindOU, DN: "OU=new,DC=t"},
	}
	var received []Change
	f := newFakeProvider()
	f.onChange = func(c Change) { received = append(received, c) }
	p := inProcess(t, f)

	var got []Result
	err := p.Apply(t.Context(), sendChanges(changes), func(r Result) error {
		got = append(got, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(changes, received); diff != "" {
		t.Errorf("changes received (-want +got):\n%s", diff)
	}
	// The fake answers in pairs, the second first.
	if got[0].ID != 2 || got[1].ID != 1 {
		t.Errorf("results arrived as %d, %d; want 2, 1 (out of order)", got[0].ID, got[1].ID)
	}
	sortResults(got)
	want := []Result{
		{ID: 1, DN: "CN=a,DC=t", GUID: "guid-1", SID: "S-1-5-21-9-1", Token: "t1"},
		{ID: 2, DN: "CN=g,DC=t", GUID: "guid-2", SID: "S-1-5-21-9-2", Token: "t2"},
		{ID: 3, DN: "CN=ws,OU=M,DC=t", GUID: "guid-3", SID: "S-1-5-21-9-3", Token: "t3"},
		{ID: 4, Error: "cannot write CN=fail,DC=t: insufficient access"},
		{ID: 5, DN: "OU=new,DC=t", GUID: "guid-5", SID: "S-1-5-21-9-5", Token: "t5"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestGRPC_applyHostErrors(t *testing.T) {
	tests := []struct {
		name    string
		changes []Change
		wantErr string
	}{
		{
			name:    "duplicate ID",
			changes: []Change{{ID: 1, Op: OpDelete, Kind: KindUser, DN: "CN=a"}, {ID: 1, Op: OpDelete, Kind: KindUser, DN: "CN=b"}},
			wantErr: `provider "fake": Apply: change ID 1 sent twice`,
		},
		{
			name:    "unknown op",
			changes: []Change{{ID: 1, Op: "rename", Kind: KindUser, DN: "CN=a"}},
			wantErr: `provider "fake": Apply: change 1: unknown operation "rename"`,
		},
		{
			name: "unknown attribute op hides values",
			changes: []Change{{ID: 1, Op: OpUpdate, Kind: KindUser, DN: "CN=a", Attrs: []AttrChange{
				{Name: "unicodePwd", Op: "set", Values: []string{"hunter2"}},
			}}},
			wantErr: `provider "fake": Apply: change 1: attribute "unicodePwd": unknown operation "set"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := inProcess(t, newFakeProvider())
			err := p.Apply(t.Context(), sendChanges(tt.changes), func(Result) error { return nil })
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestGRPC_applyCancel(t *testing.T) {
	f := newFakeProvider()
	p := inProcess(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan Change) // never closed: the planner is still thinking
	var got []Result
	errc := make(chan error, 1)
	go func() {
		errc <- p.Apply(ctx, in, func(r Result) error {
			got = append(got, r)
			if len(got) == 2 {
				cancel()
			}
			return nil
		})
	}()
	in <- Change{ID: 1, Op: OpDelete, Kind: KindUser, DN: "CN=a"}
	in <- Change{ID: 2, Op: OpDelete, Kind: KindUser, DN: "CN=b"}
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if len(got) != 2 {
		t.Errorf("got %d results before the cancellation, want 2", len(got))
	}
}

func TestGRPC_stop(t *testing.T) {
	p := inProcess(t, newFakeProvider())
	if err := p.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := p.Stop(t.Context())
	if want := `provider "fake": Stop: already stopped`; err == nil || err.Error() != want {
		t.Errorf("second Stop: error = %v, want %q", err, want)
	}
}

// Every call must stay usable under -race from several goroutines.
func TestGRPC_concurrentCalls(t *testing.T) {
	f := newFakeProvider()
	f.objects = makeObjects(300, 2)
	f.batch = 7
	p := inProcess(t, f)
	errc := make(chan error, 8)
	for range 4 {
		go func() {
			n := 0
			err := p.Discover(t.Context(), Scope{}, func(o []Object) error { n += len(o); return nil })
			if err == nil && n != 301 {
				err = fmt.Errorf("discovered %d objects, want 301", n)
			}
			errc <- err
		}()
		go func() {
			_, err := p.GetSchema(t.Context())
			errc <- err
		}()
	}
	deadline := time.After(time.Minute)
	for range 8 {
		select {
		case err := <-errc:
			if err != nil {
				t.Error(err)
			}
		case <-deadline:
			t.Fatal("calls did not finish")
		}
	}
}
