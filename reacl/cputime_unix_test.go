//go:build unix

package reacl

import "syscall"

// processCPU returns the user+system CPU time the process has used, in
// nanoseconds. Benchmarks report it next to wall time because the shared
// CI machine is often oversubscribed: wall time then measures the queue,
// CPU time measures the code.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
