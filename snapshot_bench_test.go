package registry_test

// Snapshot benchmarks, on the standard Chain world (10k; 100k and 1M with
// REGISTRY_BENCH_LARGE=1), side by side with the baseline they replace,
// registering the same world in batches of 1,000 and linking its edges:
//
//	go test -run '^$' -bench 'RegisterBatchWorld|Snapshot' -benchmem
//
// BenchmarkRegisterBatchWorld runs first (it is declared first) and
// BenchmarkSnapshotLoad reports how many times faster a load is than that
// baseline measured in the same process. SQLite's backup of the same
// world into a file and its reopening are in benchmarks/ (BenchmarkSnapshot).

import (
	"bytes"
	"sync"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// registerWorldNs holds BenchmarkRegisterBatchWorld's ns/op per size, for
// BenchmarkSnapshotLoad's ratio.
var registerWorldNs sync.Map

// BenchmarkRegisterBatchWorld registers a whole world in a fresh registry,
// RegisterBatch per 1,000 artifacts and Link per edge: what a load from a
// snapshot replaces.
func BenchmarkRegisterBatchWorld(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run("n="+benchworld.SizeLabel(n), func(b *testing.B) {
			w := benchworld.New(n, benchworld.Chain)
			b.ReportAllocs()
			for b.Loop() {
				reg, err := registry.New()
				must(b, err)
				must(b, w.Load(regLoader{reg, benchCtx}))
			}
			registerWorldNs.Store(n, float64(b.Elapsed().Nanoseconds())/float64(b.N))
		})
	}
}

// BenchmarkSnapshotWrite writes the world's snapshot to memory.
func BenchmarkSnapshotWrite(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		var buf bytes.Buffer
		var info registry.SnapshotInfo
		for b.Loop() {
			buf.Reset()
			var err error
			info, err = bw.reg.WriteSnapshot(&buf)
			must(b, err)
		}
		b.ReportMetric(float64(info.Bytes)/float64(info.Artifacts), "B/artifact")
		b.ReportMetric(float64(info.Bytes)/b.Elapsed().Seconds()*float64(b.N)/1e6, "MB/s")
	})
}

// BenchmarkSnapshotLoad loads a registry from the world's snapshot in
// memory (Load: verify everything, build the database, swap it in).
func BenchmarkSnapshotLoad(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		var buf bytes.Buffer
		info, err := bw.reg.WriteSnapshot(&buf)
		must(b, err)
		snap := buf.Bytes()
		for b.Loop() {
			_, err := registry.Load(bytes.NewReader(snap))
			must(b, err)
		}
		perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(info.Bytes)/float64(info.Artifacts), "B/artifact")
		if base, ok := registerWorldNs.Load(bw.w.N); ok {
			b.ReportMetric(base.(float64)/perOp, "x-faster-than-register")
		}
	})
}
