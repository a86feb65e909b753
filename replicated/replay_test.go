package replicated

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// state is everything a registry shows: every artifact (soft-deleted ones
// too), the pending cleanups and the whole audit log (every event with its
// time, principal and operation), and the registry's snapshot, byte for
// byte.
func state(t *testing.T, reg *registry.Registry) []byte {
	t.Helper()
	ctx := registry.WithPrincipal(context.Background(), "alice")
	page, err := reg.List(ctx, registry.Filter{Include: registry.IncludeAll, Limit: 1000})
	require.NoError(t, err)
	pending, err := reg.PendingCleanups(ctx)
	require.NoError(t, err)
	var events []registry.Event
	for {
		page, err := reg.Events(ctx, uint64(len(events)), 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		events = append(events, page...)
	}
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode([]any{page.Items, pending, events}))
	require.NoError(t, writeSnapshot(reg, &buf))
	return buf.Bytes()
}

// Replaying the same log on two fresh state machines gives byte-identical
// states, identical to the node's that wrote it, although the log was
// written by concurrent writers whose decided times do not follow log order.
func TestReplayIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{DataDir: dir, ElectionTimeout: 50 * time.Millisecond, LogOutput: io.Discard, TokenTTL: time.Hour,
		Cleaner: registry.CleanerFunc(func(_ context.Context, uri string) error {
			if uri == "s3://b/fails" {
				return errors.New("denied")
			}
			return nil
		}),
		// A clock that jumps about: the state machine, not the clock,
		// keeps recorded times monotonic.
		Clock: registry.ClockFunc(func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Duration(int64(clock.Nanosecond()%7)-3) * time.Minute).Add(time.Nanosecond)
			return clock
		})}
	n, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	ctx := registry.WithPrincipal(context.Background(), "alice")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev string
			for i := 0; i < 15; i++ {
				a, err := n.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc",
					Name: fmt.Sprintf("w%d", w), Version: fmt.Sprint(i), StorageURIs: []string{fmt.Sprintf("s3://b/%d/%d", w, i), "s3://b/fails"}})
				if !assert.NoError(t, err) {
					return
				}
				if prev != "" {
					assert.NoError(t, n.Link(ctx, prev, a.ID))
				}
				switch i % 4 {
				case 1:
					_, err = n.Delete(ctx, a.ID, registry.DeleteOptions{ClientToken: fmt.Sprintf("t-%d-%d", w, i)})
				case 2:
					_, err = n.Delete(ctx, a.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
				default:
					prev = a.ID
				}
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	_, err = n.Purge(ctx, 0)
	require.NoError(t, err)
	_, err = n.RetryCleanups(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { // the cleaning loop is done
		p, err := n.Registry().PendingCleanups(ctx)
		for _, c := range p {
			if c.Attempts == 0 {
				return false
			}
		}
		return err == nil
	}, 10*time.Second, 5*time.Millisecond)
	n.cleanMu.Lock() // no round in flight
	n.cleanMu.Unlock()
	want := state(t, n.Registry())
	require.NoError(t, n.Close())

	logs, err := raftboltdb.NewBoltStore(filepath.Join(dir, "raft.db"))
	require.NoError(t, err)
	defer logs.Close()
	first, err := logs.FirstIndex()
	require.NoError(t, err)
	last, err := logs.LastIndex()
	require.NoError(t, err)
	require.Equal(t, uint64(1), first, "the whole log is there")

	replay := func() []byte {
		f, err := newFSM(&cfg, func() {})
		require.NoError(t, err)
		for i := first; i <= last; i++ {
			var l raft.Log
			require.NoError(t, logs.GetLog(i, &l))
			if res, ok := f.Apply(&l).(*response); ok {
				_ = res // failures replay as failures
			}
		}
		return state(t, f.reg)
	}
	a, b := replay(), replay()
	assert.Equal(t, string(a), string(b), "two replays of one log")
	assert.Equal(t, string(want), string(a), "a replay and the node that wrote the log")
}
