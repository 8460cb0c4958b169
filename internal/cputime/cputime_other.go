//go:build !unix

package cputime

import "time"

// Self is unknown here: benchmarks report wall time only.
func Self() time.Duration { return 0 }

// Process is unknown here.
func Process(int) time.Duration { return -1 }
