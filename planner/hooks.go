package planner

import (
	"time"

	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// Hooks receive progress events. Implementations must be safe for
// concurrent use; the planner calls them from several goroutines.
type Hooks interface {
	// Refreshing is called when discovery of an environment starts.
	Refreshing(env string)
	// Refreshed is called when it ends, with the number of objects read.
	Refreshed(env string, objects int, took time.Duration)
	// Applying is called before a change is sent to its provider.
	Applying(c *plans.Change)
	// Applied is called when a change completed (err nil) or failed.
	Applied(c *plans.Change, err error, took time.Duration)
	// Skipped is called for a change not attempted because one it depends
	// on failed.
	Skipped(c *plans.Change, because *plans.Change)
	// Recorded is called once the plan's new matches are in state.
	Recorded(n int)
}

// NoHooks ignores every event.
type NoHooks struct{}

func (NoHooks) Refreshing(string)                           {}
func (NoHooks) Refreshed(string, int, time.Duration)        {}
func (NoHooks) Applying(*plans.Change)                      {}
func (NoHooks) Applied(*plans.Change, error, time.Duration) {}
func (NoHooks) Skipped(*plans.Change, *plans.Change)        {}
func (NoHooks) Recorded(int)                                {}

var _ Hooks = NoHooks{}

// DeviceHooks are the optional device-wave events of Hooks: an
// implementation of Hooks that also implements DeviceHooks receives them.
type DeviceHooks interface {
	// WaveStarting is called before a wave's first batch, with the number
	// of devices apply will run.
	WaveStarting(c *plans.Cutover, devices int)
	// DeviceEvent reports what happened to one device's job.
	DeviceEvent(d *plans.Device, ev providers.DeviceEvent)
	// WaveDone is called when a wave ends.
	WaveDone(c *plans.Cutover, r WaveResult)
}

// WaveResult counts how a wave's devices ended.
type WaveResult struct {
	Succeeded, Failed, Pending, NotStarted int
	// Stopped is set when the wave stopped because failures passed
	// max_failures (or apply was interrupted).
	Stopped bool
}
