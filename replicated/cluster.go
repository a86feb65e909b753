package replicated

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/modelreg/registry"
)

// ErrNotLeader is what a write, a membership change or a leader-checked or
// linearizable read made on a node that does not lead matches
// (errors.Is); the error itself is a *NotLeaderError naming the leader.
// It is raft's own sentinel, so raft's errors match it too.
var ErrNotLeader = raft.ErrNotLeader

// NotLeaderError is the error of a call that only the leader can serve,
// made on another node: nothing was logged or changed. It names the leader
// as this node knows it (both fields empty while there is none), so that a
// client can send the call there: the library refuses rather than
// forwarding, and the caller chooses where to retry.
type NotLeaderError struct {
	// Node is the ID of the node that refused.
	Node string
	// LeaderID and LeaderAddress name the leader (its raft address); empty
	// while an election is under way.
	LeaderID      string
	LeaderAddress string
}

// Error says which node refused and where the leader is.
func (e *NotLeaderError) Error() string {
	if e.LeaderID == "" {
		return fmt.Sprintf("replicated: node %s is not the leader, and no leader is known yet", e.Node)
	}
	return fmt.Sprintf("replicated: node %s is not the leader; the leader is %s at %s", e.Node, e.LeaderID, e.LeaderAddress)
}

// Is makes errors.Is(err, ErrNotLeader) true.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }

func (n *Node) notLeader() *NotLeaderError {
	addr, id := n.raft.LeaderWithID()
	return &NotLeaderError{Node: n.cfg.ID, LeaderID: string(id), LeaderAddress: string(addr)}
}

// leaderErr turns raft's "not the leader" answers into a *NotLeaderError.
func (n *Node) leaderErr(err error) error {
	if errors.Is(err, raft.ErrNotLeader) {
		return n.notLeader()
	}
	return err
}

// Consistency is how fresh a read must be; see Node.Read.
type Consistency int

const (
	// Local reads this node's state as of the latest entry it applied:
	// on any node, no round trip, lock-free, possibly stale (a follower
	// may lag, a deposed leader may not know yet). The default, and what
	// Registry() gives.
	Local Consistency = iota
	// LeaderChecked reads on the leader after it has confirmed with a
	// quorum that it still leads (raft's VerifyLeader): a deposed leader
	// refuses. Its state may still miss entries committed but not yet
	// applied here (just after an election, those of the previous
	// leader); Linearizable does not.
	LeaderChecked
	// Linearizable reads on the leader after every entry committed before
	// the call is applied here (raft's Barrier: an entry of this term,
	// committed by a quorum): the read sees every write acknowledged
	// before it started, on any node. It costs one log round trip.
	Linearizable
)

// String is the level's name as the HTTP layer spells it: "local",
// "leader-checked", "linearizable".
func (c Consistency) String() string {
	switch c {
	case Local:
		return "local"
	case LeaderChecked:
		return "leader-checked"
	case Linearizable:
		return "linearizable"
	}
	return fmt.Sprintf("Consistency(%d)", int(c))
}

// Read returns the registry to read from once the state is as fresh as c
// asks: at once for Local; on the leader only, after the check c names,
// for LeaderChecked and Linearizable (a *NotLeaderError elsewhere). Reads
// made on it see at least that state.
func (n *Node) Read(ctx context.Context, c Consistency) (*registry.Registry, error) {
	if ctx == nil {
		return nil, invalid("ctx", "context is nil")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch c {
	case Local:
		return n.Registry(), nil
	case LeaderChecked, Linearizable:
	default:
		return nil, invalid("consistency", "unknown consistency %d (Local, LeaderChecked or Linearizable)", int(c))
	}
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	var err error
	if c == LeaderChecked {
		err = n.wait(ctx, n.raft.VerifyLeader())
	} else {
		err = n.wait(ctx, n.raft.Barrier(n.cfg.ApplyTimeout))
	}
	if err != nil {
		return nil, fmt.Errorf("replicated: %s read: %w", c, n.leaderErr(err))
	}
	return n.Registry(), nil
}

// wait waits for a raft future, the context or the node's shutdown.
func (n *Node) wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-n.closed:
		return raft.ErrRaftShutdown
	}
}

// Member is one server of the cluster's configuration: its node ID, its
// raft address, and whether it votes (every member AddVoter adds does).
type Member struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Voter   bool   `json:"voter"`
}

// Status is one node's view of the cluster.
type Status struct {
	// ID and Address are this node's; State is raft's ("Leader",
	// "Follower", "Candidate", "Shutdown").
	ID      string `json:"id"`
	Address string `json:"address"`
	State   string `json:"state"`
	// LeaderID and LeaderAddress name the leader as this node knows it;
	// empty while none is known.
	LeaderID      string `json:"leader_id"`
	LeaderAddress string `json:"leader_address"`
	// Members is the latest configuration this node has (committed or
	// not).
	Members []Member `json:"members"`
	// AppliedIndex is the latest entry applied here (Node.AppliedIndex);
	// CommitIndex the latest this node knows committed; LastIndex the
	// latest in its log.
	AppliedIndex uint64 `json:"applied_index"`
	CommitIndex  uint64 `json:"commit_index"`
	LastIndex    uint64 `json:"last_index"`
}

// Status reports this node's view of the cluster: the leader, the members
// and the indexes. Every node answers; each knows its own applied index
// only, so a cluster-wide view asks every node.
func (n *Node) Status() (Status, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return Status{}, fmt.Errorf("replicated: status: %w", err)
	}
	addr, id := n.raft.LeaderWithID()
	s := Status{
		ID:            n.cfg.ID,
		Address:       string(n.trans.LocalAddr()),
		State:         n.raft.State().String(),
		LeaderID:      string(id),
		LeaderAddress: string(addr),
		AppliedIndex:  n.AppliedIndex(),
		CommitIndex:   n.raft.CommitIndex(),
		LastIndex:     n.raft.LastIndex(),
	}
	for _, srv := range f.Configuration().Servers {
		s.Members = append(s.Members, Member{ID: string(srv.ID), Address: string(srv.Address), Voter: srv.Suffrage == raft.Voter})
	}
	return s, nil
}

// AddVoter adds a voter (a node started with Config.Join, or one removed
// before) to the cluster, or changes the address of one already in it.
// Only the leader can; it returns once the new configuration is committed.
// The new node then catches up from the leader: by the log, or by
// installing a snapshot when the log it needs was compacted.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return invalid("id", "a voter needs an ID and an address")
	}
	return n.membership(ctx, "add voter "+id, func() raft.Future {
		return n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, n.cfg.ApplyTimeout)
	})
}

// RemoveServer removes a server from the cluster (the leader itself
// included: it steps down once the change commits). Only the leader can.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if id == "" {
		return invalid("id", "a server ID is required")
	}
	return n.membership(ctx, "remove server "+id, func() raft.Future {
		return n.raft.RemoveServer(raft.ServerID(id), 0, n.cfg.ApplyTimeout)
	})
}

// StepDown hands leadership to the most up-to-date follower (raft's
// leadership transfer) and returns once it has; only the leader can.
func (n *Node) StepDown(ctx context.Context) error {
	return n.membership(ctx, "step down", n.raft.LeadershipTransfer)
}

// membership checks the call, then makes it (start) and waits for it.
func (n *Node) membership(ctx context.Context, what string, start func() raft.Future) error {
	if ctx == nil {
		return invalid("ctx", "context is nil")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := n.wait(ctx, start()); err != nil {
		return fmt.Errorf("replicated: %s: %w", what, n.leaderErr(err))
	}
	return nil
}

// WaitLeader waits until this node knows a leader, or ctx ends, and
// returns its ID.
func (n *Node) WaitLeader(ctx context.Context) (string, error) {
	for {
		if id := n.Leader(); id != "" {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-n.closed:
			return "", raft.ErrRaftShutdown
		case <-time.After(n.cfg.ElectionTimeout / 10):
		}
	}
}
