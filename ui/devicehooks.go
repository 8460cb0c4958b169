package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// The device-wave events of apply (planner.DeviceHooks), for each of the
// three renderings: plain lines (Progress) for logs, JSON lines
// (JSONHooks) for pipelines, and bars (Bars, in bars.go) for terminals.

var (
	_ planner.DeviceHooks = Progress{}
	_ planner.DeviceHooks = JSONHooks{}
)

// outputLine makes an agent's output fit one line of a log: its lines
// joined with " / ", cut at n bytes (on a rune boundary) with an ellipsis.
func outputLine(s string, n int) string {
	var parts []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	s = strings.Join(parts, " / ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// outputWidth is how much of an agent's output one line carries; state
// keeps 300 bytes of it and the job on the hub all of it.
const outputWidth = 200

// waveStartLine is the line that opens a wave.
func waveStartLine(c *plans.Cutover, devices int) string {
	return fmt.Sprintf("device_cutover.%s: Starting %d devices through hub.%s (batches of %d, max_failures %d)", c.Name, devices, c.Hub, max(c.BatchSize, 1), c.MaxFailures)
}

// waveDoneLine is the line that closes a wave.
func waveDoneLine(c *plans.Cutover, r planner.WaveResult) string {
	line := fmt.Sprintf("device_cutover.%s: %d succeeded, %d failed, %d pending, %d not started", c.Name, r.Succeeded, r.Failed, r.Pending, r.NotStarted)
	switch {
	case r.Stopped && r.Failed > c.MaxFailures:
		line += fmt.Sprintf("; stopped: more than %d failed (max_failures)", c.MaxFailures)
	case r.Stopped:
		line += "; stopped: apply was interrupted"
	}
	return line
}

// actionOrdinal is " (2/3)": the action's place in the device's job.
func actionOrdinal(d *plans.Device, ev providers.DeviceEvent) string {
	if len(d.Job) == 0 || ev.Action < 0 || ev.Action >= len(d.Job) {
		return ""
	}
	return fmt.Sprintf(" (%d/%d)", ev.Action+1, len(d.Job))
}

// deviceLine is the plain line of one device event, or "" for events not
// worth a line (progress).
func deviceLine(d *plans.Device, ev providers.DeviceEvent) string {
	switch ev.Kind {
	case providers.DeviceEventQueued:
		if strings.Contains(ev.Output, "existing") {
			return fmt.Sprintf("%s: Watching job %s (queued before)", d.Address, ev.JobID)
		}
		return fmt.Sprintf("%s: Queued job %s", d.Address, ev.JobID)
	case providers.DeviceEventResult:
		if ev.Status == string(api.StatusOK) {
			return fmt.Sprintf("%s: %s done%s", d.Address, ev.ActionName, actionOrdinal(d, ev))
		}
		line := fmt.Sprintf("%s: %s failed%s", d.Address, ev.ActionName, actionOrdinal(d, ev))
		if out := outputLine(ev.Output, outputWidth); out != "" {
			line += ": " + out
		}
		return line
	case providers.DeviceEventDone:
		if ev.JobState == string(api.JobSucceeded) {
			return fmt.Sprintf("%s: Job %s succeeded", d.Address, ev.JobID)
		}
		return fmt.Sprintf("%s: Job %s %s", d.Address, ev.JobID, orWord(ev.JobState, "failed"))
	case providers.DeviceEventPending:
		return fmt.Sprintf("%s: Pending: job %s stays queued on the hub until the device runs it", d.Address, ev.JobID)
	case providers.DeviceEventError:
		return fmt.Sprintf("%s: Job not run: %s", d.Address, outputLine(ev.Output, outputWidth))
	}
	return ""
}

func orWord(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

func (h Progress) WaveStarting(c *plans.Cutover, devices int) {
	h.line("%s", waveStartLine(c, devices))
}
func (h Progress) DeviceEvent(d *plans.Device, ev providers.DeviceEvent) {
	if line := deviceLine(d, ev); line != "" {
		h.line("%s", line)
	}
}
func (h Progress) WaveDone(c *plans.Cutover, r planner.WaveResult) { h.line("%s", waveDoneLine(c, r)) }

// progressSteps is how many device_progress lines one action may get:
// one each time it passes another tenth of its total.
const progressSteps = 10

// progressStep returns the step an action's progress is at, and whether
// a device_progress line is due (the step moved on since the last line).
// The JSON view keeps the last step per job and action.
func (j *JSON) progressStep(key string, done, total int64) bool {
	step := int64(0)
	if total > 0 {
		step = min(done, total) * progressSteps / total
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.steps == nil {
		j.steps = map[string]int64{}
	}
	last, seen := j.steps[key]
	if seen && step <= last {
		return false
	}
	j.steps[key] = step
	return true
}

// forgetSteps drops a finished job's progress steps.
func (j *JSON) forgetSteps(jobKey string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k := range j.steps {
		if strings.HasPrefix(k, jobKey+"\x00") {
			delete(j.steps, k)
		}
	}
}

func (h JSONHooks) WaveStarting(c *plans.Cutover, devices int) {
	h.J.emit("info", "wave_start", waveStartLine(c, devices), map[string]any{
		"wave": c.Name, "hub": c.Hub, "devices": devices, "batch_size": max(c.BatchSize, 1), "max_failures": c.MaxFailures,
	})
}

func (h JSONHooks) DeviceEvent(d *plans.Device, ev providers.DeviceEvent) {
	f := map[string]any{"address": d.Address, "wave": d.Cutover}
	if ev.JobID != "" {
		f["job_id"] = ev.JobID
	}
	msg := deviceLine(d, ev)
	switch ev.Kind {
	case providers.DeviceEventQueued:
		f["existing"] = strings.Contains(ev.Output, "existing")
		h.J.emit("info", "device_queued", msg, f)
	case providers.DeviceEventProgress:
		if !h.J.progressStep(ev.Key+"\x00"+fmt.Sprint(ev.Action), ev.Done, ev.Total) {
			return
		}
		f["action"], f["action_index"], f["done"], f["total"] = ev.ActionName, ev.Action, ev.Done, ev.Total
		msg = fmt.Sprintf("%s: %s %d of %d%s", d.Address, ev.ActionName, ev.Done, ev.Total, actionOrdinal(d, ev))
		h.J.emit("info", "device_progress", msg, f)
	case providers.DeviceEventResult:
		f["action"], f["action_index"], f["status"], f["output"] = ev.ActionName, ev.Action, ev.Status, ev.Output
		if !ev.At.IsZero() {
			f["at"] = ev.At.UTC().Format(time.RFC3339Nano)
		}
		level := "info"
		if ev.Status != string(api.StatusOK) {
			f["status"], level = "failed", "error"
		}
		h.J.emit(level, "device_action", msg, f)
	case providers.DeviceEventDone:
		h.J.forgetSteps(ev.Key)
		if ev.JobState == string(api.JobSucceeded) {
			f["status"] = "succeeded"
			h.J.emit("info", "device_done", msg, f)
			return
		}
		f["status"] = "failed"
		h.J.emit("error", "device_done", msg, f)
	case providers.DeviceEventPending:
		h.J.forgetSteps(ev.Key)
		f["status"] = "pending"
		h.J.emit("warn", "device_done", msg, f)
	case providers.DeviceEventError:
		h.J.forgetSteps(ev.Key)
		f["status"], f["reason"] = "failed", strings.TrimSpace(ev.Output)
		h.J.emit("error", "device_done", msg, f)
	}
}

func (h JSONHooks) WaveDone(c *plans.Cutover, r planner.WaveResult) {
	level := "info"
	switch {
	case r.Failed > 0:
		level = "error"
	case r.Pending > 0 || r.Stopped:
		level = "warn"
	}
	h.J.emit(level, "wave_done", waveDoneLine(c, r), map[string]any{
		"wave": c.Name, "succeeded": r.Succeeded, "failed": r.Failed, "pending": r.Pending, "not_started": r.NotStarted, "stopped": r.Stopped,
	})
}
