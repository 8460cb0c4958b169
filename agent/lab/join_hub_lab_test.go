package lab_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adshift/adshift/hub"
	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/hub/hubtest"
	"github.com/adshift/adshift/internal/labdevice"
)

// TestLabJoinThroughHub runs the join actions on a lab device through a
// real hub and an adshift-agent run process: a job of cache_credentials,
// offline_domain_join and cutover, then one of rollback.
func TestLabJoinThroughHub(t *testing.T) {
	opts, devs := makeDevices(t, "jlh", 1)
	dev := devs[0]
	h := hubtest.Start(t, hub.Options{})
	bin := filepath.Join(t.TempDir(), "adshift-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/adshift/adshift/cmd/adshift-agent").CombinedOutput(); err != nil {
		t.Fatalf("go build adshift-agent: %v\n%s", err, out)
	}
	tok := h.Token(t, 1)
	agent, err := labdevice.StartAgent(t.Context(), dev, labdevice.AgentOptions{Bin: bin, HubURL: h.URL, Token: tok.Secret, CAFingerprint: tok.CAFingerprint,
		DataDir: t.TempDir(), Args: []string{"-poll-wait", "2s", "-heartbeat", "1s"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agent.Stop)
	ds, err := h.Admin.Devices(t.Context())
	if err != nil || len(ds) != 1 {
		t.Fatalf("devices %+v, %v: want the one enrolled", ds, err)
	}
	id := ds[0].ID

	repo := t.TempDir()
	blob := filepath.Join(repo, dev.Name+".odj")
	if err := labdevice.ProvisionODJ(t.Context(), opts.Target, dev.Name, blob); err != nil {
		t.Fatal(err)
	}
	params := cutoverParams(opts, dev)
	cc := map[string]string{api.ParamUsers: usersParam(dev)}
	for k, v := range params {
		cc[k] = v
	}
	job, err := h.Admin.QueueJob(t.Context(), api.JobRequest{DeviceID: id, IdempotencyKey: "cutover-" + dev.Name, Actions: []api.Action{
		{Name: api.ActionCacheCredentials, Params: cc},
		{Name: api.ActionOfflineDomainJoin, Params: map[string]string{api.ParamBlob: blob, api.ParamTargetDomain: opts.Target.Name}},
		{Name: api.ActionCutover, Params: params},
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := h.WaitJob(t, job.ID)
	if done.State != api.JobSucceeded {
		t.Fatalf("cutover job %s: %s\n%s\nagent:\n%s", job.ID, done.State, results(done), agent.Output())
	}
	t.Logf("cutover job:\n%s", results(done))
	checkJoined(t, dev, opts.Target, opts.Source)

	// The inventory the agent sends names the domain it really is in.
	waitInventory(t, h, id, opts.Target.Name)

	job, err = h.Admin.QueueJob(t.Context(), api.JobRequest{DeviceID: id, IdempotencyKey: "rollback-" + dev.Name, Actions: []api.Action{
		{Name: api.ActionRollback, Params: map[string]string{api.ParamSourceAccount: params[api.ParamSourceAccount]}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if done = h.WaitJob(t, job.ID); done.State != api.JobSucceeded {
		t.Fatalf("rollback job %s: %s\n%s\nagent:\n%s", job.ID, done.State, results(done), agent.Output())
	}
	t.Logf("rollback job:\n%s", results(done))
	checkJoined(t, dev, opts.Source, opts.Target)
	checkLogs(t, dev)
	noSecret(t, dev.Dir, "the agent's log", agent.Output())
}

// waitInventory waits until the hub's inventory of the device names domain.
func waitInventory(t *testing.T, h *hubtest.Hub, id, domain string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		d, err := h.Admin.Device(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Inventory != nil && d.Inventory.Domain == domain {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("device %s: inventory %+v after 30s, want domain %s", id, d.Inventory, domain)
		case <-tick.C:
		}
	}
}

// results lists a job's result reports.
func results(j api.Job) string {
	var b strings.Builder
	for _, r := range j.Reports {
		if r.Kind == api.ReportResult {
			b.WriteString(string(r.Status) + " " + r.Output + "\n")
		}
	}
	return b.String()
}
