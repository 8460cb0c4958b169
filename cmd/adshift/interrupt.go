package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupt is the two-stage stop of a run (STYLE §5). The first
// interrupt (SIGINT, SIGTERM or SIGHUP) or a failed write of the output (a
// closed pipe: `adshift apply | head`) closes stop: nothing new starts,
// the changes in flight finish and state is saved. An interrupt after that
// cancels ctx. A run that was stopped exits non-zero. Its methods are safe
// for concurrent use.
type interrupt struct {
	stderr io.Writer
	cancel context.CancelFunc
	stop   chan struct{}

	mu      sync.Mutex
	stopped bool
}

func newInterrupt(stderr io.Writer, cancel context.CancelFunc) *interrupt {
	return &interrupt{stderr: stderr, cancel: cancel, stop: make(chan struct{})}
}

// halt closes stop and tells the user why and what else they can do,
// once; it reports whether this call did it.
func (i *interrupt) halt(why, hint string) bool {
	i.mu.Lock()
	first := !i.stopped
	i.stopped = true
	i.mu.Unlock()
	if first {
		// Not under the lock: a failing stderr must not block a signal.
		fmt.Fprintf(i.stderr, "\n%s: finishing the changes in flight and saving state. %s\n", why, hint)
		close(i.stop)
	}
	return first
}

// wasStopped reports whether halt was called.
func (i *interrupt) wasStopped() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.stopped
}

// signalNames are the signals that stop a run, as the user is told.
var signalNames = map[os.Signal]string{
	os.Interrupt:    "Interrupt received",
	syscall.SIGTERM: "SIGTERM received",
	syscall.SIGHUP:  "Hangup (SIGHUP) received",
}

// watchSignals stops the run on signals until the returned function is
// called (at the very end of the run: a second interrupt cancels the run
// but the signals stay handled while it winds down).
//
// SIGPIPE is received and dropped: unhandled, Go's runtime kills the
// process on a write to a closed stdout or stderr, mid-apply. Received,
// the write fails with EPIPE and the guarded output stops the run. The
// signal itself says nothing about the output: once received, every
// write to any closed pipe or socket raises it (a provider's connection
// as the provider exits).
func (i *interrupt) watchSignals() (unwatch func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	done := make(chan struct{})
	go func() {
		for {
			var sig os.Signal
			select {
			case <-done:
				return
			case sig = <-sigs:
			}
			if sig == syscall.SIGPIPE {
				continue
			}
			if !i.halt(signalNames[sig], "Interrupt again to cancel at once.") {
				i.cancel()
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// guard returns w wrapped so that its first failed write (a closed pipe,
// a full disk) stops the run: the user can no longer follow what it does.
// Only stdout is guarded: halt writes to stderr.
func (i *interrupt) guard(w io.Writer) io.Writer {
	return &guardedWriter{w: w, failed: func(err error) {
		i.halt(fmt.Sprintf("Cannot write the output (%v)", err), "Interrupt to cancel at once.")
	}}
}

// guardedWriter passes writes to w and calls failed on each error.
type guardedWriter struct {
	w      io.Writer
	failed func(error)
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	n, err := g.w.Write(p)
	if err != nil {
		g.failed(err)
	}
	return n, err
}
