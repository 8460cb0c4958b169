//go:build unix

package dn

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time, for benchmark figures
// that do not depend on how busy the machine is.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
