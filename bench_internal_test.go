package registry

import (
	"bytes"
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/dominikbraun/graph"
	"github.com/hashicorp/go-memdb"
)

// These benchmarks keep the evidence for two design decisions of the
// planner: they compare what the registry does with what it avoids.

// BenchmarkLargeTransaction deletes 100k rows of a 200k-row table in one
// transaction, on a database that tracks mutations (go-memdb's default) and
// on the untracked snapshot the registry runs on, in the order a tree walk
// gives and in key order. Past 8192 changed nodes a tracking transaction
// walks every index whole at commit; out-of-order writes miss the write
// cache of go-immutable-radix and copy their paths again.
func BenchmarkLargeTransaction(b *testing.B) {
	const rows, doomed = 200000, 100000
	for _, tracked := range []bool{true, false} {
		for _, sorted := range []bool{false, true} {
			name := fmt.Sprintf("tracked=%t/keyOrder=%t", tracked, sorted)
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					db, recs := benchLargeDB(b, rows, tracked)
					victims := slices.Clone(recs[:doomed])
					rand.New(rand.NewSource(1)).Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
					b.StartTimer()
					if sorted {
						keys := make(map[*record][]byte, len(victims))
						for _, v := range victims {
							keys[v] = idKey(v.ID)
						}
						slices.SortFunc(victims, func(x, y *record) int { return bytes.Compare(keys[x], keys[y]) })
					}
					txn := db.Txn(true)
					for _, r := range victims {
						if err := txn.Delete(tableArtifacts, r); err != nil {
							b.Fatal(err)
						}
					}
					txn.Commit()
				}
			})
		}
	}
}

func benchLargeDB(b *testing.B, n int, tracked bool) (*memdb.MemDB, []*record) {
	db, err := memdb.NewMemDB(newSchema())
	if err != nil {
		b.Fatal(err)
	}
	if !tracked {
		db = db.Snapshot()
	}
	recs := make([]*record, n)
	txn := db.Txn(true)
	for i := range recs {
		recs[i] = benchRecord(fmt.Sprint("m", i))
		if err := txn.Insert(tableArtifacts, recs[i]); err != nil {
			b.Fatal(err)
		}
	}
	txn.Commit()
	return db, recs
}

// BenchmarkOrderPlan orders a plan (a containment tree with lineage edges
// between siblings) with the planner's linear post-order and with
// dominikbraun/graph's StableTopologicalSort, whose Kahn loop rescans the
// whole predecessor map for every vertex.
func BenchmarkOrderPlan(b *testing.B) {
	for _, n := range []int{1000, 4000} {
		p := benchPlan(n)
		b.Run(fmt.Sprintf("planner/n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, x := range p.items {
					x.visit = 0
				}
				p.sort()
			}
		})
		b.Run(fmt.Sprintf("graph.StableTopologicalSort/n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				g := graph.New(graph.StringHash, graph.Directed())
				for _, x := range p.items {
					_ = g.AddVertex(x.a.ID)
				}
				for _, x := range p.items {
					for _, c := range x.children {
						_ = g.AddEdge(c.a.ID, x.a.ID)
					}
					for _, d := range x.downs {
						_ = g.AddEdge(d.a.ID, x.a.ID)
					}
				}
				if _, err := graph.StableTopologicalSort(g, func(a, b string) bool { return a < b }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchPlan builds a plan of n items: a tree of fan-out 10 in which every
// item depends on its previous sibling through lineage.
func benchPlan(n int) *planner {
	p := &planner{byID: map[string]*item{}}
	var prev *item
	for i := 0; i < n; i++ {
		x := &item{a: &record{ID: newID()}}
		if i > 0 {
			parent := p.items[(i-1)/10]
			x.parent = parent
			parent.children = append(parent.children, x)
			if prev != nil && prev.parent == parent {
				prev.downs = append(prev.downs, x)
				x.ups = append(x.ups, prev)
			}
		}
		p.items = append(p.items, x)
		p.byID[x.a.ID] = x
		prev = x
	}
	p.roots = p.items[:1]
	return p
}

// BenchmarkMemdbFloor performs, on a bare go-memdb database with the
// registry's schema and a 10k-artifact world, exactly the tree operations
// a single Register and a single hard delete make (no validation, no
// planner, no events): the artifact's rows in its two indexes, its storage
// URI's bucket (where a hard delete leaves the URI pending cleanup), its
// lineage edge. That is what go-memdb itself costs, which no change to the
// registry's own code can go below.
func BenchmarkMemdbFloor(b *testing.B) {
	const n = 10000
	db, err := memdb.NewMemDB(newSchema())
	if err != nil {
		b.Fatal(err)
	}
	db = db.Snapshot()
	recs := make([]*record, n)
	txn := db.Txn(true)
	w := &writeTxn{Txn: txn}
	for i := range recs {
		recs[i] = benchRecord(fmt.Sprint("m", i))
		recs[i].setMetadata(&Artifact{StorageURIs: []string{fmt.Sprintf("s3://b/%d.zip", i)}})
	}
	if err := w.replaceAll(changesOf(recs, nil)); err != nil {
		b.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if err := txn.Insert(tableEdges, &Edge{Upstream: recs[i-1].ID, Downstream: recs[i].ID}); err != nil {
			b.Fatal(err)
		}
	}
	txn.Commit()
	b.Run("register", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			a := benchRecord(fmt.Sprint("new", i))
			a.setMetadata(&Artifact{StorageURIs: []string{fmt.Sprintf("s3://b/new/%d.zip", i)}})
			txn := db.Txn(true)
			w := &writeTxn{Txn: txn}
			if err := w.replaceAll([]change{{new: a}}); err != nil {
				b.Fatal(err)
			}
			txn.Commit()
		}
	})
	b.Run("hardDelete", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			a := recs[1+i%(n-1)]
			e, _ := db.Txn(false).First(tableEdges, indexID, edgeKey(recs[i%(n-1)].ID, a.ID))
			txn := db.Txn(true)
			w := &writeTxn{Txn: txn, op: "op", now: time.Now()}
			if err := w.replaceAll([]change{{old: a}}); err != nil {
				b.Fatal(err)
			}
			if e != nil {
				if err := txn.Delete(tableEdges, e); err != nil {
					b.Fatal(err)
				}
			}
			txn.Commit()
			b.StopTimer() // put it back, with its edge
			txn = db.Txn(true)
			w = &writeTxn{Txn: txn}
			if err := w.replaceAll([]change{{new: a}}); err != nil {
				b.Fatal(err)
			}
			if e != nil {
				_ = txn.Insert(tableEdges, e)
			}
			txn.Commit() // its URI is referenced again: no longer pending
			b.StartTimer()
		}
	})
}

func changesOf(news []*record, olds []*record) []change {
	out := make([]change, 0, len(news)+len(olds))
	for _, a := range news {
		out = append(out, change{new: a})
	}
	for _, a := range olds {
		out = append(out, change{old: a})
	}
	return out
}

// benchRecord is a live model of namespace svc, unversioned.
func benchRecord(name string) *record {
	a := &record{ID: newID(), kind: codeOf(KindModel), Revision: 1}
	a.setName("svc", name, "")
	return a
}
