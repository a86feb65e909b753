package replicated

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/modelreg/registry"
)

// Config configures a node. DataDir is required; everything else has a
// default.
type Config struct {
	// DataDir holds the node's log and stable store (raft.db, bbolt) and
	// its snapshots (snapshots/). It is created when missing. One process
	// at a time: a second Open of the same directory fails.
	DataDir string
	// ID names the node in the cluster; default "node-1".
	ID string
	// Addr is the address raft binds for its peers ("127.0.0.1:7000"), over
	// raft's TCP transport; empty keeps a single node's transport in the
	// process.
	Addr string
	// Transport, when set, is the raft transport to use instead of the one
	// Addr names: raft.NewInmemTransport for clusters inside one process
	// (tests). The node closes it on Close when it is an io.Closer.
	Transport raft.Transport
	// Join makes a first start (an empty DataDir) wait to be added to an
	// existing cluster by its leader (Node.AddVoter) instead of
	// bootstrapping a cluster of its own; Open then returns at once. A
	// restart ignores it: the log holds the configuration.
	Join bool

	// Authorizer is asked by every replica as it applies each write, with
	// the principal of the call, exactly as registry.WithAuthorizer does.
	// It must be deterministic: its answer may depend only on the
	// principal, the action and the artifact (and on reads of the
	// registry), never on time, randomness or state outside the registry,
	// or replicas could disagree.
	Authorizer registry.Authorizer
	// AuthorizeReads is registry.WithReadAuthorization.
	AuthorizeReads bool
	// Cleaner removes the storage objects of hard-deleted artifacts. It runs
	// on the leader only, after the delete committed, and its outcome is
	// itself logged (see RetryCleanups).
	Cleaner registry.Cleaner
	// CleanerPrincipal is the principal the leader's cleaning rounds read
	// pending cleanups as (with AuthorizeReads it needs ActionAdmin);
	// default "replicated-cleaner".
	CleanerPrincipal string
	// Clock decides the time of each write before it is logged; default
	// the system clock.
	Clock registry.Clock
	// TokenTTL, PurgeProtection and AuditLogSize are the registry options
	// of the same names (0 for the registry's defaults).
	TokenTTL        time.Duration
	PurgeProtection time.Duration
	AuditLogSize    int

	// ApplyTimeout bounds how long a write waits to be appended; default
	// 10 s.
	ApplyTimeout time.Duration
	// ElectionTimeout is raft's heartbeat and election timeout: a single
	// node leads this long after it starts. Default 1 s.
	ElectionTimeout time.Duration
	// SnapshotThreshold is how many entries the log grows by before a
	// snapshot is taken (checked every SnapshotInterval); TrailingLogs is
	// how many entries a snapshot leaves in the log. Recovery reads the
	// latest snapshot and replays at most about SnapshotThreshold +
	// TrailingLogs entries, whatever the log's length. Defaults 8192, 2 min
	// and 10240, raft's own.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// SnapshotRetain is how many snapshots are kept; default 2, so that a
	// damaged latest snapshot leaves an older one to recover from.
	SnapshotRetain int
	// LogOutput receives raft's warnings and errors; default os.Stderr.
	LogOutput io.Writer
}

func (c *Config) defaults() error {
	if c.DataDir == "" {
		return invalid("DataDir", "a data directory is required")
	}
	if c.ID == "" {
		c.ID = "node-1"
	}
	if c.CleanerPrincipal == "" {
		c.CleanerPrincipal = "replicated-cleaner"
	}
	if c.Clock == nil {
		c.Clock = registry.ClockFunc(time.Now)
	}
	if c.ApplyTimeout <= 0 {
		c.ApplyTimeout = 10 * time.Second
	}
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = time.Second
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.SnapshotInterval <= 0 {
		c.SnapshotInterval = 2 * time.Minute
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.SnapshotRetain <= 0 {
		c.SnapshotRetain = 2
	}
	if c.LogOutput == nil {
		c.LogOutput = os.Stderr
	}
	return nil
}

// Node is a durable registry: the registry runs as the state machine of a
// raft node whose log is on disk, and every write is an entry of that log.
// Its write methods have the signatures of *registry.Registry's and return
// what the library returns; they return once the entry is on disk and
// applied. Reads go to Registry(), local and lock-free as ever.
type Node struct {
	cfg   Config
	fsm   *fsm
	raft  *raft.Raft
	logs  *raftboltdb.BoltStore
	snaps *raft.FileSnapshotStore
	trans raft.Transport

	closed    chan struct{} // closed once raft has shut down
	kick      chan struct{}
	cleanMu   sync.Mutex // one cleaning round at a time
	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the node on cfg.DataDir: a first start bootstraps a
// one-voter cluster (or, with cfg.Join, waits to be added to one); a
// restart recovers the latest snapshot and replays the log after it. A
// single voter returns once it leads and has applied every entry of its
// log; a member of a larger cluster returns once raft runs, and follows
// or leads as elections decide (see WaitLeader and Status), or an error that says what failed (a damaged log or
// snapshot, a directory in use), having released everything it took.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	if ctx == nil {
		return nil, invalid("ctx", "context is nil")
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, kick: make(chan struct{}, 1), done: make(chan struct{}), closed: make(chan struct{})}
	f, err := newFSM(&cfg, n.wake)
	if err != nil {
		return nil, err
	}
	n.fsm = f
	if err := n.open(ctx); err != nil {
		n.release()
		return nil, err
	}
	loop, stop := context.WithCancel(context.Background())
	n.stop = stop
	go n.cleanLoop(loop)
	n.wake() // what a crash left pending
	return n, nil
}

func (n *Node) open(ctx context.Context) error {
	cfg := &n.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("replicated: data directory: %w", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: cfg.LogOutput})
	path := filepath.Join(cfg.DataDir, "raft.db")
	if err := checkBoltFile(path); err != nil {
		return fmt.Errorf("replicated: log store: %w", err)
	}
	logs, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: &bbolt.Options{Timeout: time.Second}})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("replicated: log store %s is in use by another process: %w", path, err)
		}
		return fmt.Errorf("replicated: log store %s: %w", path, err)
	}
	n.logs = logs
	if err := removeUnfinishedSnapshots(filepath.Join(cfg.DataDir, "snapshots")); err != nil {
		return fmt.Errorf("replicated: snapshot store: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.SnapshotRetain, logger)
	if err != nil {
		return fmt.Errorf("replicated: snapshot store: %w", err)
	}
	n.snaps = snaps
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = logger
	rc.HeartbeatTimeout = cfg.ElectionTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.ElectionTimeout / 2
	rc.CommitTimeout = min(rc.CommitTimeout, cfg.ElectionTimeout/10)
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	// Writers waiting to be appended are drained into one StoreLogs, one
	// fsync, as many as MaxAppendEntries: concurrent writers share fsyncs.
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	if err := raft.ValidateConfig(rc); err != nil {
		return invalid("Config", "%v", err)
	}
	var addr raft.ServerAddress
	if cfg.Transport != nil {
		n.trans, addr = cfg.Transport, cfg.Transport.LocalAddr()
	} else if cfg.Addr == "" {
		addr, n.trans = raft.NewInmemTransport(raft.ServerAddress(cfg.ID))
	} else {
		t, err := raft.NewTCPTransportWithLogger(cfg.Addr, nil, 3, 10*time.Second, logger)
		if err != nil {
			return fmt.Errorf("replicated: transport on %s: %w", cfg.Addr, err)
		}
		n.trans, addr = t, t.LocalAddr()
	}
	existing, err := raft.HasExistingState(logs, logs, snaps)
	if err != nil {
		return fmt.Errorf("replicated: read log store: %w", err)
	}
	if existing {
		if err := checkRecoverable(logs, snaps); err != nil {
			return err
		}
	} else if !cfg.Join {
		boot := raft.Configuration{Servers: []raft.Server{{ID: rc.LocalID, Address: addr}}}
		if err := raft.BootstrapCluster(rc, logs, logs, snaps, n.trans, boot); err != nil {
			return fmt.Errorf("replicated: bootstrap: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, logs, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("replicated: recover from %s: %w", cfg.DataDir, err)
	}
	n.raft = r
	// A member of a cluster (or a node waiting to join one) cannot lead
	// alone: it returns now and follows whoever leads.
	conf := r.GetConfiguration()
	if err := conf.Error(); err != nil {
		return fmt.Errorf("replicated: read the configuration: %w", err)
	}
	if servers := conf.Configuration().Servers; len(servers) != 1 || servers[0].ID != rc.LocalID {
		return nil
	}
	// A single voter leads after one election timeout; then a barrier
	// applies every entry the log holds.
	deadline := time.Now().Add(10*cfg.ElectionTimeout + 5*time.Second)
	for r.State() != raft.Leader {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replicated: node %s did not become leader within %v", cfg.ID, time.Until(deadline))
		}
		time.Sleep(cfg.ElectionTimeout / 10)
	}
	if err := r.Barrier(cfg.ApplyTimeout + time.Minute).Error(); err != nil {
		return fmt.Errorf("replicated: replay the log: %w", err)
	}
	return nil
}

// removeUnfinishedSnapshots removes the snapshots a crash interrupted: raft
// writes each into a directory named *.tmp and renames it when complete,
// ignores *.tmp ones, and never removes them. The log store's lock is held:
// no other process is writing one.
func removeUnfinishedSnapshots(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasSuffix(e.Name(), ".tmp") {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkRecoverable refuses to start on a directory raft would recover
// wrongly or not at all: raft restores the newest snapshot it can read and
// then needs every log entry after it. When the newest snapshots are
// damaged or missing and the log was compacted past the one that can be
// read (or there is none, and the log no longer starts at its first entry),
// writes would be lost or raft would stop on the missing entries; Open says
// so instead. A snapshot counts as readable when its file is there, its
// checksum matches and its header is this node's.
func checkRecoverable(logs raft.LogStore, snaps raft.SnapshotStore) error {
	first, err := logs.FirstIndex()
	if err != nil {
		return fmt.Errorf("replicated: read log store: %w", err)
	}
	last, err := logs.LastIndex()
	if err != nil {
		return fmt.Errorf("replicated: read log store: %w", err)
	}
	list, err := snaps.List()
	if err != nil {
		return fmt.Errorf("replicated: list snapshots: %w", err)
	}
	var damaged []error
	for _, meta := range list {
		if err := readableSnapshot(snaps, meta.ID); err != nil {
			damaged = append(damaged, fmt.Errorf("snapshot %s: %w", meta.ID, err))
			continue
		}
		if len(damaged) > 0 && last > meta.Index && first > meta.Index+1 {
			return fmt.Errorf("replicated: cannot recover: the newest snapshots are damaged (%w), and the log no longer holds entries %d to %d after the readable snapshot %s",
				errors.Join(damaged...), meta.Index+1, first-1, meta.ID)
		}
		return nil
	}
	if first > 1 {
		if len(damaged) > 0 {
			return fmt.Errorf("replicated: cannot recover: no snapshot can be read (%w), and the log no longer holds entries 1 to %d", errors.Join(damaged...), first-1)
		}
		return fmt.Errorf("replicated: cannot recover: there is no snapshot, and the log no longer holds entries 1 to %d", first-1)
	}
	return nil
}

// readableSnapshot opens a snapshot (the store checks its checksum as it
// reads it whole) and checks its header.
func readableSnapshot(snaps raft.SnapshotStore, id string) error {
	_, rc, err := snaps.Open(id)
	if err != nil {
		return err
	}
	defer rc.Close()
	line, err := bufio.NewReader(rc).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if h.Format != snapshotFormat {
		return fmt.Errorf("format %d, want %d", h.Format, snapshotFormat)
	}
	return nil
}

// newFSM returns a state machine with an empty registry configured by cfg.
func newFSM(cfg *Config, queued func()) (*fsm, error) {
	f := &fsm{queued: queued}
	// Writes decide their time before they are logged; a call that reads
	// the clock anyway reads the last applied time, the same on every
	// replica.
	opts := []registry.Option{registry.WithClock(registry.ClockFunc(f.lastTime))}
	if cfg.TokenTTL != 0 {
		opts = append(opts, registry.WithTokenTTL(cfg.TokenTTL))
	}
	if cfg.PurgeProtection != 0 {
		opts = append(opts, registry.WithPurgeProtection(cfg.PurgeProtection))
	}
	if cfg.AuditLogSize != 0 {
		opts = append(opts, registry.WithAuditLogSize(cfg.AuditLogSize))
	}
	if cfg.Authorizer != nil {
		opts = append(opts, registry.WithAuthorizer(cfg.Authorizer))
	}
	if cfg.AuthorizeReads {
		opts = append(opts, registry.WithReadAuthorization())
	}
	reg, err := registry.New(opts...)
	if err != nil {
		return nil, err
	}
	f.reg = reg
	return f, nil
}

// release lets go of everything open took, in reverse.
func (n *Node) release() error {
	var errs []error
	if n.raft != nil {
		errs = append(errs, n.raft.Shutdown().Error())
	}
	if c, ok := n.trans.(io.Closer); ok {
		errs = append(errs, c.Close())
	}
	if n.logs != nil {
		errs = append(errs, n.logs.Close())
	}
	return errors.Join(errs...)
}

// Close stops the node: raft first (no entry is applied after it), then the
// cleaner (a round interrupted leaves its URIs pending: the next start
// cleans them), then the stores. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.raft != nil {
			errs = append(errs, n.raft.Shutdown().Error())
		}
		close(n.closed)
		n.stop()
		<-n.done
		errs = append(errs, n.release())
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Registry returns the node's registry for reads (Get, List, Lineage,
// PendingCleanups, Events, Subscribe, Check, ...): local, lock-free, and
// as of the latest entry applied. Writes must go through the Node: a write
// made on the registry directly is not logged, and is lost at restart.
func (n *Node) Registry() *registry.Registry { return n.fsm.reg }

// Leader returns the ID of the node that leads, "" while none does.
func (n *Node) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// Ready is nil once the node can serve: it knows a leader and has
// applied every entry it knows committed, so its reads are as current as
// its log. Otherwise it says why not (GET /readyz of package httpapi
// answers 503 with it). Open returns a node that is ready; a node can stop
// being ready when it loses its leader or closes.
func (n *Node) Ready() error {
	select {
	case <-n.closed:
		return errors.New("replicated: the node is closed")
	default:
	}
	if n.Leader() == "" {
		return fmt.Errorf("replicated: node %s knows no leader", n.cfg.ID)
	}
	// raft's own applied index: it counts the entries the state machine
	// never sees (the no-op a new leader appends, configuration changes),
	// which the state machine's count (AppliedIndex) would wait for forever.
	if applied, committed := n.raft.AppliedIndex(), n.raft.CommitIndex(); applied < committed {
		return fmt.Errorf("replicated: node %s has applied its log up to entry %d of %d", n.cfg.ID, applied, committed)
	}
	return nil
}

// AppliedIndex is the index of the latest log entry applied: when a write
// has returned, at least its own.
func (n *Node) AppliedIndex() uint64 {
	// The state machine's own count: raft's AppliedIndex moves as it hands
	// entries to the state machine's goroutine, before they are applied,
	// so a reader that waited for it could still miss them.
	return n.fsm.index.Load()
}

// Snapshot takes a snapshot now, as raft does by itself past
// SnapshotThreshold entries, and compacts the log behind it.
func (n *Node) Snapshot() error {
	return n.raft.Snapshot().Error()
}

// apply decides what the entry must carry (time, operation ID), appends it,
// waits until it is on disk and applied, and returns what the registry
// returned. The time is decided before the entry is appended; the state
// machine records the previous entry's time instead when it is earlier.
func (n *Node) apply(ctx context.Context, t entryType, c *command) (any, error) {
	if ctx == nil {
		return nil, invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.Principal = registry.PrincipalFrom(ctx)
	now, err := n.now()
	if err != nil {
		return nil, err
	}
	c.Time = now
	c.Operation = newID()
	if err := checkUTF8(c); err != nil {
		return nil, err
	}
	data, err := encode(t, c)
	if err != nil {
		return nil, err
	}
	if n.raft.State() != raft.Leader {
		return nil, n.notLeader()
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	// raft answers every entry it dequeues, but one still queued when it
	// shuts down is never answered: wait for the answer or the shutdown.
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err = <-done:
	case <-n.closed:
		select {
		case err = <-done:
		default:
			return nil, fmt.Errorf("replicated: %s interrupted: %w before it was applied; it takes effect at the next start if its entry reached the log", t, raft.ErrRaftShutdown)
		}
	}
	if errors.Is(err, raft.ErrNotLeader) {
		return nil, n.notLeader()
	}
	if err != nil {
		return nil, fmt.Errorf("replicated: %s not applied: %w", t, err)
	}
	res, ok := f.Response().(*response)
	if !ok {
		return nil, fmt.Errorf("replicated: %s: no response from the state machine", t)
	}
	return res.value, res.err
}

// now reads the clock, turning a panic into an error as the registry does.
func (n *Node) now() (t time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("replicated: the clock panicked (%v); the call was not made and nothing changed", p)
		}
	}()
	return n.cfg.Clock.Now().Round(0).UTC(), nil
}

// newID returns a time-ordered (version 7) UUID, as the registry assigns.
func newID() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

func invalid(field, format string, args ...any) *registry.Error {
	return &registry.Error{Code: registry.CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}
