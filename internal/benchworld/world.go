// Package benchworld generates the deterministic worlds the benchmarks run
// on: the root package's benchmarks (bench_test.go) and the comparison
// module (benchmarks/) build exactly the same artifacts, lineage edges and
// benchmark targets from it, so that the registry, SQLite and the map floor
// are measured on the same data.
//
// A world of N artifacts is made of units of 41 artifacts: one dataset and
// four models of ten versions each, in one of ten namespaces. Every artifact
// carries typical metadata (display name, a description of about 100
// characters, algorithm, 2 tags, 1 owner, 2 labels, 1 storage URI). The
// lineage edges depend on the Edges shape: Chain (the default) links the
// dataset to version 1 of each model and each version to the next
// (v1 -> v2 -> ... -> v10), about one edge per artifact; Dense adds every
// edge v(i) -> v(j), i < j, and dataset -> every version, about 5.4 edges per
// artifact; None has no edges.
//
// Strings are built afresh every time an artifact is asked for, so a store
// that keeps an artifact owns its strings and a heap measurement counts them.
// IDs are time-ordered (version 7) UUIDs generated once per world, as the
// registry would assign them.
package benchworld

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/google/uuid"
	"github.com/modelreg/registry"
)

// Edges is the lineage shape of a world.
type Edges int

// Lineage shapes.
const (
	Chain Edges = iota // dataset -> v1, v(k) -> v(k+1): about one edge per artifact
	None               // no edges at all
	Dense              // every v(i) -> v(j) with i < j, dataset -> every version
)

// SizeLabel names a world size as the benchmarks and reports do: 10k,
// 100k, 1M.
func SizeLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// String names the shape: chain, none or dense.
func (e Edges) String() string {
	switch e {
	case Chain:
		return "chain"
	case None:
		return "none"
	case Dense:
		return "dense"
	}
	return "edges(" + strconv.Itoa(int(e)) + ")"
}

// Layout constants.
const (
	UnitSize         = 41 // 1 dataset + ModelsPerUnit × VersionsPerModel
	ModelsPerUnit    = 4
	VersionsPerModel = 10
	Namespaces       = 10
	// BatchSize is how many artifacts Load registers per RegisterBatch.
	BatchSize = 1000
	// Samples is how many lookup keys a world prepares for read benchmarks.
	Samples = 4096
)

// World is a generated world of N artifacts.
type World struct {
	N     int
	Edges Edges
	ids   []uuid.UUID
	// Sample holds lookup keys of random world artifacts, prepared up front
	// so that a read benchmark allocates nothing of its own per operation.
	Sample []Key
	seq    int // fresh artifacts handed out so far
}

// Key names one artifact every way a read can.
type Key struct {
	Index                    int
	ID, FQN                  string
	Namespace, Name, Version string
}

// New generates a world of n artifacts with the given edge shape.
func New(n int, edges Edges) *World {
	w := &World{N: n, Edges: edges, ids: make([]uuid.UUID, n)}
	for i := range w.ids {
		w.ids[i] = newID()
	}
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	for range Samples {
		i := rng.IntN(n)
		a := w.Artifact(i)
		w.Sample = append(w.Sample, Key{Index: i, ID: a.ID, FQN: a.FQN(), Namespace: a.Namespace, Name: a.Name, Version: a.Version})
	}
	return w
}

func newID() uuid.UUID {
	u, err := uuid.NewV7()
	if err != nil {
		panic(err)
	}
	return u
}

// ID returns the ID of artifact i as a fresh string.
func (w *World) ID(i int) string { return w.ids[i].String() }

// Namespace returns the namespace of unit u.
func Namespace(u int) string { return fmt.Sprintf("proj-%02d", u%Namespaces) }

// Models is how many models (of VersionsPerModel versions) the world has
// complete.
func (w *World) Models() int {
	full := w.N / UnitSize * ModelsPerUnit
	if rest := w.N % UnitSize; rest > 1 {
		full += (rest - 1) / VersionsPerModel
	}
	return full
}

// ModelVersion returns the index of version v (1-based) of model m.
func ModelVersion(m, v int) int {
	u, j := m/ModelsPerUnit, m%ModelsPerUnit
	return u*UnitSize + 1 + j*VersionsPerModel + (v - 1)
}

// Artifact returns artifact i, with fresh strings.
func (w *World) Artifact(i int) registry.Artifact {
	u, off := i/UnitSize, i%UnitSize
	ns := Namespace(u)
	if off == 0 {
		name := fmt.Sprintf("dataset-%07d", u)
		return typical(w.ID(i), registry.KindDataset, ns, name, "1", "", "parquet")
	}
	m := u*ModelsPerUnit + (off-1)/VersionsPerModel
	v := strconv.Itoa((off-1)%VersionsPerModel + 1)
	return typical(w.ID(i), registry.KindModel, ns, fmt.Sprintf("model-%07d", m), v, "", "xgboost")
}

// typical returns an artifact with typical metadata: display name, a
// description of about 100 characters, algorithm, 2 tags, 1 owner, 2 labels
// and 1 storage URI.
func typical(id string, kind registry.Kind, ns, name, version, parent, algo string) registry.Artifact {
	return registry.Artifact{
		ID: id, Kind: kind, Namespace: ns, Name: name, Version: version, Parent: parent,
		DisplayName: fmt.Sprintf("%s %s v%s", kind, name, version),
		Description: fmt.Sprintf("Benchmark %s %s version %s of %s, trained nightly on the customer events of the last 90 days.", kind, name, version, ns),
		Algorithm:   algo,
		Tags:        []string{"benchmark", "tier-" + strconv.Itoa(len(name)%3)},
		Owners:      []string{"team-" + ns},
		Labels:      map[string]string{"stage": "production", "team": "ml-platform"},
		StorageURIs: []string{fmt.Sprintf("s3://bench-artifacts/%s/%s/%s/model.bin", ns, name, version)},
	}
}

// EachEdge calls fn for every lineage edge of the world, upstream first,
// grouped by unit and in a stable order.
func (w *World) EachEdge(fn func(up, down int)) {
	if w.Edges == None {
		return
	}
	for base := 0; base < w.N; base += UnitSize {
		for j := range ModelsPerUnit {
			first := base + 1 + j*VersionsPerModel
			n := min(VersionsPerModel, w.N-first)
			if n <= 0 {
				break
			}
			if w.Edges == Dense {
				for a := range n {
					fn(base, first+a)
				}
				for a := range n {
					for b := a + 1; b < n; b++ {
						fn(first+a, first+b)
					}
				}
				continue
			}
			fn(base, first)
			for a := 0; a+1 < n; a++ {
				fn(first+a, first+a+1)
			}
		}
	}
}

// EdgeCount returns how many edges EachEdge yields.
func (w *World) EdgeCount() int {
	n := 0
	w.EachEdge(func(int, int) { n++ })
	return n
}

// Loader is what a store must offer to be loaded with a world.
type Loader interface {
	RegisterBatch(batch []registry.Artifact) error
	// LinkBatch records lineage edges given as ID pairs (upstream,
	// downstream); a store may take them one per transaction.
	LinkBatch(edges [][2]string) error
}

// Load registers the world's artifacts in batches of BatchSize and then
// links its edges, BatchSize at a time.
func (w *World) Load(l Loader) error {
	batch := make([]registry.Artifact, 0, BatchSize)
	for i := 0; i < w.N; i++ {
		batch = append(batch, w.Artifact(i))
		if len(batch) == BatchSize || i == w.N-1 {
			if err := l.RegisterBatch(batch); err != nil {
				return fmt.Errorf("load artifacts %d..%d: %w", i+1-len(batch), i, err)
			}
			batch = batch[:0]
		}
	}
	var edges [][2]string
	var err error
	w.EachEdge(func(up, down int) {
		if err != nil {
			return
		}
		edges = append(edges, [2]string{w.ID(up), w.ID(down)})
		if len(edges) == BatchSize {
			err = l.LinkBatch(edges)
			edges = edges[:0]
		}
	})
	if err == nil && len(edges) > 0 {
		err = l.LinkBatch(edges)
	}
	if err != nil {
		return fmt.Errorf("load edges: %w", err)
	}
	return nil
}

// next returns a number no earlier fresh artifact of this world used.
func (w *World) next() int {
	w.seq++
	return w.seq
}

// NewVersion returns a fresh artifact, not in the world: a new version
// ("r<k>") of one of the world's models, chosen round robin, with storage
// URIs of its own. Register benchmarks register these.
func (w *World) NewVersion() registry.Artifact {
	k := w.next()
	m := k % max(1, w.Models())
	u := m / ModelsPerUnit
	return typical(newID().String(), registry.KindModel, Namespace(u), fmt.Sprintf("model-%07d", m), "r"+strconv.Itoa(k), "", "xgboost")
}

// Leaf is a fresh artifact to hard delete and the edge that makes it a
// lineage dependent of the world.
type Leaf struct {
	Artifact registry.Artifact
	// Upstream is the ID of the newest version of the model the leaf is a
	// new version of; the edge Upstream -> leaf is part of the fixture.
	Upstream string
}

// NewLeaf returns a fresh version ("h<k>") of a world model, chosen round
// robin, fine-tuned from the model's newest version: deleting it checks the
// lineage (it has an upstream and no live dependent) and drops one edge.
// Its storage URI is one of slots URIs, so that a store that queues the
// URIs of hard-deleted artifacts for cleanup (the registry without a
// Cleaner) reclaims them when the slot is registered again instead of
// growing its queue without end: the hard delete still queues one.
func (w *World) NewLeaf(slot int) Leaf {
	k := w.next()
	m := k % max(1, w.Models())
	u := m / ModelsPerUnit
	a := typical(newID().String(), registry.KindModel, Namespace(u), fmt.Sprintf("model-%07d", m), "h"+strconv.Itoa(k), "", "xgboost")
	a.StorageURIs[0] = fmt.Sprintf("s3://bench-artifacts/leaf-slots/%d/model.bin", slot)
	up := ""
	if w.Models() > 0 {
		up = w.ID(ModelVersion(m, VersionsPerModel))
	}
	return Leaf{Artifact: a, Upstream: up}
}

// Target returns the ID of the newest version of model k (round robin): an
// artifact of the world with an upstream edge and, in a Chain world, no
// downstream, which soft delete and restore benchmarks take and give back.
func (w *World) Target(k int) string {
	return w.ID(ModelVersion(k%max(1, w.Models()), VersionsPerModel))
}

// Fixture is a group of fresh artifacts and edges a benchmark adds to the
// world, then deletes.
type Fixture struct {
	Artifacts []registry.Artifact
	Edges     [][2]string
	// Root is the ID the benchmark operates on.
	Root string
}

// CascadeVersions is how many versions a cascade fixture has: the cascade
// limit of ModelArts.
const CascadeVersions = 20

// NewCascade returns a fresh model ("cascade-<k>") of CascadeVersions
// versions, each fine-tuned from the one before, the first trained on a
// world dataset. Root is the newest version: a hard cascade delete of it with
// limit 20 takes all 20, newest first, and passes the lineage check.
func (w *World) NewCascade() Fixture {
	k := w.next()
	ns := Namespace(k)
	name := fmt.Sprintf("cascade-%07d", k)
	var f Fixture
	for v := 1; v <= CascadeVersions; v++ {
		a := typical(newID().String(), registry.KindModel, ns, name, strconv.Itoa(v), "", "xgboost")
		if v > 1 {
			f.Edges = append(f.Edges, [2]string{f.Artifacts[v-2].ID, a.ID})
		}
		f.Artifacts = append(f.Artifacts, a)
	}
	if w.N >= UnitSize && w.Edges != None {
		ds := (k % (w.N / UnitSize)) * UnitSize
		f.Edges = append(f.Edges, [2]string{w.ID(ds), f.Artifacts[0].ID})
	}
	f.Root = f.Artifacts[CascadeVersions-1].ID
	return f
}

// NewSubtree returns a fresh containment tree of size artifacts: a package
// (the root) that contains groups of up to 100 models, each group holding
// models of 10 versions fine-tuned one from the next (lineage edges inside
// the tree), the first version of each trained on a world dataset (edges
// into the tree from outside). Artifacts are in parent-first order.
func (w *World) NewSubtree(size int) Fixture {
	if size < 1 {
		panic("benchworld: subtree size < 1")
	}
	k := w.next()
	ns := Namespace(k)
	pkg := fmt.Sprintf("package-%07d", k)
	root := typical(newID().String(), registry.KindModel, ns, pkg, "1", "", "ensemble")
	f := Fixture{Artifacts: []registry.Artifact{root}, Root: root.ID}
	if size == 1 {
		return f
	}
	groups := (size - 1 + 100) / 101 // each group: itself and up to 100 leaves
	leaves := size - 1 - groups
	per := (leaves + groups - 1) / groups
	datasets := w.N / UnitSize
	for g := range groups {
		group := typical(newID().String(), registry.KindModel, ns, fmt.Sprintf("%s-g%04d", pkg, g), "", root.ID, "ensemble")
		f.Artifacts = append(f.Artifacts, group)
		n := min(per, leaves-g*per)
		var prev string
		for j := range n {
			v := j%VersionsPerModel + 1
			a := typical(newID().String(), registry.KindModel, ns, fmt.Sprintf("%s-g%04d-m%02d", pkg, g, j/VersionsPerModel), strconv.Itoa(v), group.ID, "xgboost")
			switch {
			case v > 1:
				f.Edges = append(f.Edges, [2]string{prev, a.ID})
			case datasets > 0 && w.Edges != None:
				f.Edges = append(f.Edges, [2]string{w.ID(((g + j) % datasets) * UnitSize), a.ID})
			}
			prev = a.ID
			f.Artifacts = append(f.Artifacts, a)
		}
	}
	return f
}
