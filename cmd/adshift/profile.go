package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile to $ADSHIFT_CPUPROFILE (a provider
// process adds its name and PID to the file name), for performance work.
// It returns the function that stops it.
func startProfile(suffix string) func() {
	path := os.Getenv("ADSHIFT_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	if suffix != "" {
		path = fmt.Sprintf("%s.%s.%d", path, suffix, os.Getpid())
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
