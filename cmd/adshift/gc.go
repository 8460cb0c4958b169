package main

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
)

// gcFloor is the memory limit below which the collector is never pushed:
// plans of up to ~100,000 objects run within it at GOGC=400.
const gcFloor = 640 << 20

var tuneOnce sync.Once

// tuneGC trades memory for speed: planning holds every discovered object
// and allocates much, so the collector runs less often (GOGC=400) within a
// memory limit. A fixed limit made the collector thrash once the live heap
// neared it (a million-object plan took 98 s), so the limit follows the
// live heap instead: after every collection it is set to twice the live
// heap (as GOGC=100 would allow), never below gcFloor and never above
// three quarters of the machine's (or cgroup's) memory. GOGC and
// GOMEMLIMIT in the environment switch the respective part off. Safe to
// call more than once (tests run commands in one process).
func tuneGC() {
	tuneOnce.Do(func() {
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(400)
		}
		if os.Getenv("GOMEMLIMIT") == "" {
			t := &gcTuner{floor: gcFloor, ceiling: memoryCeiling()}
			t.set(gcFloor)
			t.arm()
		}
	})
}

// gcTuner moves the memory limit with the live heap. It runs on the
// finalizer goroutine only, once per collection.
type gcTuner struct {
	floor, ceiling int64
	sample         [1]metrics.Sample
}

// gcSentinel is garbage as soon as it is made; its finalizer runs after
// the next collection and re-arms the tuner.
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		s.t.tune()
		s.t.arm()
	})
}

func (t *gcTuner) tune() {
	t.sample[0].Name = "/gc/heap/live:bytes"
	metrics.Read(t.sample[:])
	if t.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	t.set(2 * int64(t.sample[0].Value.Uint64()))
}

func (t *gcTuner) set(limit int64) {
	limit = max(limit, t.floor)
	if t.ceiling > 0 {
		limit = min(limit, t.ceiling)
	}
	debug.SetMemoryLimit(limit)
}

// memoryCeiling is three quarters of the memory this process may use: the
// cgroup's limit when there is one, else the machine's; 0 when unknown.
func memoryCeiling() int64 {
	total := int64(0)
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			total = n
		}
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
			if !ok {
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil && (total == 0 || kb<<10 < total) {
				total = kb << 10
			}
			break
		}
	}
	return total / 4 * 3
}
