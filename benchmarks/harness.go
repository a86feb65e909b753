package benchmarks

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// StoreNames lists the stores compared, the registry first.
var StoreNames = []string{"registry", "sqlite-mattn", "sqlite-modernc", "map"}

// OpenStore returns an empty store by name.
func OpenStore(name string) (Store, error) {
	switch name {
	case "registry":
		return NewRegistryStore()
	case "map":
		return NewMapStore(), nil
	}
	return OpenSQLite(name)
}

// Ctx is the context every benchmark call runs with.
var Ctx = registry.WithPrincipal(context.Background(), "bench")

// Env is a store loaded with a world.
type Env struct {
	S Store
	W *benchworld.World
	k int // round-robin counter over the world's targets
}

// Load opens the named store and loads the world into it.
func Load(name string, w *benchworld.World) (*Env, error) {
	s, err := OpenStore(name)
	if err != nil {
		return nil, err
	}
	if err := w.Load(loader{Ctx, s}); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Env{S: s, W: w}, nil
}

// LoadFixture adds a fixture's artifacts and edges to the store.
func (e *Env) LoadFixture(f benchworld.Fixture) error {
	for i := 0; i < len(f.Artifacts); i += benchworld.BatchSize {
		if err := e.S.RegisterBatch(Ctx, f.Artifacts[i:min(i+benchworld.BatchSize, len(f.Artifacts))]); err != nil {
			return err
		}
	}
	for i := 0; i < len(f.Edges); i += benchworld.BatchSize {
		if err := e.S.LinkBatch(Ctx, f.Edges[i:min(i+benchworld.BatchSize, len(f.Edges))]); err != nil {
			return err
		}
	}
	return nil
}

// Op is one benchmarked operation.
type Op struct {
	Name string
	// Single marks single-artifact operations, whose cost at 1M must be at
	// most twice their cost at 10k.
	Single bool
	// Desc says what one op is, for the table's legend.
	Desc string
	// Heavy marks operations of 10k artifacts or more, run fewer times.
	Heavy bool
	Run   func(b *testing.B, e *Env)
}

// Chunk is how many single-artifact targets a chunk prepares: 1% of a 10k
// world, so that the world hardly changes size while a chunk runs.
const Chunk = 100

// RegisterBatchSize is the batch of the RegisterBatch operation.
const RegisterBatchSize = 100

// Timer pairs the benchmark's wall-clock timer with the process's CPU
// time, so that every benchmark also reports cpu-ns/op: the CPU time of
// the whole process (every thread, the garbage collector included) per
// operation while the timer runs. On a shared machine whose other tenants
// keep the cores busy, wall time mostly measures waiting for a core; CPU
// time measures the work.
type Timer struct {
	b      *testing.B
	cpu    time.Duration
	t0     time.Duration
	on     bool
	closed bool
}

// StartTimer resets b's timer and starts both clocks.
func StartTimer(b *testing.B) *Timer {
	t := &Timer{b: b}
	b.ResetTimer()
	t.t0, t.on = cpuNow(), true
	return t
}

// Stop stops both clocks.
func (t *Timer) Stop() {
	if t.on {
		t.b.StopTimer()
		t.cpu += cpuNow() - t.t0
		t.on = false
	}
}

// Start restarts both clocks.
func (t *Timer) Start() {
	if !t.on {
		t.t0, t.on = cpuNow(), true
		t.b.StartTimer()
	}
}

// Done stops the clocks and reports cpu-ns/op.
func (t *Timer) Done() {
	t.Stop()
	if !t.closed && t.b.N > 0 {
		t.b.ReportMetric(float64(t.cpu.Nanoseconds())/float64(t.b.N), "cpu-ns/op")
	}
	t.closed = true
}

func cpuNow() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Chunked runs b.N timed operations in chunks of at most c: untimed, prep
// sets up n targets; timed, op runs on target j (0 ≤ j < n); untimed, undo
// takes back what the chunk did.
func Chunked(b *testing.B, c int, prep func(n int), op func(j int), undo func(n int)) {
	b.Helper()
	t := StartTimer(b)
	for done := 0; done < b.N; {
		n := min(c, b.N-done)
		t.Stop()
		prep(n)
		t.Start()
		for j := range n {
			op(j)
		}
		t.Stop()
		undo(n)
		t.Start()
		done += n
	}
	t.Done()
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func (e *Env) hardDelete(b *testing.B, ids ...string) {
	for _, id := range ids {
		_, err := e.S.HardDelete(Ctx, id, false)
		must(b, err)
	}
}

func (e *Env) targets(ids []string) {
	for j := range ids {
		e.k++
		ids[j] = e.W.Target(e.k)
	}
}

// Ops are the operations compared, in table order.
var Ops = []Op{
	{Name: "Register", Single: true, Desc: "register one artifact, one transaction", Run: benchRegister},
	{Name: "RegisterBatch100", Desc: "register 100 artifacts in one call (per batch)", Run: benchRegisterBatch},
	{Name: "RegisterConcurrent8", Desc: "register one artifact per call from 8 goroutines (wall time per call)", Run: benchRegisterConcurrent(8)},
	{Name: "RegisterConcurrent64", Desc: "register one artifact per call from 64 goroutines (wall time per call)", Run: benchRegisterConcurrent(64)},
	{Name: "Get", Single: true, Desc: "read one artifact by ID", Run: benchGet},
	{Name: "GetParallel", Desc: "Get from GOMAXPROCS goroutines (wall time per read)", Run: benchGetParallel},
	{Name: "GetByFQN", Single: true, Desc: "read one artifact by FQN", Run: benchGetByFQN},
	{Name: "GetVersion", Single: true, Desc: "read one artifact by namespace, name, version", Run: benchGetVersion},
	{Name: "List100", Desc: "first page of 100 live artifacts of a namespace", Run: benchList},
	{Name: "SoftDelete", Single: true, Desc: "soft delete one artifact", Run: benchSoftDelete},
	{Name: "Restore", Single: true, Desc: "restore one soft-deleted artifact", Run: benchRestore},
	{Name: "HardDelete", Single: true, Desc: "hard delete one artifact with the lineage (Restrict) check", Run: benchHardDelete},
	{Name: "Cascade20", Desc: "hard delete a version and its 19 other versions, lineage checked", Run: benchCascade},
	{Name: "RecursiveHardDelete10k", Desc: "hard delete a 10k-artifact subtree", Heavy: true, Run: benchRecursive(10_000)},
	{Name: "RecursiveHardDelete100k", Desc: "hard delete a 100k-artifact subtree", Heavy: true, Run: benchRecursive(100_000)},
	{Name: "RestoreSubtree10k", Desc: "restore a 10k-artifact subtree one recursive soft delete took", Heavy: true, Run: benchRestoreSubtree(10_000)},
}

// OpByName returns the named operation.
func OpByName(name string) (Op, bool) {
	for _, op := range Ops {
		if op.Name == name {
			return op, true
		}
	}
	return Op{}, false
}

func benchRegister(b *testing.B, e *Env) {
	arts := make([]registry.Artifact, Chunk)
	Chunked(b, Chunk,
		func(n int) {
			for j := range n {
				arts[j] = e.W.NewVersion()
			}
		},
		func(j int) { must(b, e.S.Register(Ctx, arts[j])) },
		func(n int) {
			for j := range n {
				e.hardDelete(b, arts[j].ID)
			}
		})
}

func benchRegisterBatch(b *testing.B, e *Env) {
	arts := make([]registry.Artifact, RegisterBatchSize)
	Chunked(b, 1,
		func(int) {
			for j := range arts {
				arts[j] = e.W.NewVersion()
			}
		},
		func(int) { must(b, e.S.RegisterBatch(Ctx, arts)) },
		func(int) {
			for _, a := range arts {
				e.hardDelete(b, a.ID)
			}
		})
}

// benchRegisterConcurrent registers one artifact per call from writers
// goroutines at once: ns/op is the wall time per call, so throughput is
// 1e9/ns. The registry applies concurrent registrations in groups (group
// commit); SQLite serializes its writers on its own lock.
func benchRegisterConcurrent(writers int) func(b *testing.B, e *Env) {
	return func(b *testing.B, e *Env) {
		const perChunk = 4 * Chunk
		arts := make([]registry.Artifact, perChunk)
		t := StartTimer(b)
		for done := 0; done < b.N; {
			n := min(perChunk, b.N-done)
			t.Stop()
			for j := range n {
				arts[j] = e.W.NewVersion()
			}
			t.Start()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
						if err := e.S.Register(Ctx, arts[i]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			t.Stop()
			for j := range n {
				e.hardDelete(b, arts[j].ID)
			}
			t.Start()
			done += n
		}
		t.Done()
	}
}

func benchGet(b *testing.B, e *Env) {
	s := e.W.Sample
	t := StartTimer(b)
	defer t.Done()
	for i := 0; i < b.N; i++ {
		_, err := e.S.Get(Ctx, s[i%len(s)].ID)
		must(b, err)
	}
}

func benchGetParallel(b *testing.B, e *Env) {
	s := e.W.Sample
	var seed atomic.Int64
	t := StartTimer(b)
	defer t.Done()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(997))
		for pb.Next() {
			i++
			if _, err := e.S.Get(Ctx, s[i%len(s)].ID); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchGetByFQN(b *testing.B, e *Env) {
	s := e.W.Sample
	t := StartTimer(b)
	defer t.Done()
	for i := 0; i < b.N; i++ {
		_, err := e.S.GetByFQN(Ctx, s[i%len(s)].FQN)
		must(b, err)
	}
}

func benchGetVersion(b *testing.B, e *Env) {
	s := e.W.Sample
	t := StartTimer(b)
	defer t.Done()
	for i := 0; i < b.N; i++ {
		k := &s[i%len(s)]
		_, err := e.S.GetVersion(Ctx, k.Namespace, k.Name, k.Version)
		must(b, err)
	}
}

func benchList(b *testing.B, e *Env) {
	t := StartTimer(b)
	defer t.Done()
	for i := 0; i < b.N; i++ {
		page, err := e.S.List(Ctx, benchworld.Namespace(i), 100)
		must(b, err)
		if len(page) != 100 {
			b.Fatalf("%s: page of %d", e.S.Name(), len(page))
		}
	}
}

func benchSoftDelete(b *testing.B, e *Env) {
	ids := make([]string, Chunk)
	Chunked(b, Chunk,
		func(n int) { e.targets(ids[:n]) },
		func(j int) {
			_, err := e.S.SoftDelete(Ctx, ids[j], false)
			must(b, err)
		},
		func(n int) {
			for _, id := range ids[:n] {
				must(b, e.S.Restore(Ctx, id))
			}
		})
}

func benchRestore(b *testing.B, e *Env) {
	ids := make([]string, Chunk)
	Chunked(b, Chunk,
		func(n int) {
			e.targets(ids[:n])
			for _, id := range ids[:n] {
				_, err := e.S.SoftDelete(Ctx, id, false)
				must(b, err)
			}
		},
		func(j int) { must(b, e.S.Restore(Ctx, ids[j])) },
		func(int) {})
}

func benchHardDelete(b *testing.B, e *Env) {
	ids := make([]string, Chunk)
	batch := make([]registry.Artifact, 0, Chunk)
	edges := make([][2]string, 0, Chunk)
	Chunked(b, Chunk,
		func(n int) {
			batch, edges = batch[:0], edges[:0]
			for j := range n {
				l := e.W.NewLeaf(j)
				ids[j] = l.Artifact.ID
				batch = append(batch, l.Artifact)
				edges = append(edges, [2]string{l.Upstream, l.Artifact.ID})
			}
			must(b, e.S.RegisterBatch(Ctx, batch))
			must(b, e.S.LinkBatch(Ctx, edges))
		},
		func(j int) {
			_, err := e.S.HardDelete(Ctx, ids[j], false)
			must(b, err)
		},
		func(int) {})
}

// CascadeChunk is how many cascade fixtures (of 20 versions) a chunk adds.
const CascadeChunk = 5

func benchCascade(b *testing.B, e *Env) {
	fs := make([]benchworld.Fixture, CascadeChunk)
	Chunked(b, CascadeChunk,
		func(n int) {
			for j := range n {
				fs[j] = e.W.NewCascade()
				must(b, e.LoadFixture(fs[j]))
			}
		},
		func(j int) {
			o, err := e.S.CascadeDelete(Ctx, fs[j].Root, benchworld.CascadeVersions)
			must(b, err)
			if o.Deleted != benchworld.CascadeVersions {
				b.Fatalf("%s: cascade %+v", e.S.Name(), o)
			}
		},
		func(int) {})
}

func benchRecursive(size int) func(b *testing.B, e *Env) {
	return func(b *testing.B, e *Env) {
		var root string
		Chunked(b, 1,
			func(int) {
				f := e.W.NewSubtree(size)
				must(b, e.LoadFixture(f))
				root = f.Root
				f = benchworld.Fixture{}
				runtime.GC()
			},
			func(int) {
				o, err := e.S.HardDelete(Ctx, root, true)
				must(b, err)
				if o.Deleted != size || o.Failed != 0 {
					b.Fatalf("%s: recursive delete %+v", e.S.Name(), o)
				}
			},
			func(int) {})
	}
}

func benchRestoreSubtree(size int) func(b *testing.B, e *Env) {
	return func(b *testing.B, e *Env) {
		f := e.W.NewSubtree(size)
		must(b, e.LoadFixture(f))
		Chunked(b, 1,
			func(int) {
				o, err := e.S.SoftDelete(Ctx, f.Root, true)
				must(b, err)
				if o.Deleted != size {
					b.Fatalf("%s: recursive soft delete %+v", e.S.Name(), o)
				}
			},
			func(int) { must(b, e.S.Restore(Ctx, f.Root)) },
			func(int) {})
		_, err := e.S.HardDelete(Ctx, f.Root, true)
		must(b, err)
	}
}

// HeapPerArtifact loads the world into a fresh store and returns the Go
// heap it holds per artifact after a garbage collection, and its footprint
// outside the Go heap per artifact; the store stays loaded in env.
func HeapPerArtifact(name string, w *benchworld.World) (env *Env, heap, outside float64, err error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	env, err = Load(name, w)
	if err != nil {
		return nil, 0, 0, err
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	fp, err := env.S.Footprint(Ctx)
	if err != nil {
		return nil, 0, 0, err
	}
	return env, float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(w.N), float64(fp) / float64(w.N), nil
}

// loader adapts a Store to benchworld.Loader.
type loader struct {
	ctx context.Context
	s   Store
}

func (l loader) RegisterBatch(b []registry.Artifact) error { return l.s.RegisterBatch(l.ctx, b) }
func (l loader) LinkBatch(e [][2]string) error             { return l.s.LinkBatch(l.ctx, e) }
