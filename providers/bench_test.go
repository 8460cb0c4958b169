package providers

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchObjects is the size of the discovery benchmarks: 100,000 users of
// ten attributes each (plus one OU).
const benchObjects = 100_000

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPUTime is the CPU time process pid has used, from /proc (Linux),
// or -1 when unknown.
func procCPUTime(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clockTicks
}

// benchmarkDiscover discovers the 100,000 objects b.N times and reports,
// besides the wall time, the CPU time this process (and, for pluginPID > 0,
// the plugin process) spent per discovery: on a loaded machine the wall
// time mostly measures the wait for a core.
func benchmarkDiscover(b *testing.B, p Provider, pluginPID int) {
	b.Helper()
	b.ReportAllocs()
	cpu0, plugin0 := cpuTime(b), procCPUTime(pluginPID)
	for b.Loop() {
		n := 0
		err := p.Discover(b.Context(), Scope{}, func(objs []Object) error {
			n += len(objs)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if n != benchObjects+1 {
			b.Fatalf("discovered %d objects, want %d", n, benchObjects+1)
		}
	}
	perOp := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / 1e6 }
	b.ReportMetric(perOp(cpuTime(b)-cpu0), "host-cpu-ms/op")
	if pluginPID > 0 {
		if plugin1 := procCPUTime(pluginPID); plugin0 >= 0 && plugin1 >= 0 {
			b.ReportMetric(perOp(plugin1-plugin0), "plugin-cpu-ms/op")
		}
	}
}

// BenchmarkDiscover_inProcess measures 100,000 objects crossing the gRPC
// boundary in this process (encode, the loopback connection, decode); the
// CPU time covers both sides.
func BenchmarkDiscover_inProcess(b *testing.B) {
	f := newFakeProvider()
	f.objects = makeObjects(benchObjects, 10)
	f.batch = 1000
	benchmarkDiscover(b, inProcess(b, f), 0)
}
