package registry_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No option is silently ignored: one that cannot apply to the delete it is
// given to is ErrInvalid naming it, and changes nothing.
func TestDeleteRefusesOptionsThatDoNotApply(t *testing.T) {
	cases := []struct {
		name  string
		opts  registry.DeleteOptions
		field string
	}{
		{"a cascade limit without Cascade", registry.DeleteOptions{CascadeLimit: 3}, "cascadeLimit"},
		{"a cascade limit on a hard delete without Cascade", registry.DeleteOptions{Hard: true, CascadeLimit: 3}, "cascadeLimit"},
		{"LineageDetach on a plain soft delete", registry.DeleteOptions{Lineage: registry.LineageDetach}, "lineage"},
		{"LineageCascade on a plain soft delete", registry.DeleteOptions{Lineage: registry.LineageCascade}, "lineage"},
		{"LineageCascade on a recursive soft delete", registry.DeleteOptions{Recursive: true, Lineage: registry.LineageCascade}, "lineage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			before := guardSnapshot(t, f)
			calls := map[string]func() error{
				"Delete": func() error { _, err := f.Delete(f.Ctx, f.Versions[0].ID, c.opts); return err },
				"DeleteByFQN": func() error {
					_, err := f.DeleteByFQN(f.Ctx, f.Versions[0].FQN(), c.opts)
					return err
				},
			}
			for name, call := range calls {
				err := call()
				require.ErrorIs(t, err, registry.ErrInvalid, name)
				var e *registry.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, c.field, e.Field, name)
				assert.Equal(t, before, guardSnapshot(t, f), "%s changed the registry", name)
			}
			require.NoError(t, f.Check())
		})
	}

	t.Run("the same policies apply where they can", func(t *testing.T) {
		for _, o := range []registry.DeleteOptions{
			{Hard: true, Lineage: registry.LineageDetach},
			{Cascade: true, Lineage: registry.LineageCascade},
			{Cascade: true, CascadeLimit: 1},
			{Hard: true, Cascade: true, CascadeLimit: 2, Lineage: registry.LineageDetach},
		} {
			f := registrytest.New(t)
			_, err := f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{DryRun: true}, o)
			assert.NoError(t, err, "%+v", o)
		}
	})
}

// Every call takes its options the same way: a variadic list of its own
// option type, applied in order, each setting the fields it gives. A wrong
// type does not compile; a nil option is ErrInvalid.
func TestOptionsCompose(t *testing.T) {
	t.Run("delete", func(t *testing.T) {
		f := registrytest.New(t)
		res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true}, registry.DeleteOptions{Recursive: true, Reason: "retired"})
		require.NoError(t, err)
		assert.True(t, res.Hard)
		assert.Len(t, res.Deleted, 3, "hard from the first option, recursive from the second")

		res, err = f.Delete(f.Ctx, f.Code.ID)
		require.NoError(t, err, "no option is a soft delete")
		assert.False(t, res.Hard)
		assert.True(t, f.MustGet(t, f.Code.ID).Deleted)

		_, err = f.Delete(f.Ctx, f.Dataset.ID, nil)
		coreInvalid(t, err, "options")
	})
	t.Run("restore", func(t *testing.T) {
		f := registrytest.New(t)
		_, err := f.Delete(f.Ctx, f.Code.ID)
		require.NoError(t, err)
		sub, err := f.Subscribe(4)
		require.NoError(t, err)
		defer sub.Close()
		_, err = f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "r-1"}, registry.RestoreOptions{Reason: "mistake"})
		require.NoError(t, err)
		e := <-sub.C
		assert.Equal(t, "mistake", e.Reason)
		_, err = f.Delete(f.Ctx, f.Code.ID)
		require.NoError(t, err)
		_, err = f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "r-1", Reason: "other"})
		require.ErrorIs(t, err, registry.ErrIdempotencyMismatch, "the token came from the first option")
	})
	t.Run("purge", func(t *testing.T) {
		f := registrytest.New(t)
		_, err := f.Delete(f.Ctx, f.Code.ID)
		require.NoError(t, err)
		res, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{DryRun: true}, registry.PurgeOptions{Reason: "weekly"})
		require.NoError(t, err)
		assert.True(t, res.DryRun)
		assert.Equal(t, []string{f.Code.ID}, res.Deleted)
		assert.True(t, f.MustGet(t, f.Code.ID).Deleted, "a dry run")
	})
}

func TestDeleteAllVersions(t *testing.T) {
	newWorld := func(t *testing.T) (*registrytest.Fixture, map[string]registry.Artifact) {
		f := registrytest.NewEmpty(t)
		vs := map[string]registry.Artifact{}
		for _, v := range []string{"1", "2", "9", "10"} {
			vs[v] = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn", Version: v})
		}
		f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn_v2", Version: "1"})
		return f, vs
	}
	ids := func(vs map[string]registry.Artifact, versions ...string) []string {
		var out []string
		for _, v := range versions {
			out = append(out, vs[v].ID)
		}
		return out
	}

	t.Run("soft: every live version, newest first", func(t *testing.T) {
		f, vs := newWorld(t)
		_, err := f.Delete(f.Ctx, vs["10"].ID)
		require.NoError(t, err)
		res, err := f.DeleteAllVersions(f.Ctx, "svc", "churn")
		require.NoError(t, err)
		assert.Equal(t, ids(vs, "9", "2", "1"), res.Deleted, "the newest live version is the target; 10 was deleted before")
		assert.Empty(t, res.Failed)
		_, err = f.GetByFQN(f.Ctx, "svc.churn_v2.1")
		require.NoError(t, err, "another name that shares the prefix is untouched")
		_, err = f.DeleteAllVersions(f.Ctx, "svc", "churn")
		require.ErrorIs(t, err, registry.ErrNotFound, "every version is soft deleted already")
		assert.Contains(t, err.Error(), "svc.churn")
	})
	t.Run("hard: soft-deleted versions too", func(t *testing.T) {
		f, vs := newWorld(t)
		_, err := f.Delete(f.Ctx, vs["10"].ID)
		require.NoError(t, err)
		res, err := f.DeleteAllVersions(f.Ctx, "svc", "churn", registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		assert.ElementsMatch(t, ids(vs, "10", "9", "2", "1"), res.Deleted)
		page, err := f.List(f.Ctx, registry.Filter{Namespace: "svc", Name: "churn", Include: registry.IncludeAll})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
	})
	t.Run("the cascade limit skips the oldest and says so", func(t *testing.T) {
		f, vs := newWorld(t)
		res, err := f.DeleteAllVersions(f.Ctx, "svc", "churn", registry.DeleteOptions{CascadeLimit: 2})
		require.NoError(t, err)
		assert.Equal(t, ids(vs, "10", "9"), res.Deleted)
		assert.Equal(t, ids(vs, "2", "1"), res.Skipped)
		assert.Contains(t, res.SkipReason, "cascade limit of 2")
	})
	t.Run("a failed version is reported, the rest go", func(t *testing.T) {
		f, vs := newWorld(t)
		require.NoError(t, f.Deploy(f.Ctx, vs["9"].ID, "ep"))
		res, err := f.DeleteAllVersions(f.Ctx, "svc", "churn")
		require.NoError(t, err)
		assert.Equal(t, ids(vs, "10", "2", "1"), res.Deleted)
		require.Len(t, res.Failed, 1)
		assert.Equal(t, registry.CodeDeployed, res.Failed[0].Code)
		_, err = f.DeleteAllVersions(f.Ctx, "svc", "churn", registry.DeleteOptions{Atomic: true})
		require.ErrorIs(t, err, registry.ErrDeployed, "atomic: the failure is the error")
	})
	t.Run("one token makes it happen once", func(t *testing.T) {
		f, vs := newWorld(t)
		o := registry.DeleteOptions{ClientToken: "retire-churn"}
		first, err := f.DeleteAllVersions(f.Ctx, "svc", "churn", o)
		require.NoError(t, err)
		assert.Len(t, first.Deleted, 4)
		late := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn", Version: "11"})
		again, err := f.DeleteAllVersions(f.Ctx, "svc", "churn", o)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first.Deleted, again.Deleted)
		assert.False(t, f.MustGet(t, late.ID).Deleted, "the retry acted on nothing")
		_, err = f.DeleteAllVersions(f.Ctx, "svc", "churn", registry.DeleteOptions{ClientToken: "retire-churn", Hard: true})
		require.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
		_, err = f.Delete(f.Ctx, vs["1"].ID, o)
		require.ErrorIs(t, err, registry.ErrIdempotencyMismatch, "a delete of one version is another request")
	})
	t.Run("bad input", func(t *testing.T) {
		f, _ := newWorld(t)
		before := guardSnapshot(t, f)
		_, err := f.DeleteAllVersions(f.Ctx, "svc", "nothing")
		require.ErrorIs(t, err, registry.ErrNotFound)
		assert.Contains(t, err.Error(), "no version of svc.nothing exists")
		_, err = f.DeleteAllVersions(f.Ctx, "", "churn")
		coreInvalid(t, err, "namespace")
		_, err = f.DeleteAllVersions(f.Ctx, "svc", "")
		coreInvalid(t, err, "name")
		_, err = f.DeleteAllVersions(f.Ctx, "svc", "churn", registry.DeleteOptions{CascadeLimit: -1})
		coreInvalid(t, err, "cascadeLimit")
		assert.Equal(t, before, guardSnapshot(t, f))
	})
}

func TestEntityVersionRendersOneDecimal(t *testing.T) {
	for _, c := range []struct {
		revision int64
		want     string
	}{{1, "0.1"}, {9, "0.9"}, {10, "1.0"}, {11, "1.1"}, {100, "10.0"}, {0, "0.0"}} {
		v := registry.Artifact{Revision: c.revision}.EntityVersion()
		assert.Equal(t, c.want, v.String())
		assert.Equal(t, c.want, fmt.Sprint(v))
		b, err := json.Marshal(struct {
			V registry.EntityVersion `json:"version"`
		}{v})
		require.NoError(t, err)
		assert.JSONEq(t, `{"version":`+c.want+`}`, string(b))
		assert.Equal(t, `{"version":`+c.want+`}`, string(b), "one decimal, as OpenMetadata writes it")
		assert.InDelta(t, float64(c.revision)/10, v.Float64(), 1e-9)

		var back registry.EntityVersion
		require.NoError(t, json.Unmarshal([]byte(c.want), &back))
		assert.Equal(t, v, back)
	}
	var v registry.EntityVersion
	require.NoError(t, json.Unmarshal([]byte("2"), &v))
	assert.Equal(t, "2.0", v.String(), "a whole number is accepted")
	for _, bad := range []string{"0.15", "-0.1", `"0.1"`, "1e1", "0.", ".1", "99999999999999999999", "true", ""} {
		err := v.UnmarshalJSON([]byte(bad))
		assert.ErrorIs(t, err, registry.ErrInvalid, "%q", bad)
		assert.Equal(t, "2.0", v.String(), "%q: a refused version changes nothing", bad)
	}
}

func TestLineagePolicyNames(t *testing.T) {
	assert.Equal(t, registry.LineageRestrict, registry.LineagePolicy(0), "the zero value is the default")
	assert.Equal(t, "restrict", registry.LineageRestrict.String())
	assert.Equal(t, "detach", registry.LineageDetach.String())
	assert.Equal(t, "cascade", registry.LineageCascade.String())
	//lint:ignore SA1019 the deprecated names must keep their values
	assert.Equal(t, []registry.LineagePolicy{registry.LineageRestrict, registry.LineageDetach, registry.LineageCascade},
		[]registry.LineagePolicy{registry.Restrict, registry.Detach, registry.Cascade})
}
