package odj

import (
	"os"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	file, err := os.ReadFile(sambaFile)
	if err != nil {
		b.Fatal(err)
	}
	ndr, err := DecodeFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(ndr)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(ndr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewFile(b *testing.B) {
	j := testJoin(b, "WS0001")
	b.ReportAllocs()
	for b.Loop() {
		p, err := New(j)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.File(); err != nil {
			b.Fatal(err)
		}
	}
}
