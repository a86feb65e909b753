package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// ---- Soft delete ----

func TestSoftDelete(t *testing.T) {
	f := registrytest.New(t)
	before, v1 := f.Dataset, f.Versions[0]
	events := coreEventCount(t, f.Registry)
	at := f.Clock.Advance(time.Hour)
	bob := registry.WithPrincipal(context.Background(), "bob")

	res, err := f.Delete(bob, before.ID, registry.DeleteOptions{Reason: "superseded"})
	require.NoError(t, err)
	assert.NotEmpty(t, res.Operation)
	assert.False(t, res.Hard)
	assert.False(t, res.DryRun)
	assert.Equal(t, []string{before.ID}, res.Deleted)
	assert.Empty(t, res.Failed)
	assert.Empty(t, res.Skipped)

	want := before
	want.Deleted, want.Revision, want.UpdatedAt, want.UpdatedBy = true, 2, at, "bob"
	want.DeletedAt, want.DeletedBy, want.DeleteOperation, want.DeleteReason = at, "bob", res.Operation, "superseded"
	got := f.MustGet(t, before.ID)
	assert.Equal(t, want, got)
	assert.InDelta(t, 0.2, got.EntityVersion().Float64(), 1e-9)

	t.Run("hidden by default", func(t *testing.T) {
		_, err := f.Get(f.Ctx, before.ID)
		coreErr(t, err, registry.ErrNotFound)
		_, err = f.GetByFQN(f.Ctx, before.FQN())
		coreErr(t, err, registry.ErrNotFound)
		_, err = f.GetVersion(f.Ctx, before.Namespace, before.Name, before.Version)
		coreErr(t, err, registry.ErrNotFound)
		assert.NotContains(t, coreIDs(coreListAll(t, f.Registry, registry.Filter{})), before.ID)
		deleted := coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeDeleted})
		assert.Equal(t, []registry.Artifact{want}, deleted)
	})
	t.Run("edges kept and dependents untouched", func(t *testing.T) {
		lg, err := f.Lineage(f.Ctx, v1.ID, registry.Upstream, 1, registry.IncludeAll)
		require.NoError(t, err)
		assert.Equal(t, []registry.Artifact{want}, lg.Nodes)
		assert.Len(t, lg.Edges, 1)
		lg, err = f.Lineage(f.Ctx, v1.ID, registry.Upstream, 1)
		require.NoError(t, err)
		assert.Empty(t, lg.Nodes)
		assert.Equal(t, v1, f.MustGet(t, v1.ID))
	})
	t.Run("one event", func(t *testing.T) {
		evs, err := f.Events(f.Ctx, 0, 1000)
		require.NoError(t, err)
		require.Len(t, evs, events+1)
		e := evs[len(evs)-1]
		assert.Equal(t, registry.EventSoftDeleted, e.Type)
		assert.Equal(t, before.ID, e.ArtifactID)
		assert.Equal(t, int64(2), e.Revision)
		assert.Equal(t, "bob", e.Principal)
		assert.Equal(t, "superseded", e.Reason)
		assert.Equal(t, res.Operation, e.Operation)
		assert.Equal(t, at, e.Time)
	})
}

func TestSecondSoftDeleteIsNotFound(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	want := f.MustGet(t, f.Code.ID)
	f.Clock.Advance(time.Hour)

	res, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
	e := coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, f.Code.ID, e.ID)
	assert.Contains(t, e.Message, "soft deleted")
	assert.Equal(t, http.StatusNotFound, registry.HTTPStatus(err))
	assert.Empty(t, res.Deleted)
	_, err = f.DeleteByFQN(f.Ctx, f.Code.FQN(), registry.DeleteOptions{})
	coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, want, f.MustGet(t, f.Code.ID), "revision stays 2")
}

func TestDeleteByFQN(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, coreModel("svc", "churn.v2", "3"))
	const fqn = `svc."churn.v2".3`

	res, err := f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID}, res.Deleted)
	assert.True(t, f.MustGet(t, a.ID).Deleted)
	_, err = f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{})
	coreErr(t, err, registry.ErrNotFound)

	res, err = f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	assert.Equal(t, []string{a.ID}, res.Deleted)
	assert.True(t, res.Hard)
	_, err = f.Get(f.Ctx, a.ID, registry.IncludeAll)
	coreErr(t, err, registry.ErrNotFound)
	for _, hard := range []bool{false, true} {
		_, err = f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{Hard: hard})
		coreErr(t, err, registry.ErrNotFound)
	}
}

func TestDeleteRejectsBadInput(t *testing.T) {
	f := registrytest.New(t)
	missing := uuid.NewString()
	_, err := f.Delete(f.Ctx, "nope", registry.DeleteOptions{})
	coreInvalid(t, err, "id")
	_, err = f.DeleteByFQN(f.Ctx, "mlflow_svc..x", registry.DeleteOptions{})
	coreInvalid(t, err, "fqn")
	for _, hard := range []bool{false, true} {
		_, err = f.Delete(f.Ctx, missing, registry.DeleteOptions{Hard: hard})
		e := coreErr(t, err, registry.ErrNotFound)
		assert.Equal(t, missing, e.ID)
		_, err = f.DeleteByFQN(f.Ctx, "mlflow_svc.nothing.1", registry.DeleteOptions{Hard: hard})
		e = coreErr(t, err, registry.ErrNotFound)
		assert.Contains(t, e.Message, "mlflow_svc.nothing.1")
	}
}

// ---- Hard delete ----

func TestHardDelete(t *testing.T) {
	f := registrytest.New(t)
	leaf := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "leaf", Version: "1",
		StorageURIs: []string{"s3://models/leaf/1.zip"}})
	f.MustLink(t, f.Dataset.ID, leaf.ID)
	f.MustLink(t, f.Code.ID, leaf.ID)
	at := f.Clock.Advance(time.Hour)

	res, err := f.Delete(f.Ctx, leaf.ID, registry.DeleteOptions{Hard: true, Reason: "gone"})
	require.NoError(t, err)
	assert.True(t, res.Hard)
	assert.Equal(t, []string{leaf.ID}, res.Deleted)
	assert.Empty(t, res.Failed)

	t.Run("the row and its index entries are gone", func(t *testing.T) {
		for _, inc := range []registry.Include{registry.IncludeNonDeleted, registry.IncludeDeleted, registry.IncludeAll} {
			_, err := f.Get(f.Ctx, leaf.ID, inc)
			coreErr(t, err, registry.ErrNotFound)
			_, err = f.GetByFQN(f.Ctx, leaf.FQN(), inc)
			coreErr(t, err, registry.ErrNotFound)
			_, err = f.GetVersion(f.Ctx, leaf.Namespace, leaf.Name, leaf.Version, inc)
			coreErr(t, err, registry.ErrNotFound)
		}
		assert.NotContains(t, coreIDs(coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll})), leaf.ID)
	})
	t.Run("its edges are gone", func(t *testing.T) {
		lg, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Downstream, 1, registry.IncludeAll)
		require.NoError(t, err)
		assert.Equal(t, []string{f.Versions[0].ID}, coreIDs(lg.Nodes))
		assert.Len(t, lg.Edges, 1)
		lg, err = f.Lineage(f.Ctx, f.Code.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		assert.Empty(t, lg.Nodes)
		assert.Empty(t, lg.Edges)
	})
	t.Run("every later call is not found", func(t *testing.T) {
		for _, hard := range []bool{false, true} {
			_, err := f.Delete(f.Ctx, leaf.ID, registry.DeleteOptions{Hard: hard})
			coreErr(t, err, registry.ErrNotFound)
		}
		_, err := f.Restore(f.Ctx, leaf.ID)
		coreErr(t, err, registry.ErrNotFound)
		_, err = f.RestoreByFQN(f.Ctx, leaf.FQN())
		coreErr(t, err, registry.ErrNotFound)
	})
	t.Run("one event", func(t *testing.T) {
		evs, err := f.Events(f.Ctx, 0, 1000)
		require.NoError(t, err)
		e := evs[len(evs)-1]
		assert.Equal(t, registry.EventDeleted, e.Type)
		assert.Equal(t, leaf.ID, e.ArtifactID)
		assert.Equal(t, res.Operation, e.Operation)
		assert.Equal(t, at, e.Time)
	})
	t.Run("the ID and the name are free", func(t *testing.T) {
		again := f.MustRegister(t, registry.Artifact{ID: leaf.ID, Kind: registry.KindDataset, Namespace: leaf.Namespace, Name: leaf.Name, Version: leaf.Version})
		assert.Equal(t, int64(1), again.Revision)
		lg, err := f.Lineage(f.Ctx, again.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		assert.Empty(t, lg.Edges, "old edges do not come back with the ID")
	})
}

func TestHardDeleteOfSoftDeleted(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	f.MustLink(t, f.Dataset.ID, f.Children[0].ID)
	coreSoftDelete(t, f, f.Children[0].ID)

	for _, a := range []registry.Artifact{f.Code, f.Children[0]} {
		res, err := f.DeleteByFQN(f.Ctx, a.FQN(), registry.DeleteOptions{Hard: true})
		require.NoError(t, err, a.FQN())
		assert.Equal(t, []string{a.ID}, res.Deleted)
		_, err = f.Get(f.Ctx, a.ID, registry.IncludeAll)
		coreErr(t, err, registry.ErrNotFound)
	}
	lg, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Downstream, 1, registry.IncludeAll)
	require.NoError(t, err)
	assert.Equal(t, []string{f.Versions[0].ID}, coreIDs(lg.Nodes), "the soft-deleted child's edge went with it")
}

// ---- Children ----

func TestDeleteNotEmpty(t *testing.T) {
	for _, hard := range []bool{false, true} {
		t.Run(fmt.Sprintf("hard=%t", hard), func(t *testing.T) {
			f := registrytest.New(t)
			f.Clock.Advance(time.Hour)
			res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: hard})
			e := coreErr(t, err, registry.ErrNotEmpty)
			assert.Equal(t, f.Package.ID, e.ID)
			assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
			assert.Contains(t, e.Message, "model is not empty")
			for _, c := range f.Children {
				assert.Contains(t, e.Message, c.FQN(), "the message names the live children")
				assert.Equal(t, c, f.MustGet(t, c.ID))
			}
			assert.Contains(t, e.Message, "Recursive")
			assert.Empty(t, res.Deleted)
			assert.Equal(t, f.Package, f.MustGet(t, f.Package.ID))
		})
	}
}

func TestDeleteParentOfSoftDeletedChildren(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Children[0].ID)
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{})
	e := coreErr(t, err, registry.ErrNotEmpty)
	assert.Contains(t, e.Message, f.Children[1].FQN())
	assert.NotContains(t, e.Message, f.Children[0].FQN(), "a soft-deleted child is not in the way")

	coreSoftDelete(t, f, f.Children[1].ID)
	coreSoftDelete(t, f, f.Package.ID)

	// A hard delete takes the soft-deleted children with it, children first.
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 3)
	assert.ElementsMatch(t, []string{f.Children[0].ID, f.Children[1].ID}, res.Deleted[:2])
	assert.Equal(t, f.Package.ID, res.Deleted[2])
	for _, id := range []string{f.Package.ID, f.Children[0].ID, f.Children[1].ID} {
		_, err := f.Get(f.Ctx, id, registry.IncludeAll)
		coreErr(t, err, registry.ErrNotFound)
	}
}

// ---- Lineage dependents ----

func TestHardDeleteWithLiveDependents(t *testing.T) {
	f := registrytest.New(t)
	extra := f.MustRegister(t, coreModel(registrytest.Namespace, "distilled", "1"))
	f.MustLink(t, f.Dataset.ID, extra.ID)
	state := coreSnapshot(t, f.Registry)
	f.Clock.Advance(time.Hour)

	cases := []struct {
		target registry.Artifact
		deps   []registry.Artifact
	}{
		{f.Dataset, []registry.Artifact{f.Versions[0], extra}},
		{f.Versions[0], []registry.Artifact{f.Versions[1]}},
		{f.Versions[1], []registry.Artifact{f.Versions[2]}},
	}
	for _, c := range cases {
		t.Run(c.target.FQN(), func(t *testing.T) {
			for _, byFQN := range []bool{false, true} {
				var err error
				var res registry.Result
				if byFQN {
					res, err = f.DeleteByFQN(f.Ctx, c.target.FQN(), registry.DeleteOptions{Hard: true})
				} else {
					res, err = f.Delete(f.Ctx, c.target.ID, registry.DeleteOptions{Hard: true})
				}
				e := coreErr(t, err, registry.ErrHasDependents)
				assert.Equal(t, c.target.ID, e.ID)
				assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
				for _, d := range c.deps {
					assert.Contains(t, e.Message, d.FQN(), "the message names every dependent")
				}
				assert.Empty(t, res.Deleted)
			}
		})
	}
	assert.Equal(t, state, coreSnapshot(t, f.Registry))

	t.Run("a soft delete leaves dependents alone", func(t *testing.T) {
		coreSoftDelete(t, f, f.Dataset.ID)
		assert.Equal(t, f.Versions[0], f.MustGet(t, f.Versions[0].ID))
		assert.Equal(t, extra, f.MustGet(t, extra.ID))
	})
	t.Run("a hard delete of the soft-deleted artifact still refuses", func(t *testing.T) {
		_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true})
		e := coreErr(t, err, registry.ErrHasDependents)
		assert.Contains(t, e.Message, f.Versions[0].FQN())
	})
	t.Run("soft-deleted dependents do not block", func(t *testing.T) {
		up := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "chain", Name: "up", Version: "1"})
		down := f.MustRegister(t, coreModel("chain", "down", "1"))
		f.MustLink(t, up.ID, down.ID)
		coreSoftDelete(t, f, down.ID)
		coreHardDelete(t, f, up.ID)
		lg, err := f.Lineage(f.Ctx, down.ID, registry.Upstream, 1, registry.IncludeAll)
		require.NoError(t, err)
		assert.Empty(t, lg.Nodes)
		assert.Empty(t, lg.Edges)
		restored, err := f.Restore(f.Ctx, down.ID)
		require.NoError(t, err)
		assert.False(t, restored.Deleted)
	})
}

// ---- Restore ----

func TestRestore(t *testing.T) {
	f := registrytest.New(t)
	before := f.Code
	_, err := f.Delete(f.Ctx, before.ID, registry.DeleteOptions{Reason: "oops"})
	require.NoError(t, err)
	at := f.Clock.Advance(time.Hour)
	bob := registry.WithPrincipal(context.Background(), "bob")

	got, err := f.Restore(bob, before.ID)
	require.NoError(t, err)
	want := before
	want.Revision, want.UpdatedAt, want.UpdatedBy = 3, at, "bob"
	assert.Equal(t, want, got, "live again, no delete recorded")
	assert.InDelta(t, 0.3, got.EntityVersion().Float64(), 1e-9)
	live, err := f.Get(f.Ctx, before.ID)
	require.NoError(t, err)
	assert.Equal(t, want, live)

	evs, err := f.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)
	e := evs[len(evs)-1]
	assert.Equal(t, registry.EventRestored, e.Type)
	assert.Equal(t, before.ID, e.ArtifactID)
	assert.Equal(t, int64(3), e.Revision)
	assert.Equal(t, "bob", e.Principal)
}

func TestRestoreRefusals(t *testing.T) {
	f := registrytest.New(t)
	hardLive := f.MustRegister(t, coreModel("svc", "hard_live", "1"))
	coreHardDelete(t, f, hardLive.ID)
	hardSoft := f.MustRegister(t, coreModel("svc", "hard_soft", "1"))
	coreSoftDelete(t, f, hardSoft.ID)
	coreHardDelete(t, f, hardSoft.ID)
	restored := f.MustRegister(t, coreModel("svc", "restored", "1"))
	coreSoftDelete(t, f, restored.ID)
	_, err := f.Restore(f.Ctx, restored.ID)
	require.NoError(t, err)

	cases := []struct {
		desc string
		id   string
		fqn  string
		want error
	}{
		{"live", f.Dataset.ID, f.Dataset.FQN(), registry.ErrNotDeleted},
		{"restored already", restored.ID, restored.FQN(), registry.ErrNotDeleted},
		{"deployed and live", f.Versions[2].ID, f.Versions[2].FQN(), registry.ErrNotDeleted},
		{"unknown", uuid.NewString(), "svc.unknown.1", registry.ErrNotFound},
		{"hard deleted while live", hardLive.ID, hardLive.FQN(), registry.ErrNotFound},
		{"hard deleted after a soft delete", hardSoft.ID, hardSoft.FQN(), registry.ErrNotFound},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			state := coreSnapshot(t, f.Registry)
			_, err := f.Restore(f.Ctx, c.id)
			e := coreErr(t, err, c.want)
			assert.Equal(t, c.id, e.ID)
			if c.want == registry.ErrNotDeleted {
				assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
				assert.Contains(t, e.Message, "not deleted")
			}
			_, err = f.RestoreByFQN(f.Ctx, c.fqn)
			coreErr(t, err, c.want)
			assert.Equal(t, state, coreSnapshot(t, f.Registry))
		})
	}
	_, err = f.Restore(f.Ctx, "nope")
	coreInvalid(t, err, "id")
	_, err = f.RestoreByFQN(f.Ctx, `svc."x"`)
	coreInvalid(t, err, "fqn")
}

func TestRestoreByFQN(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, coreModel("svc.eu", "churn.v2", "3"))
	const fqn = `"svc.eu"."churn.v2".3`
	_, err := f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{})
	require.NoError(t, err)
	got, err := f.RestoreByFQN(f.Ctx, fqn)
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	assert.False(t, got.Deleted)
	assert.Equal(t, int64(3), got.Revision)
}

func TestRestoreChildOfDeletedParent(t *testing.T) {
	f := registrytest.New(t)
	for _, c := range f.Children {
		coreSoftDelete(t, f, c.ID)
	}
	coreSoftDelete(t, f, f.Package.ID)
	child := f.MustGet(t, f.Children[0].ID)

	_, err := f.Restore(f.Ctx, child.ID)
	e := coreErr(t, err, registry.ErrParentDeleted)
	assert.Equal(t, child.ID, e.ID)
	assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
	assert.Contains(t, e.Message, "restore the parent first")
	assert.Contains(t, e.Message, f.Package.FQN())
	assert.Equal(t, child, f.MustGet(t, child.ID))
	_, err = f.RestoreByFQN(f.Ctx, child.FQN())
	coreErr(t, err, registry.ErrParentDeleted)

	// The parent comes back alone: each child was deleted by its own call.
	_, err = f.Restore(f.Ctx, f.Package.ID)
	require.NoError(t, err)
	for _, c := range f.Children {
		assert.True(t, f.MustGet(t, c.ID).Deleted, c.FQN())
	}
	got, err := f.Restore(f.Ctx, child.ID)
	require.NoError(t, err)
	assert.False(t, got.Deleted)
}

// TestRestoreBringsBackWhatTheSameDeleteTook: a recursive delete's restore
// brings back the subtree it took, and not a child deleted before it.
func TestRestoreBringsBackWhatTheSameDeleteTook(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Children[0].ID)
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	assert.Equal(t, []string{f.Children[1].ID, f.Package.ID}, res.Deleted)

	_, err = f.Restore(f.Ctx, f.Package.ID)
	require.NoError(t, err)
	assert.False(t, f.MustGet(t, f.Package.ID).Deleted)
	assert.False(t, f.MustGet(t, f.Children[1].ID).Deleted)
	assert.Equal(t, int64(3), f.MustGet(t, f.Children[1].ID).Revision)
	assert.True(t, f.MustGet(t, f.Children[0].ID).Deleted, "deleted on its own before; stays deleted")
}

func TestRevisionArithmetic(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, coreModel("svc", "m", "1"))
	steps := []struct {
		desc string
		do   func() error
	}{
		{"soft delete", func() error { _, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{}); return err }},
		{"restore", func() error { _, err := f.Restore(f.Ctx, a.ID); return err }},
		{"update", func() error { _, err := f.Update(f.Ctx, registry.Artifact{ID: a.ID, Description: "x"}); return err }},
		{"deploy", func() error { return f.Deploy(f.Ctx, a.ID, "ep") }},
		{"undeploy", func() error { return f.Undeploy(f.Ctx, a.ID, "ep") }},
		{"soft delete again", func() error { _, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{}); return err }},
		{"restore again", func() error { _, err := f.Restore(f.Ctx, a.ID); return err }},
	}
	assert.Equal(t, int64(1), a.Revision)
	assert.InDelta(t, 0.1, a.EntityVersion().Float64(), 1e-9)
	for i, s := range steps {
		at := f.Clock.Advance(time.Second)
		require.NoError(t, s.do(), s.desc)
		got := f.MustGet(t, a.ID)
		assert.Equal(t, int64(i+2), got.Revision, s.desc)
		assert.InDelta(t, float64(i+2)/10, got.EntityVersion().Float64(), 1e-9, s.desc)
		assert.Equal(t, at, got.UpdatedAt, s.desc)
		assert.Equal(t, registrytest.Epoch, got.CreatedAt, s.desc)
	}
}

// ---- A failed operation changes nothing ----

// coreState is everything a caller can see of a registry.
type coreState struct {
	Artifacts []registry.Artifact
	Lineage   map[string]registry.LineageGraph
	Events    int
	Pending   []registry.Cleanup
}

func coreSnapshot(t *testing.T, reg *registry.Registry) coreState {
	t.Helper()
	s := coreState{Lineage: map[string]registry.LineageGraph{}}
	s.Artifacts = coreListAll(t, reg, registry.Filter{Include: registry.IncludeAll, Limit: 7})
	for _, a := range s.Artifacts {
		lg, err := reg.Lineage(context.Background(), a.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		s.Lineage[a.ID] = lg
	}
	s.Events = coreEventCount(t, reg)
	var err error
	s.Pending, err = reg.PendingCleanups(context.Background())
	require.NoError(t, err)
	return s
}

// coreScene is the seeded fixture plus what the failing calls need.
type coreScene struct {
	*registrytest.Fixture
	Lonely  registry.Artifact // soft deleted
	Box     registry.Artifact // soft deleted after BoxItem
	BoxItem registry.Artifact // soft deleted, in Box
	Bundle  registry.Artifact // contains BundleKids; the second is deployed
	Kids    []registry.Artifact
}

const coreToken = "tok-1"

func coreNewScene(t *testing.T) *coreScene {
	f := registrytest.New(t)
	s := &coreScene{Fixture: f}
	ns := registrytest.Namespace
	s.Lonely = f.MustRegister(t, coreModel(ns, "lonely", "1"))
	coreSoftDelete(t, f, s.Lonely.ID)
	s.Box = f.MustRegister(t, coreModel(ns, "box", "1"))
	item := coreModel(ns, "box_item", "1")
	item.Parent = s.Box.ID
	s.BoxItem = f.MustRegister(t, item)
	coreSoftDelete(t, f, s.BoxItem.ID)
	coreSoftDelete(t, f, s.Box.ID)
	s.Bundle = f.MustRegister(t, coreModel(ns, "bundle", "1"))
	for _, n := range []string{"bundle_a", "bundle_b"} {
		k := coreModel(ns, n, "1")
		k.Parent = s.Bundle.ID
		k.StorageURIs = []string{"s3://models/" + n}
		s.Kids = append(s.Kids, f.MustRegister(t, k))
	}
	require.NoError(t, f.Deploy(f.Ctx, s.Kids[1].ID, "ep-bundle"))
	tokened := f.MustRegister(t, coreModel(ns, "tokened", "1"))
	_, err := f.Delete(f.Ctx, tokened.ID, registry.DeleteOptions{ClientToken: coreToken})
	require.NoError(t, err)
	return s
}

// TestFailedOperationLeavesRegistryUnchanged makes every kind of failing
// call it can and checks that the registry is exactly as it was: every
// artifact in every state, every lineage edge, the audit log and the
// cleanup queue, and that its invariants hold.
func TestFailedOperationLeavesRegistryUnchanged(t *testing.T) {
	missing := uuid.NewString()
	ok := func(s *coreScene) context.Context { return s.Ctx }
	type call func(s *coreScene) error
	cases := []struct {
		desc string
		call call
		want []error // any of these
	}{
		// Register.
		{"register: bad kind", func(s *coreScene) error {
			_, err := s.Register(ok(s), registry.Artifact{Kind: "pipeline", Namespace: "n", Name: "x"})
			return err
		}, []error{registry.ErrInvalid}},
		{"register: bad name", func(s *coreScene) error {
			_, err := s.Register(ok(s), coreModel("n", "x\x00", ""))
			return err
		}, []error{registry.ErrInvalid}},
		{"register: live FQN taken", func(s *coreScene) error {
			_, err := s.Register(ok(s), coreModel(s.Dataset.Namespace, s.Dataset.Name, s.Dataset.Version))
			return err
		}, []error{registry.ErrAlreadyExists}},
		{"register: soft-deleted FQN taken", func(s *coreScene) error {
			_, err := s.Register(ok(s), coreModel(s.Lonely.Namespace, s.Lonely.Name, s.Lonely.Version))
			return err
		}, []error{registry.ErrAlreadyExists}},
		{"register: ID taken", func(s *coreScene) error {
			a := coreModel("n", "x", "")
			a.ID = s.Lonely.ID
			_, err := s.Register(ok(s), a)
			return err
		}, []error{registry.ErrAlreadyExists}},
		{"register: parent missing", func(s *coreScene) error {
			a := coreModel("n", "x", "")
			a.Parent = missing
			_, err := s.Register(ok(s), a)
			return err
		}, []error{registry.ErrInvalid}},
		{"register: parent soft deleted", func(s *coreScene) error {
			a := coreModel("n", "x", "")
			a.Parent = s.Box.ID
			_, err := s.Register(ok(s), a)
			return err
		}, []error{registry.ErrInvalid}},
		{"register batch: last taken", func(s *coreScene) error {
			_, err := s.RegisterBatch(ok(s), []registry.Artifact{coreModel("n", "a", ""), coreModel("n", "b", ""),
				coreModel(s.Code.Namespace, s.Code.Name, s.Code.Version)})
			return err
		}, []error{registry.ErrAlreadyExists}},
		{"register batch: last invalid", func(s *coreScene) error {
			_, err := s.RegisterBatch(ok(s), []registry.Artifact{coreModel("n", "a", ""), {Kind: registry.KindModel, Namespace: "n"}})
			return err
		}, []error{registry.ErrInvalid}},
		{"register: canceled context", func(s *coreScene) error {
			ctx, cancel := context.WithCancel(s.Ctx)
			cancel()
			_, err := s.Register(ctx, coreModel("n", "x", ""))
			return err
		}, []error{context.Canceled}},
		{"register: bad principal", func(s *coreScene) error {
			_, err := s.Register(registry.WithPrincipal(context.Background(), "bad\nprincipal"), coreModel("n", "x", ""))
			return err
		}, []error{registry.ErrInvalid}},
		// Update.
		{"update: unknown", func(s *coreScene) error {
			_, err := s.Update(ok(s), registry.Artifact{ID: missing, Description: "x"})
			return err
		}, []error{registry.ErrNotFound}},
		{"update: soft deleted", func(s *coreScene) error {
			_, err := s.Update(ok(s), registry.Artifact{ID: s.Lonely.ID, Description: "x"})
			return err
		}, []error{registry.ErrNotFound}},
		{"update: identity", func(s *coreScene) error {
			_, err := s.Update(ok(s), registry.Artifact{ID: s.Code.ID, Name: "renamed", Description: "x"})
			return err
		}, []error{registry.ErrInvalid}},
		{"update: bad metadata", func(s *coreScene) error {
			_, err := s.Update(ok(s), registry.Artifact{ID: s.Code.ID, StorageURIs: []string{"no-scheme"}})
			return err
		}, []error{registry.ErrInvalid}},
		// Delete.
		{"delete: malformed ID", func(s *coreScene) error {
			_, err := s.Delete(ok(s), "nope", registry.DeleteOptions{})
			return err
		}, []error{registry.ErrInvalid}},
		{"delete: malformed FQN", func(s *coreScene) error {
			_, err := s.DeleteByFQN(ok(s), `a."b"`, registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrInvalid}},
		{"delete: bad options", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Code.ID, registry.DeleteOptions{Cascade: true, CascadeLimit: -1})
			return err
		}, []error{registry.ErrInvalid}},
		{"delete: bad token", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Code.ID, registry.DeleteOptions{ClientToken: "not a token!"})
			return err
		}, []error{registry.ErrInvalid}},
		{"delete: unknown", func(s *coreScene) error {
			_, err := s.Delete(ok(s), missing, registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrNotFound}},
		{"delete: unknown FQN", func(s *coreScene) error {
			_, err := s.DeleteByFQN(ok(s), "mlflow_svc.nothing", registry.DeleteOptions{})
			return err
		}, []error{registry.ErrNotFound}},
		{"delete: second soft delete", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Lonely.ID, registry.DeleteOptions{})
			return err
		}, []error{registry.ErrNotFound}},
		{"delete: not empty, soft", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Package.ID, registry.DeleteOptions{})
			return err
		}, []error{registry.ErrNotEmpty}},
		{"delete: not empty, hard", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Package.ID, registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrNotEmpty}},
		{"delete: deployed, soft", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Versions[2].ID, registry.DeleteOptions{})
			return err
		}, []error{registry.ErrDeployed}},
		{"delete: deployed, hard by FQN", func(s *coreScene) error {
			_, err := s.DeleteByFQN(ok(s), s.Versions[2].FQN(), registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrDeployed}},
		{"delete: has dependents", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Dataset.ID, registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrHasDependents}},
		{"delete: has dependents along a chain", func(s *coreScene) error {
			if _, err := s.Delete(ok(s), s.Versions[0].ID, registry.DeleteOptions{Hard: true}); err == nil {
				return errors.New("hard delete of v1 succeeded")
			} else if !errors.Is(err, registry.ErrHasDependents) {
				return err
			}
			_, err := s.Delete(ok(s), s.Versions[1].ID, registry.DeleteOptions{Hard: true})
			return err
		}, []error{registry.ErrHasDependents}},
		{"delete: recursive atomic with a deployed child", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Bundle.ID, registry.DeleteOptions{Recursive: true, Atomic: true, Hard: true})
			return err
		}, []error{registry.ErrDeployed, registry.ErrNotEmpty}},
		{"delete: token reused for another request", func(s *coreScene) error {
			_, err := s.Delete(ok(s), s.Code.ID, registry.DeleteOptions{ClientToken: coreToken})
			return err
		}, []error{registry.ErrIdempotencyMismatch}},
		// Restore.
		{"restore: live", func(s *coreScene) error {
			_, err := s.Restore(ok(s), s.Code.ID)
			return err
		}, []error{registry.ErrNotDeleted}},
		{"restore: unknown", func(s *coreScene) error {
			_, err := s.Restore(ok(s), missing)
			return err
		}, []error{registry.ErrNotFound}},
		{"restore: parent deleted", func(s *coreScene) error {
			_, err := s.Restore(ok(s), s.BoxItem.ID)
			return err
		}, []error{registry.ErrParentDeleted}},
		{"restore: malformed FQN", func(s *coreScene) error {
			_, err := s.RestoreByFQN(ok(s), "x")
			return err
		}, []error{registry.ErrInvalid}},
		// Lineage.
		{"link: cycle", func(s *coreScene) error { return s.Link(ok(s), s.Versions[2].ID, s.Dataset.ID) }, []error{registry.ErrInvalid}},
		{"link: self", func(s *coreScene) error { return s.Link(ok(s), s.Code.ID, s.Code.ID) }, []error{registry.ErrInvalid}},
		{"link: duplicate", func(s *coreScene) error { return s.Link(ok(s), s.Dataset.ID, s.Versions[0].ID) }, []error{registry.ErrAlreadyExists}},
		{"link: soft-deleted end", func(s *coreScene) error { return s.Link(ok(s), s.Code.ID, s.Lonely.ID) }, []error{registry.ErrNotFound}},
		{"link: unknown end", func(s *coreScene) error { return s.Link(ok(s), missing, s.Code.ID) }, []error{registry.ErrNotFound}},
		{"link: malformed", func(s *coreScene) error { return s.Link(ok(s), s.Code.ID, "x") }, []error{registry.ErrInvalid}},
		{"unlink: no such edge", func(s *coreScene) error { return s.Unlink(ok(s), s.Code.ID, s.Dataset.ID) }, []error{registry.ErrNotFound}},
		// Deploy.
		{"deploy: soft deleted", func(s *coreScene) error { return s.Deploy(ok(s), s.Lonely.ID, "ep") }, []error{registry.ErrNotFound}},
		{"deploy: unknown", func(s *coreScene) error { return s.Deploy(ok(s), missing, "ep") }, []error{registry.ErrNotFound}},
		{"deploy: bad endpoint", func(s *coreScene) error { return s.Deploy(ok(s), s.Code.ID, "") }, []error{registry.ErrInvalid}},
		{"undeploy: not there", func(s *coreScene) error { return s.Undeploy(ok(s), s.Versions[2].ID, "elsewhere") }, []error{registry.ErrNotFound}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			s := coreNewScene(t)
			before := coreSnapshot(t, s.Registry)
			// Any write would now record a new time.
			s.Clock.Advance(time.Hour)
			err := c.call(s)
			require.Error(t, err)
			matched := false
			for _, w := range c.want {
				matched = matched || errors.Is(err, w)
			}
			assert.True(t, matched, "error %v is none of %v", err, c.want)
			assert.Equal(t, before, coreSnapshot(t, s.Registry), "the registry changed")
			require.NoError(t, s.Check())
		})
	}
}

// ---- Readers see whole transactions only ----

// TestReadersNeverSeeHalfATransaction runs readers while a writer registers
// a package with its children in one batch, soft deletes it recursively,
// restores it and hard deletes it recursively, round after round. Each List
// reads one snapshot: it must hold the whole package or none of it, all in
// one state.
func TestReadersNeverSeeHalfATransaction(t *testing.T) {
	f := registrytest.NewEmpty(t)
	const (
		ns      = "atomic"
		kids    = 40
		rounds  = 6
		readers = 4
		whole   = kids + 1
	)
	var (
		stop    atomic.Bool
		started sync.WaitGroup
		done    sync.WaitGroup
		mu      sync.Mutex
		bad     []string
		reads   atomic.Int64
	)
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	started.Add(readers)
	done.Add(readers)
	for r := range readers {
		go func() {
			defer done.Done()
			first := true
			for {
				for _, inc := range []registry.Include{registry.IncludeNonDeleted, registry.IncludeDeleted, registry.IncludeAll} {
					page, err := f.List(context.Background(), registry.Filter{Namespace: ns, Include: inc, Limit: 1000})
					if err != nil {
						report("reader %d: %v", r, err)
						continue
					}
					n := len(page.Items)
					if n != 0 && n != whole {
						report("reader %d: include %s saw %d of %d artifacts", r, inc, n, whole)
					}
					deleted := 0
					for _, a := range page.Items {
						if a.Deleted {
							deleted++
						}
					}
					if deleted != 0 && deleted != n {
						report("reader %d: include %s saw %d deleted of %d", r, inc, deleted, n)
					}
					reads.Add(1)
				}
				if first {
					first = false
					started.Done()
				}
				if stop.Load() {
					return
				}
			}
		}()
	}
	started.Wait()

	for round := range rounds {
		pkgID := uuid.NewString()
		batch := []registry.Artifact{{ID: pkgID, Kind: registry.KindModel, Namespace: ns, Name: "pkg", Version: fmt.Sprint(round)}}
		for i := range kids {
			batch = append(batch, registry.Artifact{Kind: registry.KindModel, Namespace: ns, Name: fmt.Sprintf("kid%02d", i),
				Version: fmt.Sprint(round), Parent: pkgID})
		}
		_, err := f.RegisterBatch(f.Ctx, batch)
		require.NoError(t, err)
		res, err := f.Delete(f.Ctx, pkgID, registry.DeleteOptions{Recursive: true})
		require.NoError(t, err)
		require.Len(t, res.Deleted, whole)
		_, err = f.Restore(f.Ctx, pkgID)
		require.NoError(t, err)
		res, err = f.Delete(f.Ctx, pkgID, registry.DeleteOptions{Recursive: true, Hard: true})
		require.NoError(t, err)
		require.Len(t, res.Deleted, whole)
	}
	stop.Store(true)
	done.Wait()

	assert.Empty(t, bad)
	assert.GreaterOrEqual(t, reads.Load(), int64(3*readers))
	assert.Empty(t, coreListAll(t, f.Registry, registry.Filter{Namespace: ns, Include: registry.IncludeAll}))
}

// TestRegisterBatchIsAtomicToReaders: a reader sees every batch whole or
// not at all, in one List and across reads (the last artifact of a batch
// seen first means its first is there too).
func TestRegisterBatchIsAtomicToReaders(t *testing.T) {
	f := registrytest.NewEmpty(t)
	const batches, size = 40, 25
	var stop atomic.Bool
	var started, done sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(bad) < 10 {
			bad = append(bad, fmt.Sprintf(format, args...))
		}
	}
	const readers = 3
	started.Add(readers)
	done.Add(readers)
	for range readers {
		go func() {
			defer done.Done()
			first := true
			for {
				page, err := f.List(context.Background(), registry.Filter{Namespace: "batch", Limit: 1000})
				if err != nil {
					report("list: %v", err)
				} else if n := len(page.Items); n%size != 0 {
					report("a List saw %d artifacts, not a multiple of the batch size %d", n, size)
				}
				b := len(page.Items) / size // the batch being written, or the next
				name := fmt.Sprintf("b%02d", b)
				if last, err := f.GetVersion(context.Background(), "batch", name, fmt.Sprint(size-1)); err == nil {
					if _, err := f.GetVersion(context.Background(), "batch", name, "0"); err != nil {
						report("saw %s without the first of its batch: %v", last.FQN(), err)
					}
				}
				if first {
					first = false
					started.Done()
				}
				if stop.Load() {
					return
				}
			}
		}()
	}
	started.Wait()
	for b := range batches {
		batch := make([]registry.Artifact, size)
		for i := range batch {
			// Registered last first, so that a split batch shows the last
			// artifact before the first.
			batch[i] = coreModel("batch", fmt.Sprintf("b%02d", b), fmt.Sprint(size-1-i))
		}
		_, err := f.RegisterBatch(f.Ctx, batch)
		require.NoError(t, err)
	}
	stop.Store(true)
	done.Wait()
	assert.Empty(t, bad)
	assert.Len(t, coreListAll(t, f.Registry, registry.Filter{Namespace: "batch", Limit: 1000}), batches*size)
}
