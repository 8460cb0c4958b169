package ui

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
	"github.com/adshift/adshift/providers"
)

// Bars renders an apply on a terminal: one live bar per target
// environment (changes done of total, rate, time left, failures so far)
// instead of a line per change; failures, skips and recorded matches are
// printed as lines above the bars. Plain lines (Progress) are for
// non-terminals, JSON lines (JSONHooks) for -json. Call Close when the
// apply returns, before anything else is written.
type Bars struct {
	v     *View
	p     *mpb.Progress
	mu    sync.Mutex
	envs  map[string]*envBar
	waves map[string]*waveBar
}

type envBar struct {
	bar    *mpb.Bar
	failed int
}

var (
	_ planner.Hooks       = (*Bars)(nil)
	_ planner.DeviceHooks = (*Bars)(nil)
)

// NewBars starts the bars of plan p's changes, drawn on out (the terminal
// itself: the bars redraw in place only on a terminal); opts are for tests.
func NewBars(v *View, out io.Writer, p *plans.Plan, opts ...mpb.ContainerOption) *Bars {
	total := map[string]int{}
	for _, c := range p.Changes {
		total[c.Environment]++
	}
	names := make([]string, 0, len(total))
	for n := range total {
		names = append(names, n)
	}
	sort.Strings(names)
	b := &Bars{v: v, envs: map[string]*envBar{}, waves: map[string]*waveBar{}}
	b.p = mpb.New(append([]mpb.ContainerOption{mpb.WithOutput(out), mpb.WithWidth(100)}, opts...)...)
	for _, n := range names {
		eb := &envBar{}
		name := "environment." + n
		eb.bar = b.p.AddBar(int64(total[n]),
			mpb.PrependDecorators(
				decor.Name(name, decor.WCSyncSpaceR),
				decor.CountersNoUnit("%d/%d", decor.WCSyncWidth),
			),
			mpb.AppendDecorators(
				decor.AverageSpeed(nil, "%.0f/s", decor.WCSyncWidth),
				decor.Any(func(s decor.Statistics) string {
					if s.Completed || s.Aborted {
						return ""
					}
					return " ETA "
				}),
				decor.OnAbort(decor.OnComplete(decor.AverageETA(decor.ET_STYLE_MMSS), " done"), " stopped"),
				decor.Any(func(decor.Statistics) string {
					b.mu.Lock()
					defer b.mu.Unlock()
					if eb.failed == 0 {
						return ""
					}
					return fmt.Sprintf(" · %d failed", eb.failed)
				}),
			),
		)
		b.envs[n] = eb
	}
	return b
}

// line prints above the bars.
func (b *Bars) line(format string, a ...any) {
	fmt.Fprintf(b.p, format+"\n", a...)
}

func (b *Bars) Refreshing(string)                    {}
func (b *Bars) Refreshed(string, int, time.Duration) {}
func (b *Bars) Applying(*plans.Change)               {}
func (b *Bars) Recorded(n int)                       { b.line("Recorded %d matches in state", n) }
func (b *Bars) Applied(c *plans.Change, err error, took time.Duration) {
	eb := b.envs[c.Environment]
	if err != nil {
		b.mu.Lock()
		if eb != nil {
			eb.failed++
		}
		b.mu.Unlock()
		b.line("%s: %s: %v", c.Address, b.v.palette().del("failed"), err)
	}
	if eb != nil {
		eb.bar.Increment()
	}
}
func (b *Bars) Skipped(c *plans.Change, because *plans.Change) {
	b.line("%s: skipped, because %s failed", c.Address, because.Address)
	if eb := b.envs[c.Environment]; eb != nil {
		eb.bar.Increment()
	}
}

// Close stops the bars (those not complete, after a stop or a failure,
// stay where they got to) and waits until they are drawn for the last time.
func (b *Bars) Close() {
	for _, eb := range b.envs {
		if !eb.bar.Completed() {
			eb.bar.Abort(false)
		}
	}
	// The decorators take b.mu while a bar draws: abort without holding it.
	b.mu.Lock()
	waves := make([]*waveBar, 0, len(b.waves))
	for _, wb := range b.waves {
		waves = append(waves, wb)
	}
	b.mu.Unlock()
	for _, wb := range waves {
		if !wb.bar.Completed() {
			wb.bar.Abort(false)
		}
	}
	b.p.Wait()
}

// waveBar is one device wave's bar: devices finished (succeeded or failed)
// of the devices apply runs in the wave. Pending devices are not finished:
// the bar of a wave that leaves some pending stays short of its total.
type waveBar struct {
	bar                  *mpb.Bar
	failed, pending      int
	finished, failedLine map[string]bool
	result               *planner.WaveResult
	maxFailures          int
}

// WaveStarting adds the wave's bar below the others. A wave gets one bar
// however large it is; a failed device gets a line above the bars.
func (b *Bars) WaveStarting(c *plans.Cutover, devices int) {
	wb := &waveBar{finished: map[string]bool{}, failedLine: map[string]bool{}, maxFailures: c.MaxFailures}
	wb.bar = b.p.AddBar(int64(devices),
		mpb.PrependDecorators(
			decor.Name("device_cutover."+c.Name, decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d/%d", decor.WCSyncWidth),
		),
		mpb.AppendDecorators(
			decor.Any(func(s decor.Statistics) string {
				b.mu.Lock()
				defer b.mu.Unlock()
				return wb.decoration(s)
			}),
		),
	)
	b.mu.Lock()
	b.waves[c.Name] = wb
	b.mu.Unlock()
}

// decoration is what follows a wave's counters: failures and pending
// devices so far, and how the wave ended. The caller holds b.mu.
func (wb *waveBar) decoration(s decor.Statistics) string {
	failed, pending := wb.failed, wb.pending
	if r := wb.result; r != nil {
		failed, pending = r.Failed, r.Pending
	}
	var out strings.Builder
	out.WriteString(" devices")
	if failed > 0 {
		fmt.Fprintf(&out, " · %d failed", failed)
	}
	if pending > 0 {
		fmt.Fprintf(&out, " · %d pending", pending)
	}
	switch r := wb.result; {
	case s.Completed:
		out.WriteString(" · done")
	case r != nil && r.Stopped && r.Failed > wb.maxFailures:
		fmt.Fprintf(&out, " · stopped (max_failures %d), %d not started", wb.maxFailures, r.NotStarted)
	case r != nil && r.Stopped:
		fmt.Fprintf(&out, " · interrupted, %d not started", r.NotStarted)
	case r != nil:
		out.WriteString(" · ended")
	case s.Aborted:
		out.WriteString(" · stopped")
	}
	return out.String()
}

// DeviceEvent counts a device into its wave's bar once it is final, and
// prints a line for each failure.
func (b *Bars) DeviceEvent(d *plans.Device, ev providers.DeviceEvent) {
	line, finish := "", false
	b.mu.Lock()
	wb := b.waves[d.Cutover]
	if wb == nil {
		b.mu.Unlock()
		return
	}
	switch ev.Kind {
	case providers.DeviceEventResult:
		if ev.Status != string(api.StatusOK) {
			wb.failedLine[d.Address] = true
			line = deviceLine(d, ev)
		}
	case providers.DeviceEventDone:
		if !wb.finished[d.Address] {
			wb.finished[d.Address], finish = true, true
			if ev.JobState != string(api.JobSucceeded) {
				wb.failed++
				if !wb.failedLine[d.Address] {
					line = deviceLine(d, ev)
				}
			}
		}
	case providers.DeviceEventError:
		if !wb.finished[d.Address] {
			wb.finished[d.Address], finish = true, true
			wb.failed++
		}
		line = deviceLine(d, ev)
	case providers.DeviceEventPending:
		wb.pending++
	}
	b.mu.Unlock()
	if line != "" {
		b.line("%s", line)
	}
	if finish {
		wb.bar.Increment()
	}
}

// WaveDone settles the wave's bar with the wave's counts (which include
// devices that got no event: those whose offline domain join file could
// not be provisioned, and those not started) and prints the wave's line.
func (b *Bars) WaveDone(c *plans.Cutover, r planner.WaveResult) {
	b.mu.Lock()
	wb := b.waves[c.Name]
	if wb != nil {
		wb.result = &r
	}
	b.mu.Unlock()
	b.line("%s", waveDoneLine(c, r))
	if wb != nil && !wb.bar.Completed() {
		wb.bar.Abort(false)
	}
}
