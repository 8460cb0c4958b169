package providers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"
)

// These tests re-execute the test binary as a plugin (see TestMain) in a
// mode that selects the fake provider's behaviour.

// syncBuffer is a bytes.Buffer safe for concurrent use (the host logger
// is written by go-plugin's stderr reader).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// launchTestPlugin starts the test binary as the plugin "fake" in mode,
// re-executed as "adshift provider-serve fake" in a temporary directory.
func launchTestPlugin(t testing.TB, mode string, logs *syncBuffer) (*Client, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var logger hclog.Logger
	if logs != nil {
		logger = hclog.New(&hclog.LoggerOptions{Name: "host", Level: hclog.Debug, Output: logs})
	}
	c, err := Launch(t.Context(), LaunchOptions{
		Name:   "fake",
		Path:   exe,
		Argv0:  "adshift",
		Args:   []string{"provider-serve", "fake"},
		Dir:    dir,
		Env:    []string{testPluginEnv + "=" + mode, "ADSHIFT_TEST_EXTRA=from-host"},
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, dir
}

func TestProcess_normal(t *testing.T) {
	logs := &syncBuffer{}
	c, dir := launchTestPlugin(t, "normal", logs)
	ctx := t.Context()

	schema, err := c.GetSchema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if schema.PID == os.Getpid() || schema.PID != c.PID() || schema.PID == 0 {
		t.Errorf("schema PID %d, host PID %d, client PID %d: want the plugin's own process", schema.PID, os.Getpid(), c.PID())
	}
	want := fakeSchema
	want.PID = schema.PID
	if diff := cmp.Diff(&want, schema, ctyCmp); diff != "" {
		t.Errorf("schema (-want +got):\n%s", diff)
	}

	// argv0, arguments, working directory and environment reach the plugin.
	var env []Object
	if err := c.Discover(ctx, Scope{BaseDN: "env"}, func(o []Object) error { env = append(env, o...); return nil }); err != nil {
		t.Fatal(err)
	}
	wantDir, _ := filepath.EvalSymlinks(dir)
	if len(env) != 1 {
		t.Fatalf("env objects: %v", env)
	}
	gotDir, _ := filepath.EvalSymlinks(env[0].Get("wd"))
	if diff := cmp.Diff(map[string][]string{
		"argv0": {"adshift"},
		"args":  {"provider-serve", "fake"},
		"wd":    {wantDir},
		"extra": {"from-host"},
	}, map[string][]string{
		"argv0": env[0].Attrs["argv0"],
		"args":  env[0].Attrs["args"],
		"wd":    {gotDir},
		"extra": env[0].Attrs["extra"],
	}); diff != "" {
		t.Errorf("plugin environment (-want +got):\n%s", diff)
	}

	diags, err := c.Configure(ctx, fakeConfig(map[string]cty.Value{
		"objects":  cty.NumberIntVal(2500),
		"batch":    cty.NumberIntVal(1000),
		"password": cty.StringVal("hunter2").Mark("sensitive"),
		"ous":      cty.ListVal([]cty.Value{cty.StringVal("CN=x")}),
	}))
	if err != nil {
		t.Fatal(err)
	}
	wantDiags := Diagnostics{{Severity: SeverityError, Summary: "Invalid OU", Detail: `"CN=x" is not an OU DN.`, Attribute: cty.GetAttrPath("ous").IndexInt(0)}}
	if diff := cmp.Diff(wantDiags, diags, ctyCmp); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}

	var got []Object
	batches := 0
	if err := c.Discover(ctx, Scope{}, func(o []Object) error { batches++; got = append(got, o...); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(makeObjects(2500, 10), got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if batches != 3 {
		t.Errorf("%d batches, want 3", batches)
	}

	var results []Result
	changes := []Change{
		{ID: 10, Op: OpCreate, Kind: KindUser, DN: "CN=a,DC=t"},
		{ID: 11, Op: OpCreate, Kind: KindUser, DN: "CN=fail,DC=t"},
		{ID: 12, Op: OpDelete, Kind: KindUser, DN: "CN=b,DC=t"},
	}
	if err := c.Apply(ctx, sendChanges(changes), func(r Result) error { results = append(results, r); return nil }); err != nil {
		t.Fatal(err)
	}
	sortResults(results)
	wantResults := []Result{
		{ID: 10, DN: "CN=a,DC=t", GUID: "guid-10", SID: "S-1-5-21-9-10", Token: "t10"},
		{ID: 11, Error: "cannot write CN=fail,DC=t: insufficient access"},
		{ID: 12, DN: "CN=b,DC=t", GUID: "guid-12", SID: "S-1-5-21-9-12", Token: "t12"},
	}
	if diff := cmp.Diff(wantResults, results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}

	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The plugin's hclog lines were forwarded to the host logger.
	if l := logs.String(); !strings.Contains(l, "fake provider starting") || !strings.Contains(l, "mode=normal") {
		t.Errorf("host log lacks the plugin's log entry:\n%s", l)
	}
	if strings.Contains(logs.String(), "hunter2") {
		t.Error("the password reached the host log")
	}
}

func TestProcess_crashDuringDiscover(t *testing.T) {
	c, _ := launchTestPlugin(t, "crash-discover", nil)
	if _, err := c.Configure(t.Context(), fakeConfig(map[string]cty.Value{
		"objects": cty.NumberIntVal(100), "batch": cty.NumberIntVal(10),
	})); err != nil {
		t.Fatal(err)
	}
	batches := 0
	err := c.Discover(t.Context(), Scope{}, func([]Object) error { batches++; return nil })
	t.Logf("error: %v", err)
	var exit *ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("error = %v, want an *ExitError", err)
	}
	wantPrefix := `provider "fake" (pid ` + strconv.Itoa(c.PID()) + `) exited unexpectedly during Discover: exit status 3`
	if !strings.HasPrefix(err.Error(), wantPrefix) {
		t.Errorf("error = %q, want prefix %q", err, wantPrefix)
	}
	if !strings.Contains(err.Error(), "[ERROR] fake provider crashing on purpose") {
		t.Errorf("error lacks the plugin's last stderr lines: %q", err)
	}
	var status *exec.ExitError
	if !errors.As(err, &status) || status.ExitCode() != 3 {
		t.Errorf("error does not wrap the exit status 3: %v", err)
	}
	if batches > 3 {
		t.Errorf("%d batches arrived from a plugin that died after sending 3", batches)
	}
	// Later calls fail the same way instead of hanging.
	if _, err := c.GetSchema(t.Context()); !errors.As(err, &exit) {
		t.Errorf("GetSchema after the crash: %v, want an *ExitError", err)
	}
}

func TestProcess_crashDuringApply(t *testing.T) {
	c, _ := launchTestPlugin(t, "crash-apply", nil)
	in := make(chan Change)
	delivered := make(chan Result, 10)
	errc := make(chan error, 1)
	go func() {
		errc <- c.Apply(t.Context(), in, func(r Result) error { delivered <- r; return nil })
	}()
	change := func(id int64) Change {
		return Change{ID: id, Op: OpCreate, Kind: KindUser, DN: "CN=u" + strconv.FormatInt(id, 10)}
	}
	// Four changes, answered in pairs: wait for all four results, so they
	// are reported before the plugin dies on change 6 (5 is held unanswered).
	for id := int64(1); id <= 4; id++ {
		in <- change(id)
	}
	var got []Result
	for range 4 {
		got = append(got, <-delivered)
	}
	in <- change(5)
	in <- change(6)
	err := <-errc
	close(delivered)
	for r := range delivered {
		got = append(got, r)
	}
	t.Logf("error: %v", err)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Call != "Apply" || exit.Provider != "fake" {
		t.Fatalf("error = %v, want an *ExitError for Apply", err)
	}
	if !regexp.MustCompile(`^provider "fake" \(pid \d+\) exited unexpectedly during Apply: exit status 4`).MatchString(err.Error()) {
		t.Errorf("error = %q", err)
	}
	sortResults(got)
	var ids []int64
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3, 4}, ids); diff != "" {
		t.Errorf("results delivered (-want +got):\n%s", diff)
	}
}

func TestProcess_panic(t *testing.T) {
	c, _ := launchTestPlugin(t, "panic-discover", nil)
	if _, err := c.Configure(t.Context(), fakeConfig(map[string]cty.Value{"batch": cty.NumberIntVal(2)})); err != nil {
		t.Fatal(err)
	}
	err := c.Discover(t.Context(), Scope{}, func([]Object) error { return nil })
	t.Logf("error: %v", err)
	var exit *ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("error = %v, want an *ExitError", err)
	}
	for _, want := range []string{"exited unexpectedly during Discover: exit status 2", "panic: fake provider panicked on purpose"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q", want)
		}
	}
}

func TestProcess_cancel(t *testing.T) {
	logs := &syncBuffer{}
	c, _ := launchTestPlugin(t, "normal", logs)
	ctx, cancel := context.WithCancel(t.Context())
	err := c.Discover(ctx, Scope{BaseDN: "block"}, func([]Object) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		t.Fatalf("a cancelled call is not a crash: %v", err)
	}
	// The plugin lives on, and its Discover saw the cancellation.
	if _, err := c.GetSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if l := logs.String(); !strings.Contains(l, "discover cancelled:") || !strings.Contains(l, `error="context canceled"`) {
		t.Errorf("the plugin did not log the cancellation:\n%s", logs)
	}
	// A closed client says so instead of reporting a crash.
	if _, err := c.GetSchema(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("GetSchema after Close: %v, want ErrClosed", err)
	}
}

// TestProcess_exitsWhenHostPipeCloses closes the host's end of a
// plugin's stdin, as the host's death would, and checks that the plugin
// exits on its own, saying why.
func TestProcess_exitsWhenHostPipeCloses(t *testing.T) {
	c, _ := launchTestPlugin(t, "normal", nil)
	if _, err := c.GetSchema(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.proc.hostEnd.Close()
	select {
	case <-c.proc.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the plugin still runs 30 s after its stdin closed")
	}
	var ee *exec.ExitError
	if !errors.As(c.proc.exitErr, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", c.proc.exitErr)
	}
	if tail := c.proc.stderr.tail(); !strings.Contains(tail, "the adshift host is gone") {
		t.Errorf("the plugin's stderr does not say why it exited:\n%s", tail)
	}
}

func TestProcess_closeDuringCall(t *testing.T) {
	c, _ := launchTestPlugin(t, "normal", nil)
	errc := make(chan error, 1)
	go func() {
		errc <- c.Discover(t.Context(), Scope{BaseDN: "block"}, func([]Object) error {
			go c.Close()
			return nil
		})
	}()
	err := <-errc
	if !errors.Is(err, ErrClosed) {
		t.Errorf("error = %v, want ErrClosed (closing is not a crash)", err)
	}
}

func TestLaunch_checksum(t *testing.T) {
	opts, err := BuiltinOptions("fake", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Env = []string{testPluginEnv + "=normal"}
	data, err := os.ReadFile(opts.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	opts.SHA256 = sum[:]
	c, err := Launch(t.Context(), opts)
	if err != nil {
		t.Fatalf("matching checksum: %v", err)
	}
	c.Close()

	opts.SHA256 = make([]byte, 32)
	_, err = Launch(t.Context(), opts)
	if err == nil || !strings.HasPrefix(err.Error(), `launch provider "fake": `) || !strings.Contains(err.Error(), "has SHA-256") {
		t.Errorf("mismatching checksum: error = %v", err)
	}
}

func TestProcess_garbage(t *testing.T) {
	t.Run("stdout nonsense", func(t *testing.T) {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Launch(t.Context(), LaunchOptions{
			Name: "fake", Path: exe, Argv0: "adshift",
			Env: []string{testPluginEnv + "=garbage-stdout"},
		})
		if err == nil {
			t.Fatal("Launch succeeded")
		}
		t.Logf("error: %v", err)
		for _, want := range []string{`launch provider "fake"`, "hello, I am not a plugin"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q lacks %q", err, want)
			}
		}
	})
	t.Run("unknown kind", func(t *testing.T) {
		c, _ := launchTestPlugin(t, "bad-kind", nil)
		n := 0
		err := c.Discover(t.Context(), Scope{}, func(o []Object) error { n += len(o); return nil })
		want := `provider "fake": Discover: protocol violation: object "CN=P1,DC=fake,DC=test": unknown object kind "printer"`
		if !errors.Is(err, ErrProtocol) || err == nil || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
		// The plugin is still usable after a broken call.
		if _, err := c.GetSchema(t.Context()); err != nil {
			t.Errorf("GetSchema after the broken call: %v", err)
		}
	})
	t.Run("result for an unknown change", func(t *testing.T) {
		c, _ := launchTestPlugin(t, "unknown-id", nil)
		err := c.Apply(t.Context(), sendChanges([]Change{{ID: 1, Op: OpDelete, Kind: KindUser, DN: "CN=a"}}), func(Result) error { return nil })
		want := `provider "fake": Apply: protocol violation: result for unknown change 999`
		if !errors.Is(err, ErrProtocol) || err == nil || err.Error() != want {
			t.Errorf("error = %v, want %q", err, want)
		}
	})
}

func TestLaunch_cancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Launch(ctx, LaunchOptions{Name: "fake", Path: "/nonexistent"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestLaunch_handshakeTimeout(t *testing.T) {
	opts, err := BuiltinOptions("fake", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Env = []string{testPluginEnv + "=hang"}
	opts.StartTimeout = 2 * time.Second
	_, err = Launch(t.Context(), opts)
	if err == nil || !strings.HasPrefix(err.Error(), `launch provider "fake"`) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("error = %v, want a timeout naming the provider", err)
	}
	if !strings.Contains(err.Error(), "fake provider hanging before the handshake") {
		t.Errorf("error lacks the plugin's stderr: %v", err)
	}
}

func TestLaunch_missingExecutable(t *testing.T) {
	_, err := Launch(t.Context(), LaunchOptions{Name: "ghost", Path: filepath.Join(t.TempDir(), "adshift-provider-ghost")})
	if err == nil || !strings.HasPrefix(err.Error(), `launch provider "ghost"`) {
		t.Errorf("error = %v, want one naming the provider", err)
	}
}

// BenchmarkDiscover_process measures 100,000 objects crossing from a
// plugin process (the test binary re-executed) into this one.
func BenchmarkDiscover_process(b *testing.B) {
	c, _ := launchTestPlugin(b, "normal", nil)
	if _, err := c.Configure(b.Context(), fakeConfig(map[string]cty.Value{
		"objects": cty.NumberIntVal(benchObjects), "attributes": cty.NumberIntVal(10), "batch": cty.NumberIntVal(1000),
	})); err != nil {
		b.Fatal(err)
	}
	benchmarkDiscover(b, c, c.PID())
}
