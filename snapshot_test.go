package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// richWorld is a registry in every kind of state a snapshot must carry.
type richWorld struct {
	f        *registrytest.Fixture
	hub      registry.Artifact // fan-in past 32 upstreams: the tree form
	orphan   registry.Artifact // lost its upstream to a detached hard delete
	restored registry.Artifact // restored with a client token
	deleted  registry.Artifact // hard deleted with a client token
}

// newRichWorld builds a registry with soft-deleted trees, a hard delete
// that detached a dependent, deployments, tokens for a delete and a
// restore, pending cleanups with attempts and errors, a reclaim warning and
// a fan-in stored as a tree.
func newRichWorld(t *testing.T) *richWorld {
	t.Helper()
	var f *registrytest.Fixture
	cleaner := registry.CleanerFunc(func(ctx context.Context, uri string) error {
		switch {
		case strings.Contains(uri, "/fail/"):
			return errors.New("bucket throttled")
		case strings.Contains(uri, "/reclaim/"):
			// Referenced again while being cleaned: a reclaim warning.
			_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "snap", Name: "heir", StorageURIs: []string{uri}})
			return err
		}
		return nil
	})
	f = registrytest.New(t, registry.WithCleaner(cleaner))
	w := &richWorld{f: f}
	ctx := f.Ctx
	reg := func(a registry.Artifact) registry.Artifact { return f.MustRegister(t, a) }
	tick := func() { f.Clock.Advance(time.Minute) }

	// Rich metadata and a second deployment.
	rich := reg(registry.Artifact{Kind: registry.KindModel, Namespace: "snap", Name: "rich", Version: "7",
		DisplayName: "Rich", Description: "line one\nline two\twith a tab", Algorithm: "XGBoost",
		Tags: []string{"prod", "gpu"}, Owners: []string{"alice", "bob"}, Labels: map[string]string{"team": "ml", "cost": "high", "a": ""},
		StorageURIs: []string{"s3://models/rich/7.bin", "gs://mirror/rich/7.bin"}})
	require.NoError(t, f.Deploy(ctx, rich.ID, "endpoint-a"))
	require.NoError(t, f.Deploy(ctx, rich.ID, "endpoint-b"))
	tick()

	// A soft-deleted tree, with a token on the delete.
	_, err := f.Delete(ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, ClientToken: "soft-tree", Reason: "retired"})
	require.NoError(t, err)
	tick()

	// Soft delete, then restore with a token.
	_, err = f.Delete(ctx, f.Code.ID, registry.DeleteOptions{Reason: "oops"})
	require.NoError(t, err)
	tick()
	w.restored, err = f.Restore(ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "undo-code", Reason: "mistake"})
	require.NoError(t, err)
	tick()

	// A hard delete that detaches a dependent; its storage cleanup fails
	// twice.
	w.deleted = reg(registry.Artifact{Kind: registry.KindDataset, Namespace: "snap", Name: "raw", Version: "1",
		StorageURIs: []string{"s3://fail/raw/1.parquet"}})
	w.orphan = reg(registry.Artifact{Kind: registry.KindModel, Namespace: "snap", Name: "orphan", Version: "1"})
	f.MustLink(t, w.deleted.ID, w.orphan.ID)
	_, err = f.Delete(ctx, w.deleted.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach, ClientToken: "drop-raw"})
	require.NoError(t, err)
	tick()
	_, err = f.RetryCleanups(ctx)
	require.NoError(t, err)
	tick()

	// A reclaim warning.
	gone := reg(registry.Artifact{Kind: registry.KindCode, Namespace: "snap", Name: "gone", StorageURIs: []string{"s3://reclaim/gone.py"}})
	_, err = f.Delete(ctx, gone.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	tick()

	// A soft-deleted version with a reason, and one made permanent.
	_, err = f.Delete(ctx, f.Versions[1].ID, registry.DeleteOptions{Reason: "superseded", Lineage: registry.LineageRestrict})
	require.NoError(t, err)
	tick()

	// A fan-in of 40 upstreams: the tree form.
	w.hub = reg(registry.Artifact{Kind: registry.KindModel, Namespace: "snap", Name: "hub", Version: "1"})
	for i := range 40 {
		d := reg(registry.Artifact{Kind: registry.KindDataset, Namespace: "snap", Name: fmt.Sprintf("shard-%02d", i)})
		f.MustLink(t, d.ID, w.hub.ID)
	}
	tick()
	require.NoError(t, f.Check())
	pending, err := f.PendingCleanups(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 2, "a failed cleanup and a reclaim warning")
	return w
}

// worldDump is everything a registry shows through its API.
type worldDump struct {
	Artifacts []registry.Artifact
	Lineage   map[string]registry.LineageGraph
	Pending   []registry.Cleanup
}

func dumpWorld(t *testing.T, reg *registry.Registry) worldDump {
	t.Helper()
	ctx := registry.WithPrincipal(context.Background(), registrytest.Principal)
	var d worldDump
	cursor := ""
	for {
		page, err := reg.List(ctx, registry.Filter{Include: registry.IncludeAll, Limit: 7, Cursor: cursor})
		require.NoError(t, err)
		d.Artifacts = append(d.Artifacts, page.Items...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	d.Lineage = map[string]registry.LineageGraph{}
	for _, a := range d.Artifacts {
		g, err := reg.Lineage(ctx, a.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		d.Lineage[a.ID] = g
	}
	var err error
	d.Pending, err = reg.PendingCleanups(ctx)
	require.NoError(t, err)
	return d
}

func snapshotBytes(t *testing.T, reg *registry.Registry) ([]byte, registry.SnapshotInfo) {
	t.Helper()
	var buf bytes.Buffer
	info, err := reg.WriteSnapshot(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), info.Bytes)
	return buf.Bytes(), info
}

func TestSnapshotRoundTrip(t *testing.T) {
	w := newRichWorld(t)
	f := w.f
	before := dumpWorld(t, f.Registry)
	lastSeq := lastEventSeq(t, f.Registry)
	snap, info := snapshotBytes(t, f.Registry)
	assert.Equal(t, registry.SnapshotInfo{Version: registry.SnapshotVersion, Artifacts: len(before.Artifacts), Edges: 43,
		Tokens: 3, Cleanups: 2, Deleted: 4, Bytes: int64(len(snap)), NextEventSeq: lastSeq + 1, LastWrite: f.Clock.Now().Add(-time.Minute)}, info)

	clock := registrytest.NewClock(f.Clock.Now())
	loaded, err := registry.Load(bytes.NewReader(snap), registry.WithClock(clock))
	require.NoError(t, err)
	require.NoError(t, loaded.Check())
	assert.Equal(t, before, dumpWorld(t, loaded), "every artifact, edge and cleanup survives")
	again, _ := snapshotBytes(t, loaded)
	assert.Equal(t, snap, again, "write, load, write gives the same bytes")

	ctx := f.Ctx
	t.Run("tokens replay", func(t *testing.T) {
		res, err := loaded.Delete(ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, ClientToken: "soft-tree", Reason: "retired"})
		require.NoError(t, err)
		assert.True(t, res.Replayed)
		assert.ElementsMatch(t, []string{f.Package.ID, f.Children[0].ID, f.Children[1].ID}, res.Deleted)
		res, err = loaded.Delete(ctx, w.deleted.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach, ClientToken: "drop-raw"})
		require.NoError(t, err, "a retry after the target was hard deleted replays, not a 404")
		assert.True(t, res.Replayed)
		assert.Equal(t, []string{w.orphan.ID}, res.Detached)
		a, err := loaded.Restore(ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "undo-code", Reason: "mistake"})
		require.NoError(t, err)
		assert.Equal(t, w.restored, a)
		_, err = loaded.Restore(ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "undo-code", Reason: "other"})
		assert.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
	})
	t.Run("tokens expire as they would have", func(t *testing.T) {
		clock.Advance(registry.DefaultTokenTTL)
		_, err := loaded.Restore(ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "undo-code", Reason: "other"})
		assert.ErrorIs(t, err, registry.ErrNotDeleted, "the token expired: the call is new")
	})
	t.Run("events number on", func(t *testing.T) {
		sub, err := loaded.Subscribe(10)
		require.NoError(t, err)
		defer sub.Close()
		_, err = loaded.Register(ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "snap", Name: "after"})
		require.NoError(t, err)
		e := <-sub.C
		assert.Equal(t, info.NextEventSeq, e.Seq)
		events, err := loaded.Events(ctx, 0, 0)
		require.NoError(t, err)
		require.Len(t, events, 1, "the audit log starts empty: its events are not in the snapshot")
		assert.Equal(t, info.NextEventSeq, events[0].Seq)
	})
	t.Run("recorded times never go back", func(t *testing.T) {
		clock.Set(registrytest.Epoch) // before the snapshot's last write
		a, err := loaded.Register(ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "snap", Name: "late"})
		require.NoError(t, err)
		assert.False(t, a.CreatedAt.Before(info.LastWrite))
	})
	require.NoError(t, loaded.Check())
}

func lastEventSeq(t *testing.T, reg *registry.Registry) uint64 {
	t.Helper()
	var last uint64
	for {
		events, err := reg.Events(context.Background(), last, 1000)
		require.NoError(t, err)
		if len(events) == 0 {
			return last
		}
		last = events[len(events)-1].Seq
	}
}

func TestSnapshotDeterministic(t *testing.T) {
	w := newRichWorld(t)
	a, _ := snapshotBytes(t, w.f.Registry)
	b, _ := snapshotBytes(t, w.f.Registry)
	assert.Equal(t, a, b, "two snapshots of one state are byte-identical")

	// The same calls on a second registry with the same IDs and clock give
	// the same bytes too.
	build := func() []byte {
		f := registrytest.NewEmpty(t)
		for i := range 50 {
			_, err := f.Register(f.Ctx, registry.Artifact{ID: fmt.Sprintf("00000000-0000-7000-8000-%012d", 50-i), Kind: registry.KindModel,
				Namespace: "det", Name: fmt.Sprintf("m%d", i%7), Version: fmt.Sprint(i), Labels: map[string]string{"z": "1", "a": "2", "m": "3"}})
			require.NoError(t, err)
		}
		snap, _ := snapshotBytes(t, f.Registry)
		return snap
	}
	assert.Equal(t, build(), build())
}

func TestSnapshotEmpty(t *testing.T) {
	reg, err := registry.New()
	require.NoError(t, err)
	snap, info := snapshotBytes(t, reg)
	assert.Equal(t, uint64(1), info.NextEventSeq)
	loaded, err := registry.Load(bytes.NewReader(snap))
	require.NoError(t, err)
	require.NoError(t, loaded.Check())
	again, _ := snapshotBytes(t, loaded)
	assert.Equal(t, snap, again)
}

// A snapshot taken while writers run is exactly one commit's state: every
// writer registers artifacts in pairs, one transaction each (RegisterBatch),
// so a snapshot never holds half a pair, and its event sequence matches
// the artifacts it holds.
func TestSnapshotWhileWriting(t *testing.T) {
	reg, err := registry.New()
	require.NoError(t, err)
	ctx := registry.WithPrincipal(context.Background(), "writer")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				select {
				case <-stop:
					return
				default:
				}
				_, err := reg.RegisterBatch(ctx, []registry.Artifact{
					{Kind: registry.KindModel, Namespace: "w", Name: fmt.Sprintf("g%d-%d", g, i), Version: "1"},
					{Kind: registry.KindModel, Namespace: "w", Name: fmt.Sprintf("g%d-%d", g, i), Version: "2"},
				})
				if !assert.NoError(t, err) {
					return
				}
			}
		}()
	}
	for range 20 {
		var buf bytes.Buffer
		info, err := reg.WriteSnapshot(&buf)
		require.NoError(t, err)
		assert.Zero(t, info.Artifacts%2, "a snapshot holds whole transactions")
		assert.Equal(t, uint64(info.Artifacts+1), info.NextEventSeq, "one created event per artifact before the snapshot")
		loaded, err := registry.Load(&buf)
		require.NoError(t, err)
		require.NoError(t, loaded.Check())
	}
	close(stop)
	wg.Wait()
}

func TestSaveSnapshotAndLoadFile(t *testing.T) {
	w := newRichWorld(t)
	path := filepath.Join(t.TempDir(), "registry.snap")
	info, err := w.f.SaveSnapshot(path)
	require.NoError(t, err)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, info.Bytes, st.Size())
	loaded, err := registry.LoadFile(path)
	require.NoError(t, err)
	assert.Equal(t, dumpWorld(t, w.f.Registry), dumpWorld(t, loaded))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	_, err = registry.LoadFile(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = w.f.SaveSnapshot(filepath.Join(t.TempDir(), "no-such-dir", "x.snap"))
	assert.Error(t, err)
}

func TestReadSnapshotReplacesEverything(t *testing.T) {
	w := newRichWorld(t)
	snap, info := snapshotBytes(t, w.f.Registry)

	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "other-token"})
	require.NoError(t, err)
	got, err := f.ReadSnapshot(bytes.NewReader(snap))
	require.NoError(t, err)
	assert.Equal(t, info, got)
	require.NoError(t, f.Check())
	assert.Equal(t, dumpWorld(t, w.f.Registry), dumpWorld(t, f.Registry))
	_, err = f.Delete(f.Ctx, w.f.Code.ID, registry.DeleteOptions{ClientToken: "other-token"})
	require.NoError(t, err, "the old registry's token is gone with its state: no mismatch")
}

// ReadSnapshot takes the writers' lock; from inside an authorizer, which
// runs under it, it is refused rather than waiting for itself forever.
func TestReadSnapshotFromAuthorizerIsRefused(t *testing.T) {
	var reg *registry.Registry
	var snap []byte
	var inner error
	authz := registry.AuthorizerFunc(func(ctx context.Context, principal string, action registry.Action, a registry.Artifact) error {
		if snap != nil && inner == nil {
			_, inner = reg.ReadSnapshot(bytes.NewReader(snap))
		}
		return nil
	})
	f := registrytest.New(t, registry.WithAuthorizer(authz))
	reg = f.Registry
	snap, _ = snapshotBytes(t, reg)
	_, err := f.Delete(f.Ctx, f.Code.ID)
	require.NoError(t, err)
	assert.ErrorIs(t, inner, registry.ErrInvalid)
	assert.Contains(t, inner.Error(), "inside an authorizer callback")
}
