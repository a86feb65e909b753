package replicated_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// recorder is a cleaner that records the URIs it is handed and fails on
// those it is told to.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]bool
}

func (r *recorder) Clean(_ context.Context, uri string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, uri)
	if r.fail[uri] {
		return errors.New("bucket unavailable")
	}
	return nil
}

func (r *recorder) handed() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func pendingURIs(t *testing.T, reg *registry.Registry) []string {
	t.Helper()
	p, err := reg.PendingCleanups(alice)
	require.NoError(t, err)
	var out []string
	for _, c := range p {
		out = append(out, c.URI)
	}
	return out
}

func hardDeleteWithURIs(t *testing.T, n *replicated.Node, name string, uris ...string) {
	t.Helper()
	a, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: name, StorageURIs: uris})
	require.NoError(t, err)
	_, err = n.Delete(alice, a.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
}

// The leader cleans after the delete commits, and the outcome is an entry
// of the log: a restart without a cleaner finds nothing pending.
func TestNodeCleanerOutcomeIsLogged(t *testing.T) {
	dir := t.TempDir()
	cl := &recorder{fail: map[string]bool{"s3://b/flaky": true}}
	cfg := testConfig(dir)
	cfg.Cleaner = cl
	n := openNode(t, cfg)
	hardDeleteWithURIs(t, n, "m", "s3://b/m", "s3://b/flaky")
	require.Eventually(t, func() bool {
		p, err := n.Registry().PendingCleanups(alice)
		return err == nil && len(p) == 1 && p[0].Attempts == 1
	}, 10*time.Second, 5*time.Millisecond)
	p, err := n.Registry().PendingCleanups(alice)
	require.NoError(t, err)
	assert.Equal(t, "s3://b/flaky", p[0].URI)
	assert.Equal(t, "bucket unavailable", p[0].LastError)
	assert.ElementsMatch(t, []string{"s3://b/m", "s3://b/flaky"}, cl.handed())

	// A failed URI waits for RetryCleanups, as in the embedded registry.
	cl.mu.Lock()
	cl.fail = nil
	cl.mu.Unlock()
	rep, err := n.RetryCleanups(alice)
	require.NoError(t, err)
	assert.Equal(t, []string{"s3://b/flaky"}, rep.Cleaned)
	assert.Empty(t, pendingURIs(t, n.Registry()))
	require.NoError(t, n.Close())

	again := openNode(t, testConfig(dir))
	assert.Empty(t, pendingURIs(t, again.Registry()), "the outcomes were replayed from the log")
	require.NoError(t, again.Registry().Check())
	require.NoError(t, again.Close())
	_, err = again.RetryCleanups(alice)
	assert.ErrorIs(t, err, registry.ErrInvalid, "no cleaner")
}

// A crash between cleaning and logging the outcome leaves the URI pending:
// the next start cleans it again, never loses it.
func TestNodeCleanupCrashBeforeSettle(t *testing.T) {
	dir := t.TempDir()
	started := make(chan string, 1)
	cfg := testConfig(dir)
	cfg.Cleaner = registry.CleanerFunc(func(ctx context.Context, uri string) error {
		started <- uri
		<-ctx.Done() // cleaned, but the node stops before the outcome is logged
		return nil
	})
	n := openNode(t, cfg)
	hardDeleteWithURIs(t, n, "m", "s3://b/m")
	select {
	case uri := <-started:
		assert.Equal(t, "s3://b/m", uri)
	case <-time.After(10 * time.Second):
		t.Fatal("the cleaner was never called")
	}
	require.NoError(t, n.Close())

	cl := &recorder{}
	cfg.Cleaner = cl
	again := openNode(t, cfg)
	require.Eventually(t, func() bool { return len(pendingURIs(t, again.Registry())) == 0 }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{"s3://b/m"}, cl.handed(), "retried after the restart")
	require.NoError(t, again.Registry().Check())

	// Cleaning runs on the leader only: a node that no longer leads (here,
	// one shut down) refuses.
	require.NoError(t, again.Close())
	_, err := again.RetryCleanups(alice)
	assert.ErrorIs(t, err, raft.ErrNotLeader)
}

// The node's authorizer is asked as each entry is applied, with the
// caller's principal: a refused write changes nothing.
func TestNodeAuthorizer(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Authorizer = registry.NamespaceAuthorizer{"alice": {"svc"}}
	cfg.Cleaner = &recorder{}
	n := openNode(t, cfg)
	bob := registry.WithPrincipal(context.Background(), "bob")
	_, err := n.Register(bob, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m"})
	assert.ErrorIs(t, err, registry.ErrForbidden)
	a, err := n.Register(alice, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m"})
	require.NoError(t, err)
	// A refused delete or reset is decided before the entry: not logged.
	before := n.AppliedIndex()
	_, err = n.Delete(bob, a.ID)
	assert.ErrorIs(t, err, registry.ErrForbidden)
	assert.ErrorIs(t, n.Reset(bob), registry.ErrForbidden)
	assert.Equal(t, before, n.AppliedIndex())
	// A multi-item delete reports a refusal per item, as the library does.
	res, err := n.Delete(bob, a.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.Len(t, res.Failed, 1)
	assert.Equal(t, registry.CodeForbidden, res.Failed[0].Code)
	_, err = n.RetryCleanups(bob)
	assert.ErrorIs(t, err, registry.ErrForbidden)
	got, err := n.Registry().Get(alice, a.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(1), got.Revision)
}
