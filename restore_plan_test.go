package registry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// Restore after the planner's deletes: an operation ID on every artifact a
// delete soft deleted, and a restore that brings back exactly what that
// operation took from the restored artifact's subtree, in one transaction.

// planRestoreWorld: versions 1 and 2 of svc.pkg; pkg1 contains c1 (soft
// deleted on its own earlier) and c2, which contains g2; pkg2 contains d1.
func planRestoreWorld(t *testing.T) *planWorld {
	w := planNewWorld(t)
	w.versions("pkg", "1", "2")
	w.model("c1", "pkg1")
	w.model("c2", "pkg1")
	w.model("g2", "c2")
	w.model("d1", "pkg2")
	w.softDelete("c1")
	return w
}

// planDeleteAll soft deletes pkg1 with its subtree and its other version,
// in one operation, and returns the result.
func planDeleteAll(t *testing.T, w *planWorld) registry.Result {
	t.Helper()
	w.f.Clock.Advance(time.Hour)
	res, err := w.f.Delete(w.f.Ctx, w.id("pkg1"), registry.DeleteOptions{Recursive: true, Cascade: true, Reason: "retired"})
	require.NoError(t, err)
	require.Empty(t, res.Failed)
	require.ElementsMatch(t, []string{"pkg1", "c2", "g2", "pkg2", "d1"}, w.labelsOf(res.Deleted))
	return res
}

func TestPlanRestoreOperationIsRecordedOnEachArtifact(t *testing.T) {
	w := planRestoreWorld(t)
	earlier := w.f.MustGet(t, w.id("c1"))
	require.True(t, earlier.Deleted)
	require.NotEmpty(t, earlier.DeleteOperation)

	res := planDeleteAll(t, w)
	require.NotEmpty(t, res.Operation)
	assert.NotEqual(t, earlier.DeleteOperation, res.Operation, "two delete calls share an operation ID")
	now := w.f.Clock.Now()
	for _, l := range []string{"pkg1", "c2", "g2", "pkg2", "d1"} {
		a := w.f.MustGet(t, w.id(l))
		assert.True(t, a.Deleted, l)
		assert.Equal(t, res.Operation, a.DeleteOperation, "%s.DeleteOperation", l)
		assert.Equal(t, registrytest.Principal, a.DeletedBy, "%s.DeletedBy", l)
		assert.Equal(t, "retired", a.DeleteReason, "%s.DeleteReason", l)
		assert.True(t, now.Equal(a.DeletedAt), "%s.DeletedAt", l)
		assert.Equal(t, int64(2), a.Revision, "%s.Revision", l)
	}
	c1 := w.f.MustGet(t, w.id("c1"))
	assert.Equal(t, earlier, c1, "the child deleted earlier keeps its own delete")
	require.NoError(t, w.f.Check())
}

func TestPlanRestoreBringsBackExactlyTheOperationsSubtree(t *testing.T) {
	w := planRestoreWorld(t)
	c1Before := w.f.MustGet(t, w.id("c1"))
	res := planDeleteAll(t, w)
	before := w.state()
	w.f.Clock.Advance(time.Hour)

	got, err := w.f.Restore(w.f.Ctx, w.id("pkg1"))
	require.NoError(t, err)
	assert.Equal(t, w.id("pkg1"), got.ID)
	assert.False(t, got.Deleted)
	assert.Equal(t, int64(3), got.Revision, "created, soft deleted, restored")
	assert.Empty(t, got.DeleteOperation)

	now := w.f.Clock.Now()
	restored := []string{"pkg1", "c2", "g2"}
	for _, l := range restored {
		a := w.f.MustGet(t, w.id(l))
		want := before.arts[w.id(l)]
		want.Deleted, want.Revision, want.UpdatedAt, want.UpdatedBy = false, want.Revision+1, now, registrytest.Principal
		want.DeletedAt, want.DeletedBy, want.DeleteOperation, want.DeleteReason = time.Time{}, "", "", ""
		assert.Equal(t, want, a, "%s is restored, one revision up", l)
	}
	for _, l := range []string{"pkg2", "d1"} {
		a := w.f.MustGet(t, w.id(l))
		assert.Equal(t, before.arts[w.id(l)], a, "%s, a cascaded version's subtree, stays deleted", l)
		assert.Equal(t, res.Operation, a.DeleteOperation)
	}
	assert.Equal(t, c1Before, w.f.MustGet(t, w.id("c1")), "the child deleted on its own earlier stays deleted")

	evs := w.eventsAfter(before.seq)
	require.Len(t, evs, len(restored), "one event per restored artifact")
	var ids []string
	for _, e := range evs {
		assert.Equal(t, registry.EventRestored, e.Type)
		assert.Equal(t, evs[0].Operation, e.Operation, "one restore, one operation")
		assert.NotEqual(t, res.Operation, e.Operation, "the restore has its own operation")
		ids = append(ids, e.ArtifactID)
	}
	assert.ElementsMatch(t, w.idsOf(restored), ids)
	require.NoError(t, w.f.Check())

	// The cascaded version comes back on its own, with its own subtree only.
	_, err = w.f.RestoreByFQN(w.f.Ctx, w.fqns["pkg2"])
	require.NoError(t, err)
	for _, l := range []string{"pkg2", "d1"} {
		assert.False(t, w.f.MustGet(t, w.id(l)).Deleted, "%s restored with its version", l)
	}
	assert.True(t, w.f.MustGet(t, w.id("c1")).Deleted)

	// And the child deleted on its own comes back by itself.
	_, err = w.f.Restore(w.f.Ctx, w.id("c1"))
	require.NoError(t, err)
	assert.False(t, w.f.MustGet(t, w.id("c1")).Deleted)
	require.NoError(t, w.f.Check())
}

func TestPlanRestoreOfACascadedVersionRestoresItsSubtreeOnly(t *testing.T) {
	w := planRestoreWorld(t)
	planDeleteAll(t, w)
	before := w.state()

	_, err := w.f.Restore(w.f.Ctx, w.id("pkg2"))
	require.NoError(t, err)
	assert.False(t, w.f.MustGet(t, w.id("pkg2")).Deleted)
	assert.False(t, w.f.MustGet(t, w.id("d1")).Deleted)
	for _, l := range []string{"pkg1", "c1", "c2", "g2"} {
		assert.Equal(t, before.arts[w.id(l)], w.f.MustGet(t, w.id(l)), "%s stays as it was", l)
	}
	require.NoError(t, w.f.Check())
}

func TestPlanRestoreRefusals(t *testing.T) {
	w := planRestoreWorld(t)
	w.model("live", "")
	planDeleteAll(t, w)
	before := w.state()

	_, err := w.f.Restore(w.f.Ctx, w.id("g2"))
	assert.ErrorIs(t, err, registry.ErrParentDeleted, "a child whose parent is still deleted")
	assert.Contains(t, err.Error(), w.fqns["c2"], "the refusal names the deleted parent")
	_, err = w.f.Restore(w.f.Ctx, w.id("c2"))
	assert.ErrorIs(t, err, registry.ErrParentDeleted, "a child whose parent is still deleted")
	_, err = w.f.Restore(w.f.Ctx, w.id("live"))
	assert.ErrorIs(t, err, registry.ErrNotDeleted)
	w.requireUnchanged(t, before, "a refused restore")

	_, err = w.f.Delete(w.f.Ctx, w.id("pkg2"), registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	_, err = w.f.Restore(w.f.Ctx, w.id("pkg2"))
	assert.ErrorIs(t, err, registry.ErrNotFound, "a hard-deleted artifact")
	_, err = w.f.Restore(w.f.Ctx, w.id("d1"))
	assert.ErrorIs(t, err, registry.ErrNotFound, "a hard-deleted child")
	require.NoError(t, w.f.Check())
}

// A recursive delete whose parent failed leaves the deleted children under
// a live parent; each comes back with what the same operation took below it.
func TestPlanRestoreAChildOfAPartialRecursiveDelete(t *testing.T) {
	w := planNewWorld(t)
	w.model("p", "")
	w.model("c1", "p")
	w.model("g1", "c1")
	w.model("c2", "p")
	w.deploy("c2")
	res, err := w.f.Delete(w.f.Ctx, w.id("p"), registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"g1", "c1"}, w.labelsOf(res.Deleted))

	_, err = w.f.Restore(w.f.Ctx, w.id("c1"))
	require.NoError(t, err)
	assert.False(t, w.f.MustGet(t, w.id("c1")).Deleted)
	assert.False(t, w.f.MustGet(t, w.id("g1")).Deleted, "the grandchild the same operation took")
	require.NoError(t, w.f.Check())
}

// A lineage cascade takes dependents that are not descendants: restoring the
// target brings back its subtree, not the dependents, which are restored on
// their own.
func TestPlanRestoreLeavesLineageDependents(t *testing.T) {
	w := planNewWorld(t)
	w.versions("m", "1")
	w.model("f", "")
	w.link("m1", "f")
	res, err := w.f.Delete(w.f.Ctx, w.id("m1"), registry.DeleteOptions{Cascade: true, Lineage: registry.LineageCascade})
	require.NoError(t, err)
	require.Equal(t, []string{"f", "m1"}, w.labelsOf(res.Deleted))
	assert.Equal(t, res.Operation, w.f.MustGet(t, w.id("f")).DeleteOperation)

	_, err = w.f.Restore(w.f.Ctx, w.id("m1"))
	require.NoError(t, err)
	assert.True(t, w.f.MustGet(t, w.id("f")).Deleted, "a dependent is not a descendant")
	_, err = w.f.Restore(w.f.Ctx, w.id("f"))
	require.NoError(t, err)
	assert.False(t, w.f.MustGet(t, w.id("f")).Deleted)
	require.NoError(t, w.f.Check())
}

// Restoring a three-level subtree is one transaction, as its delete is: a
// reader that lists the subtree from one snapshot sees all of it deleted or
// all of it live, at one revision, never a mix. The reader runs while the
// writer deletes and restores the subtree again and again.
func TestPlanRestoreOfASubtreeIsOneTransaction(t *testing.T) {
	w := planNewWorld(t)
	w.add("p", registry.Artifact{Namespace: "tree", Name: "p", Version: "1"})
	w.add("c", registry.Artifact{Namespace: "tree", Name: "c", Version: "1", Parent: w.id("p")})
	w.add("g", registry.Artifact{Namespace: "tree", Name: "g", Version: "1", Parent: w.id("c")})

	const cycles = 100
	started := make(chan struct{})
	done := make(chan struct{})
	type seen struct {
		reads, mixed, live, deleted int
		bad                         []string
	}
	result := make(chan seen, 1)
	var stop sync.Once
	finish := func() { stop.Do(func() { close(done) }) }
	defer finish() // the reader stops even if the writer fails the test
	go func() {
		var s seen
		for first := true; ; first = false {
			page, err := w.f.List(w.f.Ctx, registry.Filter{Namespace: "tree", Include: registry.IncludeAll})
			if first {
				close(started)
			}
			if err != nil || len(page.Items) != 3 {
				s.bad = append(s.bad, "list failed or lost items")
			} else {
				s.reads++
				a, b, c := page.Items[0], page.Items[1], page.Items[2]
				switch {
				case a.Deleted != b.Deleted || b.Deleted != c.Deleted || a.Revision != b.Revision || b.Revision != c.Revision:
					s.mixed++
				case a.Deleted:
					s.deleted++
				default:
					s.live++
				}
			}
			select {
			case <-done:
				result <- s
				return
			default:
			}
		}
	}()
	<-started
	for i := 0; i < cycles; i++ {
		res, err := w.f.Delete(w.f.Ctx, w.id("p"), registry.DeleteOptions{Recursive: true})
		require.NoError(t, err)
		require.Len(t, res.Deleted, 3)
		_, err = w.f.Restore(w.f.Ctx, w.id("p"))
		require.NoError(t, err)
	}
	finish()
	s := <-result
	assert.Empty(t, s.bad)
	assert.Zero(t, s.mixed, "a reader saw part of a delete or a restore (%d reads: %d live, %d deleted)", s.reads, s.live, s.deleted)
	for _, l := range []string{"p", "c", "g"} {
		a := w.f.MustGet(t, w.id(l))
		assert.False(t, a.Deleted)
		assert.Equal(t, int64(1+2*cycles), a.Revision, "%s: one revision per delete and per restore", l)
	}
	require.NoError(t, w.f.Check())
}
