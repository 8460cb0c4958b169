//go:build !linux

package providers

import (
	"testing"
	"time"
)

// cpuTime is unknown here; the benchmarks report wall time only.
func cpuTime(*testing.B) time.Duration { return 0 }

func procCPUTime(int) time.Duration { return -1 }
