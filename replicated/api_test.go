package replicated_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// The calls the HTTP layer makes beyond the first writes: Update with its
// options, RestoreOperation, and the reads, through the node; a restart
// replays them to the same state.
func TestNodeServesTheAPI(t *testing.T) {
	dir := t.TempDir()
	n := openNode(t, testConfig(dir))
	var api registry.API = n

	parent, err := api.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "pkg", Version: "1"})
	require.NoError(t, err)
	child, err := api.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "part", Version: "1", Parent: parent.ID})
	require.NoError(t, err)

	parent.Description = "v2"
	_, err = api.Update(alice, parent, registry.UpdateOptions{IfRevision: parent.Revision + 1})
	assert.ErrorIs(t, err, registry.ErrPreconditionFailed, "a stale IfRevision is refused")
	up, err := api.Update(alice, parent, &registry.UpdateOptions{IfRevision: parent.Revision})
	require.NoError(t, err)
	assert.Equal(t, parent.Revision+1, up.Revision)
	_, err = api.Update(alice, parent, (*registry.UpdateOptions)(nil))
	assert.ErrorIs(t, err, registry.ErrInvalid)

	_, err = api.Delete(alice, parent.ID, registry.DeleteOptions{Recursive: true, IfRevision: parent.Revision})
	assert.ErrorIs(t, err, registry.ErrPreconditionFailed, "the delete's IfRevision survives the entry")
	res, err := api.Delete(alice, parent.ID, registry.DeleteOptions{Recursive: true, IfRevision: up.Revision})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{parent.ID, child.ID}, res.Deleted)

	back, err := api.RestoreOperation(alice, res.Operation, registry.RestoreOptions{ClientToken: "undo-1"})
	require.NoError(t, err)
	require.Len(t, back, 2)
	assert.Equal(t, parent.ID, back[0].ID, "parent first")
	again, err := api.RestoreOperation(alice, res.Operation, registry.RestoreOptions{ClientToken: "undo-1"})
	require.NoError(t, err, "a retry with the token returns the first call's artifacts")
	assert.Len(t, again, 2)
	_, err = api.RestoreOperation(alice, res.Operation)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing left to restore")

	got, err := api.GetByFQN(alice, child.FQN())
	require.NoError(t, err)
	assert.False(t, got.Deleted)
	got, err = api.GetVersion(alice, "svc", "pkg", "1")
	require.NoError(t, err)
	assert.Equal(t, parent.ID, got.ID)
	count, err := api.Count(alice, registry.Filter{Namespace: "svc"})
	require.NoError(t, err)
	assert.Equal(t, 2, count)
	oldest, next := api.EventSpan()
	evs, err := api.Events(alice, oldest, 100)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	assert.Equal(t, next-1, evs[len(evs)-1].Seq)
	assert.True(t, api.Visible(alice, evs[0]))
	require.NoError(t, api.Check())

	want := dump(t, n.Registry())
	require.NoError(t, n.Close())
	assert.Equal(t, want, dump(t, openNode(t, testConfig(dir)).Registry()), "a restart replays updates with options and restored operations")
}

// A revision precondition is checked as the entry is applied, not before it
// is appended: of writers that all read the same revision, exactly one
// goes through, whether they update or delete.
func TestNodeIfRevisionAtApply(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	for _, mix := range []struct {
		name    string
		deletes bool
	}{{"updates", false}, {"updates and deletes", true}} {
		t.Run(mix.name, func(t *testing.T) {
			a, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: mix.name})
			require.NoError(t, err)
			const writers = 8
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if mix.deletes && i%2 == 1 {
						_, errs[i] = n.Delete(alice, a.ID, registry.DeleteOptions{IfRevision: a.Revision})
						return
					}
					u := a
					u.Description = string(rune('a' + i))
					_, errs[i] = n.Update(alice, u, registry.UpdateOptions{IfRevision: a.Revision})
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !mix.deletes:
					assert.ErrorIs(t, err, registry.ErrPreconditionFailed)
				default:
					// After a delete won, the others find the artifact
					// deleted; after an update won, they find it stale.
					assert.Error(t, err)
				}
			}
			assert.Equal(t, 1, ok, "exactly one writer wins: %v", errs)
			require.NoError(t, n.Check())
		})
	}
}

// A node is ready once open, and not once closed.
func TestNodeReady(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	// Ready is a probe: just after Open the leader's no-op entry may be
	// committed and not yet applied, for an instant.
	ready := func() bool { return n.Ready() == nil }
	require.Eventually(t, ready, 5*time.Second, 5*time.Millisecond)
	_, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m"})
	require.NoError(t, err)
	assert.Eventually(t, ready, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, n.Close())
	assert.ErrorContains(t, n.Ready(), "closed")
}
