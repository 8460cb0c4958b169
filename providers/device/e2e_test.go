package device

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/hubtest"
	"github.com/adshift/adshift/hub/store/sqlstore"
	"github.com/adshift/adshift/internal/pgtest"
	"github.com/adshift/adshift/providers"
)

// The end-to-end tests: a hub (in this process, HTTPS on loopback),
// adshift-agent processes with the lab backend, and the provider served
// by this test binary re-executed as a plugin process.

// pluginEnv makes the test binary serve the provider.
const pluginEnv = "ADSHIFT_DEVICE_TEST_PLUGIN"

var agentBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	if os.Getenv(pluginEnv) == "1" {
		providers.Serve(New(nil), nil)
		os.Exit(0)
	}
	code := m.Run()
	if agentBuild.dir != "" {
		os.RemoveAll(agentBuild.dir)
	}
	os.Exit(code)
}

// agentBin builds cmd/adshift-agent once per test binary.
func agentBin(t testing.TB) string {
	t.Helper()
	agentBuild.once.Do(func() {
		agentBuild.dir, agentBuild.err = os.MkdirTemp("", "adshift-agent-")
		if agentBuild.err != nil {
			return
		}
		agentBuild.path = filepath.Join(agentBuild.dir, "adshift-agent")
		out, err := exec.Command("go", "build", "-o", agentBuild.path, "github.com/adshift/adshift/cmd/adshift-agent").CombinedOutput()
		if err != nil {
			agentBuild.err = fmt.Errorf("go build adshift-agent: %v\n%s", err, out)
		}
	})
	if agentBuild.err != nil {
		t.Fatal(agentBuild.err)
	}
	return agentBuild.path
}

// launch starts the provider as a plugin process and configures it for h.
func launch(t testing.TB, h *hubtest.Hub) *providers.Client {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := providers.Launch(t.Context(), providers.LaunchOptions{
		Name: "device", Path: exe, Argv0: "adshift", Args: []string{"provider-serve", "device"},
		Dir: t.TempDir(), Env: []string{pluginEnv + "=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	diags, err := c.Configure(t.Context(), config(h.URL, h.Admin.AdminToken, caFile(t, h)))
	if err != nil || len(diags) > 0 {
		t.Fatalf("Configure = %v, %v", diags, err)
	}
	return c
}

func config(url, token, ca string) cty.Value {
	caVal := cty.NullVal(cty.String)
	if ca != "" {
		caVal = cty.StringVal(ca)
	}
	return cty.ObjectVal(map[string]cty.Value{"url": cty.StringVal(url), "token": cty.StringVal(token), "ca_file": caVal})
}

// caFile writes the hub's CA and returns its path.
func caFile(t testing.TB, h *hubtest.Hub) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server-ca.pem")
	if err := os.WriteFile(path, h.Server.ServerCAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// device is one enrolled agent: its directories and, once started, its
// process.
type device struct {
	host, id, data, dev string
}

// enroll enrolls an agent process with h as host (not started).
func enroll(t *testing.T, h *hubtest.Hub, host string) *device {
	t.Helper()
	d := &device{host: host, data: t.TempDir(), dev: t.TempDir()}
	inv := `{"os":"Windows 10 Pro","os_build":"19045","powershell":"5.1","dotnet_release":528040,"domain":"source.test","principals":[{"sid":"S-1-5-21-1-2-3-1001","name":"SOURCE\\jdoe","where":"profile"}]}`
	if err := os.WriteFile(filepath.Join(d.dev, "inventory.json"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	tok := h.Token(t, 1)
	out, err := exec.Command(agentBin(t), "enroll", "-hub", h.URL, "-token", tok.Secret, "-ca-fingerprint", tok.CAFingerprint,
		"-data-dir", d.data, "-hostname", host).CombinedOutput()
	if err != nil {
		t.Fatalf("adshift-agent enroll %s: %v\n%s", host, err, out)
	}
	dev, err := h.Admin.Device(t.Context(), host)
	if err != nil {
		t.Fatal(err)
	}
	d.id = dev.ID
	return d
}

// start runs the agent until the test ends.
func (d *device) start(t *testing.T) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "agent.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(agentBin(t), "run", "-data-dir", d.data, "-device-dir", d.dev, "-heartbeat", "200ms", "-poll-wait", "5s")
	cmd.Env = append(os.Environ(), "ADSHIFT_AGENT_RETRY_MAX=200ms")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("agent %s output:\n%s", d.host, b)
		}
	})
}

// events records what RunDevices emits.
type events struct {
	mu  sync.Mutex
	all []providers.DeviceEvent
}

func (e *events) emit(ev providers.DeviceEvent) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
	return nil
}

// lines summarises the events of key without progress: kind, action,
// status, job state and output (outputs cut at 40 bytes).
func (e *events) lines(key string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.all {
		if ev.Key != key || ev.Kind == providers.DeviceEventProgress {
			continue
		}
		s := string(ev.Kind)
		switch ev.Kind {
		case providers.DeviceEventResult:
			s += fmt.Sprintf(" %d %s %s %q", ev.Action, ev.ActionName, ev.Status, trim(ev.Output))
		case providers.DeviceEventDone:
			s += " " + ev.JobState
		case providers.DeviceEventQueued:
			s += " " + ev.Output
		case providers.DeviceEventError:
			s += " " + ev.Output
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func trim(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func echo(msg string, params ...string) providers.DeviceAction {
	a := providers.DeviceAction{Name: api.ActionEcho, Params: map[string]string{"message": msg}}
	for i := 0; i+1 < len(params); i += 2 {
		a.Params[params[i]] = params[i+1]
	}
	return a
}

func wantLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: events\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestRunDevices(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts agent and plugin processes")
	}
	t.Run("sqlite", func(t *testing.T) { testRunDevices(t, hubtest.Start(t, hub.Options{})) })
	t.Run("postgres", func(t *testing.T) {
		st, err := sqlstore.OpenPostgres(t.Context(), pgtest.StartT(t).DatabaseT(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testRunDevices(t, hubtest.Start(t, hub.Options{Store: st}))
	})
}

func testRunDevices(t *testing.T, h *hubtest.Hub) {
	p := launch(t, h)
	ws1, ws2, ws3, ws4 := enroll(t, h, "ws1"), enroll(t, h, "ws2"), enroll(t, h, "ws3"), enroll(t, h, "ws4")
	ws1.start(t)
	ws2.start(t)
	if err := h.Admin.RevokeDevice(t.Context(), ws4.id); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	t.Run("list", func(t *testing.T) {
		var ds []providers.DeviceInfo
		for {
			var err error
			if ds, err = p.ListDevices(ctx); err != nil {
				t.Fatal(err)
			}
			if len(ds) == 4 && ds[0].Inventory != nil {
				break
			}
			if err := sleep(ctx, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for _, d := range ds {
			got = append(got, d.Hostname+" "+d.State)
		}
		wantLines(t, "devices", got, []string{"ws1 active", "ws2 active", "ws3 active", "ws4 revoked"})
		if inv := ds[0].Inventory; inv.OS != "Windows 10 Pro" || inv.DotNetRelease != 528040 || len(inv.Principals) != 1 || inv.Principals[0].Where != "profile" {
			t.Errorf("ws1 inventory %+v", inv)
		}
	})

	t.Run("wave", func(t *testing.T) {
		var ev events
		run := providers.DeviceRun{Jobs: []providers.DeviceJob{
			{DeviceID: ws1.id, Hostname: "ws1", Key: "w-ws1", Actions: []providers.DeviceAction{echo("one", "steps", "3"), {Name: api.ActionNoop}}},
			{DeviceID: ws2.id, Hostname: "ws2", Key: "w-ws2", Actions: []providers.DeviceAction{echo("two")}},
			{DeviceID: "no-such-device", Hostname: "ws9", Key: "w-ws9", Actions: []providers.DeviceAction{echo("nine")}},
			{DeviceID: ws4.id, Hostname: "ws4", Key: "w-ws4", Actions: []providers.DeviceAction{echo("four")}},
		}}
		if err := p.RunDevices(ctx, run, ev.emit); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "ws1", ev.lines("w-ws1"), []string{"queued", `result 0 echo ok "one"`, `result 1 noop ok ""`, "done succeeded"})
		wantLines(t, "ws2", ev.lines("w-ws2"), []string{"queued", `result 0 echo ok "two"`, "done succeeded"})
		// ws1's agent reported progress 1/3 and 3/3 before the result:
		// whether they came in the same batch as the result (then they
		// are dropped) is timing, but never after the result, never more.
		resulted, progress := false, 0
		for _, e := range ev.all {
			switch {
			case e.Key != "w-ws1" || e.Action != 0:
			case e.Kind == providers.DeviceEventResult:
				resulted = true
			case e.Kind == providers.DeviceEventProgress:
				progress++
				if resulted || e.Total != 3 || e.ActionName != "echo" || progress > 2 {
					t.Errorf("progress event %+v (result before it: %v, progress events: %d)", e, resulted, progress)
				}
			}
		}
		wantLines(t, "unknown", ev.lines("w-ws9"), []string{"error device no-such-device (ws9) is not enrolled with the hub: enroll its agent, or correct the device ID, then plan again"})
		wantLines(t, "revoked", ev.lines("w-ws4"), []string{fmt.Sprintf("error device %s (ws4) is revoked on the hub: enroll its agent again (it gets a new device ID), then plan again", ws4.id)})
		// Asked again: the same results, once each, from the hub's record.
		var again events
		if err := p.RunDevices(ctx, run, again.emit); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "ws1 again", again.lines("w-ws1"), []string{"queued existing", `result 0 echo ok "one"`, `result 1 noop ok ""`, "done succeeded"})

		// The fleet listing shows the job with each action's outcome.
		ds, err := p.ListDevices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var jobs []string
		for _, d := range ds {
			for _, j := range d.Jobs {
				line := d.Hostname + " " + j.Key + " " + j.State
				for _, a := range j.Actions {
					line += fmt.Sprintf(" %s:%s:%q", a.Name, a.Status, a.Output)
				}
				jobs = append(jobs, line)
			}
		}
		wantLines(t, "jobs listed", jobs, []string{`ws1 w-ws1 succeeded echo:ok:"one" noop:ok:""`, `ws2 w-ws2 succeeded echo:ok:"two"`})
	})

	t.Run("interrupted", func(t *testing.T) {
		gate := filepath.Join(t.TempDir(), "go-on")
		run := providers.DeviceRun{Jobs: []providers.DeviceJob{{DeviceID: ws1.id, Hostname: "ws1", Key: "int-ws1",
			Actions: []providers.DeviceAction{echo("first"), echo("second", "wait_for", gate)}}}}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var ev events
		jobID := ""
		err := p.RunDevices(cctx, run, func(e providers.DeviceEvent) error {
			jobID = e.JobID
			if e.Kind == providers.DeviceEventResult {
				cancel() // the apply is interrupted after the first result
			}
			return ev.emit(e)
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted RunDevices = %v, want context.Canceled", err)
		}
		wantLines(t, "before the interruption", ev.lines("int-ws1"), []string{"queued", `result 0 echo ok "first"`})
		// Asked again while the job still runs: the first result comes
		// from the hub's record of the job, the second from the changes
		// feed, each once.
		var again events
		sawFirst := make(chan struct{})
		var once sync.Once
		done := make(chan error, 1)
		go func() {
			done <- p.RunDevices(ctx, run, func(e providers.DeviceEvent) error {
				if e.Kind == providers.DeviceEventResult && e.Action == 0 {
					once.Do(func() { close(sawFirst) })
				}
				return again.emit(e)
			})
		}()
		select {
		case <-sawFirst:
		case err := <-done:
			t.Fatalf("RunDevices returned before the first result: %v", err)
		}
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		wantLines(t, "after", again.lines("int-ws1"), []string{"queued existing", `result 0 echo ok "first"`, `result 1 echo ok "second"`, "done succeeded"})
		if jobID == "" {
			t.Error("no job ID in the events")
		}
	})

	t.Run("pending", func(t *testing.T) {
		gate := filepath.Join(t.TempDir(), "go-on")
		run := providers.DeviceRun{Wait: time.Second, Jobs: []providers.DeviceJob{
			{DeviceID: ws2.id, Hostname: "ws2", Key: "hold-ws2", Actions: []providers.DeviceAction{echo("held", "wait_for", gate)}},
			// ws3's agent is not running: its job stays queued.
			{DeviceID: ws3.id, Hostname: "ws3", Key: "off-ws3", Actions: []providers.DeviceAction{echo("late")}},
		}}
		var ev events
		if err := p.RunDevices(ctx, run, ev.emit); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "held", ev.lines("hold-ws2"), []string{"queued", "pending"})
		wantLines(t, "offline", ev.lines("off-ws3"), []string{"queued", "pending"})
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		ws3.start(t)
		run.Wait = 0
		var again events
		if err := p.RunDevices(ctx, run, again.emit); err != nil {
			t.Fatal(err)
		}
		wantLines(t, "held, later", again.lines("hold-ws2"), []string{"queued existing", `result 0 echo ok "held"`, "done succeeded"})
		wantLines(t, "offline, later", again.lines("off-ws3"), []string{"queued existing", `result 0 echo ok "late"`, "done succeeded"})
	})

	t.Run("revokedWhileWaiting", func(t *testing.T) {
		// In this process, to look for revoked devices after 100 ms of
		// quiet rather than 30 s.
		local := New(nil)
		local.changesWait = 100 * time.Millisecond
		if diags, err := local.Configure(ctx, config(h.URL, h.Admin.AdminToken, caFile(t, h))); err != nil || len(diags) > 0 {
			t.Fatalf("Configure = %v, %v", diags, err)
		}
		ws5 := enroll(t, h, "ws5") // never started
		run := providers.DeviceRun{Jobs: []providers.DeviceJob{{DeviceID: ws5.id, Hostname: "ws5", Key: "rev-ws5", Actions: []providers.DeviceAction{echo("never")}}}}
		var ev events
		err := local.RunDevices(ctx, run, func(e providers.DeviceEvent) error {
			if e.Kind == providers.DeviceEventQueued {
				if err := h.Admin.RevokeDevice(ctx, ws5.id); err != nil {
					return err
				}
			}
			return ev.emit(e)
		})
		if err != nil {
			t.Fatal(err)
		}
		got := ev.lines("rev-ws5")
		if len(got) != 2 || got[0] != "queued" || !strings.HasPrefix(got[1], "error device "+ws5.id+" (ws5) was revoked on the hub while job") {
			t.Errorf("events %q", got)
		}
	})

	t.Run("sidMap", func(t *testing.T) {
		sidMap := bigSIDMap(100_000)
		run := providers.DeviceRun{Jobs: []providers.DeviceJob{{DeviceID: ws1.id, Hostname: "ws1", Key: "sidmap-ws1",
			Actions: []providers.DeviceAction{echo(sidMap, api.ParamSIDMap, sidMap)}}}}
		var ev events
		if err := p.RunDevices(ctx, run, ev.emit); err != nil {
			t.Fatal(err)
		}
		got := ev.lines("sidmap-ws1")
		if len(got) != 3 || got[2] != "done succeeded" {
			t.Fatalf("events %q", got)
		}
		// The agent's backend got the map intact: echo logs its message.
		log, err := os.ReadFile(filepath.Join(ws1.dev, "actions.log"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(log, []byte("echo "+strconv.Quote(sidMap)+"\n")) {
			t.Errorf("actions.log (%d bytes) lacks the %d-byte SID map", len(log), len(sidMap))
		}
		// The result's output is cut to what a report carries.
		for _, e := range ev.all {
			if e.Kind == providers.DeviceEventResult && (len(e.Output) > api.MaxOutputBytes || !strings.HasPrefix(sidMap, e.Output[:1000])) {
				t.Errorf("result output of %d bytes", len(e.Output))
			}
		}
	})
}

// bigSIDMap is an n-line SID map with long domain SIDs.
func bigSIDMap(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "S-1-5-21-1004336348-1177238915-682003330-%d=S-1-5-21-2147483647-1234567890-3987654321-%d\n", 1000+i, 5000+i)
	}
	return b.String()
}
