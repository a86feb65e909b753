package replicated

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/raft"

	"github.com/modelreg/registry"
)

// The state machine's registry has no cleaner: a hard delete, on every
// replica, only queues its storage URIs as pending cleanups. The leader
// cleans them after the delete has committed, re-checking each on its
// local state right before the hand-off, and appends the outcomes as one
// entry (SettleCleanups), applied identically everywhere. A crash between
// the cleaning and that entry leaves the URIs pending: the next leader
// cleans them again (cleaners must be idempotent, as the registry's are).

// settleBatch bounds how many outcomes one settle entry carries.
const settleBatch = 256

// wake asks the cleaning loop for a round; it never blocks.
func (n *Node) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// cleanLoop runs a round each time an entry may have queued cleanups, and
// when the node starts or becomes leader.
func (n *Node) cleanLoop(ctx context.Context) {
	defer close(n.done)
	if n.cfg.Cleaner == nil {
		return
	}
	leader := n.raft.LeaderCh()
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
		case isLeader := <-leader:
			if !isLeader {
				continue
			}
		}
		ctx := registry.WithPrincipal(ctx, n.cfg.CleanerPrincipal)
		n.cleanRound(ctx, false) //nolint:errcheck // what fails stays pending; RetryCleanups reports it
	}
}

// cleanRound cleans the pending URIs never attempted (all = false: what new
// deletes queued, or a crash left) or every pending URI (all = true,
// RetryCleanups), on the leader only.
func (n *Node) cleanRound(ctx context.Context, all bool) (registry.CleanupReport, error) {
	n.cleanMu.Lock()
	defer n.cleanMu.Unlock()
	var rep registry.CleanupReport
	if n.raft.State() != raft.Leader {
		return rep, fmt.Errorf("replicated: %w: cleaning runs on the leader (%q)", raft.ErrNotLeader, n.Leader())
	}
	reg := n.Registry()
	pending, err := reg.PendingCleanups(ctx)
	if err != nil {
		return rep, err
	}
	var outcomes []registry.CleanupOutcome
	settle := func() error {
		if len(outcomes) == 0 {
			return nil
		}
		v, err := n.apply(ctx, entrySettle, &command{Outcomes: outcomes})
		outcomes = nil
		if err != nil {
			return err
		}
		got := v.(registry.CleanupReport)
		rep.Cleaned = append(rep.Cleaned, got.Cleaned...)
		rep.Failed = append(rep.Failed, got.Failed...)
		return nil
	}
	for _, c := range pending {
		if c.ReclaimedBy != "" {
			rep.Failed = append(rep.Failed, c) // referenced again: reported, never cleaned
			continue
		}
		if !all && c.Attempts > 0 {
			continue // failed before: RetryCleanups retries it
		}
		if ctx.Err() != nil {
			break
		}
		// Right before the hand-off: still pending, the same entry, and
		// (not a reclaim warning) referenced by no artifact.
		cur, ok, err := reg.PendingCleanup(ctx, c.URI)
		if err != nil {
			return rep, err
		}
		if !ok || cur.Operation != c.Operation || cur.ReclaimedBy != "" {
			continue
		}
		o := registry.CleanupOutcome{Cleanup: cur}
		if err := clean(ctx, n.cfg.Cleaner, c.URI); err != nil {
			o.Err = err.Error()
		}
		outcomes = append(outcomes, o)
		if len(outcomes) == settleBatch {
			if err := settle(); err != nil {
				return rep, err
			}
		}
	}
	if err := settle(); err != nil {
		return rep, err
	}
	slices.Sort(rep.Cleaned)
	slices.SortFunc(rep.Failed, func(a, b registry.Cleanup) int { return strings.Compare(a.URI, b.URI) })
	return rep, nil
}

func clean(ctx context.Context, c registry.Cleaner, uri string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cleaner panicked: %v", p)
		}
	}()
	return c.Clean(ctx, uri)
}
