package ui

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"

	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
	"github.com/adshift/adshift/state"
)

// waveRun is a wave of four devices as apply reports it: WS-1 succeeds
// after a hundred progress events, WS-2's reacl fails, WS-3's job was
// queued before and stays pending, WS-4's job cannot be queued.
type waveRun struct {
	c    *plans.Cutover
	devs []*plans.Device
	res  planner.WaveResult
}

func sampleWave() *waveRun {
	c := &plans.Cutover{Name: "w1", Workflow: "dev", Hub: "main", BatchSize: 2, MaxFailures: 5, Actions: []string{"reacl", "cutover"}}
	w := &waveRun{c: c, res: planner.WaveResult{Succeeded: 1, Failed: 2, Pending: 1}}
	for _, n := range []string{"WS-1", "WS-2", "WS-3", "WS-4"} {
		w.devs = append(w.devs, &plans.Device{Address: `device_cutover.w1["` + n + `"]`, Cutover: "w1", Name: n, Status: plans.DeviceReady,
			Actions: []string{"reacl", "cutover"}, Job: []plans.DeviceAction{{Name: "reacl"}, {Name: "cutover"}}})
	}
	return w
}

func (w *waveRun) play(h planner.DeviceHooks) {
	at := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	ev := func(d int, e providers.DeviceEvent) {
		e.Key = "key-" + w.devs[d].Name
		if e.JobID == "" && e.Kind != providers.DeviceEventError {
			e.JobID = "job-" + w.devs[d].Name
		}
		h.DeviceEvent(w.devs[d], e)
	}
	h.WaveStarting(w.c, len(w.devs))
	ev(0, providers.DeviceEvent{Kind: providers.DeviceEventQueued})
	ev(1, providers.DeviceEvent{Kind: providers.DeviceEventQueued})
	for i := int64(1); i <= 100; i++ {
		ev(0, providers.DeviceEvent{Kind: providers.DeviceEventProgress, Action: 0, ActionName: "reacl", Done: i, Total: 100})
	}
	ev(0, providers.DeviceEvent{Kind: providers.DeviceEventResult, Action: 0, ActionName: "reacl", Status: "ok", Output: "1200 files", At: at})
	ev(0, providers.DeviceEvent{Kind: providers.DeviceEventResult, Action: 1, ActionName: "cutover", Status: "ok", Output: "joined TARGET", At: at})
	ev(0, providers.DeviceEvent{Kind: providers.DeviceEventDone, JobState: "succeeded"})
	ev(1, providers.DeviceEvent{Kind: providers.DeviceEventResult, Action: 0, ActionName: "reacl", Status: "failed", Output: "C:\\Data: access denied\nsecond line", At: at})
	ev(1, providers.DeviceEvent{Kind: providers.DeviceEventDone, JobState: "failed"})
	ev(2, providers.DeviceEvent{Kind: providers.DeviceEventQueued, Output: "existing"})
	ev(2, providers.DeviceEvent{Kind: providers.DeviceEventPending})
	ev(3, providers.DeviceEvent{Kind: providers.DeviceEventError, Output: "device WS-4 is revoked on the hub"})
	h.WaveDone(w.c, w.res)
}

func TestProgress_devices(t *testing.T) {
	var out bytes.Buffer
	w := sampleWave()
	w.play(Progress{V: &View{Out: &out, Err: &out}})
	want := `device_cutover.w1: Starting 4 devices through hub.main (batches of 2, max_failures 5)
device_cutover.w1["WS-1"]: Queued job job-WS-1
device_cutover.w1["WS-2"]: Queued job job-WS-2
device_cutover.w1["WS-1"]: reacl done (1/2)
device_cutover.w1["WS-1"]: cutover done (2/2)
device_cutover.w1["WS-1"]: Job job-WS-1 succeeded
device_cutover.w1["WS-2"]: reacl failed (1/2): C:\Data: access denied / second line
device_cutover.w1["WS-2"]: Job job-WS-2 failed
device_cutover.w1["WS-3"]: Watching job job-WS-3 (queued before)
device_cutover.w1["WS-3"]: Pending: job job-WS-3 stays queued on the hub until the device runs it
device_cutover.w1["WS-4"]: Job not run: device WS-4 is revoked on the hub
device_cutover.w1: 1 succeeded, 2 failed, 1 pending, 0 not started
`
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestJSONHooks_devices(t *testing.T) {
	var out bytes.Buffer
	j := NewJSON(&out)
	j.now = func() time.Time { return time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC) }
	w := sampleWave()
	w.play(JSONHooks{J: j})
	lines := validateLines(t, out.Bytes())
	types := map[string]int{}
	for _, m := range lines {
		types[m["type"].(string)]++
	}
	// A hundred progress events make one line per tenth: 0, 1, …, 10.
	want := map[string]int{"wave_start": 1, "device_queued": 3, "device_progress": 11, "device_action": 3, "device_done": 4, "wave_done": 1}
	for typ, n := range want {
		if types[typ] != n {
			t.Errorf("%d %s lines, want %d", types[typ], typ, n)
		}
	}
	find := func(typ, addr string) map[string]any {
		for _, m := range lines {
			if m["type"] == typ && (addr == "" || m["address"] == addr) && (typ != "device_action" || m["status"] == "failed") {
				return m
			}
		}
		t.Fatalf("no %s line for %q", typ, addr)
		return nil
	}
	if m := find("device_action", `device_cutover.w1["WS-2"]`); m["@level"] != "error" || m["action"] != "reacl" || m["output"] != "C:\\Data: access denied\nsecond line" || m["at"] != "2026-12-07T02:00:00Z" {
		t.Errorf("WS-2's failed action: %v", m)
	}
	if m := find("device_done", `device_cutover.w1["WS-3"]`); m["status"] != "pending" || m["@level"] != "warn" {
		t.Errorf("WS-3: %v", m)
	}
	if m := find("device_done", `device_cutover.w1["WS-4"]`); m["status"] != "failed" || m["reason"] != "device WS-4 is revoked on the hub" || m["job_id"] != nil {
		t.Errorf("WS-4: %v", m)
	}
	if m := find("device_queued", `device_cutover.w1["WS-3"]`); m["existing"] != true {
		t.Errorf("WS-3 queued: %v", m)
	}
	if m := find("wave_done", ""); m["failed"] != 2.0 || m["pending"] != 1.0 || m["stopped"] != false || m["@level"] != "error" {
		t.Errorf("wave_done: %v", m)
	}
	if len(j.steps) != 0 {
		t.Errorf("progress steps of finished jobs are kept: %v", j.steps)
	}
}

func TestBars_devices(t *testing.T) {
	var out bytes.Buffer
	v := &View{Out: &out, Err: &out}
	refresh := make(chan any)
	b := NewBars(v, &out, &plans.Plan{}, mpb.WithManualRefresh(refresh))
	w := sampleWave()
	w.play(b)
	b.Close()
	s := out.String()
	for _, want := range []string{
		`device_cutover.w1["WS-2"]: reacl failed (1/2): C:\Data: access denied / second line`,
		`device_cutover.w1["WS-4"]: Job not run: device WS-4 is revoked on the hub`,
		"device_cutover.w1: 1 succeeded, 2 failed, 1 pending, 0 not started",
		"device_cutover.w1 3/4",
		"· 2 failed · 1 pending · ended",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the bars lack %q:\n%s", want, s)
		}
	}
	for _, unwanted := range []string{`["WS-1"]`, `["WS-3"]`, "Job job-WS-2 failed"} {
		if strings.Contains(s, unwanted) {
			t.Errorf("the bars print %q, a line not worth it on a terminal:\n%s", unwanted, s)
		}
	}
}

// TestBars_waveStopped: a wave stopped by max_failures says so, with the
// devices it did not start.
func TestBars_waveStopped(t *testing.T) {
	var out bytes.Buffer
	b := NewBars(&View{Out: &out, Err: &out}, &out, &plans.Plan{}, mpb.WithManualRefresh(make(chan any)))
	c := &plans.Cutover{Name: "w2", Hub: "main", BatchSize: 1, MaxFailures: 0}
	d := &plans.Device{Address: `device_cutover.w2["A"]`, Cutover: "w2", Name: "A"}
	b.WaveStarting(c, 3)
	b.DeviceEvent(d, providers.DeviceEvent{Kind: providers.DeviceEventDone, JobID: "j", JobState: "failed"})
	b.WaveDone(c, planner.WaveResult{Failed: 1, NotStarted: 2, Stopped: true})
	b.Close()
	s := out.String()
	for _, want := range []string{
		`device_cutover.w2["A"]: Job j failed`,
		"device_cutover.w2: 0 succeeded, 1 failed, 0 pending, 2 not started; stopped: more than 0 failed (max_failures)",
		"1/3",
		"stopped (max_failures 0), 2 not started",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the bars lack %q:\n%s", want, s)
		}
	}
}

func TestOutputLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"  one\r\n\n two  ":      "one / two",
		strings.Repeat("é", 150): strings.Repeat("é", 100) + "…",
	} {
		if got := outputLine(in, outputWidth); got != want {
			t.Errorf("outputLine(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBars_drawing: the bars drawing on their own while events arrive
// (run with -race) end as the events say.
func TestBars_drawing(t *testing.T) {
	// Only the bars' goroutine writes to out, and Close waits for it.
	var out bytes.Buffer
	b := NewBars(&View{Out: &out, Err: &out}, &out, &plans.Plan{}, mpb.WithAutoRefresh(), mpb.WithRefreshRate(time.Millisecond))
	for range 20 {
		sampleWave().play(b)
	}
	b.Close()
	if s := out.String(); !strings.Contains(s, "3/4") || !strings.Contains(s, "· 2 failed · 1 pending · ended") {
		t.Errorf("the bars end as:\n%s", s)
	}
}

// FuzzDeviceOutput: whatever an agent reports, a log line and a review
// line stay one line, within bounds, valid UTF-8 when the output was,
// and nothing panics.
func FuzzDeviceOutput(f *testing.F) {
	for _, s := range []string{"", "job j #0", "job j #1: access denied\nline 2", "é\r\n\x00", strings.Repeat("ü", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		line := outputLine(s, outputWidth)
		if strings.ContainsAny(line, "\n") || len(line) > outputWidth+len("…") {
			t.Fatalf("outputLine(%q) = %q", s, line)
		}
		if utf8.ValidString(s) && !utf8.ValidString(line) {
			t.Fatalf("outputLine(%q) = %q is not valid UTF-8", s, line)
		}
		a := state.DeviceAction{Name: "reacl", Status: state.ActionFailed, Detail: s}
		for _, w := range []int{-1, 0, 40} {
			if r := resultText(a, w); strings.Contains(r, "\n") {
				t.Fatalf("resultText(%q, %d) = %q", s, w, r)
			}
		}
	})
}
