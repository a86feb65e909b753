// Package benchmarks compares the registry with the stores an engineer
// would otherwise reach for: SQLite in memory, through
// github.com/mattn/go-sqlite3 (cgo) and through modernc.org/sqlite (pure
// Go), with prepared statements and the indexes the queries need, and a
// plain map under a sync.RWMutex as the floor. Every store implements Store
// with the registry's semantics for what the benchmarks exercise: the
// soft-delete flag and the name it keeps reserved, containment (a parent
// column, an index on it), lineage edges (indexed both ways) and the
// Restrict check before a hard delete, cascade over the other versions of a
// name (newest first, limit 20), recursive delete of a subtree and restore of
// what one delete operation took. conformance_test.go runs one scenario on
// every store and checks they agree.
//
// The harness (harness.go) runs the same operations on the same worlds
// (internal/benchworld) for every store; go run ./cmd/compare prints the
// table and draws the chart. See BENCHMARKS.md at the repository root.
package benchmarks

import (
	"context"
	"fmt"

	"github.com/modelreg/registry"
)

// Store is one implementation of the operations the benchmarks compare.
// Errors match the registry's sentinels (registry.ErrNotFound, ...) with
// errors.Is.
type Store interface {
	Name() string

	// Register adds one artifact in one transaction; RegisterBatch adds
	// many in one transaction, all or none. IDs are given.
	Register(ctx context.Context, a registry.Artifact) error
	RegisterBatch(ctx context.Context, batch []registry.Artifact) error
	// Link adds the lineage edge up -> down between live artifacts, refusing
	// a cycle; LinkBatch adds many (in as few transactions as the store
	// likes: it is used to load worlds).
	Link(ctx context.Context, up, down string) error
	LinkBatch(ctx context.Context, edges [][2]string) error
	// Deploy records that a live artifact serves on an endpoint.
	Deploy(ctx context.Context, id, endpoint string) error

	// Reads see live artifacts only.
	Get(ctx context.Context, id string) (registry.Artifact, error)
	GetByFQN(ctx context.Context, fqn string) (registry.Artifact, error)
	GetVersion(ctx context.Context, namespace, name, version string) (registry.Artifact, error)
	// List returns the first page of live artifacts of a namespace in
	// (namespace, name, version) byte order.
	List(ctx context.Context, namespace string, limit int) ([]registry.Artifact, error)

	// SoftDelete marks the artifact deleted with a new operation ID; with
	// recursive, its live descendants too. Without recursive, live
	// children are ErrNotEmpty; deployed artifacts fail with ErrDeployed.
	SoftDelete(ctx context.Context, id string, recursive bool) (Outcome, error)
	// Restore brings back a soft-deleted artifact and the descendants the
	// same operation took.
	Restore(ctx context.Context, id string) error
	// HardDelete removes the artifact, its edges and its soft-deleted
	// descendants (with recursive, every descendant), refusing items with
	// live dependents outside the set (Restrict), live children (not
	// recursive) or deployments.
	HardDelete(ctx context.Context, id string, recursive bool) (Outcome, error)
	// CascadeDelete hard deletes the artifact and the other versions of its
	// namespace and name, newest first, at most limit in all, under the
	// same checks; the rest are skipped.
	CascadeDelete(ctx context.Context, id string, limit int) (Outcome, error)

	// Footprint estimates the bytes the store holds outside the Go heap (0
	// for pure-Go stores).
	Footprint(ctx context.Context) (int64, error)
	Close() error
}

// Outcome counts the items of a delete. A delete that targets one artifact
// returns its failure as the error; a recursive or cascade delete commits
// what it can and counts the failures.
type Outcome struct {
	Deleted, Failed, Skipped int
}

func errf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// nameKey is the (namespace, name, version) key in the registry's byte
// order.
func nameKey(namespace, name, version string) string {
	return namespace + "\x00" + name + "\x00" + version
}
