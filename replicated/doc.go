// Package replicated runs the registry as the finite state machine of a
// hashicorp/raft node, so that every write is durable: an entry of a log
// kept on disk (hashicorp/raft-boltdb, bbolt) before the call returns, and
// the state is rebuilt at restart from the latest snapshot (raft's file
// snapshot store) and the log after it. One node is one voter, bootstrapped
// on first start; clusters come next.
//
//	n, err := replicated.Open(ctx, replicated.Config{DataDir: "/var/lib/registry", Cleaner: cleaner})
//	defer n.Close()
//	m, err := n.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn"})
//	res, err := n.Delete(ctx, m.ID, registry.DeleteOptions{Hard: true})
//	m, err = n.Registry().Get(ctx, m.ID) // reads: local and lock-free
//
// # Writes
//
// Node has every write method of *registry.Registry, with the same
// signatures and results (errors keep their *registry.Error codes):
// Register, RegisterBatch, Update, Link, Unlink, Deploy, Undeploy, Delete,
// DeleteByFQN, DeleteAllVersions, Restore, RestoreByFQN, RestoreOperation,
// Purge, Reset and RetryCleanups; with the reads (on the local registry)
// it implements registry.API, so the HTTP layer serves a node as it serves
// a registry. Options travel in the entry: a revision precondition
// (DeleteOptions.IfRevision, UpdateOptions.IfRevision) is checked as the
// entry is applied, against the state every entry before it left. Each
// write is one log entry: a type byte, then the call's
// arguments as JSON. Everything nondeterministic is decided once, before
// the entry is appended: new artifact IDs, the operation ID, the time
// (and so every timestamp and token expiry). The state machine applies the
// entry with registry.WithDecision and never reads a clock, so replaying
// the log, here or on another node, gives the same state byte for byte.
// A call returns once its entry is on disk and applied; writers calling
// at once are appended together and share one fsync, so throughput grows
// with concurrency. A dry run changes nothing and is not logged: it runs
// on the local state as of the latest entry applied.
//
// # Authorization
//
// Config.Authorizer is asked as each entry is applied, on every replica,
// with the principal of the call (registry.WithPrincipal on its context),
// exactly as the embedded registry asks it: a write the principal may not
// make changes nothing anywhere and returns ErrForbidden. It must therefore
// be deterministic: its answer may depend on the principal, the action and
// the artifact only.
//
// # Storage cleanup
//
// The state machine's registry has no cleaner: a hard delete queues its
// storage URIs as pending cleanups on every replica. The leader hands them
// to Config.Cleaner after the delete commits, re-checking each right before
// the hand-off, and logs the outcomes (registry.Registry.SettleCleanups).
// A crash between the cleaning and that entry leaves the URIs pending, and
// the next leader cleans them again: cleaners must be idempotent.
//
// # Recovery and damage
//
// Snapshots are taken past Config.SnapshotThreshold new entries, leaving
// TrailingLogs entries behind, so recovery reads one snapshot and a
// bounded tail of the log however long the node has run. A torn last
// write of the log store recovers the state before it (bbolt keeps two
// meta pages); a truncated log store, or damaged snapshots that the log no
// longer covers, make Open fail with an error that says so, never start
// from a wrong state.
package replicated
