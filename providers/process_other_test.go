//go:build !linux

package providers

// parentDeathSignal is "0": only Linux has a parent-death signal.
func parentDeathSignal() string { return "0" }
