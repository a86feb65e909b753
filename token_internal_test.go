package registry

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type internalClock struct{ now time.Time }

func (c *internalClock) Now() time.Time { return c.now }

// storedTokens counts the token table, which no exported call shows.
func storedTokens(t *testing.T, r *Registry) int {
	t.Helper()
	it, err := r.snapshot().Get(tableTokens, indexID)
	require.NoError(t, err)
	n := 0
	for o := it.Next(); o != nil; o = it.Next() {
		n++
	}
	assert.Equal(t, n, r.state.Load().tokens, "the token count the registry keeps")
	return n
}

// Expired tokens leave the table a bounded batch per write, through the
// expiry index, without a scan of the table per call.
func TestExpiredTokensAreSweptInBatchesByLaterWrites(t *testing.T) {
	clock := &internalClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r, err := New(WithClock(clock), WithTokenTTL(time.Hour))
	require.NoError(t, err)
	ctx := context.Background()
	n := expireBatch + 10
	for i := 0; i < n; i++ {
		m, err := r.Register(ctx, Artifact{Kind: KindModel, Namespace: "svc", Name: fmt.Sprint("m", i)})
		require.NoError(t, err)
		_, err = r.Delete(ctx, m.ID, DeleteOptions{ClientToken: fmt.Sprint("tok-", i)})
		require.NoError(t, err)
	}
	require.Equal(t, n, storedTokens(t, r))

	clock.now = clock.now.Add(time.Hour - time.Nanosecond)
	_, err = r.Register(ctx, Artifact{Kind: KindModel, Namespace: "svc", Name: "w1"})
	require.NoError(t, err)
	assert.Equal(t, n, storedTokens(t, r), "no token has expired yet")

	clock.now = clock.now.Add(time.Nanosecond)
	_, err = r.Register(ctx, Artifact{Kind: KindModel, Namespace: "svc", Name: "w2"})
	require.NoError(t, err)
	assert.Equal(t, n-expireBatch, storedTokens(t, r), "one write removes one batch")

	_, err = r.Register(ctx, Artifact{Kind: KindModel, Namespace: "svc", Name: "w3"})
	require.NoError(t, err)
	assert.Equal(t, 0, storedTokens(t, r), "the next write removes the rest")
	require.NoError(t, r.Check())
}
