package registry_test

// Benchmarks of the registry's operations on worlds of 10k artifacts, and of
// 100k and 1M artifacts when REGISTRY_BENCH_LARGE=1:
//
//	go test -run '^$' -bench . -benchmem                          # 10k
//	REGISTRY_BENCH_LARGE=1 go test -run '^$' -bench . -benchmem -timeout 2h
//
// A world (internal/benchworld) is built once per size and shape with
// RegisterBatch and Link, lazily, the first time a benchmark needs it, and
// is shared by every benchmark of the process: each benchmark gives the
// world back as it found it. Mutating benchmarks work in chunks: untimed,
// they add the chunk's targets (or take them away); timed, they run the
// operation on each; untimed, they undo what the operation did. So every
// iteration measures the same operation on a world of the same size.
//
// The comparison with SQLite and with a plain map, and the targets, are in
// the benchmarks/ module (go run ./cmd/compare there) and BENCHMARKS.md.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// largeBench enables the 100k and 1M worlds.
var largeBench = os.Getenv("REGISTRY_BENCH_LARGE") == "1"

func benchSizes() []int {
	if largeBench {
		return []int{10_000, 100_000, 1_000_000}
	}
	return []int{10_000}
}

// benchWorld is a registry loaded with a world.
type benchWorld struct {
	w   *benchworld.World
	reg *registry.Registry
	ctx context.Context
	k   int // round-robin counter over the world's targets
}

type worldKey struct {
	n     int
	edges benchworld.Edges
}

var (
	worldsMu sync.Mutex
	worlds   = map[worldKey]*benchWorld{}
)

var benchCtx = registry.WithPrincipal(context.Background(), "bench")

// world returns the registry loaded with the world of n artifacts and the
// given edge shape, building it the first time.
func world(b *testing.B, n int, edges benchworld.Edges) *benchWorld {
	b.Helper()
	worldsMu.Lock()
	defer worldsMu.Unlock()
	key := worldKey{n, edges}
	if bw, ok := worlds[key]; ok {
		return bw
	}
	reg, err := registry.New()
	if err != nil {
		b.Fatal(err)
	}
	w := benchworld.New(n, edges)
	if err := w.Load(regLoader{reg, benchCtx}); err != nil {
		b.Fatal(err)
	}
	bw := &benchWorld{w: w, reg: reg, ctx: benchCtx}
	worlds[key] = bw
	return bw
}

// regLoader loads a registry: RegisterBatch per batch, Link per edge (the
// registry has no batch link).
type regLoader struct {
	reg *registry.Registry
	ctx context.Context
}

func (l regLoader) RegisterBatch(batch []registry.Artifact) error {
	_, err := l.reg.RegisterBatch(l.ctx, batch)
	return err
}

func (l regLoader) LinkBatch(edges [][2]string) error {
	for _, e := range edges {
		if err := l.reg.Link(l.ctx, e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// loadFixture registers a fixture's artifacts, in batches, then links its
// edges.
func (bw *benchWorld) loadFixture(b *testing.B, f benchworld.Fixture) {
	b.Helper()
	l := regLoader{bw.reg, bw.ctx}
	for i := 0; i < len(f.Artifacts); i += benchworld.BatchSize {
		if err := l.RegisterBatch(f.Artifacts[i:min(i+benchworld.BatchSize, len(f.Artifacts))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.LinkBatch(f.Edges); err != nil {
		b.Fatal(err)
	}
}

// forSizes runs fn as a sub-benchmark per world size, on the Chain world.
func forSizes(b *testing.B, fn func(b *testing.B, bw *benchWorld)) {
	for _, n := range benchSizes() {
		b.Run("n="+benchworld.SizeLabel(n), func(b *testing.B) {
			bw := world(b, n, benchworld.Chain)
			b.ReportAllocs()
			fn(b, bw)
		})
	}
}

// chunked runs b.N timed operations in chunks of at most c: untimed, prep
// sets up n targets; timed, op runs on target j (0 ≤ j < n); untimed, undo
// takes back what the chunk did.
func chunked(b *testing.B, c int, prep func(n int), op func(j int), undo func(n int)) {
	b.Helper()
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(c, b.N-done)
		b.StopTimer()
		prep(n)
		b.StartTimer()
		for j := range n {
			op(j)
		}
		b.StopTimer()
		undo(n)
		b.StartTimer()
		done += n
	}
	b.StopTimer()
}

// chunk is the number of single-artifact targets per chunk: 1% of a 10k
// world at most, so that the world hardly grows while a chunk runs.
const chunk = 100

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func (bw *benchWorld) hardDeleteAll(b *testing.B, ids []string) {
	b.Helper()
	for _, id := range ids {
		_, err := bw.reg.Delete(bw.ctx, id, registry.DeleteOptions{Hard: true})
		must(b, err)
	}
}

// BenchmarkRegister registers one artifact per call (one transaction): a
// new version of an existing model, with typical metadata.
func BenchmarkRegister(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		arts := make([]registry.Artifact, chunk)
		chunked(b, chunk,
			func(n int) {
				for j := range n {
					arts[j] = bw.w.NewVersion()
				}
			},
			func(j int) {
				_, err := bw.reg.Register(bw.ctx, arts[j])
				must(b, err)
			},
			func(n int) {
				for j := range n {
					bw.hardDeleteAll(b, []string{arts[j].ID})
				}
			})
	})
}

// registerBatch is the batch size of BenchmarkRegisterBatch.
const registerBatch = 100

// BenchmarkRegisterBatch registers registerBatch artifacts per call (one
// transaction); ns/artifact is ns/op divided by the batch size.
func BenchmarkRegisterBatch(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		arts := make([]registry.Artifact, registerBatch)
		chunked(b, 1,
			func(int) {
				for j := range arts {
					arts[j] = bw.w.NewVersion()
				}
			},
			func(int) {
				_, err := bw.reg.RegisterBatch(bw.ctx, arts)
				must(b, err)
			},
			func(int) {
				for _, a := range arts {
					bw.hardDeleteAll(b, []string{a.ID})
				}
			})
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*registerBatch), "ns/artifact")
	})
}

// BenchmarkRegisterConcurrent8 registers one artifact per call from 8
// goroutines at once and reports the throughput in ops/s (ns/op is the wall
// time per registration). Concurrent calls are group committed.
func BenchmarkRegisterConcurrent8(b *testing.B) { benchRegisterConcurrent(b, 8) }

// BenchmarkRegisterConcurrent64 is BenchmarkRegisterConcurrent8 with 64
// goroutines.
func BenchmarkRegisterConcurrent64(b *testing.B) { benchRegisterConcurrent(b, 64) }

func benchRegisterConcurrent(b *testing.B, writers int) {
	const perChunk = 400
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		arts := make([]registry.Artifact, perChunk)
		b.ResetTimer()
		for done := 0; done < b.N; {
			n := min(perChunk, b.N-done)
			b.StopTimer()
			for j := range n {
				arts[j] = bw.w.NewVersion()
			}
			b.StartTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
						if _, err := bw.reg.Register(bw.ctx, arts[i]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			for j := range n {
				bw.hardDeleteAll(b, []string{arts[j].ID})
			}
			b.StartTimer()
			done += n
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkGet reads one artifact by ID.
func BenchmarkGet(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		s := bw.w.Sample
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := bw.reg.Get(bw.ctx, s[i%len(s)].ID)
			must(b, err)
		}
	})
}

// BenchmarkGetParallel is BenchmarkGet from GOMAXPROCS goroutines; ns/op is
// the wall time per read, so BenchmarkGet's ns/op divided by this one's is
// the parallel speedup.
func BenchmarkGetParallel(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		s := bw.w.Sample
		var seed atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(seed.Add(997))
			for pb.Next() {
				i++
				if _, err := bw.reg.Get(bw.ctx, s[i%len(s)].ID); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkGetByFQN reads one artifact by fully qualified name.
func BenchmarkGetByFQN(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		s := bw.w.Sample
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, err := bw.reg.GetByFQN(bw.ctx, s[i%len(s)].FQN)
			must(b, err)
		}
	})
}

// BenchmarkGetVersion reads one artifact by namespace, name and version.
func BenchmarkGetVersion(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		s := bw.w.Sample
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k := &s[i%len(s)]
			_, err := bw.reg.GetVersion(bw.ctx, k.Namespace, k.Name, k.Version)
			must(b, err)
		}
	})
}

// BenchmarkList reads the first page of 100 live artifacts of a namespace.
func BenchmarkList(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			p, err := bw.reg.List(bw.ctx, registry.Filter{Namespace: benchworld.Namespace(i), Limit: 100})
			must(b, err)
			if len(p.Items) != 100 {
				b.Fatalf("page of %d", len(p.Items))
			}
		}
	})
}

// targets returns the next n soft-delete targets of the world, round robin.
func (bw *benchWorld) targets(ids []string) {
	for j := range ids {
		bw.k++
		ids[j] = bw.w.Target(bw.k)
	}
}

// BenchmarkSoftDelete soft deletes one artifact (the newest version of a
// model); untimed, it is restored.
func BenchmarkSoftDelete(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		ids := make([]string, chunk)
		chunked(b, chunk,
			func(n int) { bw.targets(ids[:n]) },
			func(j int) {
				_, err := bw.reg.Delete(bw.ctx, ids[j], registry.DeleteOptions{})
				must(b, err)
			},
			func(n int) {
				for _, id := range ids[:n] {
					_, err := bw.reg.Restore(bw.ctx, id)
					must(b, err)
				}
			})
	})
}

// BenchmarkRestore restores one soft-deleted artifact; untimed, it was soft
// deleted first.
func BenchmarkRestore(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		ids := make([]string, chunk)
		chunked(b, chunk,
			func(n int) {
				bw.targets(ids[:n])
				for _, id := range ids[:n] {
					_, err := bw.reg.Delete(bw.ctx, id, registry.DeleteOptions{})
					must(b, err)
				}
			},
			func(j int) {
				_, err := bw.reg.Restore(bw.ctx, ids[j])
				must(b, err)
			},
			func(int) {})
	})
}

// benchHardDelete hard deletes, with the default Restrict lineage check, a
// fresh version of a world model that depends on the model's newest version
// (one edge in, no live dependent); untimed, the leaves are added first.
func benchHardDelete(b *testing.B, bw *benchWorld) {
	leaves := make([]benchworld.Leaf, chunk)
	batch := make([]registry.Artifact, 0, chunk)
	chunked(b, chunk,
		func(n int) {
			batch = batch[:0]
			for j := range n {
				leaves[j] = bw.w.NewLeaf(j)
				batch = append(batch, leaves[j].Artifact)
			}
			_, err := bw.reg.RegisterBatch(bw.ctx, batch)
			must(b, err)
			for _, l := range leaves[:n] {
				must(b, bw.reg.Link(bw.ctx, l.Upstream, l.Artifact.ID))
			}
		},
		func(j int) {
			_, err := bw.reg.Delete(bw.ctx, leaves[j].Artifact.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageRestrict})
			must(b, err)
		},
		func(int) {})
}

// BenchmarkHardDelete is a hard delete with the lineage (Restrict) check.
func BenchmarkHardDelete(b *testing.B) {
	forSizes(b, benchHardDelete)
}

// BenchmarkHardDeleteEdgesElsewhere is BenchmarkHardDelete in two worlds of
// the same artifacts, one with no lineage edge but the target's own, one
// with about 5.4 edges per artifact elsewhere: a delete's cost must not
// depend on edges it does not touch (compare the two ns/op).
func BenchmarkHardDeleteEdgesElsewhere(b *testing.B) {
	for _, n := range benchSizes()[:min(2, len(benchSizes()))] {
		for _, e := range []benchworld.Edges{benchworld.None, benchworld.Dense} {
			b.Run(fmt.Sprintf("n=%s/edges=%s", benchworld.SizeLabel(n), e), func(b *testing.B) {
				bw := world(b, n, e)
				b.ReportAllocs()
				b.ReportMetric(float64(bw.w.EdgeCount()), "edges")
				benchHardDelete(b, bw)
			})
		}
	}
}

// cascadeChunk is the number of cascade fixtures per chunk (100 artifacts).
const cascadeChunk = 5

// BenchmarkCascade20 hard deletes a model version with Cascade: it and the
// 19 other versions of its name, newest first, under the Restrict lineage
// check (each version depends on the one before it; the first on a world
// dataset).
func BenchmarkCascade20(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		fs := make([]benchworld.Fixture, cascadeChunk)
		chunked(b, cascadeChunk,
			func(n int) {
				for j := range n {
					fs[j] = bw.w.NewCascade()
					bw.loadFixture(b, fs[j])
				}
			},
			func(j int) {
				res, err := bw.reg.Delete(bw.ctx, fs[j].Root, registry.DeleteOptions{Hard: true, Cascade: true, CascadeLimit: 20})
				must(b, err)
				if len(res.Deleted) != benchworld.CascadeVersions {
					b.Fatalf("cascade deleted %d, failed %v", len(res.Deleted), res.Failed)
				}
			},
			func(int) {})
	})
}

// subtreeSizes are the sizes of the subtrees BenchmarkRecursiveHardDelete
// deletes.
var subtreeSizes = []int{10_000, 100_000}

// BenchmarkRecursiveHardDelete hard deletes a containment subtree (a package
// of groups of model versions with lineage inside it and into it from world
// datasets) with Recursive, under the Restrict lineage check.
func BenchmarkRecursiveHardDelete(b *testing.B) {
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		for _, size := range subtreeSizes {
			b.Run("subtree="+benchworld.SizeLabel(size), func(b *testing.B) {
				b.ReportAllocs()
				var f benchworld.Fixture
				chunked(b, 1,
					func(int) {
						f = bw.w.NewSubtree(size)
						bw.loadFixture(b, f)
						f.Artifacts, f.Edges = nil, nil
						runtime.GC()
					},
					func(int) {
						res, err := bw.reg.Delete(bw.ctx, f.Root, registry.DeleteOptions{Hard: true, Recursive: true})
						must(b, err)
						if len(res.Deleted) != size {
							b.Fatalf("deleted %d of %d, failed %v", len(res.Deleted), size, res.Failed)
						}
					},
					func(int) {})
			})
		}
	})
}

// BenchmarkRestoreSubtree restores a soft-deleted subtree of 10k artifacts
// (root, groups, model versions) that one recursive soft delete took;
// untimed, the subtree is soft deleted again.
func BenchmarkRestoreSubtree(b *testing.B) {
	const size = 10_000
	forSizes(b, func(b *testing.B, bw *benchWorld) {
		b.Run("subtree="+benchworld.SizeLabel(size), func(b *testing.B) {
			b.ReportAllocs()
			f := bw.w.NewSubtree(size)
			bw.loadFixture(b, f)
			chunked(b, 1,
				func(int) {
					res, err := bw.reg.Delete(bw.ctx, f.Root, registry.DeleteOptions{Recursive: true})
					must(b, err)
					if len(res.Deleted) != size {
						b.Fatalf("soft deleted %d of %d", len(res.Deleted), size)
					}
				},
				func(int) {
					_, err := bw.reg.Restore(bw.ctx, f.Root)
					must(b, err)
				},
				func(int) {})
			_, err := bw.reg.Delete(bw.ctx, f.Root, registry.DeleteOptions{Hard: true, Recursive: true})
			must(b, err)
		})
	})
}

// BenchmarkMemory builds a world in a fresh registry and reports the heap
// it holds after a garbage collection, per artifact (B/artifact, lineage
// edges and indexes included). ns/op is the time to build the world.
func BenchmarkMemory(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run("n="+benchworld.SizeLabel(n), func(b *testing.B) {
			w := benchworld.New(n, benchworld.Chain)
			var perArtifact float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				reg, err := registry.New()
				must(b, err)
				must(b, w.Load(regLoader{reg, benchCtx}))
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				perArtifact = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
				runtime.KeepAlive(reg)
				b.StartTimer()
			}
			b.ReportMetric(perArtifact, "B/artifact")
		})
	}
}

// fanInSizes are the numbers of upstreams BenchmarkLinkFanIn links into one
// artifact.
var fanInSizes = []int{10_000, 20_000, 100_000}

// fanInWorld registers a downstream model and n upstream datasets in a fresh
// registry and returns it with the IDs, upstreams in a shuffled order, so
// that links land all over the downstream's upstream set.
func fanInWorld(b *testing.B, n int) (reg *registry.Registry, down string, ups []string) {
	b.Helper()
	reg, err := registry.New()
	must(b, err)
	arts := make([]registry.Artifact, 0, benchworld.BatchSize)
	flush := func() {
		got, err := reg.RegisterBatch(benchCtx, arts)
		must(b, err)
		for _, a := range got {
			ups = append(ups, a.ID)
		}
		arts = arts[:0]
	}
	for i := range n {
		arts = append(arts, registry.Artifact{Kind: registry.KindDataset, Namespace: "fanin", Name: fmt.Sprintf("ds-%06d", i), Version: "1"})
		if len(arts) == cap(arts) {
			flush()
		}
	}
	if len(arts) > 0 {
		flush()
	}
	m, err := reg.Register(benchCtx, registry.Artifact{Kind: registry.KindModel, Namespace: "fanin", Name: "model", Version: "1"})
	must(b, err)
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	rng.Shuffle(len(ups), func(i, j int) { ups[i], ups[j] = ups[j], ups[i] })
	return reg, m.ID, ups
}

// BenchmarkLinkFanIn links n upstreams, one Link call each, into a single
// artifact of a fresh registry (untimed: registering them); ns/link must not
// grow with n.
func BenchmarkLinkFanIn(b *testing.B) {
	for _, n := range fanInSizes {
		b.Run("fanin="+benchworld.SizeLabel(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				reg, down, ups := fanInWorld(b, n)
				b.StartTimer()
				for _, u := range ups {
					must(b, reg.Link(benchCtx, u, down))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/link")
		})
	}
}

// BenchmarkCheckFanIn runs Check on a registry where one artifact has n
// upstreams (n+1 artifacts, n edges).
func BenchmarkCheckFanIn(b *testing.B) {
	for _, n := range fanInSizes {
		b.Run("fanin="+benchworld.SizeLabel(n), func(b *testing.B) {
			reg, down, ups := fanInWorld(b, n)
			for _, u := range ups {
				must(b, reg.Link(benchCtx, u, down))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				must(b, reg.Check())
			}
		})
	}
}
