package registry_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

const guardRetention = 30 * 24 * time.Hour

// Purge takes what was soft deleted at least olderThan ago: at the boundary
// and after it, not one nanosecond before.
func TestPurgeRetentionBoundary(t *testing.T) {
	for _, c := range []struct {
		name   string
		age    time.Duration
		purged bool
	}{
		{"just deleted", 0, false},
		{"1ns before the retention", guardRetention - time.Nanosecond, false},
		{"at the retention", guardRetention, true},
		{"1ns after the retention", guardRetention + time.Nanosecond, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			deletedAt := f.Clock.Advance(time.Minute)
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			f.Clock.Set(deletedAt.Add(c.age))

			res, err := f.Purge(f.Ctx, guardRetention)
			require.NoError(t, err)
			assert.True(t, res.Hard)
			assert.Empty(t, res.Failed)
			got, err := f.Get(f.Ctx, f.Code.ID, registry.IncludeAll)
			if !c.purged {
				assert.Empty(t, res.Deleted)
				require.NoError(t, err)
				assert.True(t, got.Deleted, "still soft deleted")
				return
			}
			assert.Equal(t, []string{f.Code.ID}, res.Deleted)
			require.ErrorIs(t, err, registry.ErrNotFound)
			_, err = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: f.Code.Namespace, Name: f.Code.Name, Version: f.Code.Version})
			require.NoError(t, err, "a purge frees the name")
		})
	}
}

func TestPurgeWithTheLongestAgeTakesNothing(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
	require.NoError(t, err)
	f.Clock.Advance(100 * 365 * 24 * time.Hour)
	res, err := f.Purge(f.Ctx, time.Duration(math.MaxInt64))
	require.NoError(t, err)
	assert.Empty(t, res.Deleted)
	_, err = f.Get(f.Ctx, f.Code.ID, registry.IncludeDeleted)
	require.NoError(t, err)
}

func TestPurgeTakesTheOldestFirstAndReportsEachItem(t *testing.T) {
	f := registrytest.New(t)
	// Soft deleted in this order, a minute apart: the dataset still has live
	// dependents, which the default lineage policy keeps it for.
	order := []registry.Artifact{f.Children[1], f.Code, f.Dataset, f.Children[0]}
	for _, a := range order {
		f.Clock.Advance(time.Minute)
		_, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{})
		require.NoError(t, err)
	}
	live := guardSnapshot(t, f)
	f.Clock.Advance(guardRetention)
	start := guardLastSeq(t, f)

	res, err := f.Purge(f.Ctx, guardRetention)
	require.NoError(t, err, "a purge reports each item")
	assert.Equal(t, []string{f.Children[1].ID, f.Code.ID, f.Children[0].ID}, res.Deleted)
	require.Len(t, res.Failed, 1)
	assert.Equal(t, f.Dataset.ID, res.Failed[0].ID)
	assert.Equal(t, registry.CodeHasDependents, res.Failed[0].Code)
	assert.ErrorIs(t, res.Failed[0].Err(), registry.ErrHasDependents)
	assert.NotEmpty(t, res.Operation)

	events := guardEventsAfter(t, f, start)
	require.Len(t, events, 3)
	for i, e := range events {
		assert.Equal(t, registry.EventDeleted, e.Type)
		assert.Equal(t, res.Deleted[i], e.ArtifactID)
		assert.Equal(t, "purge", e.Reason, "a purge without a reason says so")
		assert.Equal(t, res.Operation, e.Operation)
	}
	_, err = f.Get(f.Ctx, f.Dataset.ID, registry.IncludeDeleted)
	require.NoError(t, err, "the failed item stays soft deleted")
	assert.Greater(t, len(live.Artifacts), len(guardSnapshot(t, f).Artifacts))
}

func TestPurgeTakesSoftDeletedSubtreesChildrenFirst(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	f.Clock.Advance(time.Hour)
	res, err := f.Purge(f.Ctx, time.Hour, registry.PurgeOptions{Reason: "retention"})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 3)
	assert.ElementsMatch(t, []string{f.Children[0].ID, f.Children[1].ID}, res.Deleted[:2])
	assert.Equal(t, f.Package.ID, res.Deleted[2])
	for _, id := range res.Deleted {
		_, err := f.Get(f.Ctx, id, registry.IncludeAll)
		require.ErrorIs(t, err, registry.ErrNotFound)
	}
}

func TestPurgeDryRunChangesNothing(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	before := guardSnapshot(t, f)
	dry, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{DryRun: true})
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Len(t, dry.Deleted, 3)
	assert.Equal(t, before, guardSnapshot(t, f))
	assert.Empty(t, cleaner.calls())

	real, err := f.Purge(f.Ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, dry.Deleted, real.Deleted, "a dry run reports exactly what the purge does")
}

func TestPurgeOfNothingChangesNothing(t *testing.T) {
	f := registrytest.New(t)
	before := guardSnapshot(t, f)
	res, err := f.Purge(f.Ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, res.Deleted)
	assert.Empty(t, res.Failed)
	assert.Equal(t, before, guardSnapshot(t, f))
}

func TestPurgeRejectsBadArguments(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Purge(f.Ctx, -time.Nanosecond)
	require.ErrorIs(t, err, registry.ErrInvalid)
	_, err = f.Purge(f.Ctx, 0, nil)
	require.ErrorIs(t, err, registry.ErrInvalid)
	_, err = f.Purge(f.Ctx, 0, registry.PurgeOptions{Lineage: registry.LineagePolicy(7)})
	require.ErrorIs(t, err, registry.ErrInvalid)
}

// WithPurgeProtection(d) refuses a hard delete of an artifact soft deleted
// less than d ago; at d and after it the delete goes ahead.
func TestPurgeProtectionBoundary(t *testing.T) {
	const protection = 7 * 24 * time.Hour
	ages := []struct {
		name      string
		age       time.Duration
		protected bool
	}{
		{"just deleted", 0, true},
		{"1ns before the protection ends", protection - time.Nanosecond, true},
		{"when the protection ends", protection, false},
		{"1ns after the protection ends", protection + time.Nanosecond, false},
	}
	calls := []struct {
		name string
		call func(f *registrytest.Fixture) (registry.Result, error)
	}{
		{"hard delete", func(f *registrytest.Fixture) (registry.Result, error) {
			return f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
		}},
		{"hard delete by FQN", func(f *registrytest.Fixture) (registry.Result, error) {
			return f.DeleteByFQN(f.Ctx, f.Code.FQN(), registry.DeleteOptions{Hard: true})
		}},
		{"purge", func(f *registrytest.Fixture) (registry.Result, error) {
			return f.Purge(f.Ctx, 0)
		}},
	}
	for _, c := range calls {
		for _, a := range ages {
			t.Run(c.name+"/"+a.name, func(t *testing.T) {
				f := registrytest.New(t, registry.WithPurgeProtection(protection))
				deletedAt := f.Clock.Advance(time.Minute)
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
				f.Clock.Set(deletedAt.Add(a.age))
				before := guardSnapshot(t, f)

				res, err := c.call(f)
				if !a.protected {
					require.NoError(t, err)
					assert.Equal(t, []string{f.Code.ID}, res.Deleted)
					_, err = f.Get(f.Ctx, f.Code.ID, registry.IncludeAll)
					require.ErrorIs(t, err, registry.ErrNotFound)
					return
				}
				if c.name == "purge" {
					require.NoError(t, err, "a purge reports each item")
					assert.Empty(t, res.Deleted)
					require.Len(t, res.Failed, 1)
					assert.Equal(t, f.Code.ID, res.Failed[0].ID)
					assert.Equal(t, registry.CodePurgeProtected, res.Failed[0].Code)
				} else {
					e := guardRequireCode(t, err, registry.ErrPurgeProtected, registry.CodePurgeProtected)
					assert.Equal(t, f.Code.ID, e.ID)
					assert.Equal(t, 409, registry.HTTPStatus(err))
				}
				assert.Equal(t, before, guardSnapshot(t, f))
			})
		}
	}
}

func TestPurgeProtectionInAMultiItemDelete(t *testing.T) {
	setup := func(t *testing.T) (*registrytest.Fixture, []registry.Artifact) {
		f := registrytest.NewEmpty(t, registry.WithPurgeProtection(time.Hour))
		var vs []registry.Artifact
		for _, v := range []string{"1", "2", "3"} {
			vs = append(vs, f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "m", Version: v}))
		}
		_, err := f.Delete(f.Ctx, vs[1].ID, registry.DeleteOptions{})
		require.NoError(t, err)
		f.Clock.Advance(time.Hour - time.Nanosecond)
		return f, vs
	}
	t.Run("partial", func(t *testing.T) {
		f, vs := setup(t)
		res, err := f.Delete(f.Ctx, vs[0].ID, registry.DeleteOptions{Hard: true, Cascade: true})
		require.NoError(t, err)
		assert.Equal(t, []string{vs[0].ID, vs[2].ID}, res.Deleted)
		require.Len(t, res.Failed, 1)
		assert.Equal(t, vs[1].ID, res.Failed[0].ID)
		assert.Equal(t, registry.CodePurgeProtected, res.Failed[0].Code)
	})
	t.Run("atomic", func(t *testing.T) {
		f, vs := setup(t)
		before := guardSnapshot(t, f)
		_, err := f.Delete(f.Ctx, vs[0].ID, registry.DeleteOptions{Hard: true, Cascade: true, Atomic: true})
		guardRequireCode(t, err, registry.ErrPurgeProtected, registry.CodePurgeProtected)
		assert.Equal(t, before, guardSnapshot(t, f))
	})
	t.Run("one nanosecond later", func(t *testing.T) {
		f, vs := setup(t)
		f.Clock.Advance(time.Nanosecond)
		res, err := f.Delete(f.Ctx, vs[0].ID, registry.DeleteOptions{Hard: true, Cascade: true, Atomic: true})
		require.NoError(t, err)
		assert.Len(t, res.Deleted, 3)
	})
}

// Assumption (the issue protects soft-deleted artifacts only): purge
// protection does not stop a hard delete of a live artifact.
func TestPurgeProtectionLeavesLiveArtifactsAlone(t *testing.T) {
	f := registrytest.New(t, registry.WithPurgeProtection(time.Hour))
	res, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	assert.Equal(t, []string{f.Code.ID}, res.Deleted)
}

func TestWithPurgeProtectionMustNotBeNegative(t *testing.T) {
	_, err := registry.New(registry.WithPurgeProtection(-time.Nanosecond))
	require.ErrorIs(t, err, registry.ErrInvalid)
	_, err = registry.New(registry.WithPurgeProtection(0))
	require.NoError(t, err, "0 turns the protection off")
}

// A purge is a hard delete: like any, it keeps the tokens of earlier
// requests on what it removes, for their whole lifetime.
func TestPurgeKeepsTheTokensOfEarlierRequests(t *testing.T) {
	f := registrytest.New(t)
	opts := registry.DeleteOptions{ClientToken: "guard-purged"}
	first, err := f.Delete(f.Ctx, f.Code.ID, opts)
	require.NoError(t, err)
	_, err = f.Purge(f.Ctx, 0)
	require.NoError(t, err)
	res, err := f.Delete(f.Ctx, f.Code.ID, opts)
	require.NoError(t, err, "the token outlives the purge: the retry returns the first result")
	assert.True(t, res.Replayed)
	res.Replayed = false
	assert.Equal(t, first, res)
	require.NoError(t, f.Check())
}
