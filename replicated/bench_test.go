package replicated_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// BenchmarkDurableRegister registers artifacts on a durable node (every
// write an fsync'd log entry) with 1, 8 and 64 writers at once, and on the
// embedded registry in the same process as the baseline. Each reports
// writes/s and its cost against the embedded registry; the concurrent runs
// also report their throughput against one writer's, which must grow:
// writers waiting at once share one append and one fsync.
//
//	go test -run '^$' -bench DurableRegister -benchtime 2000x ./replicated/
func BenchmarkDurableRegister(b *testing.B) {
	var embedded, single float64 // ns per write
	run := func(b *testing.B, writers int, register func(i int) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					if err := register(int(i)); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/ns, "writes/s")
		return ns
	}
	art := func(i int) registry.Artifact {
		return registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: fmt.Sprint(i),
			StorageURIs: []string{fmt.Sprintf("s3://b/m/%d", i)}}
	}
	b.Run("embedded", func(b *testing.B) {
		reg, err := registry.New()
		if err != nil {
			b.Fatal(err)
		}
		embedded = run(b, 1, func(i int) error { _, err := reg.Register(alice, art(i)); return err })
	})
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("node/writers=%d", writers), func(b *testing.B) {
			cfg := testConfig(b.TempDir())
			n := openNode(b, cfg)
			ns := run(b, writers, func(i int) error { _, err := n.Register(alice, art(i)); return err })
			b.StopTimer()
			if embedded > 0 {
				b.ReportMetric(ns/embedded, "x-embedded")
			}
			if writers == 1 {
				single = ns
			} else if single > 0 {
				b.ReportMetric(single/ns, "x-throughput-of-1")
			}
		})
	}
}

// BenchmarkRecovery opens a node whose log holds 4000 registrations: once
// replaying the whole log, once from a snapshot and a short tail. It reports
// the second against the first; with a snapshot, recovery does not grow
// with the log's length.
//
//	go test -run '^$' -bench Recovery -benchtime 5x ./replicated/
func BenchmarkRecovery(b *testing.B) {
	const writes = 4000
	fill := func(b *testing.B, n *replicated.Node) {
		var wg sync.WaitGroup
		var next atomic.Int64
		for w := 0; w < 64; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1); i <= writes; i = next.Add(1) {
					if _, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m",
						Version: fmt.Sprint(i)}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	var whole float64
	for _, snapshot := range []bool{false, true} {
		name := "whole-log"
		if snapshot {
			name = "snapshot+tail"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(b.TempDir())
			cfg.TrailingLogs = 100
			n, err := replicated.Open(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			fill(b, n)
			if snapshot {
				if err := n.Snapshot(); err != nil {
					n.Close()
					b.Fatal(err)
				}
			}
			n.Close()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				n, err := replicated.Open(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				n.Close()
				b.StartTimer()
			}
			ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
			if snapshot && whole > 0 {
				b.ReportMetric(ns/whole, "x-whole-log")
			} else {
				whole = ns
			}
		})
	}
}
