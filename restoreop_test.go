package registry_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

func ids(as []registry.Artifact) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func TestRestoreOperationBringsBackACascadeAndOnlyIt(t *testing.T) {
	f := registrytest.New(t)
	ctx := f.Ctx
	require.NoError(t, f.Undeploy(ctx, f.Versions[2].ID, registrytest.Endpoint))
	// A version deleted on its own first stays deleted.
	alone, err := f.Delete(ctx, f.Versions[0].ID, registry.DeleteOptions{Reason: "alone"})
	require.NoError(t, err)
	f.Clock.Advance(time.Minute)
	res, err := f.Delete(ctx, f.Versions[2].ID, registry.DeleteOptions{Cascade: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{f.Versions[1].ID, f.Versions[2].ID}, res.Deleted)

	back, err := f.RestoreOperation(ctx, res.Operation)
	require.NoError(t, err)
	assert.ElementsMatch(t, res.Deleted, ids(back))
	for _, a := range back {
		assert.False(t, a.Deleted)
		assert.Empty(t, a.DeleteOperation)
	}
	v0 := f.MustGet(t, f.Versions[0].ID)
	assert.True(t, v0.Deleted)
	assert.Equal(t, alone.Operation, v0.DeleteOperation)

	// Nothing of it is still deleted: a second call is not found.
	_, err = f.RestoreOperation(ctx, res.Operation)
	assert.ErrorIs(t, err, registry.ErrNotFound)
}

func TestRestoreOperationParentsBeforeChildren(t *testing.T) {
	f := registrytest.New(t)
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 1+len(f.Children))
	back, err := f.RestoreOperation(f.Ctx, res.Operation)
	require.NoError(t, err)
	require.Len(t, back, 1+len(f.Children))
	assert.Equal(t, f.Package.ID, back[0].ID, "the parent comes first")
	for _, c := range f.Children {
		assert.False(t, f.MustGet(t, c.ID).Deleted)
	}
}

func TestRestoreOperationErrorsChangeNothing(t *testing.T) {
	f := registrytest.New(t)
	// A child deleted by one operation under a parent deleted by another.
	child, err := f.Delete(f.Ctx, f.Children[0].ID)
	require.NoError(t, err)
	_, err = f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	before, err := f.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)

	cases := []struct {
		name string
		op   string
		opts []registry.RestoreOption
		want error
	}{
		{"parent still deleted", child.Operation, nil, registry.ErrParentDeleted},
		{"not a UUID", "op-1", nil, registry.ErrInvalid},
		{"empty", "", nil, registry.ErrInvalid},
		{"unknown", "0190a8a8-0000-7000-8000-000000000000", nil, registry.ErrNotFound},
		{"bad token", child.Operation, []registry.RestoreOption{registry.RestoreOptions{ClientToken: "no spaces"}}, registry.ErrInvalid},
		{"nil option", child.Operation, []registry.RestoreOption{nil}, registry.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.RestoreOperation(f.Ctx, c.op, c.opts...)
			assert.ErrorIs(t, err, c.want)
			after, err := f.Events(f.Ctx, 0, 1000)
			require.NoError(t, err)
			assert.Equal(t, len(before), len(after), "no event: nothing changed")
		})
	}
}

func TestRestoreOperationTokenReplays(t *testing.T) {
	f := registrytest.New(t)
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	tok := registry.RestoreOptions{ClientToken: "undo-1", Reason: "oops"}
	first, err := f.RestoreOperation(f.Ctx, res.Operation, tok)
	require.NoError(t, err)
	again, err := f.RestoreOperation(f.Ctx, res.Operation, tok)
	require.NoError(t, err)
	assert.Equal(t, ids(first), ids(again))
	_, err = f.RestoreOperation(f.Ctx, res.Operation, registry.RestoreOptions{ClientToken: "undo-1", Reason: "other"})
	assert.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
	// The same token on a plain restore is another request.
	_, err = f.Restore(f.Ctx, f.Package.ID, registry.RestoreOptions{ClientToken: "undo-1", Reason: "oops"})
	assert.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
}

func TestRestoreOperationNeedsRestoreOnEveryArtifact(t *testing.T) {
	clock := registrytest.NewClock(registrytest.Epoch)
	reg, err := registry.New(registry.WithClock(clock), registry.WithAuthorizer(registry.AuthorizerFunc(
		func(_ context.Context, p string, action registry.Action, a registry.Artifact) error {
			if p == "bob" && action == registry.ActionRestore && a.Name == "child" {
				return assert.AnError
			}
			return nil
		})))
	require.NoError(t, err)
	ctx := registry.WithPrincipal(context.Background(), "bob")
	p, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "pkg"})
	require.NoError(t, err)
	_, err = reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "child", Parent: p.ID})
	require.NoError(t, err)
	res, err := reg.Delete(ctx, p.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	_, err = reg.RestoreOperation(ctx, res.Operation)
	assert.ErrorIs(t, err, registry.ErrForbidden)
	got, err := reg.Get(ctx, p.ID, registry.IncludeAll)
	require.NoError(t, err)
	assert.True(t, got.Deleted, "all or nothing")
	require.NoError(t, reg.Check())
}
