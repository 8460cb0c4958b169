package providers

import (
	"testing"
)

// benchObjects is the size of the discovery benchmarks: 100,000 users of
// ten attributes each (plus one OU).
const benchObjects = 100_000

func benchmarkDiscover(b *testing.B, p Provider) {
	b.Helper()
	b.ReportAllocs()
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
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/100k-objects")
}

// BenchmarkDiscover_inProcess measures 100,000 objects crossing the gRPC
// boundary in this process (encode, the loopback connection, decode).
func BenchmarkDiscover_inProcess(b *testing.B) {
	f := newFakeProvider()
	f.objects = makeObjects(benchObjects, 10)
	f.batch = 1000
	benchmarkDiscover(b, inProcess(b, f))
}
