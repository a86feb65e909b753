// Package replicated runs the registry as the finite state machine of a
// hashicorp/raft node, so that every write is durable: an entry of a log
// kept on disk (hashicorp/raft-boltdb, bbolt) before the call returns, and
// the state is rebuilt at restart from the latest snapshot (raft's file
// snapshot store) and the log after it. A node alone is one voter,
// bootstrapped on first start; three or five make a cluster in which every
// node holds the whole registry and a write is acknowledged once a
// majority has it on disk.
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
// # Clusters
//
// Start the first node as above (it bootstraps a cluster of one), the
// others with Config.Join (they wait, empty), and add them from the
// leader:
//
//	n2, err := replicated.Open(ctx, replicated.Config{DataDir: dir2, ID: "node-2", Addr: "10.0.0.2:7000", Join: true})
//	err = n1.AddVoter(ctx, "node-2", "10.0.0.2:7000")
//
// Config.Addr binds raft's TCP transport; Config.Transport takes any
// raft.Transport instead (raft.NewInmemTransport for a cluster in one
// process, as the tests run). The leader adds and removes voters
// (AddVoter, RemoveServer) and hands leadership over (StepDown); every node
// reports its view (Status: the leader, the members, its applied, commit
// and last index). A node that is behind by more than the leader's log
// holds (a new one, or one long down) catches up by installing the
// leader's snapshot.
//
// Writes are made on the leader. On a follower, a write (and a membership
// change) is refused before anything is logged, with a *NotLeaderError
// that names the leader's ID and raft address and matches
// errors.Is(err, ErrNotLeader); the library does not forward it. A write
// in flight when its leader loses office fails with raft's
// ErrLeadershipLost: it may or may not have committed, so retry it with a
// ClientToken (tokens are replicated state: the retry, on any node that
// leads later, gets the first result).
//
// # Read consistency
//
// Node.Read(ctx, level) returns the registry once the state is as fresh as
// level promises:
//
//   - Local (the default, and what Registry() gives): this node's state as
//     of the latest entry it applied, on any node, without a round trip.
//     A follower may lag the leader; a leader cut off from the others may
//     not know it has been replaced. Monotonic on one node.
//   - LeaderChecked: on the leader only, after a quorum confirms it still
//     leads (raft's VerifyLeader). Never a deposed leader's state, but
//     just after an election it may miss entries the previous leader
//     committed and this one has not applied yet.
//   - Linearizable: on the leader only, after an entry of its own term
//     commits and everything before it is applied (raft's Barrier): the
//     read sees every write acknowledged, on any node, before it began.
//
// # Events
//
// Every node applies the same entries in the same order, so its registry
// emits the same events with the same Seq: a subscriber (Registry.Events,
// Subscribe) that loses its node can resume after the last Seq it saw on
// any other node. A node that caught up by snapshot has no audit log before
// the snapshot, and the same Seq after it.
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
// storage URIs as pending cleanups on every replica. The leader, and only
// the leader, hands them
// to Config.Cleaner after the delete commits, re-checking each right before
// the hand-off, and logs the outcomes (registry.Registry.SettleCleanups).
// A crash or a leader change between the cleaning and that entry leaves the
// URIs pending, and the next leader cleans them again, never drops them:
// cleaners must be idempotent.
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
