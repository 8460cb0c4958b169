package planner

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// waveLog records the device-wave events of an apply, as the views
// receive them.
type waveLog struct {
	NoHooks
	mu      sync.Mutex
	started map[string]int
	done    map[string]WaveResult
	events  map[string][]string // device address → event kinds
}

var _ DeviceHooks = (*waveLog)(nil)

func (l *waveLog) WaveStarting(c *plans.Cutover, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.started[c.Name] = n
}

func (l *waveLog) DeviceEvent(d *plans.Device, ev providers.DeviceEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	kind := string(ev.Kind)
	if ev.Kind == providers.DeviceEventResult {
		kind += ":" + ev.ActionName + "=" + ev.Status
	}
	l.events[d.Address] = append(l.events[d.Address], kind)
}

func (l *waveLog) WaveDone(c *plans.Cutover, r WaveResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done[c.Name] = r
}

// TestApply_deviceHooks pins what the views of apply rely on: a wave's
// WaveStarting counts the devices it runs, each device run gets one
// queued event, its results in order and exactly one final event (done,
// pending or error), and WaveDone's counts agree with those final events.
func TestApply_deviceHooks(t *testing.T) {
	src, tgt := hubLab(5)
	hub := newFakeHub(goodAgents(5)...)
	hub.fail["WS03"] = "reacl"
	hub.offline["WS04"] = true
	b, st := localState(t)
	p, opts := hubPlan(t, src, tgt, hub, st)
	log := &waveLog{started: map[string]int{}, done: map[string]WaveResult{}, events: map[string][]string{}}
	txn, err := b.Begin(t.Context(), st)
	if err != nil {
		t.Fatal(err)
	}
	Apply(context.Background(), ApplyOptions{Plan: p, Config: opts.Config, Scope: opts.Scope, Txn: txn, Launcher: opts.Launcher, Wait: time.Second, Now: planNow, Hooks: log})
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if log.started["w1"] != 5 {
		t.Errorf("WaveStarting with %d devices, want 5", log.started["w1"])
	}
	ok := []string{"queued", "result:cache_credentials=ok", "result:reacl=ok", "result:cutover=ok", "done"}
	want := map[string][]string{
		`device_cutover.w1["WS01"]`: ok,
		`device_cutover.w1["WS02"]`: ok,
		`device_cutover.w1["WS03"]`: {"queued", "result:cache_credentials=ok", "result:reacl=failed", "done"},
		`device_cutover.w1["WS04"]`: {"queued", "pending"},
	}
	if diff := cmp.Diff(want, log.events); diff != "" {
		t.Errorf("device events (-want +got):\n%s", diff)
	}
	// max_failures 0: the failure in the second batch stops the wave
	// before WS05.
	final := WaveResult{NotStarted: 1, Stopped: true}
	for addr, evs := range log.events {
		last := evs[len(evs)-1]
		switch {
		case last == "pending":
			final.Pending++
		case strings.Contains(strings.Join(evs, " "), "=failed"):
			final.Failed++
		case last == "done":
			final.Succeeded++
		default:
			t.Errorf("%s ends with %q, not a final event", addr, last)
		}
	}
	if diff := cmp.Diff(final, log.done["w1"]); diff != "" {
		t.Errorf("WaveDone (-events +reported):\n%s", diff)
	}
}
