//go:build linux

package cputime

import (
	"os"
	"testing"
	"time"
)

func TestSelfAndProcessAgree(t *testing.T) {
	start := Self()
	deadline := time.Now().Add(200 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	self := Self()
	if self-start <= 0 {
		t.Fatalf("Self did not advance over a busy loop (%d iterations)", x)
	}
	proc := Process(os.Getpid())
	if proc < 0 {
		t.Fatal("Process cannot read /proc for this process")
	}
	// /proc counts in 10 ms ticks; allow a few of them either way.
	if d := proc - self; d > 50*time.Millisecond || d < -50*time.Millisecond {
		t.Errorf("Process says %v, Self says %v", proc, self)
	}
	if Process(1<<30) != -1 {
		t.Error("a process that does not exist has a CPU time")
	}
}
