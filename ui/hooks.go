package ui

import (
	"fmt"
	"time"

	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
)

var progressWords = map[plans.Action][2]string{
	plans.Create: {"Creating...", "Creation complete"},
	plans.Update: {"Modifying...", "Modifications complete"},
	plans.Move:   {"Moving...", "Move complete"},
	plans.Delete: {"Destroying...", "Destruction complete"},
}

// Progress renders planner events for people.
type Progress struct{ V *View }

var _ planner.Hooks = Progress{}

func (h Progress) line(format string, a ...any) {
	h.V.mu.Lock()
	defer h.V.mu.Unlock()
	fmt.Fprintf(h.V.Out, format+"\n", a...)
}

func (h Progress) Refreshing(env string) { h.line("environment.%s: Reading...", env) }
func (h Progress) Refreshed(env string, n int, took time.Duration) {
	h.line("environment.%s: Read %d objects in %s", env, n, took.Round(time.Millisecond))
}
func (h Progress) Applying(c *plans.Change) { h.line("%s: %s", c.Address, progressWords[c.Action][0]) }
func (h Progress) Applied(c *plans.Change, err error, took time.Duration) {
	if err != nil {
		h.line("%s: %s", c.Address, h.V.palette().del("failed"))
		return
	}
	h.line("%s: %s after %s", c.Address, progressWords[c.Action][1], took.Round(time.Millisecond))
}
func (h Progress) Skipped(c *plans.Change, because *plans.Change) {
	h.line("%s: skipped, because %s failed", c.Address, because.Address)
}
func (h Progress) Recorded(n int) { h.line("Recorded %d matches in state", n) }

// JSONHooks renders planner events as JSON lines.
type JSONHooks struct{ J *JSON }

var _ planner.Hooks = JSONHooks{}

func (h JSONHooks) Refreshing(env string) {
	h.J.emit("info", "refresh_start", "environment."+env+": Reading...", map[string]any{"environment": env})
}
func (h JSONHooks) Refreshed(env string, n int, took time.Duration) {
	h.J.emit("info", "refresh_complete", fmt.Sprintf("environment.%s: Read %d objects", env, n), map[string]any{"environment": env, "objects": n, "elapsed_seconds": took.Seconds()})
}
func (h JSONHooks) Applying(c *plans.Change) {
	h.J.emit("info", "apply_start", c.Address+": "+progressWords[c.Action][0], map[string]any{"address": c.Address, "action": c.Action, "id": c.ID})
}
func (h JSONHooks) Applied(c *plans.Change, err error, took time.Duration) {
	if err != nil {
		h.J.emit("error", "apply_errored", c.Address+": "+err.Error(), map[string]any{"address": c.Address, "action": c.Action, "id": c.ID})
		return
	}
	h.J.emit("info", "apply_complete", c.Address+": "+progressWords[c.Action][1], map[string]any{"address": c.Address, "action": c.Action, "id": c.ID, "elapsed_seconds": took.Seconds()})
}
func (h JSONHooks) Skipped(c *plans.Change, because *plans.Change) {
	h.J.emit("warn", "apply_skipped", c.Address+": skipped", map[string]any{"address": c.Address, "because": because.Address})
}
func (h JSONHooks) Recorded(n int) {
	h.J.emit("info", "matches_recorded", fmt.Sprintf("Recorded %d matches in state", n), map[string]any{"count": n})
}
