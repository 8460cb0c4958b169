package state

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/adshift/adshift/internal/cputime"
)

// committedLocal returns a Local whose snapshot holds a state of n objects
// (and n/10 devices), and that state.
func committedLocal(b *testing.B, n int) (*Local, *State) {
	b.Helper()
	l := newTestLocal(b)
	s := testState(n)
	if err := l.writeSnapshot(s); err != nil {
		b.Fatal(err)
	}
	return l, s
}

var benchSizes = []int{1_000, 100_000}

// reportCPU reports the CPU time per operation since start (see cpuTime).
func reportCPU(b *testing.B, start time.Duration) {
	if start == 0 {
		return
	}
	b.ReportMetric(float64(cputime.Self()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkPutObject measures recording one change (encode, append, fsync)
// into states of different sizes: the cost must not grow with the state.
func BenchmarkPutObject(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			l, s := committedLocal(b, n)
			txn := mustBegin(b, l, s)
			b.ReportAllocs()
			i := 0
			cpu := cputime.Self()
			for b.Loop() {
				o := testObject(i % n)
				o.Created = i%2 == 1
				if err := txn.PutObject(o); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCPU(b, cpu)
			b.StopTimer()
			if err := txn.Close(); err != nil {
				b.Fatal(err)
			}
			fi, err := os.Stat(l.JournalPath())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fi.Size())/float64(i), "journal-B/op")
		})
	}
}

// BenchmarkPutObjectParallel is the apply walk's pattern: many goroutines
// finishing changes at once share fsyncs (group commit).
func BenchmarkPutObjectParallel(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			l, s := committedLocal(b, n)
			txn := mustBegin(b, l, s)
			b.SetParallelism(16) // 16 × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if err := txn.PutObject(testObject(i % n)); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.StopTimer()
			if err := txn.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkLoad measures reading a snapshot of n objects (no journal).
func BenchmarkLoad(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			l, _ := committedLocal(b, n)
			fi, err := os.Stat(l.Path())
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(fi.Size())
			cpu := cputime.Self()
			for b.Loop() {
				if _, err := l.Load(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkLoadJournal measures Load of n objects plus a journal of 1,000
// records (a crashed apply).
func BenchmarkLoadJournal(b *testing.B) {
	n := 100_000
	l, s := committedLocal(b, n)
	txn := mustBegin(b, l, s)
	for i := range 1000 {
		if err := txn.PutObject(testObject(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := txn.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := cputime.Self()
	for b.Loop() {
		if _, err := l.Load(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkCommit measures the fold at the end of an apply: one recorded
// change, then the whole state written (temp file, fsync, backup, rename).
func BenchmarkCommit(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			l, s := committedLocal(b, n)
			i := 0
			var cpu time.Duration
			for b.Loop() {
				b.StopTimer()
				txn := mustBegin(b, l, s)
				if err := txn.PutObject(testObject(i % n)); err != nil {
					b.Fatal(err)
				}
				i++
				b.StartTimer()
				start := cputime.Self()
				if err := txn.Commit(); err != nil {
					b.Fatal(err)
				}
				cpu += cputime.Self() - start
			}
			b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkBegin measures Begin on a clean 100k state: it reads only the
// snapshot's header.
func BenchmarkBegin(b *testing.B) {
	l, s := committedLocal(b, 100_000)
	for b.Loop() {
		if _, err := l.Begin(b.Context(), s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSIDMap(b *testing.B) {
	s := testState(100_000)
	for b.Loop() {
		_ = s.SIDMap()
	}
}

// BenchmarkPutObjectNoSync records into an in-memory journal: the CPU cost
// of a record without the disk, which must not grow with the state either.
func BenchmarkPutObjectNoSync(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("objects=%d", n), func(b *testing.B) {
			txn := NewTxn(testState(n), &memJournal{})
			runtime.GC() // the setup's garbage is not the benchmark's
			b.ReportAllocs()
			i := 0
			cpu := cputime.Self()
			for b.Loop() {
				if err := txn.PutObject(testObject(i % n)); err != nil {
					b.Fatal(err)
				}
				i++
			}
			reportCPU(b, cpu)
		})
	}
}
