package ui

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/adshift/adshift/planner"
	"github.com/adshift/adshift/planner/plans"
)

// Bars renders an apply on a terminal: one live bar per target
// environment (changes done of total, rate, time left, failures so far)
// instead of a line per change; failures, skips and recorded matches are
// printed as lines above the bars. Plain lines (Progress) are for
// non-terminals, JSON lines (JSONHooks) for -json. Call Close when the
// apply returns, before anything else is written.
type Bars struct {
	v    *View
	p    *mpb.Progress
	mu   sync.Mutex
	envs map[string]*envBar
}

type envBar struct {
	bar    *mpb.Bar
	failed int
}

var _ planner.Hooks = (*Bars)(nil)

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
	b := &Bars{v: v, envs: map[string]*envBar{}}
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
	b.p.Wait()
}
