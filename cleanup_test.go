package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// guardCleaner records every URI it is handed and fails or panics on the
// URIs it is told to.
type guardCleaner struct {
	mu      sync.Mutex
	log     []string
	failing map[string]error
	panics  map[string]bool
	hook    func(uri string)
}

func (c *guardCleaner) Clean(_ context.Context, uri string) error {
	c.mu.Lock()
	c.log = append(c.log, uri)
	err, boom, hook := c.failing[uri], c.panics[uri], c.hook
	c.mu.Unlock()
	if hook != nil {
		hook(uri)
	}
	if boom {
		panic("guard: the bucket exploded")
	}
	return err
}

func (c *guardCleaner) calls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// fail makes Clean fail for uri with err; nil makes it succeed again.
func (c *guardCleaner) fail(uri string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failing == nil {
		c.failing = map[string]error{}
	}
	c.failing[uri] = err
}

func (c *guardCleaner) panicOn(uri string, on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.panics == nil {
		c.panics = map[string]bool{}
	}
	c.panics[uri] = on
}

func (c *guardCleaner) setHook(h func(uri string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hook = h
}

func guardPending(t *testing.T, f *registrytest.Fixture) []registry.Cleanup {
	t.Helper()
	p, err := f.PendingCleanups(f.Ctx)
	require.NoError(t, err)
	return p
}

func guardPendingURIs(t *testing.T, f *registrytest.Fixture) []string {
	t.Helper()
	var out []string
	for _, c := range guardPending(t, f) {
		out = append(out, c.URI)
	}
	return out
}

func TestHardDeleteHandsEachURIToTheCleanerAfterCommitOutsideTheLock(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	owner := map[string]string{}
	for _, c := range f.Children {
		owner[c.StorageURIs[0]] = c.ID
	}
	n := 0
	cleaner.setHook(func(uri string) {
		// The delete has committed: no reader sees the artifact any more.
		_, err := f.Get(f.Ctx, owner[uri], registry.IncludeAll)
		assert.ErrorIs(t, err, registry.ErrNotFound, "the cleaner ran before the delete of %s committed", uri)
		// The write lock is free: a write from inside the cleaner completes
		// (under the lock it would deadlock).
		n++
		_, err = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "guard", Name: fmt.Sprintf("written-while-cleaning-%d", n)})
		assert.NoError(t, err)
	})

	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 3)
	assert.ElementsMatch(t, guardURIs(f.Children), cleaner.calls())
	assert.Empty(t, guardPending(t, f), "cleaned URIs leave the pending table")
	assert.Equal(t, 2, n)
}

func TestNothingIsCleanedWithoutACommittedHardDelete(t *testing.T) {
	cases := []struct {
		name string
		call func(t *testing.T, f *registrytest.Fixture)
	}{
		{"soft delete", func(t *testing.T, f *registrytest.Fixture) {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
		}},
		{"hard delete dry run", func(t *testing.T, f *registrytest.Fixture) {
			res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, DryRun: true})
			require.NoError(t, err)
			require.Len(t, res.Deleted, 3)
		}},
		{"failed hard delete", func(t *testing.T, f *registrytest.Fixture) {
			_, err := f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{Hard: true})
			require.ErrorIs(t, err, registry.ErrDeployed)
		}},
		{"failed atomic hard delete", func(t *testing.T, f *registrytest.Fixture) {
			require.NoError(t, f.Deploy(f.Ctx, f.Children[0].ID, "endpoint-guard"))
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, Atomic: true})
			require.Error(t, err)
		}},
		{"purge dry run", func(t *testing.T, f *registrytest.Fixture) {
			_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{})
			require.NoError(t, err)
			res, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{DryRun: true})
			require.NoError(t, err)
			require.Equal(t, []string{f.Children[0].ID}, res.Deleted)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cleaner := &guardCleaner{}
			f := registrytest.New(t, registry.WithCleaner(cleaner))
			c.call(t, f)
			assert.Empty(t, cleaner.calls())
			assert.Empty(t, guardPending(t, f))
		})
	}
}

func TestFailedCleanupKeepsTheURIUntilARetrySucceeds(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	child := f.Children[0]
	uri := child.StorageURIs[0]
	cleaner.fail(uri, errors.New("s3 unavailable"))

	deletedAt := f.Clock.Advance(time.Minute)
	res, err := f.Delete(f.Ctx, child.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err, "a failed cleanup never fails the delete")
	require.Equal(t, []string{child.ID}, res.Deleted)
	_, err = f.Get(f.Ctx, child.ID, registry.IncludeAll)
	require.ErrorIs(t, err, registry.ErrNotFound, "a failed cleanup never undoes the delete")

	pending := guardPending(t, f)
	require.Len(t, pending, 1, "the URI is not lost")
	p := pending[0]
	assert.Equal(t, uri, p.URI)
	assert.Equal(t, child.ID, p.ArtifactID)
	assert.Equal(t, res.Operation, p.Operation)
	assert.True(t, deletedAt.Equal(p.QueuedAt))
	assert.Equal(t, 1, p.Attempts)
	assert.True(t, deletedAt.Equal(p.LastAttempt))
	assert.Contains(t, p.LastError, "s3 unavailable")

	retriedAt := f.Clock.Advance(time.Hour)
	rep, err := f.RetryCleanups(f.Ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Cleaned)
	require.Len(t, rep.Failed, 1)
	assert.Equal(t, 2, rep.Failed[0].Attempts)
	pending = guardPending(t, f)
	require.Len(t, pending, 1)
	assert.Equal(t, 2, pending[0].Attempts)
	assert.True(t, retriedAt.Equal(pending[0].LastAttempt))
	assert.True(t, deletedAt.Equal(pending[0].QueuedAt), "a retry keeps the URI's place in the queue")

	cleaner.fail(uri, nil)
	rep, err = f.RetryCleanups(f.Ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{uri}, rep.Cleaned)
	assert.Empty(t, rep.Failed)
	assert.Empty(t, guardPending(t, f))
	assert.Equal(t, []string{uri, uri, uri}, cleaner.calls())

	rep, err = f.RetryCleanups(f.Ctx)
	require.NoError(t, err)
	assert.Empty(t, rep.Cleaned)
	assert.Len(t, cleaner.calls(), 3, "a cleaned URI is not cleaned again")
}

func TestPanickingCleanerNeverUndoesTheDelete(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	boom, calm := f.Children[0].StorageURIs[0], f.Children[1].StorageURIs[0]
	cleaner.panicOn(boom, true)

	var res registry.Result
	var err error
	require.NotPanics(t, func() {
		res, err = f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	})
	require.NoError(t, err)
	require.Len(t, res.Deleted, 3)
	for _, id := range res.Deleted {
		_, err := f.Get(f.Ctx, id, registry.IncludeAll)
		require.ErrorIs(t, err, registry.ErrNotFound)
	}
	pending := guardPending(t, f)
	require.Len(t, pending, 1, "the URI whose cleaner panicked stays pending; the other was cleaned")
	assert.Equal(t, boom, pending[0].URI)
	assert.Equal(t, 1, pending[0].Attempts)
	assert.Contains(t, pending[0].LastError, "panic")
	assert.ElementsMatch(t, []string{boom, calm}, cleaner.calls())

	require.NotPanics(t, func() {
		rep, err := f.RetryCleanups(f.Ctx)
		require.NoError(t, err)
		require.Len(t, rep.Failed, 1)
		assert.Equal(t, 2, rep.Failed[0].Attempts)
	})
	cleaner.panicOn(boom, false)
	rep, err := f.RetryCleanups(f.Ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{boom}, rep.Cleaned)
	assert.Empty(t, guardPending(t, f))
}

func TestWithoutACleanerHardDeletesQueueTheirURIs(t *testing.T) {
	f := registrytest.New(t)
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	pending := guardPending(t, f)
	assert.ElementsMatch(t, guardURIs(f.Children), guardPendingURIs(t, f))
	for _, p := range pending {
		assert.Equal(t, res.Operation, p.Operation)
		assert.Zero(t, p.Attempts)
		assert.Empty(t, p.LastError)
	}
	_, err = f.RetryCleanups(f.Ctx)
	require.ErrorIs(t, err, registry.ErrInvalid)
	assert.Equal(t, pending, guardPending(t, f), "a refused retry loses nothing")

	_, err = registry.New(registry.WithCleaner(nil))
	require.ErrorIs(t, err, registry.ErrInvalid)
}

func TestStorageURIStillReferencedIsNotCleaned(t *testing.T) {
	const shared = "s3://guard/shared.bin"
	setup := func(t *testing.T) (*registrytest.Fixture, *guardCleaner, registry.Artifact, registry.Artifact, registry.Artifact) {
		cleaner := &guardCleaner{}
		f := registrytest.NewEmpty(t, registry.WithCleaner(cleaner))
		p := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "pkg"})
		a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "a", Parent: p.ID,
			StorageURIs: []string{shared, "s3://guard/a.bin"}})
		b := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "b", Parent: p.ID,
			StorageURIs: []string{"s3://guard/b.bin", shared}})
		return f, cleaner, p, a, b
	}
	t.Run("another live artifact references it", func(t *testing.T) {
		f, cleaner, _, a, b := setup(t)
		_, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		assert.Equal(t, []string{"s3://guard/a.bin"}, cleaner.calls())
		assert.Empty(t, guardPending(t, f))
		_, err = f.Delete(f.Ctx, b.ID, registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"s3://guard/a.bin", "s3://guard/b.bin", shared}, cleaner.calls(),
			"the last owner's hard delete cleans it")
	})
	t.Run("a soft-deleted artifact references it", func(t *testing.T) {
		f, cleaner, _, a, b := setup(t)
		_, err := f.Delete(f.Ctx, b.ID, registry.DeleteOptions{})
		require.NoError(t, err)
		_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		assert.Equal(t, []string{"s3://guard/a.bin"}, cleaner.calls(), "a soft-deleted owner may be restored")
		_, err = f.Restore(f.Ctx, b.ID)
		require.NoError(t, err)
	})
	t.Run("both owners go in one call", func(t *testing.T) {
		f, cleaner, p, _, _ := setup(t)
		res, err := f.Delete(f.Ctx, p.ID, registry.DeleteOptions{Hard: true, Recursive: true})
		require.NoError(t, err)
		require.Len(t, res.Deleted, 3)
		assert.ElementsMatch(t, []string{"s3://guard/a.bin", "s3://guard/b.bin", shared}, cleaner.calls(),
			"each URI once")
	})
	t.Run("the other owner fails in the same call", func(t *testing.T) {
		f, cleaner, p, a, b := setup(t)
		require.NoError(t, f.Deploy(f.Ctx, b.ID, "endpoint-guard"))
		res, err := f.Delete(f.Ctx, p.ID, registry.DeleteOptions{Hard: true, Recursive: true})
		require.NoError(t, err)
		require.Equal(t, []string{a.ID}, res.Deleted)
		assert.Equal(t, []string{"s3://guard/a.bin"}, cleaner.calls())
		assert.Empty(t, guardPending(t, f))
	})
	t.Run("an update drops it while another artifact references it", func(t *testing.T) {
		f, cleaner, _, a, _ := setup(t)
		a.StorageURIs = []string{"s3://guard/a.bin"}
		_, err := f.Update(f.Ctx, a)
		require.NoError(t, err)
		assert.Empty(t, cleaner.calls())
		assert.Empty(t, guardPending(t, f))
	})
}

func TestPurgeCleansStorageLikeAHardDelete(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	require.Empty(t, cleaner.calls(), "a soft delete keeps the objects")
	f.Clock.Advance(time.Hour)
	res, err := f.Purge(f.Ctx, time.Hour)
	require.NoError(t, err)
	require.Len(t, res.Deleted, 3)
	assert.ElementsMatch(t, guardURIs(f.Children), cleaner.calls())
	assert.Empty(t, guardPending(t, f))
}

func TestHardDeleteOfASoftDeletedArtifactCleansItsStorage(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{})
	require.NoError(t, err)
	_, err = f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	assert.Equal(t, f.Children[0].StorageURIs, cleaner.calls())
}

func TestUpdateDroppingAURIQueuesIt(t *testing.T) {
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("cleaner fails=%t", failing), func(t *testing.T) {
			cleaner := &guardCleaner{}
			f := registrytest.New(t, registry.WithCleaner(cleaner))
			old := f.Dataset.StorageURIs[0]
			if failing {
				cleaner.fail(old, errors.New("access denied"))
			}
			d := f.MustGet(t, f.Dataset.ID)
			d.StorageURIs = []string{"s3://datasets/customers/2.parquet"}
			_, err := f.Update(f.Ctx, d)
			require.NoError(t, err)
			assert.Equal(t, []string{old}, cleaner.calls(), "only the dropped URI is cleaned")
			if !failing {
				assert.Empty(t, guardPending(t, f))
				return
			}
			pending := guardPending(t, f)
			require.Len(t, pending, 1)
			assert.Equal(t, old, pending[0].URI)
			assert.Equal(t, f.Dataset.ID, pending[0].ArtifactID)
			assert.Equal(t, 1, pending[0].Attempts)
		})
	}
	t.Run("keeping the URI cleans nothing", func(t *testing.T) {
		cleaner := &guardCleaner{}
		f := registrytest.New(t, registry.WithCleaner(cleaner))
		d := f.MustGet(t, f.Dataset.ID)
		d.StorageURIs = append(d.StorageURIs, "s3://datasets/customers/extra.parquet")
		_, err := f.Update(f.Ctx, d)
		require.NoError(t, err)
		assert.Empty(t, cleaner.calls())
	})
}

func TestReregisteringAPendingURITakesItOffTheQueue(t *testing.T) {
	cases := []struct {
		name    string
		reclaim func(t *testing.T, f *registrytest.Fixture, uri string)
	}{
		{"Register", func(t *testing.T, f *registrytest.Fixture, uri string) {
			f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "heir", StorageURIs: []string{uri}})
		}},
		{"RegisterBatch", func(t *testing.T, f *registrytest.Fixture, uri string) {
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{
				{Kind: registry.KindModel, Namespace: "guard", Name: "other"},
				{Kind: registry.KindModel, Namespace: "guard", Name: "heir", StorageURIs: []string{uri}},
			})
			require.NoError(t, err)
		}},
		{"Update", func(t *testing.T, f *registrytest.Fixture, uri string) {
			c := f.MustGet(t, f.Code.ID)
			c.StorageURIs = []string{uri}
			_, err := f.Update(f.Ctx, c)
			require.NoError(t, err)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cleaner := &guardCleaner{}
			f := registrytest.New(t, registry.WithCleaner(cleaner))
			gone, kept := f.Children[0].StorageURIs[0], f.Children[1].StorageURIs[0]
			cleaner.fail(gone, errors.New("throttled"))
			cleaner.fail(kept, errors.New("throttled"))
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
			require.NoError(t, err)
			require.ElementsMatch(t, []string{gone, kept}, guardPendingURIs(t, f))

			c.reclaim(t, f, gone)
			assert.Equal(t, []string{kept}, guardPendingURIs(t, f), "an object owned again is no orphan")

			cleaner.fail(gone, nil)
			cleaner.fail(kept, nil)
			calls := len(cleaner.calls())
			rep, err := f.RetryCleanups(f.Ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{kept}, rep.Cleaned)
			assert.Equal(t, []string{kept}, cleaner.calls()[calls:], "the reclaimed object is never handed to the cleaner")
		})
	}
}

// PendingCleanups lists in URI order (cleanup.go); each entry keeps the
// time and the operation that queued it.
func TestPendingCleanupsAreListedInURIOrder(t *testing.T) {
	f := registrytest.NewEmpty(t)
	names := []string{"c", "a", "b"}
	for _, n := range names {
		f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: n, StorageURIs: []string{"s3://guard/" + n}})
	}
	queued := map[string]time.Time{}
	ops := map[string]string{}
	for _, n := range names {
		now := f.Clock.Advance(time.Minute)
		res, err := f.DeleteByFQN(f.Ctx, registry.BuildFQN("guard", n, ""), registry.DeleteOptions{Hard: true})
		require.NoError(t, err)
		queued["s3://guard/"+n], ops["s3://guard/"+n] = now, res.Operation
	}
	pending := guardPending(t, f)
	require.Len(t, pending, 3)
	for i, n := range []string{"a", "b", "c"} {
		p := pending[i]
		assert.Equal(t, "s3://guard/"+n, p.URI)
		assert.True(t, queued[p.URI].Equal(p.QueuedAt))
		assert.Equal(t, ops[p.URI], p.Operation)
	}
}

func TestConcurrentHardDeletesCleanEachURIOnce(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.NewEmpty(t, registry.WithCleaner(cleaner))
	const n = 64
	batch := make([]registry.Artifact, n)
	var uris []string
	for i := range batch {
		u := fmt.Sprintf("s3://guard/%02d.bin", i)
		uris = append(uris, u)
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("m%02d", i),
			StorageURIs: []string{u, "s3://guard/shared.bin"}}
	}
	as, err := f.RegisterBatch(f.Ctx, batch)
	require.NoError(t, err)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
			assert.NoError(t, err)
		}()
	}
	close(gate)
	wg.Wait()
	assert.ElementsMatch(t, append(uris, "s3://guard/shared.bin"), cleaner.calls(), "every URI once, the shared one by its last owner")
	assert.Empty(t, guardPending(t, f))
}

func TestResetHandsEveryStorageURIToTheCleaner(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	all := append(guardURIs(append([]registry.Artifact{f.Dataset, f.Code, f.Package}, f.Versions...)), guardURIs(f.Children)...)
	require.Len(t, all, 6)
	cleaner.fail(f.Dataset.StorageURIs[0], errors.New("bucket locked"))
	require.NoError(t, f.Reset(f.Ctx))
	assert.ElementsMatch(t, all, cleaner.calls())
	assert.Equal(t, f.Dataset.StorageURIs, guardPendingURIs(t, f), "a failed cleanup survives the reset")
}
