//go:build unix

package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// failingWriter fails every write with err.
type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

// closed reports whether ch is closed, waiting at most a minute for it
// (a signal arrives asynchronously).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(time.Minute):
		return false
	}
}

// watching returns an interrupt that watches signals, the context it
// cancels, and what it wrote to stderr so far.
func watching(t *testing.T) (*interrupt, context.Context, func() string) {
	var stderr strings.Builder
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	i := newInterrupt(lockedWriter{&mu, &stderr}, cancel)
	t.Cleanup(i.watchSignals())
	return i, ctx, func() string {
		mu.Lock()
		defer mu.Unlock()
		return stderr.String()
	}
}

// TestInterrupt_outputFails checks that a failed write of the output
// stops the run once, saying why, and passes the error on; an interrupt
// after the stop cancels at once. (TestApplyHostDeath/SIGPIPE closes a
// real pipe.)
func TestInterrupt_outputFails(t *testing.T) {
	i, ctx, stderr := watching(t)

	out := i.guard(failingWriter{syscall.EPIPE})
	for range 3 {
		if _, err := out.Write([]byte("x\n")); !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("write: %v, want EPIPE passed on", err)
		}
	}
	if !closed(i.stop) || !i.wasStopped() {
		t.Fatal("a failed write of the output did not stop the run")
	}
	if got := strings.Count(stderr(), "Cannot write the output (broken pipe): finishing the changes in flight and saving state. Interrupt to cancel at once."); got != 1 {
		t.Errorf("the stop is told %d times, want once:\n%s", got, stderr())
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !closed(ctx.Done()) {
		t.Error("SIGHUP after the stop did not cancel the run")
	}
}

// TestInterrupt_twoStages checks that the first SIGHUP stops the run and
// the second, a SIGTERM here, cancels it.
func TestInterrupt_twoStages(t *testing.T) {
	i, ctx, stderr := watching(t)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if !closed(i.stop) {
		t.Fatal("SIGHUP did not stop the run")
	}
	if ctx.Err() != nil {
		t.Fatal("the first signal cancelled the run")
	}
	want := "Hangup (SIGHUP) received: finishing the changes in flight and saving state. Interrupt again to cancel at once."
	if !strings.Contains(stderr(), want) {
		t.Errorf("stderr %q, want %q", stderr(), want)
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !closed(ctx.Done()) {
		t.Error("the second signal did not cancel the run")
	}
}
