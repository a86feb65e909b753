package registry_test

// Engine bugs the model-based randomized test (oracle_test.go) found, each
// as the shrunk sequence it printed, kept so that they stay fixed.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// Unlink: "It works whatever state the two artifacts are in." It refused
// an edge whose downstream was soft deleted (NOT_FOUND, "lineage links live
// artifacts only"), so a soft-deleted artifact's edges could not be removed.
// Shrunk from seed 1:
//
//	register #9 code lab."churn.v2".3
//	register #14 dataset lab."churn.v2".2
//	link #9 -> #14
//	delete #14 {}
//	unlink #9 -> #14
func TestModelRegressionUnlinkSoftDeletedEnd(t *testing.T) {
	f := registrytest.NewEmpty(t)
	up := f.MustRegister(t, registry.Artifact{Kind: registry.KindCode, Namespace: "lab", Name: "churn.v2", Version: "3"})
	down := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "lab", Name: "churn.v2", Version: "2"})
	f.MustLink(t, up.ID, down.ID)
	_, err := f.Delete(f.Ctx, down.ID, registry.DeleteOptions{})
	require.NoError(t, err)

	require.NoError(t, f.Unlink(f.Ctx, up.ID, down.ID), "Unlink works whatever state the two artifacts are in")
	g, err := f.Lineage(f.Ctx, up.ID, registry.Both, 1, registry.IncludeAll)
	require.NoError(t, err)
	assert.Empty(t, g.Edges)
	assert.Equal(t, registry.CodeNotFound, registry.ErrorCode(f.Unlink(f.Ctx, up.ID, down.ID)), "a missing edge is ErrNotFound")
}

// Result.Skipped: "versions past the cascade limit, not deleted and not
// failed". A version past the limit that the recursive delete took anyway,
// as a grandchild of the target, was reported both Deleted and Skipped, and
// SkipReason said it "was not deleted". Shrunk from seed 3:
//
//	register #12 model lab.churn.2
//	register #25 model svc."churn.v2".3 parent=#12
//	register #31 model lab.churn.1 parent=#25
//	delete fqn lab.churn.2 {Recursive Cascade CascadeLimit:1}
func TestModelRegressionSkippedVersionTakenAnyway(t *testing.T) {
	f := registrytest.NewEmpty(t)
	target := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "lab", Name: "churn", Version: "2"})
	child := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn.v2", Version: "3", Parent: target.ID})
	grandchild := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "lab", Name: "churn", Version: "1", Parent: child.ID})

	res, err := f.DeleteByFQN(f.Ctx, "lab.churn.2", registry.DeleteOptions{Recursive: true, Cascade: true, CascadeLimit: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{grandchild.ID, child.ID, target.ID}, res.Deleted, "children before parents")
	assert.Empty(t, res.Failed)
	assert.Empty(t, res.Skipped, "lab.churn.1 was deleted, as the target's grandchild; it is not skipped")
	assert.Empty(t, res.SkipReason)
}
