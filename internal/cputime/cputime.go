//go:build unix

// Package cputime reads the CPU time of processes, for benchmarks: the
// shared 2-core machine is often oversubscribed, so wall time measures the
// queue while CPU time measures the code.
package cputime

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Self returns the user+system CPU time this process has used (0 if the
// system will not say).
func Self() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Process returns the user+system CPU time process pid has used, from
// /proc (Linux), or -1 when unknown.
func Process(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// The fields after the command name, which is in parentheses.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 > len(s) {
		return -1
	}
	fields := strings.Fields(s[i+2:])
	if len(fields) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const clockTicks = 100 // USER_HZ
	return time.Duration(ut+st) * time.Second / clockTicks
}
