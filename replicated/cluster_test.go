package replicated_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// cluster is n voters in this process on raft's in-memory transport, each
// with its own data directory; a node can be killed, restarted from its
// directory, cut off from the others and healed.
type cluster struct {
	t     testing.TB
	mu    sync.Mutex         // guards nodes against clients running beside a restart
	nodes []*replicated.Node // nil while down
	trans []*raft.InmemTransport
	cfgs  []replicated.Config
}

// clusterConfig is a quiet node that elects within a second: 50 ms,
// enough for one node, lets a loaded 2-core machine depose healthy leaders
// mid-test, and CI's 150 ms still did (a leader lost its lease while the
// race-instrumented packages ran beside it).
func clusterConfig(dir, id string) replicated.Config {
	return replicated.Config{
		DataDir:         dir,
		ID:              id,
		ElectionTimeout: 500 * time.Millisecond,
		ApplyTimeout:    2 * time.Second,
		LogOutput:       io.Discard,
	}
}

// newCluster bootstraps node-1, then adds the others, started with Join.
func newCluster(t testing.TB, size int, edit func(c *replicated.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t}
	for i := range size {
		cfg := clusterConfig(t.TempDir(), fmt.Sprintf("node-%d", i+1))
		cfg.Join = i > 0
		if edit != nil {
			edit(&cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
		c.nodes = append(c.nodes, nil)
		_, tr := raft.NewInmemTransport(raft.ServerAddress(cfg.ID))
		c.trans = append(c.trans, tr)
	}
	c.connectAll()
	for i := range size {
		c.start(i)
	}
	t.Cleanup(func() {
		for i := range c.nodes {
			c.kill(i)
		}
	})
	for i := 1; i < size; i++ {
		require.NoError(t, c.nodes[0].AddVoter(alice, c.cfgs[i].ID, c.cfgs[i].ID))
	}
	c.converge()
	return c
}

func (c *cluster) connectAll() {
	for i, a := range c.trans {
		for j, b := range c.trans {
			if i != j {
				a.Connect(b.LocalAddr(), b)
			}
		}
	}
}

// start opens node i on its data directory, with a fresh transport.
func (c *cluster) start(i int) {
	c.t.Helper()
	_, tr := raft.NewInmemTransport(raft.ServerAddress(c.cfgs[i].ID))
	c.trans[i] = tr
	c.connectAll()
	cfg := c.cfgs[i]
	cfg.Transport = tr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := replicated.Open(ctx, cfg)
	require.NoError(c.t, err)
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
}

// live is the nodes up now, for clients running beside kills and restarts.
func (c *cluster) live() []*replicated.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*replicated.Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// kill stops node i (its log is on disk: a restart finds it).
func (c *cluster) kill(i int) {
	c.mu.Lock()
	n := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if n != nil {
		n.Close()
	}
}

// isolate cuts node i off from every other node, both ways.
func (c *cluster) isolate(i int) {
	for j, tr := range c.trans {
		if j != i {
			tr.Disconnect(c.trans[i].LocalAddr())
			c.trans[i].Disconnect(tr.LocalAddr())
		}
	}
}

func (c *cluster) heal() { c.connectAll() }

// leader waits until exactly one live node leads, and returns its index.
func (c *cluster) leader() int {
	c.t.Helper()
	found := -1
	require.Eventually(c.t, func() bool {
		found = -1
		for i, n := range c.nodes {
			if n == nil {
				continue
			}
			s, err := n.Status()
			if err == nil && s.State == "Leader" {
				if found >= 0 {
					return false
				}
				found = i
			}
		}
		return found >= 0
	}, 10*time.Second, 5*time.Millisecond, "no leader")
	return found
}

// converge waits until every live node has applied what the leader has,
// and checks they hold the same state.
func (c *cluster) converge() {
	c.t.Helper()
	var l *replicated.Node
	require.Eventually(c.t, func() bool {
		l = c.nodes[c.leader()]
		_, err := l.Read(alice, replicated.Linearizable)
		return err == nil
	}, 10*time.Second, 5*time.Millisecond, "no linearizable read")
	want := l.AppliedIndex()
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		require.Eventually(c.t, func() bool { return n.AppliedIndex() >= want }, 10*time.Second, 5*time.Millisecond, "node %d lags", i)
	}
	ref := dump(c.t, l.Registry())
	for i, n := range c.nodes {
		if n != nil {
			assert.Equal(c.t, ref, dump(c.t, n.Registry()), "node %d", i)
			assert.NoError(c.t, n.Registry().Check())
		}
	}
}

// write retries a write on whichever node leads until it succeeds or the
// deadline passes, as a client following NotLeaderError would.
func (c *cluster) write(f func(n *replicated.Node) error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		i := c.leader()
		err := f(c.nodes[i])
		if err == nil || time.Now().After(deadline) || errors.As(err, new(*registry.Error)) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func events(t *testing.T, reg *registry.Registry, after uint64) []registry.Event {
	t.Helper()
	ev, err := reg.Events(alice, after, 1000)
	require.NoError(t, err)
	return ev
}

func model(name string) registry.Artifact {
	return registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: name, Version: "1"}
}

// Writes made on the leader reach every node; a follower refuses writes
// and leader-only reads, naming the leader; events carry the same Seq in
// the same order on every node.
func TestClusterReplicates(t *testing.T) {
	c := newCluster(t, 3, nil)
	li := c.leader()
	l := c.nodes[li]
	fi := (li + 1) % 3
	f := c.nodes[fi]

	d, err := l.Register(alice, registry.Artifact{Kind: registry.KindDataset, Namespace: "svc", Name: "d", Version: "1"})
	require.NoError(t, err)
	m, err := l.Register(alice, model("m"))
	require.NoError(t, err)
	require.NoError(t, l.Link(alice, d.ID, m.ID))
	_, err = l.Delete(alice, m.ID)
	require.NoError(t, err)
	_, err = l.Restore(alice, m.ID)
	require.NoError(t, err)
	_, err = l.Delete(alice, d.ID, registry.DeleteOptions{Hard: true, Cascade: true})
	require.NoError(t, err)
	c.converge()

	// The leader, the members and the applied index, as every node sees them.
	for _, n := range c.nodes {
		s, err := n.Status()
		require.NoError(t, err)
		assert.Equal(t, c.cfgs[li].ID, s.LeaderID)
		assert.Len(t, s.Members, 3)
		assert.Equal(t, l.AppliedIndex(), s.AppliedIndex)
	}

	// A follower refuses, naming the leader, and changes nothing.
	before := f.AppliedIndex()
	_, err = f.Register(alice, model("refused"))
	var nl *replicated.NotLeaderError
	require.ErrorAs(t, err, &nl)
	assert.ErrorIs(t, err, replicated.ErrNotLeader)
	assert.Equal(t, c.cfgs[li].ID, nl.LeaderID)
	assert.Equal(t, c.cfgs[li].ID, nl.LeaderAddress)
	assert.Equal(t, c.cfgs[fi].ID, nl.Node)
	assert.ErrorIs(t, f.AddVoter(alice, "x", "x"), replicated.ErrNotLeader)
	assert.ErrorIs(t, f.StepDown(alice), replicated.ErrNotLeader)
	assert.Equal(t, before, f.AppliedIndex())

	// Events: identical on every node, so a subscriber can resume anywhere.
	ref := events(t, l.Registry(), 0)
	require.NotEmpty(t, ref)
	for i, n := range c.nodes {
		assert.Equal(t, ref, events(t, n.Registry(), 0), "node %d", i)
		assert.Equal(t, ref[3:], events(t, n.Registry(), ref[2].Seq), "resume after seq %d on node %d", ref[2].Seq, i)
	}
}

// The read consistency levels: Local (the default) everywhere, the two
// others on the leader only.
func TestClusterReadConsistency(t *testing.T) {
	c := newCluster(t, 3, nil)
	li := c.leader()
	l, f := c.nodes[li], c.nodes[(li+1)%3]
	m, err := l.Register(alice, model("m"))
	require.NoError(t, err)

	tests := []struct {
		level    replicated.Consistency
		name     string
		follower bool // a follower serves it
	}{
		{replicated.Local, "local", true},
		{replicated.LeaderChecked, "leader-checked", false},
		{replicated.Linearizable, "linearizable", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.level.String())
			reg, err := l.Read(alice, tt.level)
			require.NoError(t, err)
			got, err := reg.Get(alice, m.ID)
			require.NoError(t, err, "the leader applied its own write before answering it")
			assert.Equal(t, m, got)
			_, err = f.Read(alice, tt.level)
			if tt.follower {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, replicated.ErrNotLeader)
			}
		})
	}
	var zero replicated.Consistency
	assert.Equal(t, replicated.Local, zero, "Local is the default")
	assert.Same(t, l.Registry(), must(l.Read(alice, zero)))
	_, err = l.Read(alice, replicated.Consistency(9))
	assert.ErrorIs(t, err, registry.ErrInvalid)

	// A deposed leader cut off from the others: Local still answers (stale),
	// the others refuse.
	c.isolate(li)
	require.Eventually(t, func() bool {
		_, err := l.Read(alice, replicated.LeaderChecked)
		return err != nil
	}, 10*time.Second, 5*time.Millisecond)
	_, err = l.Read(alice, replicated.Linearizable)
	assert.Error(t, err)
	_, err = l.Read(alice, replicated.Local)
	assert.NoError(t, err)
	c.heal()
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Leaders are killed under a write load: every acknowledged write is on
// every node afterwards, and a delete retried with its token on the new
// leader gets the first result.
func TestClusterFailoverLosesNoAcknowledgedWrite(t *testing.T) {
	c := newCluster(t, 3, nil)
	var (
		mu    sync.Mutex
		acked []registry.Artifact
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, n := range c.live() {
					a, err := n.Register(alice, model(fmt.Sprintf("w%d-%d", w, k)))
					if err == nil {
						mu.Lock()
						acked = append(acked, a)
						mu.Unlock()
						break
					}
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for range 2 {
		time.Sleep(150 * time.Millisecond)
		li := c.leader()
		c.kill(li)
		c.leader() // the others elect one
		time.Sleep(150 * time.Millisecond)
		c.start(li)
	}
	close(stop)
	wg.Wait()
	c.converge()
	require.NotEmpty(t, acked)
	for i, n := range c.nodes {
		for _, a := range acked {
			got, err := n.Registry().Get(alice, a.ID)
			if assert.NoError(t, err, "node %d lost acknowledged %s", i, a.Name) {
				assert.Equal(t, a, got)
			}
		}
	}

	// An idempotency token is replicated state.
	li := c.leader()
	m, err := c.nodes[li].Register(alice, model("tokened"))
	require.NoError(t, err)
	opts := registry.DeleteOptions{Hard: true, ClientToken: "delete-tokened"}
	first, err := c.nodes[li].Delete(alice, m.ID, opts)
	require.NoError(t, err)
	c.kill(li)
	var again registry.Result
	require.NoError(t, c.write(func(n *replicated.Node) error {
		var err error
		again, err = n.Delete(alice, m.ID, opts)
		return err
	}))
	first.Replayed = true
	assert.Equal(t, first, again, "the retry on the new leader gets the first result")
}

// A leader cut off with no majority cannot commit; the majority elects a
// new one and goes on; after healing the old leader drops what it could
// not commit and catches up.
func TestClusterPartitionedMinority(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	c.isolate(old)
	_, err := c.nodes[old].Register(alice, model("lost"))
	require.Error(t, err, "a minority cannot commit")
	assert.Error(t, err)

	var majority int
	require.Eventually(t, func() bool {
		for i, n := range c.nodes {
			if s, err := n.Status(); i != old && err == nil && s.State == "Leader" {
				majority = i
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)
	kept, err := c.nodes[majority].Register(alice, model("kept"))
	require.NoError(t, err)

	c.heal()
	c.converge()
	for i, n := range c.nodes {
		_, err := n.Registry().Get(alice, kept.ID)
		assert.NoError(t, err, "node %d", i)
		_, err = n.Registry().GetVersion(alice, "svc", "lost", "1")
		assert.ErrorIs(t, err, registry.ErrNotFound, "node %d has the uncommitted write", i)
	}
}

// A follower removed from the cluster gets nothing more; added back, it
// catches up.
func TestClusterRemoveAndReadd(t *testing.T) {
	c := newCluster(t, 3, nil)
	li := c.leader()
	fi := (li + 1) % 3
	l, f := c.nodes[li], c.nodes[fi]
	require.NoError(t, l.RemoveServer(alice, c.cfgs[fi].ID))
	c.nodes[fi] = nil // out of the cluster: converge leaves it out
	t.Cleanup(func() { f.Close() })
	s, err := l.Status()
	require.NoError(t, err)
	assert.Len(t, s.Members, 2)
	m, err := l.Register(alice, model("while-removed"))
	require.NoError(t, err)
	c.converge() // the removed follower is left behind ...
	_, err = f.Registry().Get(alice, m.ID)
	assert.ErrorIs(t, err, registry.ErrNotFound, "a removed node gets no entries")

	require.NoError(t, l.AddVoter(alice, c.cfgs[fi].ID, c.cfgs[fi].ID))
	c.nodes[fi] = f
	c.converge()
	_, err = f.Registry().Get(alice, m.ID)
	assert.NoError(t, err, "re-added, it caught up")
}

// A follower restarted from its data directory recovers its state from
// disk and catches up with what it missed.
func TestClusterFollowerRestart(t *testing.T) {
	c := newCluster(t, 3, nil)
	li := c.leader()
	fi := (li + 1) % 3
	require.NoError(t, c.write(func(n *replicated.Node) error { _, err := n.Register(alice, model("before")); return err }))
	c.converge()
	c.kill(fi)
	var m registry.Artifact
	require.NoError(t, c.write(func(n *replicated.Node) (err error) { m, err = n.Register(alice, model("missed")); return err }))
	c.start(fi)
	c.converge()
	_, err := c.nodes[fi].Registry().Get(alice, m.ID)
	assert.NoError(t, err)
}

// A node joined with an empty disk after the leader compacted its log
// catches up by installing a snapshot; the events after it carry the
// same Seq as everywhere else.
func TestClusterJoinBySnapshot(t *testing.T) {
	c := newCluster(t, 3, func(cfg *replicated.Config) {
		cfg.SnapshotThreshold = 16
		cfg.TrailingLogs = 4
	})
	li := c.leader()
	l := c.nodes[li]
	for i := range 40 {
		require.NoError(t, c.write(func(n *replicated.Node) error { _, err := n.Register(alice, model(fmt.Sprintf("m%d", i))); return err }))
	}
	l = c.nodes[c.leader()]
	require.NoError(t, l.Snapshot())

	cfg := clusterConfig(t.TempDir(), "node-4")
	cfg.Join = true
	c.cfgs = append(c.cfgs, cfg)
	c.nodes = append(c.nodes, nil)
	c.trans = append(c.trans, nil)
	c.start(3)
	require.NoError(t, l.AddVoter(alice, "node-4", "node-4"))
	c.converge()
	snaps, err := os.ReadDir(filepath.Join(cfg.DataDir, "snapshots"))
	require.NoError(t, err)
	assert.NotEmpty(t, snaps, "node-4 installed the leader's snapshot")

	m, err := l.Register(alice, model("after"))
	require.NoError(t, err)
	c.converge()
	last := events(t, l.Registry(), 0)
	ev := last[len(last)-1]
	require.Equal(t, m.ID, ev.ArtifactID)
	got := events(t, c.nodes[3].Registry(), ev.Seq-1)
	assert.Equal(t, []registry.Event{ev}, got, "the same event with the same Seq")
}

// The cleaner runs on the leader only; a cleaning the leader could not
// log before it died is done again by the next leader.
func TestClusterCleanerOnLeaderRetriedAfterFailover(t *testing.T) {
	cleaners := map[string]*recorder{}
	started := make(chan string, 16)
	c := newCluster(t, 3, func(cfg *replicated.Config) {
		r := &recorder{}
		cleaners[cfg.ID] = r
		cfg.Cleaner = registry.CleanerFunc(func(ctx context.Context, uri string) error {
			if uri == "s3://b/hang" {
				started <- cfg.ID
				<-ctx.Done() // dies before the outcome is logged
				return ctx.Err()
			}
			return r.Clean(ctx, uri)
		})
	})
	li := c.leader()
	lid := c.cfgs[li].ID
	hardDeleteWithURIs(t, c.nodes[li], "m", "s3://b/m")
	require.Eventually(t, func() bool { return len(pendingURIs(t, c.nodes[li].Registry())) == 0 }, 10*time.Second, 5*time.Millisecond)
	c.converge()
	for id, r := range cleaners {
		if id == lid {
			assert.Equal(t, []string{"s3://b/m"}, r.handed())
		} else {
			assert.Empty(t, r.handed(), "follower %s cleaned", id)
		}
	}

	hardDeleteWithURIs(t, c.nodes[li], "h", "s3://b/hang")
	select {
	case id := <-started:
		assert.Equal(t, lid, id)
	case <-time.After(10 * time.Second):
		t.Fatal("the leader never cleaned")
	}
	c.kill(li)
	var next string
	select {
	case next = <-started:
		assert.NotEqual(t, lid, next, "the new leader retries")
	case <-time.After(10 * time.Second):
		t.Fatal("the new leader never retried the pending cleanup")
	}
	for i, n := range c.nodes {
		if n != nil {
			assert.Eventually(t, func() bool {
				p := pendingURIs(t, n.Registry())
				return len(p) == 1 && p[0] == "s3://b/hang"
			}, 10*time.Second, 5*time.Millisecond, "node %d holds it pending", i)
		}
	}
}

// Bad input to the cluster API is a typed error and changes nothing.
func TestClusterRefusesBadInput(t *testing.T) {
	n := openNode(t, testConfig(t.TempDir()))
	before, err := n.Status()
	require.NoError(t, err)
	var nilCtx context.Context
	tests := []struct {
		name string
		call func() error
	}{
		{"AddVoter without ID", func() error { return n.AddVoter(alice, "", "127.0.0.1:1") }},
		{"AddVoter without address", func() error { return n.AddVoter(alice, "x", "") }},
		{"AddVoter with a nil context", func() error { return n.AddVoter(nilCtx, "x", "x") }},
		{"RemoveServer without ID", func() error { return n.RemoveServer(alice, "") }},
		{"StepDown with a nil context", func() error { return n.StepDown(nilCtx) }},
		{"Read with a nil context", func() error { _, err := n.Read(nilCtx, replicated.Local); return err }},
		{"Read at an unknown level", func() error { _, err := n.Read(alice, replicated.Consistency(-1)); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), registry.ErrInvalid)
		})
	}
	after, err := n.Status()
	require.NoError(t, err)
	assert.Equal(t, before, after)
}
