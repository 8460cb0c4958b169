package estate_test

import (
	"io"
	"testing"

	"github.com/adshift/adshift/bench/estate"
)

func BenchmarkWriteSource(b *testing.B) {
	opts := estate.Options{Objects: 20000, Seed: 1, TargetUsers: 0.3}
	for b.Loop() {
		if _, err := estate.WriteSource(io.Discard, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTarget(b *testing.B) {
	opts := estate.Options{Objects: 20000, Seed: 1, TargetUsers: 0.3}
	for b.Loop() {
		if _, err := estate.WriteTarget(io.Discard, opts); err != nil {
			b.Fatal(err)
		}
	}
}
