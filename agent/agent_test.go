package agent_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/adshift/adshift/agent"
	"github.com/adshift/adshift/agent/lab"
	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/hubtest"
)

// device is one enrolled agent's directories.
type device struct {
	s   agent.Settings
	id  *agent.Identity
	dir string // the lab device directory
}

func enroll(t *testing.T, h *hubtest.Hub, host string) device {
	t.Helper()
	s := agent.Settings{HubURL: h.URL, Token: h.Token(t, 1).Secret, CAFingerprint: h.Fingerprint, DataDir: t.TempDir(), Hostname: host,
		PollWait: 2 * time.Second, Heartbeat: 100 * time.Millisecond}
	id, err := agent.Enroll(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	dev := device{s: s, id: id, dir: t.TempDir()}
	inv := `{"os":"Windows 10 Pro","os_version":"10.0","os_build":"19045","powershell":"5.1","dotnet_release":528040,"domain":"source.test"}`
	if err := os.WriteFile(filepath.Join(dev.dir, lab.InventoryFile), []byte(inv), 0o644); err != nil {
		t.Fatal(err)
	}
	return dev
}

// start runs an agent for dev until the returned stop is called; opts
// may change its options.
func start(t *testing.T, dev device, opts ...func(*agent.Options)) (stop func()) {
	t.Helper()
	o := agent.Options{Settings: dev.s, Identity: dev.id, Backend: lab.New(dev.dir), Logger: hclog.NewNullLogger(),
		Backoff: agent.Backoff{Base: 10 * time.Millisecond, Max: 200 * time.Millisecond}}
	for _, f := range opts {
		f(&o)
	}
	a, err := agent.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
		a.Close()
	}
	t.Cleanup(stop)
	return stop
}

func queue(t *testing.T, h *hubtest.Hub, dev device, key string, actions ...api.Action) api.Job {
	t.Helper()
	j, err := h.Admin.QueueJob(t.Context(), api.JobRequest{DeviceID: dev.id.DeviceID, IdempotencyKey: key, Actions: actions})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func echo(msg string, params ...string) api.Action {
	a := api.Action{Name: "echo", Params: map[string]string{"message": msg}}
	for i := 0; i+1 < len(params); i += 2 {
		a.Params[params[i]] = params[i+1]
	}
	return a
}

func actionsLog(t *testing.T, dev device) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dev.dir, lab.ActionsLog))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestAgent_runsAJob(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	start(t, dev)
	job := queue(t, h, dev, "k1", echo("hello", "steps", "3"), api.Action{Name: "noop"})
	got := h.WaitJob(t, job.ID)
	if got.State != api.JobSucceeded {
		t.Fatalf("job %s: %+v", got.State, got.Reports)
	}
	var results, progress []string
	for _, r := range got.Reports {
		if r.Kind == api.ReportResult {
			results = append(results, r.Output)
		} else {
			progress = append(progress, r.ID)
		}
	}
	if strings.Join(results, ",") != "hello," || len(progress) == 0 {
		t.Errorf("results %q, %d progress reports; want hello then empty, and progress", results, len(progress))
	}
	if log := actionsLog(t, dev); log != "echo \"hello\"\nnoop \"\"\n" {
		t.Errorf("actions.log = %q", log)
	}
	d, err := h.Admin.Device(t.Context(), "ws001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Inventory == nil || d.Inventory.OS != "Windows 10 Pro" || d.Inventory.DotNetRelease != 528040 || d.Inventory.FreeDiskBytes == 0 {
		t.Errorf("inventory = %+v", d.Inventory)
	}
}

func TestAgent_failedActionEndsTheJob(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	start(t, dev)
	job := queue(t, h, dev, "k1", api.Action{Name: "reboot_now"}, echo("never"))
	got := h.WaitJob(t, job.ID)
	if got.State != api.JobFailed || len(got.Reports) != 1 || !strings.Contains(got.Reports[0].Output, "not implemented") {
		t.Errorf("job = %s %+v; want failed at the first action", got.State, got.Reports)
	}
	if log := actionsLog(t, dev); log != "" {
		t.Errorf("actions ran after a failure: %q", log)
	}
}

func TestAgent_restartDoesNotRerunAFinishedAction(t *testing.T) {
	h := hubtest.Start(t, hub.Options{LeaseDuration: 500 * time.Millisecond, Recheck: 100 * time.Millisecond})
	dev := enroll(t, h, "ws001")
	gate := filepath.Join(t.TempDir(), "go-on")
	stop := start(t, dev)
	job := queue(t, h, dev, "k1", echo("one"), echo("two", "wait_for", gate))
	// Wait until the first action's result is at the hub, then stop the
	// agent while it waits in the second.
	deadline := time.After(20 * time.Second)
	for tick := time.Tick(20 * time.Millisecond); ; {
		j, err := h.Admin.Job(t.Context(), job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(j.Reports) > 0 {
			break
		}
		select {
		case <-tick:
		case <-deadline:
			t.Fatal("no result for the first action")
		}
	}
	stop()
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, dev)
	got := h.WaitJob(t, job.ID)
	if got.State != api.JobSucceeded || got.Attempt != 2 {
		t.Errorf("job %s after %d attempts; want succeeded on the second", got.State, got.Attempt)
	}
	if log := actionsLog(t, dev); log != "echo \"one\"\necho \"two\"\n" {
		t.Errorf("actions.log = %q; want each action once", log)
	}
}

func TestEnroll_refusals(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	again := dev.s
	again.Token = h.Token(t, 1).Secret
	if _, err := agent.Enroll(t.Context(), again); err == nil || !strings.Contains(err.Error(), "enrolled already") {
		t.Errorf("second enrollment from one data directory: %v", err)
	}
	other := again
	other.DataDir = t.TempDir()
	other.CAFingerprint = "sha256:" + strings.Repeat("ab", 32)
	if _, err := agent.Enroll(t.Context(), other); err == nil || !strings.Contains(err.Error(), "pinned") {
		t.Errorf("enrollment with a wrong pin: %v", err)
	}
	other.CAFingerprint = h.Fingerprint
	if _, err := agent.Enroll(t.Context(), other); !api.HasCode(err, api.CodeConflict) {
		t.Errorf("same host name again: %v; want a conflict", err)
	}
}

func TestAgent_speaksHTTP2(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	c, err := dev.id.Client(dev.s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.HTTP.CloseIdleConnections()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.BaseURL+api.PathHealth, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// One connection carries the long poll, heartbeats and reports.
	if resp.ProtoMajor != 2 {
		t.Errorf("protocol %s, want HTTP/2", resp.Proto)
	}
}

func TestIdentity_ping(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	if waiting, err := dev.id.Ping(t.Context(), h.UDPAddr); err != nil || waiting {
		t.Fatalf("ping with no job = %v, %v", waiting, err)
	}
	queue(t, h, dev, "k", echo("hello"))
	if waiting, err := dev.id.Ping(t.Context(), h.UDPAddr); err != nil || !waiting {
		t.Fatalf("ping with a job queued = %v, %v", waiting, err)
	}
}

func TestAgent_renewsItsCertificate(t *testing.T) {
	h := hubtest.Start(t, hub.Options{})
	dev := enroll(t, h, "ws001")
	old, err := dev.id.Client(dev.s)
	if err != nil {
		t.Fatal(err)
	}
	defer old.HTTP.CloseIdleConnections()
	before, err := h.Admin.Device(t.Context(), "ws001")
	if err != nil {
		t.Fatal(err)
	}
	// Renewal is due at once: the certificate ends within ten years.
	start(t, dev, func(o *agent.Options) { o.RenewBefore = 10 * 365 * 24 * time.Hour })
	job := queue(t, h, dev, "k1", echo("after renewal"))
	if got := h.WaitJob(t, job.ID); got.State != api.JobSucceeded {
		t.Fatalf("job %s", got.State)
	}
	var after api.DeviceDetail
	deadline := time.After(20 * time.Second)
	for tick := time.Tick(20 * time.Millisecond); ; {
		if after, err = h.Admin.Device(t.Context(), "ws001"); err != nil {
			t.Fatal(err)
		}
		if after.CertSerial != before.CertSerial && after.NextSerial == "" {
			break
		}
		select {
		case <-tick:
		case <-deadline:
			t.Fatalf("certificate not renewed: %s → %s (next %q)", before.CertSerial, after.CertSerial, after.NextSerial)
		}
	}
	if _, err := old.Poll(t.Context(), 0); !api.HasCode(err, api.CodeForbidden) {
		t.Errorf("the replaced certificate: %v; want refused", err)
	}
	// The renewed certificate and its key were stored together.
	reloaded, err := agent.LoadIdentity(dev.s.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := reloaded.Client(dev.s)
	if err != nil {
		t.Fatal(err)
	}
	defer c.HTTP.CloseIdleConnections()
	if _, err := c.Poll(t.Context(), 0); err != nil {
		t.Errorf("the stored identity after renewal: %v", err)
	}
}
