package registry

import (
	"context"
	"time"
)

// API is the registry's call surface as the HTTP layer uses it: every
// read and write a door (package httpapi and its dialects, cmd/registryd)
// makes. *Registry implements it in memory; replicated.Node implements it
// durably, each write an entry of a raft log on disk and each read on the
// node's local registry; the HTTP doors serve any API.
//
// The methods mean what they mean on *Registry, whose documentation
// states every rule.
type API interface {
	Register(ctx context.Context, a Artifact) (Artifact, error)
	RegisterBatch(ctx context.Context, batch []Artifact) ([]Artifact, error)
	Update(ctx context.Context, a Artifact, opts ...UpdateOption) (Artifact, error)

	Get(ctx context.Context, id string, opts ...ReadOption) (Artifact, error)
	GetByFQN(ctx context.Context, fqn string, opts ...ReadOption) (Artifact, error)
	GetVersion(ctx context.Context, namespace, name, version string, opts ...ReadOption) (Artifact, error)
	List(ctx context.Context, f Filter) (Page, error)
	Count(ctx context.Context, f Filter) (int, error)

	Link(ctx context.Context, upstream, downstream string) error
	Unlink(ctx context.Context, upstream, downstream string) error
	Lineage(ctx context.Context, id string, dir Direction, depth int, opts ...ReadOption) (LineageGraph, error)
	Deploy(ctx context.Context, id, endpoint string) error
	Undeploy(ctx context.Context, id, endpoint string) error

	Delete(ctx context.Context, id string, opts ...DeleteOption) (Result, error)
	DeleteByFQN(ctx context.Context, fqn string, opts ...DeleteOption) (Result, error)
	DeleteAllVersions(ctx context.Context, namespace, name string, opts ...DeleteOption) (Result, error)
	Restore(ctx context.Context, id string, opts ...RestoreOption) (Artifact, error)
	RestoreByFQN(ctx context.Context, fqn string, opts ...RestoreOption) (Artifact, error)
	RestoreOperation(ctx context.Context, operation string, opts ...RestoreOption) ([]Artifact, error)
	Purge(ctx context.Context, olderThan time.Duration, opts ...PurgeOption) (Result, error)

	PendingCleanups(ctx context.Context) ([]Cleanup, error)
	RetryCleanups(ctx context.Context) (CleanupReport, error)

	Events(ctx context.Context, after uint64, limit int) ([]Event, error)
	EventSpan() (oldest, next uint64)
	Visible(ctx context.Context, e Event) bool
	Subscribe(buffer int) (*Subscription, error)

	Check() error
	Reset(ctx context.Context) error
}

var _ API = (*Registry)(nil)
