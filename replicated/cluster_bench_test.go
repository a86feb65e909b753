package replicated_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// BenchmarkCluster measures, in one run, a 3-node cluster on raft's
// in-memory transport (each node's log fsync'd on its own disk) against one
// durable node and the embedded registry, all in this process:
//
//   - write/...: registrations with 1 and 16 writers: writes/s, µs per write
//     at one writer (its latency), and the cost against the embedded
//     registry and the single node run just before;
//
//   - read/nodes=N: Gets spread over N nodes' local registries, reads/s;
//     on one machine the nodes share its cores, so this shows what a node
//     adds, not what another machine would;
//
//   - failover: the leader is closed, the time until the next write is
//     accepted by the new leader (election timeout 200 ms here, against
//     50 ms in the tests, so that a loaded machine does not depose
//     leaders mid-run; 1 s by default).
//
//     go test -run '^$' -bench Cluster -benchtime 2000x ./replicated/
func BenchmarkCluster(b *testing.B) {
	art := func(i int) registry.Artifact {
		return registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: fmt.Sprint(i)}
	}
	run := func(b *testing.B, writers int, register func(i int) error) float64 {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		start := time.Now()
		for range writers {
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
		b.StopTimer()
		ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
		b.ReportMetric(1e9/ns, "writes/s")
		if writers == 1 {
			b.ReportMetric(ns/1e3, "µs/write")
		}
		return ns
	}
	var embedded float64
	node := map[int]float64{}
	b.Run("write/embedded", func(b *testing.B) {
		reg, err := registry.New()
		if err != nil {
			b.Fatal(err)
		}
		embedded = run(b, 1, func(i int) error { _, err := reg.Register(alice, art(i)); return err })
	})
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("write/node/writers=%d", writers), func(b *testing.B) {
			n := openNode(b, testConfig(b.TempDir()))
			ns := run(b, writers, func(i int) error { _, err := n.Register(alice, art(i)); return err })
			node[writers] = ns
			if embedded > 0 {
				b.ReportMetric(ns/embedded, "x-embedded")
			}
		})
		b.Run(fmt.Sprintf("write/cluster3/writers=%d", writers), func(b *testing.B) {
			c := newCluster(b, 3, benchTimeouts)
			// A loaded machine may depose a leader mid-run: follow it, as a
			// client would (a retry of a write that did commit is refused
			// as a duplicate, and counts).
			ns := run(b, writers, func(i int) error {
				err := c.write(func(n *replicated.Node) error { _, err := n.Register(alice, art(i)); return err })
				if registry.ErrorCode(err) == registry.CodeAlreadyExists {
					return nil
				}
				return err
			})
			if embedded > 0 {
				b.ReportMetric(ns/embedded, "x-embedded")
			}
			if node[writers] > 0 {
				b.ReportMetric(ns/node[writers], "x-node")
			}
		})
	}

	c := newCluster(b, 3, benchTimeouts)
	var ids []string
	for i := range 1000 {
		var a registry.Artifact
		if err := c.write(func(n *replicated.Node) (err error) { a, err = n.Register(alice, art(i)); return err }); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	c.converge()
	var one float64
	for _, nodes := range []int{1, 3} {
		b.Run(fmt.Sprintf("read/nodes=%d", nodes), func(b *testing.B) {
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for r := range 2 * nodes {
				reg := c.nodes[r%nodes].Registry()
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N)*readsPerOp {
							return
						}
						if _, err := reg.Get(alice, ids[int(i)%len(ids)]); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			ns := float64(time.Since(start).Nanoseconds()) / float64(b.N*readsPerOp)
			b.ReportMetric(1e9/ns, "reads/s")
			if nodes == 1 {
				one = ns
			} else if one > 0 {
				b.ReportMetric(one/ns, "x-reads-of-1-node")
			}
		})
	}

	b.Run("failover", func(b *testing.B) {
		var total time.Duration
		failovers := min(b.N, maxFailovers)
		for range failovers {
			li := c.leader()
			start := time.Now()
			c.kill(li)
			if err := c.write(func(n *replicated.Node) error {
				_, err := n.Register(alice, model(fmt.Sprint(time.Now().UnixNano())))
				return err
			}); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			b.StopTimer()
			c.start(li)
			c.converge()
			b.StartTimer()
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(failovers), "ms/failover")
	})
}

// readsPerOp is how many Gets one iteration of read/ makes, so that the
// readers' start-up does not weigh; maxFailovers caps failover/, which
// takes a few hundred milliseconds a round, whatever -benchtime says.
const (
	readsPerOp   = 100
	maxFailovers = 10
)

func benchTimeouts(c *replicated.Config) { c.ElectionTimeout = 200 * time.Millisecond }
