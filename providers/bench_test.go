package providers

import (
	"testing"
	"time"

	"github.com/adshift/adshift/internal/cputime"
)

// benchObjects is the size of the discovery benchmarks: 100,000 users of
// ten attributes each (plus one OU).
const benchObjects = 100_000

// benchmarkDiscover discovers the 100,000 objects b.N times and reports,
// besides the wall time, the CPU time this process (and, for pluginPID > 0,
// the plugin process) spent per discovery: on a loaded machine the wall
// time mostly measures the wait for a core.
func benchmarkDiscover(b *testing.B, p Provider, pluginPID int) {
	b.Helper()
	b.ReportAllocs()
	cpu0, plugin0 := cputime.Self(), cputime.Process(pluginPID)
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
	b.ReportMetric(perOp(cputime.Self()-cpu0), "host-cpu-ms/op")
	if pluginPID > 0 {
		if plugin1 := cputime.Process(pluginPID); plugin0 >= 0 && plugin1 >= 0 {
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

// BenchmarkApply_inProcess measures 10,000 changes and their results
// crossing the gRPC boundary in this process.
func BenchmarkApply_inProcess(b *testing.B) {
	const n = 10_000
	p := inProcess(b, newFakeProvider())
	changes := make([]Change, n)
	for i := range changes {
		changes[i] = Change{ID: int64(i + 1), Op: OpUpdate, Kind: KindUser, DN: "CN=user,OU=Staff,DC=fake,DC=test", GUID: "g", Token: "1",
			Attrs: []AttrChange{{Name: "displayName", Op: AttrReplace, Values: []string{"User"}}, {Name: "mail", Op: AttrReplace, Values: []string{"user@fake.test"}}}}
	}
	b.ReportAllocs()
	cpu0 := cputime.Self()
	for b.Loop() {
		got := 0
		err := p.Apply(b.Context(), sendChanges(changes), func(Result) error { got++; return nil })
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("%d results, want %d", got, n)
		}
	}
	b.ReportMetric(float64((cputime.Self()-cpu0).Nanoseconds())/float64(b.N)/1e6, "cpu-ms/op")
}
