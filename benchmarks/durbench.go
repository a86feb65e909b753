package benchmarks

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// The durability benchmarks: writes from 1, 8 and 64 concurrent writers on
// the durable stores (durable.go), each call's latency measured, and the
// time a durable store takes to restart on a world.

// WriterCounts are the numbers of concurrent writers the durability
// benchmarks run.
var WriterCounts = []int{1, 8, MaxWriters}

// DurableOp is one operation of the durability benchmarks.
type DurableOp struct {
	Name string
	// Desc says what one op is, for the table's legend.
	Desc string
	// Writes is how many write calls one op makes.
	Writes int
	Run    func(b *testing.B, e *Env, writers int)
}

// DurableOps are the operations of the durability benchmarks, in table
// order.
var DurableOps = []DurableOp{
	{Name: "Register", Writes: 1, Desc: "register one artifact", Run: durRegister},
	{Name: "SoftDeleteRestore", Writes: 2, Desc: "soft delete one artifact, then restore it (two writes)", Run: durSoftDeleteRestore},
	{Name: "HardDelete", Writes: 1, Desc: "hard delete one artifact with the lineage (Restrict) check", Run: durHardDelete},
}

// DurableOpByName returns the named durability operation.
func DurableOpByName(name string) (DurableOp, bool) {
	for _, op := range DurableOps {
		if op.Name == name {
			return op, true
		}
	}
	return DurableOp{}, false
}

// Latencies records the latency of every write call of a benchmark, from
// any goroutine.
type Latencies struct {
	d []time.Duration
	n atomic.Int64
}

// Do calls fn and records its latency; it reports fn's error to b.
func (l *Latencies) Do(b *testing.B, fn func() error) bool {
	t0 := time.Now()
	err := fn()
	d := time.Since(t0)
	if err != nil {
		b.Error(err)
		return false
	}
	if i := l.n.Add(1) - 1; int(i) < len(l.d) {
		l.d[i] = d
	}
	return true
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of the recorded
// latencies: the smallest that at least p% of the calls did not exceed.
func (l *Latencies) Percentile(p float64) time.Duration {
	d := l.sorted()
	if len(d) == 0 {
		return 0
	}
	k := int(float64(len(d))*p/100+0.999999) - 1
	return d[min(max(k, 0), len(d)-1)]
}

func (l *Latencies) sorted() []time.Duration {
	d := l.d[:min(int(l.n.Load()), len(l.d))]
	if !slices.IsSorted(d) {
		slices.Sort(d)
	}
	return d
}

// Concurrent runs b.N timed ops in chunks of at most c: untimed, prep sets
// up n targets; timed, writers goroutines take the targets j (0 ≤ j < n)
// in turn and run op on each, op timing its write calls with lat; untimed,
// undo takes back what the chunk did. It reports, besides cpu-ns/op, ops/s
// (write calls per second of the timed wall time) and the p50 and p99
// latency of a write call in µs.
func Concurrent(b *testing.B, writers, writesPerOp, c int, prep func(n int), op func(j int, lat *Latencies) bool, undo func(n int)) {
	b.Helper()
	lat := &Latencies{d: make([]time.Duration, b.N*writesPerOp)}
	t := StartTimer(b)
	for done := 0; done < b.N && !b.Failed(); {
		n := min(c, b.N-done)
		t.Stop()
		prep(n)
		t.Start()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range min(writers, n) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := int(next.Add(1)) - 1; j < n; j = int(next.Add(1)) - 1 {
					if !op(j, lat) {
						return
					}
				}
			}()
		}
		wg.Wait()
		t.Stop()
		undo(n)
		t.Start()
		done += n
	}
	t.Done()
	if el := b.Elapsed(); el > 0 && b.N > 0 {
		b.ReportMetric(float64(lat.n.Load())/el.Seconds(), "ops/s")
		b.ReportMetric(float64(lat.Percentile(50).Nanoseconds())/1e3, "p50-µs")
		b.ReportMetric(float64(lat.Percentile(99).Nanoseconds())/1e3, "p99-µs")
	}
}

// Parallel runs fn(j) for every j < n from up to writers goroutines and
// returns the first error.
func Parallel(writers, n int, fn func(j int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range min(writers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := int(next.Add(1)) - 1; j < n; j = int(next.Add(1)) - 1 {
				if err := fn(j); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// durChunk is the chunk of a durability benchmark with writers writers:
// large enough that the writers seldom wait for each other's last calls of a
// chunk, small enough (at most 1,024 fresh artifacts) that a 10k world hardly
// changes size.
func durChunk(writers int) int { return max(Chunk, 16*writers) }

func durRegister(b *testing.B, e *Env, writers int) {
	c := durChunk(writers)
	arts := make([]registry.Artifact, c)
	Concurrent(b, writers, 1, c,
		func(n int) {
			for j := range n {
				arts[j] = e.W.NewVersion()
			}
		},
		func(j int, lat *Latencies) bool {
			return lat.Do(b, func() error { return e.S.Register(Ctx, arts[j]) })
		},
		func(n int) {
			must(b, Parallel(writers, n, func(j int) error {
				_, err := e.S.HardDelete(Ctx, arts[j].ID, false)
				return err
			}))
		})
}

// durSoftDeleteRestore soft deletes and restores the newest versions of
// the world's models, round robin: a chunk takes at most one per model, so
// that no two writers take the same artifact.
func durSoftDeleteRestore(b *testing.B, e *Env, writers int) {
	c := min(durChunk(writers), max(1, e.W.Models()))
	ids := make([]string, c)
	Concurrent(b, writers, 2, c,
		func(n int) { e.targets(ids[:n]) },
		func(j int, lat *Latencies) bool {
			return lat.Do(b, func() error {
				_, err := e.S.SoftDelete(Ctx, ids[j], false)
				return err
			}) && lat.Do(b, func() error { return e.S.Restore(Ctx, ids[j]) })
		},
		func(int) {})
}

func durHardDelete(b *testing.B, e *Env, writers int) {
	c := durChunk(writers)
	ids := make([]string, c)
	batch := make([]registry.Artifact, 0, c)
	edges := make([][2]string, 0, c)
	Concurrent(b, writers, 1, c,
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
		func(j int, lat *Latencies) bool {
			return lat.Do(b, func() error {
				_, err := e.S.HardDelete(Ctx, ids[j], false)
				return err
			})
		},
		func(int) {})
}

// LoadDurable opens the named durable store on dir (empty) and loads the
// world into it; "registry" is the in-memory registry, the embedded
// baseline, which ignores dir.
func LoadDurable(name, dir string, w *benchworld.World) (*Env, error) {
	var s Store
	var err error
	if name == "registry" {
		s, err = NewRegistryStore()
	} else {
		s, err = OpenDurable(name, dir)
	}
	if err != nil {
		return nil, err
	}
	if err := w.Load(loader{Ctx, s}); err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Env{S: s, W: w}, nil
}

// Disk is what a durable store left on disk once a world was loaded and
// the store closed.
type Disk struct {
	Dir string
	// Bytes is the size of every file under Dir.
	Bytes int64
	// Load is the time the world (and the tail) took to load.
	Load time.Duration
	// Snapshot says how the store's snapshot went: "taken", the error, or
	// "" for a store without snapshots.
	Snapshot string
}

// snapshotter is a durable store that can compact its log into a snapshot.
type snapshotter interface{ Snapshot() error }

// TailFraction is the part of the world Prepare writes after the
// snapshot, one write per artifact: the log tail a restart replays.
const TailFraction = 100

// Prepare loads the world into the named durable store on dir (empty),
// takes a snapshot if the store has them, registers a tail of N/100 fresh
// artifacts one call each (from MaxWriters writers), then closes the store:
// dir then holds what a restart recovers, a snapshot and a log tail.
func Prepare(name, dir string, w *benchworld.World) (Disk, error) {
	t0 := time.Now()
	env, err := LoadDurable(name, dir, w)
	if err != nil {
		return Disk{}, err
	}
	d := Disk{Dir: dir}
	if s, ok := env.S.(snapshotter); ok {
		d.Snapshot = "taken"
		if err := s.Snapshot(); err != nil {
			d.Snapshot = err.Error()
		}
	}
	tail := make([]registry.Artifact, w.N/TailFraction)
	for i := range tail {
		tail[i] = w.NewVersion()
	}
	if err := Parallel(MaxWriters, len(tail), func(j int) error { return env.S.Register(Ctx, tail[j]) }); err != nil {
		env.S.Close()
		return Disk{}, err
	}
	d.Load = time.Since(t0)
	if err := env.S.Close(); err != nil {
		return Disk{}, err
	}
	d.Bytes, err = DirBytes(dir)
	return d, err
}

// Recover times b.N restarts of the named durable store on the directory
// Prepare filled with w: open the store, then read one artifact of the
// world (SQLite reads its schema on the first query; the registry must
// have restored its state before it answers). It reports the seconds of
// one restart (s/op).
func Recover(b *testing.B, name string, disk Disk, w *benchworld.World) {
	id := w.Sample[0].ID
	t := StartTimer(b)
	for range b.N {
		s, err := OpenDurable(name, disk.Dir)
		must(b, err)
		_, err = s.Get(Ctx, id)
		t.Stop()
		must(b, err)
		must(b, s.Close())
		t.Start()
	}
	t.Done()
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/op")
}
