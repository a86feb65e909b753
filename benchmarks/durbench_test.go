package benchmarks

import (
	"context"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// durableStores are the stores of BenchmarkDurable: the durable ones and
// the in-memory registry, the embedded baseline.
var durableStores = append(slices.Clone(DurableStoreNames), "sqlite-mattn-wal-pool", "registry")

// BenchmarkDurable runs every durability operation with 1, 8 and 64
// concurrent writers on every durable store and on the in-memory registry,
// on a world of 10k artifacts (BENCH_SIZE overrides it), as cmd/durable
// does but through go test, for profiling:
//
//	go test -run '^$' -bench 'Durable/Register/registry-raft/writers=64' -cpuprofile cpu.prof
func BenchmarkDurable(b *testing.B) {
	n := benchSize(b)
	w := benchworld.New(n, benchworld.Chain)
	envs := map[string]*Env{}
	var dirs []string
	b.Cleanup(func() {
		for _, e := range envs {
			e.S.Close()
		}
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	})
	for _, op := range DurableOps {
		b.Run(op.Name, func(b *testing.B) {
			for _, name := range durableStores {
				for _, writers := range WriterCounts {
					b.Run(name+"/writers="+itoa(int64(writers)), func(b *testing.B) {
						e, ok := envs[name]
						if !ok {
							var err error
							// The directory outlives this sub-benchmark:
							// the store serves every operation.
							dir, err := os.MkdirTemp("", "durbench-")
							require.NoError(b, err)
							dirs = append(dirs, dir)
							e, err = LoadDurable(name, dir, w)
							require.NoError(b, err)
							envs[name] = e
						}
						op.Run(b, e, writers)
					})
				}
			}
		})
	}
}

// BenchmarkRecovery restarts every durable store on a world of 10k and
// 100k artifacts (1M too with BENCH_1M=1) and reports the bytes it keeps
// on disk per artifact.
func BenchmarkRecovery(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if os.Getenv("BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		w := benchworld.New(n, benchworld.Chain)
		b.Run(benchworld.SizeLabel(n), func(b *testing.B) {
			for _, name := range DurableStoreNames {
				b.Run(name, func(b *testing.B) {
					disk, err := Prepare(name, b.TempDir(), w)
					require.NoError(b, err)
					b.ResetTimer()
					Recover(b, name, disk, w)
					b.ReportMetric(float64(disk.Bytes)/float64(n), "disk-B/artifact")
				})
			}
		})
	}
}

func benchSize(b *testing.B) int {
	if s := os.Getenv("BENCH_SIZE"); s != "" {
		n, err := atoi(s)
		require.NoError(b, err)
		return n
	}
	return 10_000
}

// TestDurableSQLite checks what the durable SQLite stores promise: WAL
// mode and synchronous=FULL on every connection of the pool, not only the
// first, and the temporary plan table a recursive delete needs on each.
func TestDurableSQLite(t *testing.T) {
	for name := range durableDrivers {
		t.Run(name, func(t *testing.T) {
			s, err := OpenSQLiteFile(name, t.TempDir())
			require.NoError(t, err)
			defer s.Close()
			ctx := context.Background()
			var conns []interface{ Close() error }
			for range 3 {
				c, err := s.db.Conn(ctx)
				require.NoError(t, err)
				conns = append(conns, c)
				var mode string
				var sync int
				require.NoError(t, c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode))
				require.NoError(t, c.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync))
				assert.Equal(t, "wal", mode)
				assert.Equal(t, 2, sync, "synchronous=FULL")
				_, err = c.ExecContext(ctx, `DELETE FROM temp.plan`)
				assert.NoError(t, err)
			}
			for _, c := range conns {
				c.Close()
			}
		})
	}
}

// TestDurableRestart writes to every durable store, closes it, reopens it
// on the same directory and finds each write: what the recovery benchmark
// times.
func TestDurableRestart(t *testing.T) {
	w := benchworld.New(410, benchworld.Chain)
	for _, name := range DurableStoreNames {
		t.Run(name, func(t *testing.T) {
			disk, err := Prepare(name, t.TempDir(), w)
			require.NoError(t, err)
			assert.Positive(t, disk.Bytes)
			s, err := OpenDurable(name, disk.Dir)
			require.NoError(t, err)
			a := w.NewVersion()
			require.NoError(t, s.Register(Ctx, a))
			gone := w.Target(1)
			_, err = s.SoftDelete(Ctx, gone, false)
			require.NoError(t, err)
			require.NoError(t, s.Close())

			s, err = OpenDurable(name, disk.Dir)
			require.NoError(t, err)
			defer s.Close()
			for _, i := range []int{0, 1, 2, 40, w.N - 1} {
				_, err := s.Get(Ctx, w.ID(i))
				assert.NoError(t, err, "world artifact %d", i)
			}
			_, err = s.Get(Ctx, a.ID)
			assert.NoError(t, err, "registered after the load")
			_, err = s.Get(Ctx, gone)
			assert.ErrorIs(t, err, registry.ErrNotFound, "soft deleted after the load")
		})
	}
}

// TestLatencies checks the percentiles the durability benchmarks report.
func TestLatencies(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i
	}
	for _, c := range []struct {
		name     string
		d        []time.Duration
		p50, p99 time.Duration
	}{
		{"none", nil, 0, 0},
		{"one", ms(7), 7 * time.Millisecond, 7 * time.Millisecond},
		{"unsorted", ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond},
		{"hundred", ms(hundred...), 50 * time.Millisecond, 99 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := &Latencies{d: slices.Clone(c.d)}
			l.n.Store(int64(len(c.d)))
			assert.Equal(t, c.p50, l.Percentile(50))
			assert.Equal(t, c.p99, l.Percentile(99))
		})
	}
}

// TestParallel checks that Parallel runs every index once and returns the
// first error.
func TestParallel(t *testing.T) {
	for _, c := range []struct {
		name       string
		writers, n int
		failAt     int // -1: none
	}{
		{"one writer", 1, 50, -1},
		{"more writers than work", 64, 10, -1},
		{"no work", 8, 0, -1},
		{"an error", 8, 100, 37},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := make([]atomic.Int32, c.n)
			err := Parallel(c.writers, c.n, func(j int) error {
				seen[j].Add(1)
				if j == c.failAt {
					return os.ErrInvalid
				}
				return nil
			})
			if c.failAt >= 0 {
				assert.ErrorIs(t, err, os.ErrInvalid)
				return
			}
			require.NoError(t, err)
			for j := range seen {
				assert.EqualValues(t, 1, seen[j].Load(), "index %d", j)
			}
		})
	}
}
