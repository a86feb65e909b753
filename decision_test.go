package registry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// A write under a Decision records its time and operation instead of the
// clock's and a fresh ID, and a token's expiry follows from it.
func TestWithDecisionRecordsTheDecision(t *testing.T) {
	clock := registrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reg, err := registry.New(registry.WithClock(clock), registry.WithTokenTTL(time.Hour))
	require.NoError(t, err)
	ctx := registry.WithPrincipal(context.Background(), "alice")
	at := time.Date(2030, 5, 6, 7, 8, 9, 10, time.UTC)

	a, err := reg.Register(registry.WithDecision(ctx, registry.Decision{Time: at, Operation: "op-register"}),
		registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "m", Version: "1", StorageURIs: []string{"s3://b/m1"}})
	require.NoError(t, err)
	assert.Equal(t, at, a.CreatedAt)
	assert.Equal(t, at, a.UpdatedAt)

	del := registry.WithDecision(ctx, registry.Decision{Time: at.Add(time.Minute), Operation: "op-delete"})
	res, err := reg.Delete(del, a.ID, registry.DeleteOptions{Hard: true, ClientToken: "t-1"})
	require.NoError(t, err)
	assert.Equal(t, "op-delete", res.Operation)
	pending, err := reg.PendingCleanups(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "op-delete", pending[0].Operation)
	assert.Equal(t, at.Add(time.Minute), pending[0].QueuedAt)

	events, err := reg.Events(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, "op-register", events[0].Operation)
	assert.Equal(t, "op-delete", events[1].Operation)
	assert.Equal(t, at.Add(time.Minute), events[1].Time)

	// The token lives an hour from the decided time, not from the clock's:
	// 59 minutes later it replays, 61 minutes later it is forgotten.
	replay, err := reg.Delete(registry.WithDecision(ctx, registry.Decision{Time: at.Add(time.Hour), Operation: "op-retry"}),
		a.ID, registry.DeleteOptions{Hard: true, ClientToken: "t-1"})
	require.NoError(t, err)
	assert.True(t, replay.Replayed)
	_, err = reg.Delete(registry.WithDecision(ctx, registry.Decision{Time: at.Add(62 * time.Minute), Operation: "op-late"}),
		a.ID, registry.DeleteOptions{Hard: true, ClientToken: "t-1"})
	assert.ErrorIs(t, err, registry.ErrNotFound)

	// A decided time before the previous write's is recorded as that one.
	b, err := reg.Register(registry.WithDecision(ctx, registry.Decision{Time: at, Operation: "op-early"}),
		registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "m", Version: "2"})
	require.NoError(t, err)
	assert.Equal(t, at.Add(62*time.Minute), b.CreatedAt)

	// Reset takes the decision too.
	require.NoError(t, reg.Reset(registry.WithDecision(ctx, registry.Decision{Time: at.Add(2 * time.Hour), Operation: "op-reset"})))
	events, err = reg.Events(ctx, 0, 100)
	require.NoError(t, err)
	last := events[len(events)-1]
	assert.Equal(t, registry.EventReset, last.Type)
	assert.Equal(t, "op-reset", last.Operation)
	assert.Equal(t, at.Add(2*time.Hour), last.Time)
	require.NoError(t, reg.Check())
}

func TestWithDecisionRefusesABadDecision(t *testing.T) {
	reg, err := registry.New()
	require.NoError(t, err)
	ctx := context.Background()
	art := registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "m"}
	for name, d := range map[string]registry.Decision{
		"zero time":          {Operation: "op"},
		"no operation":       {Time: time.Now()},
		"operation too long": {Time: time.Now(), Operation: string(make([]byte, 65))},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := reg.Register(registry.WithDecision(ctx, d), art)
			var e *registry.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, registry.CodeInvalid, e.Code)
			assert.Equal(t, "decision", e.Field)
			assert.ErrorIs(t, reg.Reset(registry.WithDecision(ctx, d)), registry.ErrInvalid)
			page, err := reg.List(ctx, registry.Filter{Include: registry.IncludeAll})
			require.NoError(t, err)
			assert.Empty(t, page.Items)
		})
	}
}

// SettleCleanups records outcomes of cleaning done elsewhere exactly as the
// registry's own cleaner round does.
func TestSettleCleanups(t *testing.T) {
	ctx := registry.WithPrincipal(context.Background(), "alice")
	setup := func(t *testing.T) (*registry.Registry, registry.Cleanup) {
		reg, err := registry.New()
		require.NoError(t, err)
		a, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "m",
			StorageURIs: []string{"s3://b/m"}})
		require.NoError(t, err)
		_, err = reg.Delete(ctx, a.ID, registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		c, ok, err := reg.PendingCleanup(ctx, "s3://b/m")
		require.NoError(t, err)
		require.True(t, ok, "a hard delete without a cleaner leaves the URI pending")
		return reg, c
	}
	t.Run("cleaned", func(t *testing.T) {
		reg, c := setup(t)
		rep, err := reg.SettleCleanups(ctx, []registry.CleanupOutcome{{Cleanup: c}})
		require.NoError(t, err)
		assert.Equal(t, []string{"s3://b/m"}, rep.Cleaned)
		_, ok, err := reg.PendingCleanup(ctx, "s3://b/m")
		require.NoError(t, err)
		assert.False(t, ok)
		require.NoError(t, reg.Check())
	})
	t.Run("failed", func(t *testing.T) {
		reg, c := setup(t)
		rep, err := reg.SettleCleanups(ctx, []registry.CleanupOutcome{{Cleanup: c, Err: "access denied"}})
		require.NoError(t, err)
		require.Len(t, rep.Failed, 1)
		got, ok, err := reg.PendingCleanup(ctx, "s3://b/m")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, 1, got.Attempts)
		assert.Equal(t, "access denied", got.LastError)
	})
	t.Run("another entry", func(t *testing.T) {
		reg, c := setup(t)
		c.Operation = "an older round's"
		rep, err := reg.SettleCleanups(ctx, []registry.CleanupOutcome{{Cleanup: c}})
		require.NoError(t, err)
		assert.Empty(t, rep.Cleaned)
		_, ok, err := reg.PendingCleanup(ctx, "s3://b/m")
		require.NoError(t, err)
		assert.True(t, ok, "an outcome settles only the entry it was handed")
	})
	t.Run("referenced again", func(t *testing.T) {
		reg, c := setup(t)
		b, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "ns", Name: "b",
			StorageURIs: []string{"s3://b/m"}})
		require.NoError(t, err)
		rep, err := reg.SettleCleanups(ctx, []registry.CleanupOutcome{{Cleanup: c}})
		require.NoError(t, err)
		require.Len(t, rep.Failed, 1)
		assert.Equal(t, b.ID, rep.Failed[0].ReclaimedBy)
		assert.Equal(t, c.ArtifactID, rep.Failed[0].ArtifactID)
		require.NoError(t, reg.Check())
	})
	t.Run("bad outcome", func(t *testing.T) {
		reg, c := setup(t)
		_, err := reg.SettleCleanups(ctx, []registry.CleanupOutcome{{Cleanup: c}, {Cleanup: registry.Cleanup{URI: "s3://x"}}})
		assert.ErrorIs(t, err, registry.ErrInvalid)
		_, ok, err := reg.PendingCleanup(ctx, "s3://b/m")
		require.NoError(t, err)
		assert.True(t, ok, "nothing is recorded")
		_, err = reg.SettleCleanups(nil, nil) //nolint:staticcheck // a nil ctx is refused
		assert.True(t, errors.Is(err, registry.ErrInvalid))
	})
}
