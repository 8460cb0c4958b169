package providers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
)

// This file holds the fake provider the transport tests serve, in process
// and re-executed as a plugin (TestMain), and the plugin modes.

// testPluginEnv selects the plugin mode when the test binary is re-executed
// as a plugin.
const testPluginEnv = "ADSHIFT_TEST_PLUGIN"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testPluginEnv); mode != "" {
		os.Exit(runTestPlugin(mode))
	}
	os.Exit(m.Run())
}

// runTestPlugin serves the fake provider in the given mode:
//
//	normal          a well-behaved provider
//	crash-discover  exits with status 3 after three Discover batches
//	crash-apply     exits with status 4 on receiving the change with ID 6
//	panic-discover  panics after two Discover batches
//	hang            never completes the handshake
//	garbage-stdout  writes nonsense to stdout instead of the handshake
//	bad-kind        Discover returns an object of kind "printer"
//	unknown-id      Apply reports a result for change 999 nobody sent
func runTestPlugin(mode string) int {
	logger := hclog.New(&hclog.LoggerOptions{Name: "fake", Level: hclog.Debug, Output: os.Stderr, JSONFormat: true})
	f := newFakeProvider()
	f.pdeathsig = parentDeathSignal()
	switch mode {
	case "normal":
	case "crash-discover":
		f.afterBatch = func(n int) {
			if n == 3 {
				logger.Error("fake provider crashing on purpose", "batch", n)
				os.Exit(3)
			}
		}
	case "crash-apply":
		f.onChange = func(c Change) {
			if c.ID == 6 {
				logger.Error("fake provider crashing on purpose", "change", c.ID)
				os.Exit(4)
			}
		}
	case "panic-discover":
		f.afterBatch = func(n int) {
			if n == 2 {
				panic("fake provider panicked on purpose")
			}
		}
	case "hang":
		logger.Info("fake provider hanging before the handshake")
		select {}
	case "garbage-stdout":
		fmt.Println("hello, I am not a plugin|really|not")
		return 0
	case "bad-kind":
		f.objects = append(f.objects, Object{Kind: "printer", DN: "CN=P1,DC=fake,DC=test"})
	case "unknown-id":
		f.result = func(c Change) Result { return Result{ID: 999} }
	default:
		fmt.Fprintf(os.Stderr, "unknown test plugin mode %q\n", mode)
		return 2
	}
	f.logger = logger
	logger.Info("fake provider starting", "mode", mode, "argv0", os.Args[0])
	Serve(f, logger)
	return 0
}

// fakeSchema is the fake provider's schema.
var fakeSchema = Schema{
	Name:    "fake",
	Version: "1.2.3",
	Config: Block{
		Attributes: []Attribute{
			{Name: "objects", Type: cty.Number, Description: "how many objects Discover returns"},
			{Name: "attributes", Type: cty.Number, Description: "attributes per object"},
			{Name: "batch", Type: cty.Number, Description: "objects per emitted batch"},
			{Name: "password", Type: cty.String, Sensitive: true},
			{Name: "ous", Type: cty.List(cty.String)},
			{Name: "labels", Type: cty.Map(cty.String)},
		},
		Blocks: []NestedBlock{{
			Name:  "tls",
			Block: Block{Attributes: []Attribute{{Name: "ca_file", Type: cty.String, Required: true}}},
		}},
	},
	Kinds: []Kind{KindOU, KindUser, KindGroup, KindComputer},
}

// fakeConfigType is the object type of a fake provider configuration.
var fakeConfigType = fakeSchema.Config.ImpliedType()

// fakeConfig builds a configuration value; nil attributes are null.
func fakeConfig(attrs map[string]cty.Value) cty.Value {
	vals := map[string]cty.Value{}
	for name, ty := range fakeConfigType.AttributeTypes() {
		if v, ok := attrs[name]; ok {
			vals[name] = v
		} else {
			vals[name] = cty.NullVal(ty)
		}
	}
	return cty.ObjectVal(vals)
}

// fakeProvider is an in-memory Provider. Discover emits objects in batches
// of batch; Apply answers changes in pairs, the second first (so results
// arrive out of order), failing changes whose DN starts with "CN=fail".
// Holding a result back is fine for transport tests; a real provider must
// report each result at once (the planner may wait for it).
type fakeProvider struct {
	mu         sync.Mutex
	config     cty.Value
	objects    []Object
	batch      int
	stopped    bool
	afterBatch func(n int)           // called after each emitted batch
	onChange   func(c Change)        // called for each change received
	result     func(c Change) Result // overrides the result for a change

	logger hclog.Logger // nil: no logs

	// pdeathsig is the process's parent-death signal, read at the start
	// on the main thread (see parentDeathSignal).
	pdeathsig string

	// blockDiscover makes Discover wait for its context to end; the
	// context's error is then sent on cancelled.
	blockDiscover bool
	started       chan struct{}
	cancelled     chan error
}

func newFakeProvider() *fakeProvider {
	return &fakeProvider{
		batch:     100,
		objects:   makeObjects(5, 3),
		started:   make(chan struct{}, 1),
		cancelled: make(chan error, 1),
	}
}

// makeObjects returns n users with attrs attributes each (plus the OU).
func makeObjects(n, attrs int) []Object {
	objs := make([]Object, 0, n+1)
	objs = append(objs, Object{Kind: KindOU, DN: "OU=Staff,DC=fake,DC=test", GUID: "00000000-0000-0000-0000-000000000000", Token: "1"})
	for i := range n {
		a := make(map[string][]string, attrs)
		for j := range attrs {
			a["attribute"+strconv.Itoa(j)] = []string{fmt.Sprintf("value %d of user %d", j, i)}
		}
		objs = append(objs, Object{
			Kind:  KindUser,
			DN:    fmt.Sprintf("CN=user%06d,OU=Staff,DC=fake,DC=test", i),
			GUID:  fmt.Sprintf("%08x-0000-4000-8000-000000000000", i),
			SID:   fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i),
			Token: strconv.Itoa(100 + i),
			Attrs: a,
		})
	}
	return objs
}

func (f *fakeProvider) GetSchema(context.Context) (*Schema, error) {
	s := fakeSchema
	s.PID = 1 // the transport replaces it with the real one
	return &s, nil
}

func (f *fakeProvider) Configure(_ context.Context, config cty.Value) (Diagnostics, error) {
	if config == cty.NilVal || config.IsNull() {
		return nil, errors.New("no configuration")
	}
	if !config.Type().Equals(fakeConfigType) {
		return nil, fmt.Errorf("configuration of type %s", config.Type().FriendlyName())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.config = config
	var diags Diagnostics
	if config.GetAttr("password").IsNull() {
		diags = append(diags, Diagnostic{
			Severity:  SeverityWarning,
			Summary:   "No password",
			Detail:    "The fake directory is read anonymously.",
			Attribute: cty.GetAttrPath("password"),
		})
	}
	if ous := config.GetAttr("ous"); !ous.IsNull() {
		for i, ou := range ous.AsValueSlice() {
			if !strings.HasPrefix(ou.AsString(), "OU=") {
				diags = append(diags, Diagnostic{
					Severity:  SeverityError,
					Summary:   "Invalid OU",
					Detail:    fmt.Sprintf("%q is not an OU DN.", ou.AsString()),
					Attribute: cty.GetAttrPath("ous").IndexInt(i),
				})
			}
		}
	}
	if labels := config.GetAttr("labels"); !labels.IsNull() {
		for k := range labels.AsValueMap() {
			if k == "bad" {
				diags = append(diags, Diagnostic{
					Severity:  SeverityError,
					Summary:   "Bad label",
					Attribute: cty.GetAttrPath("labels").IndexString(k),
				})
			}
		}
	}
	if tls := config.GetAttr("tls"); !tls.IsNull() && tls.GetAttr("ca_file").AsString() == "" {
		diags = append(diags, Diagnostic{
			Severity:  SeverityError,
			Summary:   "Empty CA file",
			Attribute: cty.GetAttrPath("tls").GetAttr("ca_file"),
		})
	}
	num := func(name string, def int) int {
		v := config.GetAttr(name)
		if v.IsNull() {
			return def
		}
		n, _ := v.AsBigFloat().Int64()
		return int(n)
	}
	if n := num("objects", -1); n >= 0 {
		f.objects = makeObjects(n, num("attributes", 10))
	}
	f.batch = num("batch", f.batch)
	return diags, nil
}

func (f *fakeProvider) Discover(ctx context.Context, scope Scope, emit func([]Object) error) error {
	f.mu.Lock()
	objs, batch, block := f.objects, f.batch, f.blockDiscover
	f.mu.Unlock()
	if block {
		f.started <- struct{}{}
		<-ctx.Done()
		f.cancelled <- ctx.Err()
		return ctx.Err()
	}
	if scope.BaseDN == "block" {
		// One batch, then wait for the host to cancel.
		if err := emit(objs[:1]); err != nil {
			return err
		}
		<-ctx.Done()
		if f.logger != nil {
			f.logger.Info("discover cancelled", "error", ctx.Err())
		}
		return ctx.Err()
	}
	if scope.BaseDN == "env" {
		wd, _ := os.Getwd()
		return emit([]Object{{Kind: KindOU, DN: "OU=Env", Attrs: map[string][]string{
			"argv0":     {os.Args[0]},
			"args":      os.Args[1:],
			"wd":        {wd},
			"extra":     {os.Getenv("ADSHIFT_TEST_EXTRA")},
			"pdeathsig": {f.pdeathsig},
		}}})
	}
	n := 0
	for len(objs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := min(batch, len(objs))
		if err := emit(objs[:k]); err != nil {
			return err
		}
		objs = objs[k:]
		n++
		if f.afterBatch != nil {
			f.afterBatch(n)
		}
	}
	return nil
}

func (f *fakeProvider) apply(c Change) Result {
	if f.result != nil {
		return f.result(c)
	}
	if strings.HasPrefix(c.DN, "CN=fail") {
		return Result{ID: c.ID, Error: fmt.Sprintf("cannot write %s: insufficient access", c.DN)}
	}
	dn := c.DN
	if c.Op == OpMove {
		dn = c.NewDN
	}
	return Result{ID: c.ID, DN: dn, GUID: fmt.Sprintf("guid-%d", c.ID), SID: fmt.Sprintf("S-1-5-21-9-%d", c.ID), Token: "t" + strconv.FormatInt(c.ID, 10)}
}

func (f *fakeProvider) Apply(ctx context.Context, in <-chan Change, emit func(Result) error) error {
	var held *Change
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c, ok := <-in:
			if !ok {
				if held != nil {
					return emit(f.apply(*held))
				}
				return nil
			}
			if f.onChange != nil {
				f.onChange(c)
			}
			if held == nil {
				held = &c
				continue
			}
			if err := emit(f.apply(c)); err != nil {
				return err
			}
			if err := emit(f.apply(*held)); err != nil {
				return err
			}
			held = nil
		}
	}
}

func (f *fakeProvider) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return errors.New("already stopped")
	}
	f.stopped = true
	return nil
}
