package registry_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// fanIn registers a model and n datasets, the datasets i for which parentOf
// returns true under a package dataset, and returns their IDs (datasets in
// registration order).
func fanIn(t *testing.T, f *registrytest.Fixture, n int, parentOf func(i int) bool) (model, pkg string, ups []string) {
	t.Helper()
	pkg = f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "fanin", Name: "package"}).ID
	model = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "fanin", Name: "model", Version: "1"}).ID
	batch := make([]registry.Artifact, 0, 1000)
	flush := func() {
		got, err := f.RegisterBatch(f.Ctx, batch)
		require.NoError(t, err)
		for _, a := range got {
			ups = append(ups, a.ID)
		}
		batch = batch[:0]
	}
	for i := range n {
		a := registry.Artifact{Kind: registry.KindDataset, Namespace: "fanin", Name: fmt.Sprintf("ds-%06d", i), Version: "1"}
		if parentOf(i) {
			a.Parent = pkg
		}
		if batch = append(batch, a); len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return model, pkg, ups
}

// upstreamsOf reads the upstreams of id through Lineage, in the order of
// its edges, and checks that the nodes are the same artifacts.
func upstreamsOf(t *testing.T, f *registrytest.Fixture, id string) []string {
	t.Helper()
	lg, err := f.Lineage(f.Ctx, id, registry.Upstream, 1)
	require.NoError(t, err)
	var edges, nodes []string
	for _, e := range lg.Edges {
		require.Equal(t, id, e.Downstream)
		edges = append(edges, e.Upstream)
	}
	for _, a := range lg.Nodes {
		nodes = append(nodes, a.ID)
	}
	require.Equal(t, edges, nodes, "nodes in the order of the edges")
	return edges
}

// TestLineageLargeFanIn links 20,000 upstreams into one artifact, in a
// random order, unlinks half of them, and checks that Lineage (in sorted
// order), Check, and hard deletes under Restrict and Detach stay right at
// that fan-in: the upstreams of an artifact with many are a persistent tree,
// not the sorted slice that a few are kept in.
func TestLineageLargeFanIn(t *testing.T) {
	if testing.Short() {
		t.Skip("links 20,000 upstreams")
	}
	const n = 20_000
	f := registrytest.NewEmpty(t)
	// The upstreams that stay linked are the odd ones; all but the first
	// ten of those sit in the package.
	model, pkg, ups := fanIn(t, f, n, func(i int) bool { return i%2 == 1 && i >= 20 })
	rng := rand.New(rand.NewPCG(20_000, 1))
	for _, i := range rng.Perm(n) {
		f.MustLink(t, ups[i], model)
	}
	require.NoError(t, f.Check())
	sorted := slices.Sorted(slices.Values(ups))
	require.Equal(t, sorted, upstreamsOf(t, f, model), "every upstream, sorted")

	var kept, unlinked []string
	for i, u := range ups {
		if i%2 == 1 {
			kept = append(kept, u)
		} else {
			unlinked = append(unlinked, u)
		}
	}
	for _, i := range rng.Perm(len(unlinked)) {
		require.NoError(t, f.Unlink(f.Ctx, unlinked[i], model))
	}
	require.NoError(t, f.Check())
	slices.Sort(kept)
	require.Equal(t, kept, upstreamsOf(t, f, model), "the linked half, sorted")
	err := f.Unlink(f.Ctx, unlinked[0], model)
	require.ErrorIs(t, err, registry.ErrNotFound, "an edge unlinked already")
	require.ErrorIs(t, f.Link(f.Ctx, kept[0], model), registry.ErrAlreadyExists)

	// Restrict: an upstream with a live dependent stays, alone or in a
	// recursive delete; an unlinked one goes.
	before := f.MustGet(t, model)
	_, err = f.Delete(f.Ctx, ups[21], registry.DeleteOptions{Hard: true})
	var e *registry.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, registry.CodeHasDependents, e.Code)
	res, err := f.Delete(f.Ctx, pkg, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err, "a multi-item delete reports its items")
	assert.Empty(t, res.Deleted)
	assert.Len(t, res.Failed, n/2-10+1, "every child and the package")
	_, err = f.Delete(f.Ctx, ups[0], registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	assert.Equal(t, before, f.MustGet(t, model), "the dependent is untouched")
	require.Equal(t, kept, upstreamsOf(t, f, model))
	require.NoError(t, f.Check())

	// Detach, one upstream, then the package with 9,989 at once: the set
	// shrinks from a tree back to the ten upstreams outside the package.
	res, err = f.Delete(f.Ctx, ups[21], registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	assert.Equal(t, []string{model}, res.Detached)
	assert.Equal(t, []string{ups[21]}, f.MustGet(t, model).DeletedUpstreams)
	kept = slices.DeleteFunc(kept, func(u string) bool { return u == ups[21] })
	require.Equal(t, kept, upstreamsOf(t, f, model))
	require.NoError(t, f.Check())

	res, err = f.Delete(f.Ctx, pkg, registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	assert.Len(t, res.Deleted, n/2-10)
	assert.Equal(t, []string{model}, res.Detached)
	var outside []string
	for i := 1; i < 20; i += 2 {
		outside = append(outside, ups[i])
	}
	slices.Sort(outside)
	require.Equal(t, outside, upstreamsOf(t, f, model))
	got := f.MustGet(t, model)
	assert.Len(t, got.DeletedUpstreams, n/2-10)
	assert.Equal(t, ups[21], got.DeletedUpstreams[0])
	require.NoError(t, f.Check())

	// The model itself has no dependents: it goes with its edges.
	_, err = f.Delete(f.Ctx, model, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	for _, u := range outside {
		lg, err := f.Lineage(f.Ctx, u, registry.Both, 1)
		require.NoError(t, err)
		assert.Empty(t, lg.Edges)
	}
	require.NoError(t, f.Check())
}

// TestLinkCostDoesNotGrowWithFanIn links more upstreams into an artifact
// that has 5,000 and checks that a Link allocates about what it does into
// an artifact that has a few: it used to copy the whole sorted list of
// upstreams (80 KB at 5,000), which made a fan-in of n cost O(n²).
func TestLinkCostDoesNotGrowWithFanIn(t *testing.T) {
	const n, probe = 5_000, 200
	f := registrytest.NewEmpty(t)
	small, _, _ := fanIn(t, f, 0, func(int) bool { return false })
	big := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "fanin", Name: "big", Version: "1"}).ID
	batch := make([]registry.Artifact, n+2*probe)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindDataset, Namespace: "up", Name: fmt.Sprintf("ds-%06d", i)}
	}
	got, err := f.RegisterBatch(f.Ctx, batch)
	require.NoError(t, err)
	for _, a := range got[:n] {
		f.MustLink(t, a.ID, big)
	}
	// The counters are the process's: what anything else running allocates
	// can only add to a measure, so each figure is the least of several.
	perLink := func(down string, ups []registry.Artifact) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, a := range ups {
			f.MustLink(t, a.ID, down)
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / uint64(len(ups))
	}
	// Into the small one, the first few links only (up to 8 upstreams).
	base := uint64(math.MaxUint64)
	for k := range probe / 8 {
		g := got[n+8*k : n+8*k+8]
		base = min(base, perLink(small, g))
		for _, a := range g {
			require.NoError(t, f.Unlink(f.Ctx, a.ID, small))
		}
	}
	large := uint64(math.MaxUint64)
	for k := range 4 {
		large = min(large, perLink(big, got[n+probe+k*probe/4:n+probe+(k+1)*probe/4]))
	}
	t.Logf("bytes per Link: %d into a few upstreams, %d into %d", base, large, n)
	assert.Less(t, large, 2*base+8<<10, "a Link into %d upstreams allocates %d bytes, into a few %d", n, large, base)
	require.NoError(t, f.Check())
}

// TestLineageFanInConcurrentReaders reads an artifact's upstreams while a
// writer links 100 upstreams into it one at a time, in a shuffled order,
// and unlinks them in the same order, so that its set grows past the slice
// bound into a tree and shrinks back: every read must see the set of one
// committed state, sorted, since readers share the sets of older snapshots.
func TestLineageFanInConcurrentReaders(t *testing.T) {
	const n, readers = 100, 4
	f := registrytest.NewEmpty(t)
	model, _, ups := fanIn(t, f, n, func(int) bool { return false })
	rand.New(rand.NewPCG(100, 4)).Shuffle(n, func(i, j int) { ups[i], ups[j] = ups[j], ups[i] })
	// The states a reader may see: a prefix of ups while linking, a suffix
	// while unlinking, each sorted.
	states := map[string]bool{}
	for k := 0; k <= n; k++ {
		for _, s := range [][]string{ups[:k], ups[k:]} {
			states[strings.Join(slices.Sorted(slices.Values(s)), ",")] = true
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for { // read at least once, however late the goroutine starts
				lg, err := f.Lineage(f.Ctx, model, registry.Upstream, 1)
				if !assert.NoError(t, err) {
					return
				}
				got := make([]string, len(lg.Edges))
				for i, e := range lg.Edges {
					got[i] = e.Upstream
				}
				if !assert.True(t, states[strings.Join(got, ",")], "a read saw %d upstreams that no committed state had, or out of order", len(got)) {
					return
				}
				reads.Add(1)
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	for _, u := range ups {
		f.MustLink(t, u, model)
	}
	for _, u := range ups {
		require.NoError(t, f.Unlink(f.Ctx, u, model))
	}
	close(done)
	wg.Wait()
	assert.Positive(t, reads.Load())
	require.NoError(t, f.Check())
}
