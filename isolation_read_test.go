package registry_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// isoErr is an error flattened for comparison.
type isoErr struct{ Code, ID, Message string }

func isoFlatten(t *testing.T, err error) isoErr {
	t.Helper()
	require.Error(t, err)
	var e *registry.Error
	require.True(t, errors.As(err, &e), "want a *registry.Error, got %T: %v", err, err)
	return isoErr{e.Code, e.ID, e.Message}
}

// With read authorization, a principal learns nothing about an artifact it
// may not read. Each row makes Bob's call reach Alice's artifact; the answer
// carries no FQN, name, namespace or ID of hers. Where the artifact must look
// missing (missing != nil), the answer is the one a truly missing artifact
// gives, the key Bob gave aside.
func TestIsolationRefusalsRevealNothing(t *testing.T) {
	const missingID = "0190a7e4-0000-7000-8000-00000000beef"
	const missingFQN = isoBetaNS + ".no_such_model.1"
	type call func(w *isoWorld, id, fqn string) (any, error)
	cases := []struct {
		name string
		code string
		// target picks the foreign ID and FQN the call is given.
		target func(w *isoWorld) registry.Artifact
		call   call
		// missing, when set, is the same call on a missing artifact: the
		// answer must be the same.
		missing func(w *isoWorld) (string, string)
	}{
		{name: "Get", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Get(w.bob, id)
		}},
		{name: "Get soft-deleted with IncludeAll", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Get(w.bob, id, registry.IncludeAll)
		}},
		{name: "Get soft-deleted by default", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Get(w.bob, id)
		}},
		{name: "GetByFQN", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, _, fqn string) (any, error) {
			return w.f.GetByFQN(w.bob, fqn, registry.IncludeAll)
		}},
		{name: "GetVersion", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, _, fqn string) (any, error) {
			ns, name, version, err := registry.ParseFQN(fqn)
			if err != nil {
				return nil, err
			}
			return w.f.GetVersion(w.bob, ns, name, version)
		}},
		{name: "Lineage", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Lineage(w.bob, id, registry.Both, 3, registry.IncludeAll)
		}},
		{name: "Delete", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Delete(w.bob, id, registry.DeleteOptions{})
		}},
		{name: "Delete hard dry run", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Delete(w.bob, id, registry.DeleteOptions{Hard: true, DryRun: true, Recursive: true})
		}},
		{name: "second soft Delete", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Delete(w.bob, id, registry.DeleteOptions{})
		}},
		{name: "DeleteByFQN", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, _, fqn string) (any, error) {
			return w.f.DeleteByFQN(w.bob, fqn, registry.DeleteOptions{Cascade: true})
		}},
		{name: "Update", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Update(w.bob, registry.Artifact{ID: id, Description: "x"})
		}},
		{name: "Update of a soft-deleted artifact", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Update(w.bob, registry.Artifact{ID: id, Description: "x"})
		}},
		{name: "Restore of a live artifact", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Restore(w.bob, id)
		}},
		{name: "Restore", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Restore(w.bob, id)
		}},
		{name: "RestoreByFQN", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, _, fqn string) (any, error) {
			return w.f.RestoreByFQN(w.bob, fqn)
		}},
		{name: "Deploy", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Deploy(w.bob, id, "bob-endpoint")
		}},
		{name: "Undeploy", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Undeploy(w.bob, id, "bob-endpoint")
		}},
		{name: "Link to", code: registry.CodeNotFound, target: isoPkg, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Link(w.bob, w.bData.ID, id)
		}},
		{name: "Link from", code: registry.CodeNotFound, target: isoPkg, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Link(w.bob, id, w.bData.ID)
		}},
		{name: "Link to a soft-deleted artifact", code: registry.CodeNotFound, target: isoGone, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Link(w.bob, w.bData.ID, id)
		}},
		{name: "Unlink an existing edge", code: registry.CodeNotFound, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return nil, w.f.Unlink(w.bob, id, w.bModel.ID)
		}},
		{name: "Register with a foreign parent", code: registry.CodeInvalid, target: isoPkg, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "kid", Parent: id})
		}},
		{name: "Register of an existing name", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, _, fqn string) (any, error) {
			ns, name, version, err := registry.ParseFQN(fqn)
			if err != nil {
				return nil, err
			}
			return w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: ns, Name: name, Version: version})
		}, missing: func(w *isoWorld) (string, string) { return "", isoAlphaNS + ".no_such_model.1" }},
		// Existence must be told: the call cannot succeed. FORBIDDEN, naming
		// nothing of Alice's.
		{name: "Register with a foreign ID", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, id, _ string) (any, error) {
			return w.f.Register(w.bob, registry.Artifact{ID: id, Kind: registry.KindModel, Namespace: isoBetaNS, Name: "thief"})
		}, missing: isoTold},
		{name: "Register sharing a foreign storage URI", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Register(w.bob, registry.Artifact{Kind: registry.KindModel, Namespace: isoBetaNS, Name: "squatter", StorageURIs: []string{isoAlphaURI}})
		}, missing: isoTold},
		{name: "Update sharing a foreign storage URI", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Update(w.bob, registry.Artifact{ID: w.bData.ID, StorageURIs: []string{isoAlphaURI}})
		}, missing: isoTold},
		{name: "Link closing a cycle through a foreign artifact", code: registry.CodeInvalid, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return nil, w.f.Link(w.bob, w.bModel.ID, w.bData.ID)
		}, missing: isoTold},
		{name: "Restore under a foreign soft-deleted parent", code: registry.CodeForbidden, target: isoTrashPkg, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Restore(w.bob, w.bLeaf.ID)
		}, missing: isoTold},
		{name: "Delete of a bundle with a foreign child", code: registry.CodeNotEmpty, target: isoChild, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Delete(w.bob, w.bBundle.ID, registry.DeleteOptions{DryRun: true})
		}, missing: isoTold},
		{name: "Recursive hard dry run taking a foreign child", code: registry.CodeForbidden, target: isoChild, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Delete(w.bob, w.bBundle.ID, registry.DeleteOptions{Hard: true, Recursive: true, DryRun: true, Atomic: true})
		}, missing: isoTold},
		{name: "Hard dry run with a foreign dependent", code: registry.CodeHasDependents, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Delete(w.bob, w.bData.ID, registry.DeleteOptions{Hard: true, DryRun: true})
		}, missing: isoTold},
		{name: "Lineage-cascade dry run taking a foreign dependent", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Delete(w.bob, w.bData.ID, registry.DeleteOptions{Hard: true, DryRun: true, Atomic: true, Lineage: registry.LineageCascade})
		}, missing: isoTold},
		{name: "Detach marking a foreign dependent", code: registry.CodeForbidden, target: isoModel, call: func(w *isoWorld, _, _ string) (any, error) {
			return w.f.Delete(w.bob, w.bData.ID, registry.DeleteOptions{Hard: true, DryRun: true, Lineage: registry.LineageDetach})
		}, missing: isoTold},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newIsoWorld(t, true)
			target := c.target(w)
			before := w.dump(t)
			out, err := c.call(w, target.ID, target.FQN())
			got := isoFlatten(t, err)
			assert.Equal(t, c.code, got.Code, "message: %s", got.Message)
			badRequireSame(t, before, w.dump(t))
			require.NoError(t, w.f.Check())

			missID, missFQN := missingID, missingFQN
			if c.missing != nil {
				missID, missFQN = c.missing(w)
			}
			// What Bob gave is his to see again; the rest must say nothing
			// of Alice's.
			seen := got.Message
			if missID != "told" {
				seen = strings.ReplaceAll(strings.ReplaceAll(seen, target.ID, "<id>"), target.FQN(), "<fqn>")
			}
			js, jerr := json.Marshal(out)
			require.NoError(t, jerr)
			for _, s := range w.secrets() {
				assert.NotContains(t, seen, s, "the message names Alice's %q", s)
				assert.NotContains(t, string(js), s, "the result names Alice's %q", s)
			}
			if missID == "told" {
				assert.NotContains(t, w.secrets(), got.ID, "the error's ID is Alice's")
				return
			}
			// Must look missing: the same call on a missing artifact gives
			// the same answer, the key Bob gave aside.
			_, merr := c.call(w, missID, missFQN)
			want := isoFlatten(t, merr)
			mask := func(e isoErr, id, fqn string) isoErr {
				if id != "" {
					e.ID = strings.ReplaceAll(e.ID, id, "<id>")
					e.Message = strings.ReplaceAll(e.Message, id, "<id>")
				}
				e.Message = strings.ReplaceAll(e.Message, fqn, "<fqn>")
				return e
			}
			assert.Equal(t, mask(want, missID, missFQN), mask(got, target.ID, target.FQN()))
		})
	}
}

func isoModel(w *isoWorld) registry.Artifact    { return w.aModel }
func isoGone(w *isoWorld) registry.Artifact     { return w.aGone }
func isoPkg(w *isoWorld) registry.Artifact      { return w.aPkg }
func isoChild(w *isoWorld) registry.Artifact    { return w.aChild }
func isoTrashPkg(w *isoWorld) registry.Artifact { return w.aTrashPkg }

// isoTold marks a row where the call cannot succeed, so that existence is
// told, but nothing else.
func isoTold(*isoWorld) (string, string) { return "told", "" }

// Lists, purges and the audit log leave out what Bob may not read: his
// purge takes his trash only, his list and his events show his artifacts.
func TestIsolationListsLeaveOutWhatCannotBeRead(t *testing.T) {
	w := newIsoWorld(t, true)
	check := func(t *testing.T, v any) {
		t.Helper()
		js, err := json.Marshal(v)
		require.NoError(t, err)
		for _, s := range w.secrets() {
			assert.NotContains(t, string(js), s)
		}
	}
	t.Run("Purge dry run", func(t *testing.T) {
		before := w.dump(t)
		res, err := w.f.Purge(w.bob, 0, registry.PurgeOptions{DryRun: true})
		require.NoError(t, err)
		check(t, res)
		assert.ElementsMatch(t, []string{w.bGone.ID, w.bLeaf.ID}, res.Deleted)
		assert.Empty(t, res.Failed)
		badRequireSame(t, before, w.dump(t))
	})
	t.Run("List", func(t *testing.T) {
		page, err := w.f.List(w.bob, registry.Filter{Include: registry.IncludeAll})
		require.NoError(t, err)
		check(t, page)
		assert.Len(t, page.Items, 5)
	})
	t.Run("Events", func(t *testing.T) {
		events, err := w.f.Events(w.bob, 0, 1000)
		require.NoError(t, err)
		check(t, events)
		assert.NotEmpty(t, events)
	})
	t.Run("Lineage", func(t *testing.T) {
		g, err := w.f.Lineage(w.bob, w.bData.ID, registry.Both, 5, registry.IncludeAll)
		require.NoError(t, err)
		check(t, g)
		assert.Empty(t, g.Nodes)
	})
	t.Run("Purge", func(t *testing.T) {
		res, err := w.f.Purge(w.bob, 0)
		require.NoError(t, err)
		check(t, res)
		assert.ElementsMatch(t, []string{w.bGone.ID, w.bLeaf.ID}, res.Deleted)
		_, err = w.f.Get(w.f.Ctx, w.aGone.ID, registry.IncludeAll)
		require.NoError(t, err, "bob's purge left alice's trash alone")
	})
	require.NoError(t, w.f.Check())
}
