package replicated

import (
	"context"

	"github.com/modelreg/registry"
)

// The reads of registry.API, on the node's local registry: lock-free, and
// as of the latest entry applied (see Registry).

var _ registry.API = (*Node)(nil)

// Get is registry.Registry.Get on the local registry.
func (n *Node) Get(ctx context.Context, id string, opts ...registry.ReadOption) (registry.Artifact, error) {
	return n.Registry().Get(ctx, id, opts...)
}

// GetByFQN is registry.Registry.GetByFQN on the local registry.
func (n *Node) GetByFQN(ctx context.Context, fqn string, opts ...registry.ReadOption) (registry.Artifact, error) {
	return n.Registry().GetByFQN(ctx, fqn, opts...)
}

// GetVersion is registry.Registry.GetVersion on the local registry.
func (n *Node) GetVersion(ctx context.Context, namespace, name, version string, opts ...registry.ReadOption) (registry.Artifact, error) {
	return n.Registry().GetVersion(ctx, namespace, name, version, opts...)
}

// List is registry.Registry.List on the local registry.
func (n *Node) List(ctx context.Context, f registry.Filter) (registry.Page, error) {
	return n.Registry().List(ctx, f)
}

// Count is registry.Registry.Count on the local registry.
func (n *Node) Count(ctx context.Context, f registry.Filter) (int, error) {
	return n.Registry().Count(ctx, f)
}

// Lineage is registry.Registry.Lineage on the local registry.
func (n *Node) Lineage(ctx context.Context, id string, dir registry.Direction, depth int, opts ...registry.ReadOption) (registry.LineageGraph, error) {
	return n.Registry().Lineage(ctx, id, dir, depth, opts...)
}

// PendingCleanups is registry.Registry.PendingCleanups on the local
// registry: the URIs hard deletes queued that the leader has not yet
// cleaned, or whose cleaning failed.
func (n *Node) PendingCleanups(ctx context.Context) ([]registry.Cleanup, error) {
	return n.Registry().PendingCleanups(ctx)
}

// Events is registry.Registry.Events on the local registry: the audit log
// in log order, the same on every replica.
func (n *Node) Events(ctx context.Context, after uint64, limit int) ([]registry.Event, error) {
	return n.Registry().Events(ctx, after, limit)
}

// EventSpan is registry.Registry.EventSpan on the local registry.
func (n *Node) EventSpan() (oldest, next uint64) { return n.Registry().EventSpan() }

// Visible is registry.Registry.Visible on the local registry.
func (n *Node) Visible(ctx context.Context, e registry.Event) bool {
	return n.Registry().Visible(ctx, e)
}

// Subscribe is registry.Registry.Subscribe on the local registry: events
// as entries are applied here.
func (n *Node) Subscribe(buffer int) (*registry.Subscription, error) {
	return n.Registry().Subscribe(buffer)
}

// Check is registry.Registry.Check on the local registry.
func (n *Node) Check() error { return n.Registry().Check() }
