package benchmarks

import (
	"context"

	"github.com/modelreg/registry/replicated"
)

// OpenRaftStore opens the registry's durable node (package replicated,
// default configuration: one voter, its log in bbolt, a write returns once
// its entry is fsynced and applied) on dir: empty, or as a previous node
// left it, which is a restart. Reads go to the node's registry; every write
// goes through the node. LinkBatch, used to load worlds, links from
// MaxWriters goroutines, so that the node's group commit shares fsyncs
// among them.
func OpenRaftStore(dir string) (*RaftStore, error) {
	n, err := replicated.Open(context.Background(), replicated.Config{DataDir: dir})
	if err != nil {
		return nil, err
	}
	return &RaftStore{RegistryStore{R: n.Registry(), W: n, name: "registry-raft", close: n.Close}, n}, nil
}

// RaftStore is the durable registry behind the Store interface.
type RaftStore struct {
	RegistryStore
	Node *replicated.Node
}

// LinkBatch implements Store: one durable write per edge, from up to
// MaxWriters goroutines.
func (s *RaftStore) LinkBatch(ctx context.Context, edges [][2]string) error {
	return Parallel(MaxWriters, len(edges), func(j int) error { return s.W.Link(ctx, edges[j][0], edges[j][1]) })
}

// Snapshot takes a snapshot of the node now and compacts its log.
func (s *RaftStore) Snapshot() error { return s.Node.Snapshot() }
