package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/store/sqlstore"
	"github.com/adshift/adshift/internal/pgtest"
)

// The hub and agent acceptance tests: adshift hub serve, the adshift hub
// admin commands and adshift-agent each run as real processes.

var agentBins sync.Map // test name → its adshift-agent binary

// agentBin builds cmd/adshift-agent once per test, into its temp
// directory (the go build cache makes each build after the first a link).
func agentBin(t *testing.T) string {
	t.Helper()
	if p, ok := agentBins.Load(t.Name()); ok {
		return p.(string)
	}
	path := filepath.Join(t.TempDir(), "adshift-agent")
	if out, err := exec.Command("go", "build", "-o", path, "../adshift-agent").CombinedOutput(); err != nil {
		t.Fatalf("go build adshift-agent: %v\n%s", err, out)
	}
	agentBins.Store(t.Name(), path)
	return path
}

// proc is a background process whose output is kept for failures.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	code int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s %s output:\n%s", filepath.Base(name), args[0], p.out)
		}
	})
	return p
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// eventually retries check every 20ms until it returns "" or 30s pass.
func eventually(t *testing.T, what string, check func() string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		msg := check()
		if msg == "" {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s: still %s after 30s", what, msg)
		case <-tick.C:
		}
	}
}

// hubRun is a hub process with its data directory.
type hubRun struct {
	bin, data, listen string
	p                 *proc
	admin             *api.Client
}

// hubBackend is where a hub process keeps its data: SQLite in its data
// directory (dsn empty), or a PostgreSQL database.
type hubBackend struct {
	name string
	dsn  string
}

// args are the hub serve flags for the backend.
func (b hubBackend) args() []string {
	if b.dsn == "" {
		return nil
	}
	return []string{"-postgres", b.dsn}
}

// open opens the backend's store from the test, beside the hub process.
func (b hubBackend) open(t *testing.T, data string) *sqlstore.Store {
	t.Helper()
	var st *sqlstore.Store
	var err error
	if b.dsn == "" {
		st, err = sqlstore.OpenSQLite(t.Context(), filepath.Join(data, "hub.db"))
	} else {
		st, err = sqlstore.OpenPostgres(t.Context(), b.dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// forEachBackend runs fn on SQLite and, when PostgreSQL can run here, on
// a fresh PostgreSQL database of a throwaway cluster.
func forEachBackend(t *testing.T, fn func(t *testing.T, b hubBackend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, hubBackend{name: "sqlite"}) })
	t.Run("postgres", func(t *testing.T) { fn(t, hubBackend{name: "postgres", dsn: pgDatabase(t)}) })
}

// pgDatabase starts a PostgreSQL cluster for the test and returns the
// DSN of a new database in it; it skips the test when PostgreSQL cannot
// run here.
func pgDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.StartT(t).DatabaseT(t)
}

// serveHub starts adshift hub serve on listen and waits until it answers.
func serveHub(t *testing.T, bin, data, listen string, args ...string) *hubRun {
	t.Helper()
	os.Remove(filepath.Join(data, hubURLFile))
	h := &hubRun{bin: bin, data: data}
	h.p = startProc(t, bin, nil, append([]string{"hub", "serve", "-data", data, "-listen", listen, "-lease", "2s", "-retry-backoff", "10ms"}, args...)...)
	eventually(t, "hub start", func() string {
		if _, err := os.Stat(filepath.Join(data, hubURLFile)); err != nil {
			return "no hub.url"
		}
		return ""
	})
	c, err := (&hubConn{dataDir: data}).client()
	if err != nil {
		t.Fatal(err)
	}
	h.admin = c
	h.listen = strings.TrimPrefix(c.BaseURL, "https://")
	t.Cleanup(c.HTTP.CloseIdleConnections)
	eventually(t, "hub health", func() string {
		if _, err := c.Health(t.Context()); err != nil {
			return err.Error()
		}
		return ""
	})
	return h
}

// cli runs an adshift hub admin command and returns its standard output.
func (h *hubRun) cli(t *testing.T, args ...string) string {
	t.Helper()
	r := runAdshift(t, h.bin, ".", nil, append([]string{"hub"}, append(args, "-data", h.data)...)...)
	if r.code != 0 {
		t.Fatalf("adshift hub %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fleetDevice is one agent's directories and process.
type fleetDevice struct {
	bin, data, dev, host string
	id                   string
	p                    *proc
}

// enrollAgent creates a token with the CLI and enrolls an agent process.
func enrollAgent(t *testing.T, h *hubRun, host string) *fleetDevice {
	t.Helper()
	var doc struct {
		Token api.TokenCreated `json:"token"`
	}
	if err := json.Unmarshal([]byte(h.cli(t, "token", "create", "-json", "-scope", "wave1")), &doc); err != nil {
		t.Fatal(err)
	}
	d := &fleetDevice{bin: agentBin(t), data: t.TempDir(), dev: t.TempDir(), host: host}
	inv := `{"os":"Windows 10 Pro","os_build":"19045","powershell":"5.1","dotnet_release":528040,"domain":"source.test"}`
	if err := os.WriteFile(filepath.Join(d.dev, "inventory.json"), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(d.bin, "enroll", "-hub", h.admin.BaseURL, "-token", doc.Token.Secret, "-ca-fingerprint", doc.Token.CAFingerprint,
		"-data-dir", d.data, "-hostname", host).CombinedOutput()
	if err != nil {
		t.Fatalf("adshift-agent enroll: %v\n%s", err, out)
	}
	dev, err := h.admin.Device(t.Context(), host)
	if err != nil {
		t.Fatal(err)
	}
	d.id = dev.ID
	return d
}

// run starts the agent process.
func (d *fleetDevice) run(t *testing.T) {
	t.Helper()
	d.p = startProc(t, d.bin, []string{"ADSHIFT_AGENT_RETRY_MAX=200ms"}, "run", "-data-dir", d.data, "-device-dir", d.dev, "-heartbeat", "200ms", "-poll-wait", "5s")
}

func (d *fleetDevice) actionsLog(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(d.dev, "actions.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func echoAction(msg string, params ...string) api.Action {
	a := api.Action{Name: "echo", Params: map[string]string{"message": msg}}
	for i := 0; i+1 < len(params); i += 2 {
		a.Params[params[i]] = params[i+1]
	}
	return a
}

func (h *hubRun) queue(t *testing.T, d *fleetDevice, key string, actions ...api.Action) api.Job {
	t.Helper()
	j, err := h.admin.QueueJob(t.Context(), api.JobRequest{DeviceID: d.id, IdempotencyKey: key, Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// results counts a job's results by action.
func (h *hubRun) results(t *testing.T, id string) (api.Job, map[int]int) {
	t.Helper()
	j, err := h.admin.Job(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := map[int]int{}
	for _, r := range j.Reports {
		if r.Kind == api.ReportResult {
			n[r.Action]++
		}
	}
	return j, n
}

// waitResult waits until the hub has a result for the job's action.
func waitResult(t *testing.T, h *hubRun, id string, action int) {
	t.Helper()
	eventually(t, fmt.Sprintf("result of action %d", action), func() string {
		if _, n := h.results(t, id); n[action] != 1 {
			return "missing"
		}
		return ""
	})
}

func waitJob(t *testing.T, h *hubRun, id string, want api.JobState) api.Job {
	t.Helper()
	var j api.Job
	eventually(t, "job "+id, func() string {
		j, _ = h.results(t, id)
		if j.State != want {
			return string(j.State)
		}
		return ""
	})
	return j
}

func TestHubE2E_enrollInventoryJob(t *testing.T) {
	forEachBackend(t, testEnrollInventoryJob)
}

func testEnrollInventoryJob(t *testing.T, b hubBackend) {
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0", b.args()...)
	d := enrollAgent(t, h, "ws001")
	d.run(t)
	eventually(t, "inventory", func() string {
		if !strings.Contains(h.cli(t, "device", "list"), "Windows 10 Pro") {
			return "not reported"
		}
		return ""
	})
	job := h.queue(t, d, "wave1-ws001", echoAction("hello", "steps", "3"), api.Action{Name: "noop"})
	got := waitJob(t, h, job.ID, api.JobSucceeded)
	if got.Attempt != 1 {
		t.Errorf("attempt %d, want 1", got.Attempt)
	}
	show := h.cli(t, "device", "show", "ws001")
	for _, want := range []string{"# device ws001", "os         = Windows 10 Pro 19045", "dotnet     = 4.8 (release 528040)", "1. echo               ok", `"hello"`, "2. noop               ok", "(succeeded, attempt 1"} {
		if !strings.Contains(show, want) {
			t.Errorf("device show lacks %q:\n%s", want, show)
		}
	}
	var doc struct {
		Device api.DeviceDetail `json:"device"`
	}
	if err := json.Unmarshal([]byte(h.cli(t, "device", "show", "-json", "ws001")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Device.Jobs) != 1 || len(doc.Device.Jobs[0].Reports) < 3 {
		t.Errorf("device show -json: %+v", doc.Device)
	}
	audit := h.cli(t, "audit", "-limit", "200")
	for _, want := range []string{"agent.enroll", "agent.inventory", "job.queue", "job.lease", "job.report"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %s:\n%s", want, audit)
		}
	}
	if log := d.actionsLog(t); log != "echo \"hello\"\nnoop \"\"\n" {
		t.Errorf("actions.log = %q", log)
	}
}

func TestHubE2E_hubKilledMidJob(t *testing.T) {
	forEachBackend(t, testHubKilledMidJob)
}

func testHubKilledMidJob(t *testing.T, b hubBackend) {
	bin := adshiftBin(t)
	data := t.TempDir()
	h := serveHub(t, bin, data, "127.0.0.1:0", b.args()...)
	d := enrollAgent(t, h, "ws001")
	d.run(t)
	gate := filepath.Join(t.TempDir(), "gate")
	job := h.queue(t, d, "k", echoAction("one"), echoAction("two", "wait_for", gate), echoAction("three"))
	waitResult(t, h, job.ID, 0)
	// The hub dies; the agent finishes the second action meanwhile and
	// keeps its result on disk.
	h.p.kill()
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "result kept by the agent", func() string {
		out, _ := exec.Command(d.bin, "status", "-data-dir", d.data).CombinedOutput()
		if !strings.Contains(string(out), "1 result(s) waiting") {
			return string(out)
		}
		return ""
	})
	h = serveHub(t, bin, data, h.listen, b.args()...)
	got := waitJob(t, h, job.ID, api.JobSucceeded)
	_, n := h.results(t, got.ID)
	if n[0] != 1 || n[1] != 1 || n[2] != 1 {
		t.Errorf("results per action %v; want one each", n)
	}
	if log := d.actionsLog(t); log != "echo \"one\"\necho \"two\"\necho \"three\"\n" {
		t.Errorf("actions.log = %q; want each action once", log)
	}
}

func TestHubE2E_agentKilledMidJob(t *testing.T) {
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0")
	d := enrollAgent(t, h, "ws001")
	d.run(t)
	gate := filepath.Join(t.TempDir(), "gate")
	job := h.queue(t, d, "k", echoAction("one"), echoAction("two", "wait_for", gate))
	waitResult(t, h, job.ID, 0)
	d.p.kill()
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	d.run(t)
	got := waitJob(t, h, job.ID, api.JobSucceeded)
	if got.Attempt != 2 {
		t.Errorf("attempt %d; want 2 (the lease of the killed agent expired)", got.Attempt)
	}
	if log := d.actionsLog(t); log != "echo \"one\"\necho \"two\"\n" {
		t.Errorf("actions.log = %q; want each action once", log)
	}
}

func TestHubE2E_revokedAgentStops(t *testing.T) {
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0")
	d := enrollAgent(t, h, "ws001")
	d.run(t)
	if out := h.cli(t, "device", "revoke", "ws001"); !strings.Contains(out, "revoked") {
		t.Errorf("revoke said %q", out)
	}
	select {
	case <-d.p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the revoked agent is still running")
	}
	if d.p.code != 3 || !strings.Contains(d.p.out.String(), "refuses this device") {
		t.Errorf("agent exit %d:\n%s", d.p.code, d.p.out)
	}
	// The same host name may enroll again once revoked.
	again := enrollAgent(t, h, "ws001")
	if again.id == d.id {
		t.Error("re-enrollment kept the revoked identity")
	}
	if !strings.Contains(h.cli(t, "audit"), "refused") {
		t.Error("the refusals are not in the audit log")
	}
}

// TestHubE2E_twoReplicas runs two hub processes on one PostgreSQL
// database: an agent long-polling replica A picks up, within a second, a
// job queued through replica B.
func TestHubE2E_twoReplicas(t *testing.T) {
	dsn := pgDatabase(t)
	bin := adshiftBin(t)
	dataA, dataB := t.TempDir(), t.TempDir()
	a := serveHub(t, bin, dataA, "127.0.0.1:0", "-postgres", dsn)
	// The replicas share the CA and the admin token.
	for _, f := range []string{"ca.pem", "ca.key", "admin.token"} {
		b, err := os.ReadFile(filepath.Join(dataA, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataB, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := serveHub(t, bin, dataB, "127.0.0.1:0", "-postgres", dsn)
	d := enrollAgent(t, a, "ws001")
	d.run(t)
	// Let the agent's first poll reach A before queuing through B.
	eventually(t, "agent polling", func() string {
		dev, err := b.admin.Device(t.Context(), "ws001")
		if err != nil || dev.LastSeen.IsZero() {
			return "not seen"
		}
		return ""
	})
	job := b.queue(t, d, "k", echoAction("queued on B"))
	got := waitJob(t, a, job.ID, api.JobSucceeded)
	if len(got.Reports) != 1 {
		t.Fatalf("reports %+v", got.Reports)
	}
	if lat := got.Reports[0].At.Sub(got.CreatedAt); lat > time.Second {
		t.Errorf("queued on B at %v, done through A %v later; want under a second", got.CreatedAt, lat)
	}
}

// TestHubE2E_simulator runs five agents in one adshift-agent simulate
// process, each with its own identity, and a job on each.
func TestHubE2E_simulator(t *testing.T) {
	bin := adshiftBin(t)
	h := serveHub(t, bin, t.TempDir(), "127.0.0.1:0")
	var doc struct{ Token api.TokenCreated }
	decodeJSON(t, h.cli(t, "token", "create", "-json", "-uses", "5"), &doc)
	sim := startProc(t, agentBin(t), []string{"ADSHIFT_AGENT_RETRY_MAX=200ms"}, "simulate", "-n", "5", "-hub", h.admin.BaseURL, "-token", doc.Token.Secret,
		"-ca-fingerprint", doc.Token.CAFingerprint, "-data-dir", t.TempDir(), "-heartbeat", "200ms", "-poll-wait", "5s")
	var devices []api.Device
	eventually(t, "five simulated devices", func() string {
		var err error
		if devices, err = h.admin.Devices(t.Context()); err != nil || len(devices) < 5 {
			return fmt.Sprint(len(devices), " devices ", err)
		}
		return ""
	})
	serials := map[string]bool{}
	var jobs []api.Job
	for _, d := range devices {
		serials[d.CertSerial] = true
		j, err := h.admin.QueueJob(t.Context(), api.JobRequest{DeviceID: d.ID, IdempotencyKey: "k", Actions: []api.Action{echoAction(d.Hostname)}})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	if len(serials) != 5 {
		t.Errorf("%d distinct certificates for 5 agents", len(serials))
	}
	for _, j := range jobs {
		waitJob(t, h, j.ID, api.JobSucceeded)
	}
	if !strings.Contains(sim.out.String(), "5 agents ready (5 enrolled now") {
		t.Errorf("simulate said:\n%s", sim.out)
	}
}
