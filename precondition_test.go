package registry_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

func TestIfRevisionOnDelete(t *testing.T) {
	cases := []struct {
		name string
		rev  func(a registry.Artifact) int64
		want error
	}{
		{"current", func(a registry.Artifact) int64 { return a.Revision }, nil},
		{"stale", func(a registry.Artifact) int64 { return a.Revision - 1 }, registry.ErrPreconditionFailed},
		{"ahead", func(a registry.Artifact) int64 { return a.Revision + 1 }, registry.ErrPreconditionFailed},
		{"negative", func(registry.Artifact) int64 { return -1 }, registry.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			a, err := f.Update(f.Ctx, registry.Artifact{ID: f.Code.ID, Description: "v2"})
			require.NoError(t, err)
			require.Equal(t, int64(2), a.Revision)
			_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true, IfRevision: c.rev(a)})
			if c.want != nil {
				assert.ErrorIs(t, err, c.want)
				assert.Equal(t, a, f.MustGet(t, a.ID), "a failed precondition changes nothing")
				return
			}
			require.NoError(t, err)
			_, err = f.Get(f.Ctx, a.ID, registry.IncludeAll)
			assert.ErrorIs(t, err, registry.ErrNotFound)
		})
	}
}

func TestIfRevisionRefusedOnDeleteAllVersions(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.DeleteAllVersions(f.Ctx, registrytest.Namespace, "customer_segmentation", registry.DeleteOptions{IfRevision: 1})
	assert.ErrorIs(t, err, registry.ErrInvalid)
}

func TestIfRevisionOnUpdate(t *testing.T) {
	f := registrytest.New(t)
	a := f.Code
	_, err := f.Update(f.Ctx, registry.Artifact{ID: a.ID, Description: "x"}, registry.UpdateOptions{IfRevision: a.Revision + 1})
	assert.ErrorIs(t, err, registry.ErrPreconditionFailed)
	assert.Equal(t, a, f.MustGet(t, a.ID))
	_, err = f.Update(f.Ctx, registry.Artifact{ID: a.ID, Description: "x"}, registry.UpdateOptions{IfRevision: -2})
	assert.ErrorIs(t, err, registry.ErrInvalid)
	_, err = f.Update(f.Ctx, registry.Artifact{ID: a.ID, Description: "x"}, nil)
	assert.ErrorIs(t, err, registry.ErrInvalid)
	b, err := f.Update(f.Ctx, registry.Artifact{ID: a.ID, Description: "x"}, registry.UpdateOptions{IfRevision: a.Revision})
	require.NoError(t, err)
	assert.Equal(t, a.Revision+1, b.Revision)
}
