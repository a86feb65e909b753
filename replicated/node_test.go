package replicated_test

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// testConfig is a node configuration for tests: quiet, quick to elect.
func testConfig(dir string) replicated.Config {
	return replicated.Config{
		DataDir:         dir,
		ElectionTimeout: 50 * time.Millisecond,
		LogOutput:       io.Discard,
	}
}

func openNode(t testing.TB, cfg replicated.Config) *replicated.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := replicated.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	return n
}

var alice = registry.WithPrincipal(context.Background(), "alice")

// dump is the whole visible state of a registry, for comparisons: every
// artifact (deleted ones too), every lineage edge, every pending cleanup.
func dump(t testing.TB, reg *registry.Registry) string {
	t.Helper()
	var arts []registry.Artifact
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		page, err := reg.List(alice, f)
		require.NoError(t, err)
		arts = append(arts, page.Items...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	var edges []string
	for _, a := range arts {
		g, err := reg.Lineage(alice, a.ID, registry.Downstream, 1, registry.IncludeAll)
		require.NoError(t, err)
		for _, e := range g.Edges {
			edges = append(edges, e.Upstream+"->"+e.Downstream+"@"+e.CreatedAt.String())
		}
	}
	sort.Strings(edges)
	pending, err := reg.PendingCleanups(alice)
	require.NoError(t, err)
	b, err := json.MarshalIndent(struct {
		Artifacts []registry.Artifact
		Edges     []string
		Pending   []registry.Cleanup
	}{arts, edges, pending}, "", " ")
	require.NoError(t, err)
	return string(b)
}

// Every write of the library goes through the log, returns what the
// library returns, and is visible locally as soon as it returns.
func TestNodeWritesThroughTheLog(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	reg := n.Registry()
	step := func() uint64 { return n.AppliedIndex() }

	before := step()
	d, err := n.Register(alice, registry.Artifact{Kind: registry.KindDataset, Namespace: "svc", Name: "customers", Version: "1"})
	require.NoError(t, err)
	assert.NotEmpty(t, d.ID)
	assert.Greater(t, step(), before)
	got, err := reg.Get(alice, d.ID)
	require.NoError(t, err)
	assert.Equal(t, d, got)
	assert.Equal(t, "alice", got.UpdatedBy)

	batch, err := n.RegisterBatch(alice, []registry.Artifact{
		{Kind: registry.KindModel, Namespace: "svc", Name: "churn", Version: "1", StorageURIs: []string{"s3://m/churn/1"}},
		{Kind: registry.KindModel, Namespace: "svc", Name: "churn", Version: "2", StorageURIs: []string{"s3://m/churn/2"}},
	})
	require.NoError(t, err)
	require.Len(t, batch, 2)
	m1, m2 := batch[0], batch[1]

	m1.Description = "first"
	up, err := n.Update(alice, m1)
	require.NoError(t, err)
	assert.Equal(t, int64(2), up.Revision)

	require.NoError(t, n.Link(alice, d.ID, m1.ID))
	g, err := reg.Lineage(alice, d.ID, registry.Downstream, 1)
	require.NoError(t, err)
	assert.Len(t, g.Edges, 1)
	require.NoError(t, n.Unlink(alice, d.ID, m1.ID))
	require.NoError(t, n.Link(alice, d.ID, m1.ID))

	require.NoError(t, n.Deploy(alice, m2.ID, "eu-1"))
	_, err = n.Delete(alice, m2.ID, registry.DeleteOptions{Hard: true})
	assert.ErrorIs(t, err, registry.ErrDeployed, "errors keep their code")
	require.NoError(t, n.Undeploy(alice, m2.ID, "eu-1"))

	dry, err := n.Delete(alice, m2.ID, registry.DeleteOptions{DryRun: true})
	require.NoError(t, err)
	assert.True(t, dry.DryRun)
	assert.Equal(t, []string{m2.ID}, dry.Deleted)
	still, err := reg.Get(alice, m2.ID)
	require.NoError(t, err, "a dry run changes nothing")
	assert.False(t, still.Deleted)

	res, err := n.Delete(alice, m2.ID, registry.DeleteOptions{ClientToken: "t-1", Reason: "old"})
	require.NoError(t, err)
	assert.Equal(t, []string{m2.ID}, res.Deleted)
	replay, err := n.Delete(alice, m2.ID, registry.DeleteOptions{ClientToken: "t-1", Reason: "old"})
	require.NoError(t, err)
	assert.True(t, replay.Replayed)
	assert.Equal(t, res.Operation, replay.Operation)

	back, err := n.Restore(alice, m2.ID)
	require.NoError(t, err)
	assert.False(t, back.Deleted)
	_, err = n.DeleteByFQN(alice, m2.FQN())
	require.NoError(t, err)
	_, err = n.RestoreByFQN(alice, m2.FQN())
	require.NoError(t, err)

	res, err = n.DeleteAllVersions(alice, "svc", "churn", registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{m1.ID, m2.ID}, res.Deleted)
	pending, err := reg.PendingCleanups(alice)
	require.NoError(t, err)
	assert.Len(t, pending, 2, "no cleaner: the URIs stay pending")

	_, err = n.Delete(alice, d.ID)
	require.NoError(t, err)
	purged, err := n.Purge(alice, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{d.ID}, purged.Deleted)

	_, err = n.Register(alice, registry.Artifact{Kind: registry.KindCode, Namespace: "svc", Name: "train"})
	require.NoError(t, err)
	require.NoError(t, n.Reset(alice))
	page, err := reg.List(alice, registry.Filter{Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Empty(t, page.Items)

	_, err = n.RetryCleanups(alice)
	assert.ErrorIs(t, err, registry.ErrInvalid, "no cleaner")
	require.NoError(t, reg.Check())
	assert.Equal(t, "node-1", n.Leader())
}

// Bad input is the registry's typed error and changes nothing, whether the
// node or the state machine refuses it.
func TestNodeRefusesBadInput(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"invalid UTF-8", func() error {
			_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "bad\xff"})
			return err
		}, "artifacts[0].name"},
		{"no kind", func() error {
			_, err := n.Register(alice, registry.Artifact{Namespace: "svc", Name: "m"})
			return err
		}, "kind"},
		{"nil option", func() error {
			_, err := n.Delete(alice, "x", nil)
			return err
		}, "options"},
		{"bad id", func() error { return n.Deploy(alice, "not-an-id", "eu") }, "id"},
		{"negative age", func() error {
			_, err := n.Purge(alice, -time.Second)
			return err
		}, "olderThan"},
		{"nil ctx", func() error {
			_, err := n.Register(nil, registry.Artifact{}) //nolint:staticcheck // refused
			return err
		}, "ctx"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			var e *registry.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, registry.CodeInvalid, e.Code)
			assert.Equal(t, c.field, e.Field)
		})
	}
	page, err := n.Registry().List(alice, registry.Filter{Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Empty(t, page.Items)
}

// A restart on the same directory recovers everything, from the log alone
// or from a snapshot and the log's tail.
func TestNodeRestartRecovers(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(dir))
	var ids []string
	for i := 0; i < 50; i++ {
		a, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m",
			Version: string(rune('a'+i%26)) + string(rune('a'+i/26)), StorageURIs: []string{"s3://b/" + string(rune('a'+i%26)) + string(rune('a'+i/26))}})
		require.NoError(t, err)
		ids = append(ids, a.ID)
		if i > 0 && i%3 == 0 {
			require.NoError(t, n.Link(alice, ids[i-1], a.ID))
		}
	}
	for i, id := range ids {
		switch i % 5 {
		case 1:
			_, err := n.Delete(alice, id)
			require.NoError(t, err)
		case 2:
			_, err := n.Delete(alice, id, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
			require.NoError(t, err)
		}
	}
	want := dump(t, n.Registry())
	require.NoError(t, n.Close())

	again := openNode(t, testConfig(dir))
	assert.Equal(t, want, dump(t, again.Registry()))
	require.NoError(t, again.Registry().Check())

	// And it goes on from there.
	_, err := again.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "after"})
	require.NoError(t, err)
}

// Writers calling at once each get their own result; the state is whole.
func TestNodeConcurrentWriters(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc",
					Name: "w" + string(rune('a'+w)), Version: string(rune('a' + i))})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	page, err := n.Registry().List(alice, registry.Filter{Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Items, 160)
	require.NoError(t, n.Registry().Check())
}

// A restart after a snapshot recovers the snapshot and the log's tail.
func TestNodeRestartFromSnapshotAndTail(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.TrailingLogs = 2 // the snapshot, not the log, holds the first writes
	n := openNode(t, cfg)
	register := func(name string) registry.Artifact {
		a, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: name,
			StorageURIs: []string{"s3://b/" + name}})
		require.NoError(t, err)
		return a
	}
	a, b := register("a"), register("b")
	require.NoError(t, n.Link(alice, a.ID, b.ID))
	_, err := n.Delete(alice, a.ID, registry.DeleteOptions{ClientToken: "tok"})
	require.NoError(t, err)
	require.NoError(t, n.Snapshot())
	c := register("c")
	_, err = n.Delete(alice, c.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	want := dump(t, n.Registry())
	require.NoError(t, n.Close())

	again := openNode(t, cfg)
	assert.Equal(t, want, dump(t, again.Registry()))
	require.NoError(t, again.Registry().Check())
	// The token of the delete before the snapshot still replays.
	res, err := again.Delete(alice, a.ID, registry.DeleteOptions{ClientToken: "tok"})
	require.NoError(t, err)
	assert.True(t, res.Replayed)
}

// A node given an address binds raft's TCP transport there (127.0.0.1
// only in tests); a closed node refuses writes.
func TestNodeOnTCPAndClosed(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Addr = "127.0.0.1:0"
	n := openNode(t, cfg)
	_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m"})
	require.NoError(t, err)
	require.NoError(t, n.Close())
	require.NoError(t, n.Close(), "Close twice")
	_, err = n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "late"})
	assert.Error(t, err)
	page, err := n.Registry().List(alice, registry.Filter{})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1, "reads still work")

	_, err = replicated.Open(context.Background(), replicated.Config{})
	var e *registry.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "DataDir", e.Field)
}

// Two nodes cannot share a data directory.
func TestNodeDataDirInUse(t *testing.T) {
	cfg := testConfig(t.TempDir())
	openNode(t, cfg)
	_, err := openErr(cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
}
