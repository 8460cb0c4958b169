package lab

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/adshift/adshift/hub/api"
	"github.com/adshift/adshift/internal/cputime"
	"github.com/adshift/adshift/reacl"
)

// BenchmarkReACL100k times reacl add through Backend.Run on a lab device
// of ADSHIFT_REACL_BENCH_FILES files (default 10,000; set 100000 for the
// figure in BENCHMARKS.md), rolling back between iterations. Metrics:
// files/s (wall) and files/cpu-s of the whole action (walk, xattr read,
// decode, translate, journal with one fsync per batch, xattr write); the
// engine's share is reacl's TranslateBinary over the same descriptors,
// timed on its own right after the run, divided by the run's time (wall
// by wall: engine-%, CPU by CPU: engine-cpu-%);
// rollback-files/s is reacl_rollback's speed; principals-scan-ms is one
// uncached scan of the descriptors for inventory.
func BenchmarkReACL100k(b *testing.B) {
	files := 10_000
	if s := os.Getenv("ADSHIFT_REACL_BENCH_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("ADSHIFT_REACL_BENCH_FILES=%q: want a positive number", s)
		}
		files = n
	}
	start := time.Now()
	dev := newDevice(b, files)
	b.Logf("PopulateDisk: %d files in %v", files, time.Since(start).Round(time.Millisecond))
	items, err := dev.diskItems()
	if err != nil {
		b.Fatal(err)
	}
	var sds [][]byte
	for _, rel := range items {
		raw, err := getNTACL(filepath.Join(dev.dir, rel), nil)
		if err != nil {
			b.Fatal(err)
		}
		n, err := DecodeNTACL(raw)
		if err != nil {
			b.Fatal(err)
		}
		sds = append(sds, n.SD)
	}
	m, _, err := parseSIDMap(testSIDMap())
	if err != nil {
		b.Fatal(err)
	}
	tr, err := reacl.NewTranslator(m, reacl.Options{Mode: reacl.ModeAdd})
	if err != nil {
		b.Fatal(err)
	}
	var runWall, runCPU, engine, engineCPU, rollback time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cputime.Self()
		if _, err := dev.Run(context.Background(), api.Action{Name: api.ActionReACL, Params: reaclParams("add")}, nil); err != nil {
			b.Fatal(err)
		}
		runWall += time.Since(start)
		runCPU += cputime.Self() - cpu
		b.StopTimer()
		start, cpu = time.Now(), cputime.Self()
		var out []byte
		for _, sd := range sds {
			if out, _, err = tr.TranslateBinary(out[:0], sd); err != nil {
				b.Fatal(err)
			}
		}
		engine += time.Since(start)
		engineCPU += cputime.Self() - cpu
		start = time.Now()
		if _, err := dev.Run(context.Background(), api.Action{Name: api.ActionReACLRollback}, nil); err != nil {
			b.Fatal(err)
		}
		rollback += time.Since(start)
		b.StartTimer()
	}
	if fi, err := os.Stat(filepath.Join(dev.dir, JournalDir, "reacl-0001.jnl")); err == nil {
		b.Logf("journal of one run: %d items, %d bytes", len(items)+2, fi.Size())
	}
	b.StopTimer()
	dev.scan.invalidate()
	start = time.Now()
	if _, err := dev.principals(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "principals-scan-ms")
	total := float64(len(items)) * float64(b.N)
	b.ReportMetric(total/runWall.Seconds(), "files/s")
	if runCPU > 0 {
		b.ReportMetric(total/runCPU.Seconds(), "files/cpu-s")
	}
	b.ReportMetric(100*engine.Seconds()/runWall.Seconds(), "engine-%")
	if runCPU > 0 {
		b.ReportMetric(100*engineCPU.Seconds()/runCPU.Seconds(), "engine-cpu-%")
	}
	b.ReportMetric(float64(engine.Nanoseconds())/total, "engine-ns/file")
	b.ReportMetric(total/rollback.Seconds(), "rollback-files/s")
}
