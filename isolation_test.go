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

// isoWorld is two principals in two namespaces, alice in alpha_ns and bob in
// beta_ns, and what an admin (registrytest.Principal, every namespace) set
// up between them. Every name is distinctive so that a message that leaks
// one is caught by a substring search.
type isoWorld struct {
	f          *registrytest.Fixture
	alice, bob context.Context
	// Alice's: a live model (upstream of Bob's scorer, downstream of Bob's
	// features), an empty package, a soft-deleted model (trash), a child of
	// Bob's bundle, and a package she deleted with Bob's leaf in it.
	aModel, aPkg, aGone, aChild, aTrashPkg registry.Artifact
	// Bob's: a dataset, a model, a bundle, a soft-deleted model, a leaf
	// inside Alice's deleted package.
	bData, bModel, bBundle, bGone, bLeaf registry.Artifact
}

const (
	isoAlphaNS  = "alpha_ns"
	isoBetaNS   = "beta_ns"
	isoAlphaURI = "s3://alpha-bucket/secret_model.bin"
	isoGoneURI  = "s3://alpha-bucket/secret_gone.bin"
)

func newIsoWorld(t *testing.T, readAuthz bool) *isoWorld {
	t.Helper()
	authz := registry.NamespaceAuthorizer{registrytest.Principal: {"*"}, "alice": {isoAlphaNS}, "bob": {isoBetaNS}}
	opts := []registry.Option{registry.WithAuthorizer(authz)}
	if readAuthz {
		opts = append(opts, registry.WithReadAuthorization())
	}
	f := registrytest.NewEmpty(t, opts...)
	w := &isoWorld{f: f,
		alice: registry.WithPrincipal(context.Background(), "alice"),
		bob:   registry.WithPrincipal(context.Background(), "bob")}
	reg := func(ns, name string, parent string, uris ...string) registry.Artifact {
		return f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: ns, Name: name, Version: "1", Parent: parent, StorageURIs: uris})
	}
	softDelete := func(id string, o registry.DeleteOptions) {
		_, err := f.Delete(f.Ctx, id, o)
		require.NoError(t, err)
	}
	w.bData = reg(isoBetaNS, "features", "")
	w.bModel = reg(isoBetaNS, "scorer", "", "s3://beta-bucket/scorer.bin")
	w.bBundle = reg(isoBetaNS, "bundle", "")
	w.bGone = reg(isoBetaNS, "old_scorer", "")
	w.aModel = reg(isoAlphaNS, "secret_model", "", isoAlphaURI)
	w.aPkg = reg(isoAlphaNS, "secret_pkg", "")
	w.aGone = reg(isoAlphaNS, "secret_gone", "", isoGoneURI)
	w.aChild = reg(isoAlphaNS, "secret_child", w.bBundle.ID)
	w.aTrashPkg = reg(isoAlphaNS, "secret_trash_pkg", "")
	w.bLeaf = reg(isoBetaNS, "leaf", w.aTrashPkg.ID)
	f.MustLink(t, w.bData.ID, w.aModel.ID)
	f.MustLink(t, w.aModel.ID, w.bModel.ID)
	softDelete(w.aGone.ID, registry.DeleteOptions{})
	softDelete(w.bGone.ID, registry.DeleteOptions{})
	softDelete(w.aTrashPkg.ID, registry.DeleteOptions{Recursive: true})
	w.aGone, w.aTrashPkg, w.bLeaf = f.MustGet(t, w.aGone.ID), f.MustGet(t, w.aTrashPkg.ID), f.MustGet(t, w.bLeaf.ID)
	f.Clock.Advance(time.Hour)
	return w
}

// secrets lists what Bob must never learn: Alice's IDs, FQNs, names and
// namespace.
func (w *isoWorld) secrets() []string {
	out := []string{isoAlphaNS, "alpha-bucket"}
	for _, a := range []registry.Artifact{w.aModel, w.aPkg, w.aGone, w.aChild, w.aTrashPkg} {
		out = append(out, a.ID, a.FQN(), a.Name)
	}
	return out
}

func (w *isoWorld) dump(t *testing.T) string {
	t.Helper()
	return badDump(t, w.f.Registry, w.f.Ctx)
}

// Another namespace may not reach an artifact through a write: attach a
// child to it, link to or from it, share its storage, or change it. Each
// way is FORBIDDEN, changes nothing, and (without read authorization) says
// whose artifact it is.
func TestIsolationWritesCannotReachAnotherNamespace(t *testing.T) {
	cases := []struct {
		name string
		// call runs as Bob and returns the error and the artifact of Alice's
		// it reaches.
		call func(t *testing.T, w *isoWorld) (error, registry.Artifact)
	}{
		{"Register a child of a live artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "intruder", Parent: w.aPkg.ID})
			return err, w.aPkg
		}},
		{"Register a child of a soft-deleted artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "intruder", Parent: w.aGone.ID})
			return err, w.aGone
		}},
		{"RegisterBatch with a child of a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.RegisterBatch(w.bob, []registry.Artifact{
				{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "fine"},
				{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "intruder", Parent: w.aPkg.ID}})
			return err, w.aPkg
		}},
		{"Register with a foreign storage URI", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "squatter", StorageURIs: []string{isoAlphaURI}})
			return err, w.aModel
		}},
		{"Register with a storage URI of a soft-deleted artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "squatter", StorageURIs: []string{isoGoneURI}})
			return err, w.aGone
		}},
		{"Update own artifact to a foreign storage URI", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Update(w.bob, registry.Artifact{ID: w.bModel.ID, StorageURIs: []string{"s3://beta-bucket/scorer.bin", isoAlphaURI}})
			return err, w.aModel
		}},
		{"Update a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Update(w.bob, registry.Artifact{ID: w.aModel.ID, Description: "mine now"})
			return err, w.aModel
		}},
		{"Link from a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Link(w.bob, w.aPkg.ID, w.bData.ID), w.aPkg
		}},
		{"Link to a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Link(w.bob, w.bData.ID, w.aPkg.ID), w.aPkg
		}},
		{"Link to a soft-deleted foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Link(w.bob, w.bData.ID, w.aGone.ID), w.aGone
		}},
		{"Unlink a foreign upstream", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Unlink(w.bob, w.aModel.ID, w.bModel.ID), w.aModel
		}},
		{"Unlink a foreign downstream", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Unlink(w.bob, w.bData.ID, w.aModel.ID), w.aModel
		}},
		{"Delete a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Delete(w.bob, w.aPkg.ID, registry.DeleteOptions{Hard: true})
			return err, w.aPkg
		}},
		{"Hard delete detaching a foreign dependent", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Delete(w.bob, w.bData.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
			return err, w.aModel
		}},
		{"Restore a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			_, err := w.f.Restore(w.bob, w.aGone.ID)
			return err, w.aGone
		}},
		{"Deploy a foreign artifact", func(t *testing.T, w *isoWorld) (error, registry.Artifact) {
			return w.f.Deploy(w.bob, w.aModel.ID, "bob-endpoint"), w.aModel
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newIsoWorld(t, false)
			before := w.dump(t)
			err, reached := c.call(t, w)
			guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
			assert.Contains(t, err.Error(), reached.FQN(), "without read authorization the refusal says whose artifact it is")
			badRequireSame(t, before, w.dump(t))
			require.NoError(t, w.f.Check())
		})
	}
}

// The owner, and an admin for anyone, may still do each of those things.
func TestIsolationOwnersMayReachTheirOwnArtifacts(t *testing.T) {
	w := newIsoWorld(t, false)
	child, err := w.f.Register(w.alice, registry.Artifact{Kind: registry.KindModel, Namespace: isoAlphaNS, Name: "own_child", Parent: w.aPkg.ID,
		StorageURIs: []string{isoAlphaURI}})
	require.NoError(t, err, "alice may add a child to her package and share her own storage")
	_, err = w.f.Update(w.alice, registry.Artifact{ID: w.aPkg.ID, StorageURIs: []string{isoAlphaURI}})
	require.NoError(t, err)
	require.NoError(t, w.f.Link(w.alice, w.aPkg.ID, child.ID))
	_, err = w.f.Register(w.f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "admin_made", Parent: w.aPkg.ID,
		StorageURIs: []string{isoAlphaURI}})
	require.NoError(t, err, "an admin may reach across namespaces")
	require.NoError(t, w.f.Check())
}

// Sharing a storage URI decides what a hard delete cleans: Bob's reference
// would have kept Alice's object alive after her hard delete. Refused, her
// hard delete cleans her object.
func TestIsolationForeignStorageStaysItsOwnersToClean(t *testing.T) {
	w := newIsoWorld(t, false)
	_, err := w.f.Update(w.bob, registry.Artifact{ID: w.bModel.ID, StorageURIs: []string{isoAlphaURI}})
	require.ErrorIs(t, err, registry.ErrForbidden)
	require.NoError(t, w.f.Unlink(w.f.Ctx, w.bData.ID, w.aModel.ID))
	require.NoError(t, w.f.Unlink(w.f.Ctx, w.aModel.ID, w.bModel.ID))
	_, err = w.f.Delete(w.alice, w.aModel.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	pending, err := w.f.PendingCleanups(w.f.Ctx)
	require.NoError(t, err)
	var uris []string
	for _, c := range pending {
		uris = append(uris, c.URI)
	}
	assert.Contains(t, uris, isoAlphaURI)
	require.NoError(t, w.f.Check())
}
