package reacl

import (
	"testing"

	"github.com/adshift/adshift/adid"
	"github.com/adshift/adshift/internal/cputime"
)

// BenchmarkTranslateTypicalFile translates a typical file descriptor (8
// ACEs, 3 of them for mapped source principals, mapped owner and group),
// binary in and binary out, in add mode with a reused Translator: what the
// agent does per file. ACEs/s is counted over the 8 input ACEs.
func BenchmarkTranslateTypicalFile(b *testing.B) {
	for _, mode := range []Mode{ModeAdd, ModeReplace} {
		b.Run(mode.String(), func(b *testing.B) {
			m := benchMap(b)
			d, err := ParseSDDL(sddlVars.Replace(typicalFile), nil)
			if err != nil {
				b.Fatal(err)
			}
			src, err := d.MarshalBinary()
			if err != nil {
				b.Fatal(err)
			}
			tr, err := NewTranslator(m, Options{Mode: mode})
			if err != nil {
				b.Fatal(err)
			}
			dst := make([]byte, 0, 1024)
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			cpu0 := int64(cputime.Self())
			for b.Loop() {
				out, rep, err := tr.TranslateBinary(dst[:0], src)
				if err != nil || !rep.Changed || len(out) <= len(src)-100 {
					b.Fatal(err)
				}
			}
			cpu := int64(cputime.Self()) - cpu0
			b.ReportMetric(float64(8*b.N)/b.Elapsed().Seconds(), "ACEs/s")
			if cpu > 0 {
				b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(8*b.N)/(float64(cpu)/1e9), "ACEs/cpu-s")
			}
		})
	}
}

// benchMap is a map the size of a mid-sized migration: 20,000 users and
// groups, so lookups are not in a toy map.
func benchMap(b *testing.B) *Map {
	m := NewMap()
	src, tgt := adid.MustSID(srcDom), adid.MustSID(tgtDom)
	for rid := uint32(500); rid < 20500; rid++ {
		s, _ := src.Child(rid)
		t, _ := tgt.Child(rid)
		if err := m.Add(s, t); err != nil {
			b.Fatal(err)
		}
	}
	return m
}

func BenchmarkParseBinary(b *testing.B) {
	d, err := ParseSDDL(sddlVars.Replace(typicalFile), nil)
	if err != nil {
		b.Fatal(err)
	}
	src, _ := d.MarshalBinary()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBinary(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSDDL(b *testing.B) {
	s := sddlVars.Replace(typicalFile)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseSDDL(s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatSDDL(b *testing.B) {
	d, err := ParseSDDL(sddlVars.Replace(typicalFile), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.SDDL(testDomain); err != nil {
			b.Fatal(err)
		}
	}
}
