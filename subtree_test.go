package registry_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// Whole-subtree operations take shortcuts that per-row writes do not: a
// hard delete drops the containment rows of a parent whose children all go
// with one prefix delete, and drops the edges into what it deletes without
// reading them. These tests build subtrees where the shortcuts apply, where
// they apply to part of the set only, and where they must not apply, and
// check the result and every index (Check) after each call.

var subtreeCtx = registry.WithPrincipal(context.Background(), "tester")

// subtreeWorld registers a root with groups of leaves under it; each
// leaf's versions are chained by lineage, and the first version of each
// leaf is made from an outside dataset.
type subtreeWorld struct {
	reg     *registry.Registry
	root    string
	groups  []string
	leaves  [][]string // per group
	dataset string
}

func newSubtreeWorld(t *testing.T, groups, leaves int, opts ...registry.Option) *subtreeWorld {
	t.Helper()
	reg, err := registry.New(opts...)
	require.NoError(t, err)
	w := &subtreeWorld{reg: reg}
	reg1 := func(a registry.Artifact) string {
		t.Helper()
		if a.Kind == "" {
			a.Kind = registry.KindModel
		}
		a.Namespace = "sub"
		out, err := reg.Register(subtreeCtx, a)
		require.NoError(t, err)
		return out.ID
	}
	w.dataset = reg1(registry.Artifact{Kind: registry.KindDataset, Name: "events", StorageURIs: []string{"s3://b/events"}})
	w.root = reg1(registry.Artifact{Name: "pkg", Version: "1", StorageURIs: []string{"s3://b/pkg"}})
	for g := range groups {
		gid := reg1(registry.Artifact{Name: fmt.Sprintf("pkg-g%d", g), Parent: w.root})
		w.groups = append(w.groups, gid)
		var ls []string
		var prev string
		for j := range leaves {
			id := reg1(registry.Artifact{Name: fmt.Sprintf("pkg-g%d-m", g), Version: fmt.Sprint(j + 1), Parent: gid,
				StorageURIs: []string{fmt.Sprintf("s3://b/g%d/%d", g, j), "s3://b/shared"}})
			up := prev
			if up == "" {
				up = w.dataset
			}
			require.NoError(t, reg.Link(subtreeCtx, up, id))
			prev = id
			ls = append(ls, id)
		}
		w.leaves = append(w.leaves, ls)
	}
	require.NoError(t, reg.Check())
	return w
}

func (w *subtreeWorld) exists(t *testing.T, id string) bool {
	t.Helper()
	_, err := w.reg.Get(subtreeCtx, id, registry.IncludeAll)
	return err == nil
}

func TestRecursiveHardDeleteDropsWholeSubtree(t *testing.T) {
	w := newSubtreeWorld(t, 3, 5)
	res, err := w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 1+3+15)
	require.Empty(t, res.Failed)
	require.Equal(t, w.root, res.Deleted[len(res.Deleted)-1], "the root goes last")
	require.NoError(t, w.reg.Check())
	// One event per artifact, in the order of the result, each naming it.
	_, next := w.reg.EventSpan()
	events, err := w.reg.Events(subtreeCtx, next-1-uint64(len(res.Deleted)), 1000)
	require.NoError(t, err)
	require.Len(t, events, len(res.DeletedItems))
	for i, e := range events {
		require.Equal(t, registry.EventDeleted, e.Type)
		require.Equal(t, res.DeletedItems[i].ID, e.ArtifactID)
		require.Equal(t, res.DeletedItems[i].FQN, e.FQN)
	}
	for _, id := range append(append([]string{w.root}, w.groups...), slices.Concat(w.leaves...)...) {
		require.False(t, w.exists(t, id), "%s is still stored", id)
	}
	// The dataset lost its edges out, and nothing else.
	g, err := w.reg.Lineage(subtreeCtx, w.dataset, registry.Downstream, 1)
	require.NoError(t, err)
	require.Empty(t, g.Edges)
	pending, err := w.reg.PendingCleanups(subtreeCtx)
	require.NoError(t, err)
	require.Len(t, pending, 1+15+1, "every URI of the subtree, the shared one once")
	// A new child of a new parent reuses nothing of the old rows.
	n, err := w.reg.Register(subtreeCtx, registry.Artifact{Kind: registry.KindModel, Namespace: "sub", Name: "pkg", Version: "1"})
	require.NoError(t, err)
	_, err = w.reg.Register(subtreeCtx, registry.Artifact{Kind: registry.KindModel, Namespace: "sub", Name: "pkg-g0", Parent: n.ID})
	require.NoError(t, err)
	require.NoError(t, w.reg.Check())
}

// A deployed leaf keeps its group and the root; its siblings and the other
// groups go. The group that fails keeps every containment row of the
// children that stay, and the rows of the siblings that went are gone.
func TestRecursiveHardDeletePartialKeepsFailedParents(t *testing.T) {
	w := newSubtreeWorld(t, 3, 5)
	kept := w.leaves[1][2]
	require.NoError(t, w.reg.Deploy(subtreeCtx, kept, "ep"))
	res, err := w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	failed := map[string]string{}
	for _, f := range res.Failed {
		failed[f.ID] = f.Code
	}
	// The deployed leaf fails, and with it (Restrict) the versions it was
	// made from, its group and the root; everything else goes.
	require.Equal(t, registry.CodeDeployed, failed[kept])
	require.Equal(t, registry.CodeNotEmpty, failed[w.groups[1]])
	require.Equal(t, registry.CodeNotEmpty, failed[w.root])
	require.NoError(t, w.reg.Check())
	for g, ls := range w.leaves {
		for _, id := range ls {
			_, f := failed[id]
			require.Equal(t, f, w.exists(t, id), "group %d leaf %s", g, id)
		}
		_, f := failed[w.groups[g]]
		require.Equal(t, f, w.exists(t, w.groups[g]))
	}
	// Check has matched every containment row against the rows that
	// stayed, both ways: the group that stayed lists exactly the children
	// that stayed.
	require.Contains(t, failed, w.leaves[1][0], "an upstream of the deployed leaf")
	require.NotContains(t, failed, w.leaves[1][3], "a version made from the deployed leaf")
	// Deleting the rest afterwards works and leaves nothing.
	require.NoError(t, w.reg.Undeploy(subtreeCtx, kept, "ep"))
	_, err = w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Hard: true, Recursive: true, Atomic: true})
	require.NoError(t, err)
	require.NoError(t, w.reg.Check())
	require.False(t, w.exists(t, w.root))
	require.True(t, w.exists(t, w.dataset))
}

// A hard delete under LineageDetach drops the edges into what it deletes
// from upstreams that stay, without reading them, and marks nothing: the
// upstream keeps its other edges.
func TestHardDeleteDropsEdgesFromUpstreamsThatStay(t *testing.T) {
	w := newSubtreeWorld(t, 2, 3)
	other, err := w.reg.Register(subtreeCtx, registry.Artifact{Kind: registry.KindModel, Namespace: "sub", Name: "other"})
	require.NoError(t, err)
	require.NoError(t, w.reg.Link(subtreeCtx, w.dataset, other.ID))
	require.NoError(t, w.reg.Link(subtreeCtx, w.leaves[0][1], other.ID))
	res, err := w.reg.Delete(subtreeCtx, w.groups[0], registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 4)
	require.Equal(t, []string{other.ID}, res.Detached)
	require.NoError(t, w.reg.Check())
	g, err := w.reg.Lineage(subtreeCtx, w.dataset, registry.Downstream, 1)
	require.NoError(t, err)
	var downs []string
	for _, e := range g.Edges {
		downs = append(downs, e.Downstream)
	}
	require.ElementsMatch(t, []string{other.ID, w.leaves[1][0]}, downs)
}

// trashed lists the IDs of every soft-deleted artifact.
func (w *subtreeWorld) trashed(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, id := range append(append([]string{w.root, w.dataset}, w.groups...), slices.Concat(w.leaves...)...) {
		a, err := w.reg.Get(subtreeCtx, id, registry.IncludeAll)
		if err == nil && a.Deleted {
			out = append(out, id)
		}
	}
	return out
}

// Restoring what one delete took drops its trash entries by prefix when
// they are all of the entries of that deletion time, and one by one when
// other entries share the time: another part of the same delete, or
// another delete at the same instant (a clock that stands still).
func TestRestoreSubtreeTrash(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, clock := range []string{"system", "fixed"} {
		t.Run(clock, func(t *testing.T) {
			var opts []registry.Option
			if clock == "fixed" {
				opts = append(opts, registry.WithClock(registry.ClockFunc(func() time.Time { return fixed })))
			}
			w := newSubtreeWorld(t, 3, 20, opts...)
			// Group 2 on its own first, then the rest with the root: at
			// the fixed clock both deletes share one deletion time.
			_, err := w.reg.Delete(subtreeCtx, w.groups[2], registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			_, err = w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			require.Len(t, w.trashed(t), 1+3+60)
			require.NoError(t, w.reg.Check())
			_, next := w.reg.EventSpan()
			events, err := w.reg.Events(subtreeCtx, next-1-uint64(1+2+40), 1000)
			require.NoError(t, err)
			require.Len(t, events, 1+2+40)
			for _, e := range events {
				a, err := w.reg.Get(subtreeCtx, e.ArtifactID, registry.IncludeAll)
				require.NoError(t, err)
				require.Equal(t, registry.EventSoftDeleted, e.Type)
				require.Equal(t, a.FQN(), e.FQN)
			}

			// Part of the root's delete: group 0 and its leaves.
			_, err = w.reg.Restore(subtreeCtx, w.groups[0])
			require.ErrorIs(t, err, registry.ErrParentDeleted)
			_, err = w.reg.Restore(subtreeCtx, w.root)
			require.NoError(t, err)
			require.NoError(t, w.reg.Check())
			require.ElementsMatch(t, append([]string{w.groups[2]}, w.leaves[2]...), w.trashed(t),
				"the root's delete is restored, group 2's own is not")
			_, err = w.reg.Restore(subtreeCtx, w.groups[2])
			require.NoError(t, err)
			require.NoError(t, w.reg.Check())
			require.Empty(t, w.trashed(t))

			// A restore of part of one delete's set leaves the rest in
			// the trash.
			_, err = w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			_, err = w.reg.Restore(subtreeCtx, w.root)
			require.NoError(t, err)
			_, err = w.reg.Delete(subtreeCtx, w.groups[1], registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			_, err = w.reg.Delete(subtreeCtx, w.leaves[0][19])
			require.NoError(t, err)
			res, err := w.reg.Delete(subtreeCtx, w.root, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			ops, err := w.reg.RestoreOperation(subtreeCtx, res.Operation)
			require.NoError(t, err)
			require.Len(t, ops, len(res.Deleted))
			require.NoError(t, w.reg.Check())
			require.ElementsMatch(t, append([]string{w.groups[1], w.leaves[0][19]}, w.leaves[1]...), w.trashed(t))

			// A purge hard deletes what is left, by prefix where it can.
			res, err = w.reg.Purge(subtreeCtx, 0)
			require.NoError(t, err)
			require.Len(t, res.Deleted, 1+20+1)
			require.NoError(t, w.reg.Check())
			require.Empty(t, w.trashed(t))
		})
	}
}

// Bulk deletes drop rows by prefix only where an index holds nothing but
// rows the call deletes: two packages registered interleaved (their IDs
// and edges alternate in the indexes) and one registered alone; deleting
// one package leaves the others whole, with every lineage edge between
// them and into them.
func TestBulkDeleteLeavesNeighboursInIndexes(t *testing.T) {
	reg, err := registry.New()
	require.NoError(t, err)
	register := func(name, version, parent string) string {
		t.Helper()
		a, err := reg.Register(subtreeCtx, registry.Artifact{Kind: registry.KindModel, Namespace: "n", Name: name, Version: version, Parent: parent,
			StorageURIs: []string{"s3://b/" + name + "/" + version}})
		require.NoError(t, err)
		return a.ID
	}
	a, b := register("a", "1", ""), register("b", "1", "")
	var as, bs []string
	for i := range 60 {
		as = append(as, register("a-m", fmt.Sprint(i+1), a))
		bs = append(bs, register("b-m", fmt.Sprint(i+1), b))
		if i > 0 {
			require.NoError(t, reg.Link(subtreeCtx, as[i-1], as[i]))
			require.NoError(t, reg.Link(subtreeCtx, bs[i-1], bs[i]))
		}
	}
	c := register("c", "1", "")
	var cs []string
	for i := range 60 {
		cs = append(cs, register("c-m", fmt.Sprint(i+1), c))
	}
	// Edges from b into c and from c into b, between the groups.
	require.NoError(t, reg.Link(subtreeCtx, bs[3], cs[5]))
	require.NoError(t, reg.Link(subtreeCtx, cs[7], bs[59]))
	// Versions of c-m from another parent would share c-m's name prefix.
	require.NoError(t, reg.Check())

	res, err := reg.Delete(subtreeCtx, a, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 61)
	require.NoError(t, reg.Check())
	res, err = reg.Delete(subtreeCtx, c, registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 61)
	require.Equal(t, []string{bs[59]}, res.Detached)
	require.NoError(t, reg.Check())
	for _, id := range append([]string{b}, bs...) {
		_, err := reg.Get(subtreeCtx, id)
		require.NoError(t, err)
	}
	g, err := reg.Lineage(subtreeCtx, bs[0], registry.Downstream, registry.MaxLineageDepth)
	require.NoError(t, err)
	require.Len(t, g.Edges, 59, "the chain of b, and nothing into c")
	// Every version of a name, by cascade: the name index's prefix.
	res, err = reg.Delete(subtreeCtx, bs[59], registry.DeleteOptions{Hard: true, Cascade: true, CascadeLimit: 100})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 60)
	require.NoError(t, reg.Check())
	_, err = reg.Get(subtreeCtx, b)
	require.NoError(t, err)
}
