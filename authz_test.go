package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// guardAuthorizer records every question it is asked ("action id") and
// refuses what deny refuses.
type guardAuthorizer struct {
	mu         sync.Mutex
	asked      []string
	principals []string
	deny       func(principal string, action registry.Action, a registry.Artifact) error
}

func (g *guardAuthorizer) Authorize(_ context.Context, principal string, action registry.Action, a registry.Artifact) error {
	g.mu.Lock()
	g.asked = append(g.asked, string(action)+" "+a.ID)
	g.principals = append(g.principals, principal)
	deny := g.deny
	g.mu.Unlock()
	if deny != nil {
		return deny(principal, action, a)
	}
	return nil
}

// take returns the distinct questions asked since the last take.
func (g *guardAuthorizer) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := slices.Clone(g.asked)
	g.asked, g.principals = nil, nil
	slices.Sort(out)
	return slices.Compact(out)
}

func (g *guardAuthorizer) setDeny(deny func(principal string, action registry.Action, a registry.Artifact) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deny = deny
}

// guardDenyIDs refuses every action on the given artifacts.
func guardDenyIDs(ids ...string) func(string, registry.Action, registry.Artifact) error {
	return func(_ string, action registry.Action, a registry.Artifact) error {
		if slices.Contains(ids, a.ID) {
			return fmt.Errorf("policy forbids %s on %s", action, a.FQN())
		}
		return nil
	}
}

func guardAsks(action registry.Action, ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(action) + " " + id
	}
	return out
}

func TestAuthorizerIsAskedForEveryArtifactAnOperationTouches(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *registrytest.Fixture)
		run   func(t *testing.T, f *registrytest.Fixture) []string
	}{
		{name: "soft delete", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			return guardAsks(registry.ActionDelete, f.Code.ID)
		}},
		{name: "hard delete", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			return guardAsks(registry.ActionHardDelete, f.Code.ID)
		}},
		{name: "recursive soft delete", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			return guardAsks(registry.ActionDelete, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
		}},
		{name: "recursive hard delete", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
			require.NoError(t, err)
			return guardAsks(registry.ActionHardDelete, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
		}},
		{name: "hard delete taking a soft-deleted child",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				for _, c := range f.Children {
					_, err := f.Delete(f.Ctx, c.ID, registry.DeleteOptions{})
					require.NoError(t, err)
				}
			},
			run: func(t *testing.T, f *registrytest.Fixture) []string {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true})
				require.NoError(t, err)
				return guardAsks(registry.ActionHardDelete, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
			}},
		{name: "cascade", setup: guardUndeployNewest, run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{Cascade: true})
			require.NoError(t, err)
			return guardAsks(registry.ActionDelete, f.Versions[0].ID, f.Versions[1].ID, f.Versions[2].ID)
		}},
		{name: "lineage cascade", setup: guardUndeployNewest, run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade})
			require.NoError(t, err)
			return guardAsks(registry.ActionHardDelete, f.Dataset.ID, f.Versions[0].ID, f.Versions[1].ID, f.Versions[2].ID)
		}},
		{name: "detach", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
			require.NoError(t, err)
			return append(guardAsks(registry.ActionHardDelete, f.Dataset.ID), guardAsks(registry.ActionUpdate, f.Versions[0].ID)...)
		}},
		{name: "dry run", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, DryRun: true})
			require.NoError(t, err)
			return guardAsks(registry.ActionDelete, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
		}},
		{name: "restore",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
				require.NoError(t, err)
			},
			run: func(t *testing.T, f *registrytest.Fixture) []string {
				_, err := f.Restore(f.Ctx, f.Package.ID)
				require.NoError(t, err)
				return guardAsks(registry.ActionRestore, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
			}},
		{name: "purge",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
				require.NoError(t, err)
			},
			run: func(t *testing.T, f *registrytest.Fixture) []string {
				_, err := f.Purge(f.Ctx, 0)
				require.NoError(t, err)
				return guardAsks(registry.ActionHardDelete, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
			}},
		{name: "register", run: func(t *testing.T, f *registrytest.Fixture) []string {
			a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "new"})
			return guardAsks(registry.ActionCreate, a.ID)
		}},
		{name: "update", run: func(t *testing.T, f *registrytest.Fixture) []string {
			c := f.MustGet(t, f.Code.ID)
			c.Description = "new"
			_, err := f.Update(f.Ctx, c)
			require.NoError(t, err)
			return guardAsks(registry.ActionUpdate, f.Code.ID)
		}},
		{name: "link", run: func(t *testing.T, f *registrytest.Fixture) []string {
			require.NoError(t, f.Link(f.Ctx, f.Code.ID, f.Versions[0].ID))
			return guardAsks(registry.ActionLink, f.Code.ID, f.Versions[0].ID)
		}},
		{name: "unlink", run: func(t *testing.T, f *registrytest.Fixture) []string {
			require.NoError(t, f.Unlink(f.Ctx, f.Dataset.ID, f.Versions[0].ID))
			return guardAsks(registry.ActionLink, f.Dataset.ID, f.Versions[0].ID)
		}},
		{name: "deploy", run: func(t *testing.T, f *registrytest.Fixture) []string {
			require.NoError(t, f.Deploy(f.Ctx, f.Versions[0].ID, "endpoint-guard"))
			return guardAsks(registry.ActionDeploy, f.Versions[0].ID)
		}},
		{name: "undeploy", run: func(t *testing.T, f *registrytest.Fixture) []string {
			require.NoError(t, f.Undeploy(f.Ctx, f.Versions[2].ID, registrytest.Endpoint))
			return guardAsks(registry.ActionDeploy, f.Versions[2].ID)
		}},
		{name: "reset", run: func(t *testing.T, f *registrytest.Fixture) []string {
			require.NoError(t, f.Reset(f.Ctx))
			return []string{string(registry.ActionReset) + " "}
		}},
		{name: "reads without WithReadAuthorization", run: func(t *testing.T, f *registrytest.Fixture) []string {
			_, err := f.Get(f.Ctx, f.Code.ID)
			require.NoError(t, err)
			_, err = f.List(f.Ctx, registry.Filter{})
			require.NoError(t, err)
			return nil
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			authz := &guardAuthorizer{}
			f := registrytest.New(t, registry.WithAuthorizer(authz))
			if c.setup != nil {
				c.setup(t, f)
			}
			authz.take()
			want := c.run(t, f)
			slices.Sort(want)
			assert.Equal(t, want, authz.take())
		})
	}
}

func TestAuthorizerGetsThePrincipalAndContextOfTheCall(t *testing.T) {
	type key struct{}
	var seen []string
	var mu sync.Mutex
	authz := registry.AuthorizerFunc(func(ctx context.Context, principal string, _ registry.Action, _ registry.Artifact) error {
		mu.Lock()
		defer mu.Unlock()
		v, _ := ctx.Value(key{}).(string)
		seen = append(seen, principal+"/"+v)
		return nil
	})
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	mu.Lock()
	seen = nil
	mu.Unlock()
	ctx := context.WithValue(registry.WithPrincipal(context.Background(), "carol"), key{}, "request-7")
	_, err := f.Delete(ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"carol/request-7", "carol/request-7", "carol/request-7"}, seen)
}

func TestRefusedSingleDeleteIsForbidden(t *testing.T) {
	authz := registry.NamespaceAuthorizer{registrytest.Principal: {"*"}, "alice": {"team-a"}}
	alice := registry.WithPrincipal(context.Background(), "alice")
	cases := []struct {
		name  string
		ctx   context.Context
		setup func(t *testing.T, f *registrytest.Fixture)
		call  func(ctx context.Context, f *registrytest.Fixture) error
	}{
		{name: "soft delete", ctx: alice, call: func(ctx context.Context, f *registrytest.Fixture) error {
			_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{})
			return err
		}},
		{name: "hard delete", ctx: alice, call: func(ctx context.Context, f *registrytest.Fixture) error {
			_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			return err
		}},
		{name: "delete by FQN", ctx: alice, call: func(ctx context.Context, f *registrytest.Fixture) error {
			_, err := f.DeleteByFQN(ctx, f.Code.FQN(), registry.DeleteOptions{})
			return err
		}},
		{name: "delete with a token", ctx: alice, call: func(ctx context.Context, f *registrytest.Fixture) error {
			_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "guard-forbidden"})
			return err
		}},
		{name: "anonymous", ctx: context.Background(), call: func(ctx context.Context, f *registrytest.Fixture) error {
			_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{})
			return err
		}},
		{name: "unknown principal", ctx: registry.WithPrincipal(context.Background(), "mallory"),
			call: func(ctx context.Context, f *registrytest.Fixture) error {
				_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{})
				return err
			}},
		{name: "restore", ctx: alice,
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			},
			call: func(ctx context.Context, f *registrytest.Fixture) error {
				_, err := f.Restore(ctx, f.Code.ID)
				return err
			}},
		{name: "reset without every namespace", ctx: registry.WithPrincipal(context.Background(), "alice"),
			call: func(ctx context.Context, f *registrytest.Fixture) error {
				return f.Reset(ctx)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t, registry.WithAuthorizer(authz))
			if c.setup != nil {
				c.setup(t, f)
			}
			before := guardSnapshot(t, f)
			err := c.call(c.ctx, f)
			e := guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
			assert.Equal(t, 403, registry.HTTPStatus(err))
			if c.name != "reset without every namespace" {
				assert.Equal(t, f.Code.ID, e.ID)
			}
			assert.Equal(t, before, guardSnapshot(t, f), "a refused call changes nothing and emits nothing")
		})
	}
	t.Run("a principal with every namespace may", func(t *testing.T) {
		f := registrytest.New(t, registry.WithAuthorizer(authz))
		res, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
		require.NoError(t, err)
		assert.Equal(t, []string{f.Code.ID}, res.Deleted)
	})
	t.Run("a refusal does not bind the token", func(t *testing.T) {
		f := registrytest.New(t, registry.WithAuthorizer(authz))
		opts := registry.DeleteOptions{ClientToken: "guard-forbidden"}
		_, err := f.Delete(alice, f.Code.ID, opts)
		require.ErrorIs(t, err, registry.ErrForbidden)
		res, err := f.Delete(f.Ctx, f.Code.ID, opts)
		require.NoError(t, err)
		assert.False(t, res.Replayed)
	})
}

func TestRefusalInsideAMultiItemDelete(t *testing.T) {
	type setup struct {
		f      *registrytest.Fixture
		authz  *guardAuthorizer
		target string
		opts   registry.DeleteOptions
		refuse string
		// deleted and failed are what a partial delete reports.
		deleted []string
		failed  map[string]string
	}
	cases := []struct {
		name  string
		build func(t *testing.T) setup
	}{
		{"recursive", func(t *testing.T) setup {
			authz := &guardAuthorizer{}
			f := registrytest.New(t, registry.WithAuthorizer(authz))
			return setup{f: f, authz: authz, target: f.Package.ID, opts: registry.DeleteOptions{Recursive: true},
				refuse: f.Children[0].ID, deleted: []string{f.Children[1].ID},
				failed: map[string]string{f.Children[0].ID: registry.CodeForbidden, f.Package.ID: registry.CodeNotEmpty}}
		}},
		{"cascade", func(t *testing.T) setup {
			authz := &guardAuthorizer{}
			f := registrytest.NewEmpty(t, registry.WithAuthorizer(authz))
			var vs []registry.Artifact
			for _, v := range []string{"1", "2", "3"} {
				vs = append(vs, f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "m", Version: v}))
			}
			return setup{f: f, authz: authz, target: vs[0].ID, opts: registry.DeleteOptions{Hard: true, Cascade: true},
				refuse: vs[1].ID, deleted: []string{vs[0].ID, vs[2].ID},
				failed: map[string]string{vs[1].ID: registry.CodeForbidden}}
		}},
		{"lineage cascade", func(t *testing.T) setup {
			authz := &guardAuthorizer{}
			f := registrytest.New(t, registry.WithAuthorizer(authz))
			guardUndeployNewest(t, f)
			return setup{f: f, authz: authz, target: f.Dataset.ID, opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
				refuse: f.Versions[1].ID, deleted: []string{f.Versions[2].ID},
				failed: map[string]string{f.Versions[1].ID: registry.CodeForbidden,
					f.Versions[0].ID: registry.CodeHasDependents, f.Dataset.ID: registry.CodeHasDependents}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name+"/partial", func(t *testing.T) {
			s := c.build(t)
			s.authz.setDeny(guardDenyIDs(s.refuse))
			res, err := s.f.Delete(s.f.Ctx, s.target, s.opts)
			require.NoError(t, err, "a multi-item delete reports each item")
			assert.Equal(t, s.deleted, res.Deleted)
			failed := map[string]string{}
			for _, fl := range res.Failed {
				failed[fl.ID] = fl.Code
				if fl.ID == s.refuse {
					assert.ErrorIs(t, fl.Err(), registry.ErrForbidden)
					assert.Contains(t, fl.Message, "policy forbids")
				}
			}
			assert.Equal(t, s.failed, failed)
			_, err = s.f.Get(s.f.Ctx, s.refuse)
			require.NoError(t, err, "the refused artifact is untouched")
		})
		t.Run(c.name+"/atomic", func(t *testing.T) {
			s := c.build(t)
			s.authz.setDeny(guardDenyIDs(s.refuse))
			before := guardSnapshot(t, s.f)
			opts := s.opts
			opts.Atomic = true
			res, err := s.f.Delete(s.f.Ctx, s.target, opts)
			require.Error(t, err)
			assert.Equal(t, before, guardSnapshot(t, s.f), "an atomic call with a refusal changes nothing")
			assert.Equal(t, registry.CodeForbidden, guardFailure(res, s.refuse).Code, "the refused item is among the failures")
			guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
		})
	}
}

func guardFailure(res registry.Result, id string) registry.Failure {
	for _, f := range res.Failed {
		if f.ID == id {
			return f
		}
	}
	return registry.Failure{}
}

func TestAuthorizerPanicRefuses(t *testing.T) {
	authz := &guardAuthorizer{}
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	authz.setDeny(func(_ string, action registry.Action, _ registry.Artifact) error {
		if action == registry.ActionDelete {
			panic("policy engine crashed")
		}
		return nil
	})
	before := guardSnapshot(t, f)
	var err error
	require.NotPanics(t, func() {
		_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
	})
	e := guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
	assert.Contains(t, e.Message, "policy engine crashed")
	assert.Equal(t, before, guardSnapshot(t, f))
}

func TestRefusedRestoreOfADescendantRestoresNothing(t *testing.T) {
	authz := &guardAuthorizer{}
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	authz.setDeny(func(_ string, action registry.Action, a registry.Artifact) error {
		if action == registry.ActionRestore && a.ID == f.Children[1].ID {
			return errors.New("restores of ensemble_linear need approval")
		}
		return nil
	})
	before := guardSnapshot(t, f)
	_, err = f.Restore(f.Ctx, f.Package.ID)
	e := guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
	assert.Equal(t, f.Children[1].ID, e.ID)
	assert.Equal(t, before, guardSnapshot(t, f))
}

func TestRefusedItemsOfAPurgeAreReported(t *testing.T) {
	authz := &guardAuthorizer{}
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	for _, id := range []string{f.Code.ID, f.Children[0].ID} {
		_, err := f.Delete(f.Ctx, id, registry.DeleteOptions{})
		require.NoError(t, err)
	}
	authz.setDeny(guardDenyIDs(f.Code.ID))
	res, err := f.Purge(f.Ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{f.Children[0].ID}, res.Deleted)
	require.Len(t, res.Failed, 1)
	assert.Equal(t, f.Code.ID, res.Failed[0].ID)
	assert.Equal(t, registry.CodeForbidden, res.Failed[0].Code)
	_, err = f.Get(f.Ctx, f.Code.ID, registry.IncludeDeleted)
	require.NoError(t, err)
}

func TestRefusedDetachOfADependent(t *testing.T) {
	authz := &guardAuthorizer{}
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	authz.setDeny(func(_ string, action registry.Action, a registry.Artifact) error {
		if action == registry.ActionUpdate && a.ID == f.Versions[0].ID {
			return errors.New("v1 belongs to another team")
		}
		return nil
	})
	before := guardSnapshot(t, f)
	_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
	guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
	assert.Equal(t, before, guardSnapshot(t, f))
}

// A hard delete marks every dependent it leaves behind, the soft-deleted
// ones included (their revision grows, DeletedUpstreams names the upstream,
// an updated event is emitted). That is a change to the dependent, so the
// authorizer must be asked about it as it is for a live one under Detach.
func TestHardDeleteAsksBeforeMarkingASoftDeletedDependent(t *testing.T) {
	for _, policy := range []registry.LineagePolicy{registry.LineageRestrict, registry.LineageDetach} {
		t.Run(policy.String(), func(t *testing.T) {
			authz := registry.NamespaceAuthorizer{registrytest.Principal: {"*"}, "alice": {"team-a"}}
			f := registrytest.NewEmpty(t, registry.WithAuthorizer(authz))
			up := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "team-a", Name: "features"})
			down := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "team-b", Name: "scorer"})
			f.MustLink(t, up.ID, down.ID)
			_, err := f.Delete(f.Ctx, down.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			before := f.MustGet(t, down.ID)

			alice := registry.WithPrincipal(context.Background(), "alice")
			_, err = f.Delete(alice, up.ID, registry.DeleteOptions{Hard: true, Lineage: policy})
			after := f.MustGet(t, down.ID)
			assert.Equal(t, before, after, "alice, who has no access to team-b, changed %s", down.FQN())
			require.ErrorIs(t, err, registry.ErrForbidden)
		})
	}
}

func TestReadAuthorization(t *testing.T) {
	authz := registry.NamespaceAuthorizer{registrytest.Principal: {"*"}, "alice": {"team-a"}}
	f := registrytest.NewEmpty(t, registry.WithAuthorizer(authz), registry.WithReadAuthorization())
	mine := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "team-a", Name: "features", Version: "1"})
	theirs := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "team-b", Name: "scorer", Version: "1"})
	f.MustLink(t, mine.ID, theirs.ID)
	alice := registry.WithPrincipal(context.Background(), "alice")

	reads := map[string]func(id, fqn string) error{
		"Get": func(id, _ string) error {
			_, err := f.Get(alice, id)
			return err
		},
		"GetByFQN": func(_, fqn string) error {
			_, err := f.GetByFQN(alice, fqn)
			return err
		},
		"GetVersion": func(_, fqn string) error {
			ns, name, version, err := registry.ParseFQN(fqn)
			require.NoError(t, err)
			_, err = f.GetVersion(alice, ns, name, version)
			return err
		},
		"Lineage": func(id, _ string) error {
			_, err := f.Lineage(alice, id, registry.Both, 1)
			return err
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, read(mine.ID, mine.FQN()))
			// What alice may not read does not exist, to her.
			guardRequireCode(t, read(theirs.ID, theirs.FQN()), registry.ErrNotFound, registry.CodeNotFound)
		})
	}
	t.Run("List leaves out what the principal may not read", func(t *testing.T) {
		page, err := f.List(alice, registry.Filter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, mine.ID, page.Items[0].ID)
		page, err = f.List(f.Ctx, registry.Filter{})
		require.NoError(t, err)
		assert.Len(t, page.Items, 2)
	})
	t.Run("Lineage leaves out what the principal may not read", func(t *testing.T) {
		g, err := f.Lineage(alice, mine.ID, registry.Downstream, 1)
		require.NoError(t, err)
		assert.Empty(t, g.Nodes)
		assert.Empty(t, g.Edges)
		g, err = f.Lineage(f.Ctx, mine.ID, registry.Downstream, 1)
		require.NoError(t, err)
		assert.Len(t, g.Nodes, 1)
	})
}

func TestNamespaceAuthorizer(t *testing.T) {
	authz := registry.NamespaceAuthorizer{"alice": {"team-a", "shared"}, "root": {"*"}, "nobody": {}}
	ctx := context.Background()
	cases := []struct {
		principal string
		action    registry.Action
		namespace string
		allowed   bool
	}{
		{"alice", registry.ActionDelete, "team-a", true},
		{"alice", registry.ActionHardDelete, "shared", true},
		{"alice", registry.ActionRead, "team-b", false},
		{"alice", registry.ActionDelete, "team-b", false},
		{"alice", registry.ActionReset, "", false},
		{"root", registry.ActionHardDelete, "anything", true},
		{"root", registry.ActionReset, "", true},
		{"nobody", registry.ActionRead, "team-a", false},
		{"stranger", registry.ActionRead, "team-a", false},
		{registry.Anonymous, registry.ActionDelete, "team-a", false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %s %s", c.principal, c.action, c.namespace), func(t *testing.T) {
			err := authz.Authorize(ctx, c.principal, c.action, registry.Artifact{Namespace: c.namespace})
			if c.allowed {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.principal)
		})
	}
	_, err := registry.New(registry.WithAuthorizer(nil))
	require.ErrorIs(t, err, registry.ErrInvalid)
}
