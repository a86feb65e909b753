package registry

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-memdb"
)

// Registry is an in-memory, transactional registry of ML artifacts. All its
// methods are safe for concurrent use. Readers never block and see whole
// transactions only; writers are serialized.
type Registry struct {
	// state is the database and a read transaction on its latest commit,
	// replaced after every commit and swapped whole by Reset.
	state atomic.Pointer[dbState]
	// mu serializes writers so that events are published in commit order.
	mu sync.Mutex
	// authzG is the goroutine that runs the authorizer under mu, 0 when
	// none does: a write from that goroutine is refused (see lock).
	authzG atomic.Uint64
	// last is the time the latest write under mu recorded (see stamp).
	last time.Time
	// registers holds the Register calls waiting for mu, which the next
	// writer to take it applies together (group.go).
	registers registerQueue
	// onGroup and onCheck, set by tests only, see each group of
	// registrations and each call as it is checked.
	onGroup func([]*registerCall)
	onCheck func(*registerCall)
	// grouped counts the groups of registrations applied, the calls they
	// held and the largest (for tests: export_test.go).
	grouped struct{ groups, calls, largest atomic.Int64 }

	clock          Clock
	authz          Authorizer
	authorizeReads bool
	cleaner        Cleaner
	// cleaning holds the URIs being cleaned, so two goroutines never clean
	// one URI at once.
	cleaning struct {
		sync.Mutex
		busy map[string]struct{}
	}
	tokenTTL        time.Duration
	purgeProtection time.Duration
	events          *eventLog
}

// dbState pairs a database with a read transaction on its latest commit, so
// that a read allocates no transaction of its own. A go-memdb read
// transaction only reads immutable trees and is safe to share.
type dbState struct {
	db   *memdb.MemDB
	read *memdb.Txn
	// tokens counts the idempotency tokens stored, so that writes skip the
	// token table when it is empty.
	tokens int
	// nextSeq is the Seq of the first event after this commit's, and last
	// the time the commit recorded (Registry.last): with the database they
	// make the state a snapshot writes (snapshot.go).
	nextSeq uint64
	last    time.Time
}

// setDB makes db's latest commit the registry's state. It is called with mu
// held (or before the registry is shared), before the commit's events
// (how many) are published.
func (r *Registry) setDB(db *memdb.MemDB, tokens, events int) {
	r.state.Store(&dbState{db: db, read: db.Txn(false), tokens: tokens,
		nextSeq: r.events.nextSeq() + uint64(events), last: r.last})
}

// snapshot returns a read transaction on the latest commit.
func (r *Registry) snapshot() *memdb.Txn { return r.state.Load().read }

// New returns an empty registry.
func New(opts ...Option) (*Registry, error) {
	r := &Registry{clock: systemClock{}, tokenTTL: DefaultTokenTTL}
	for _, opt := range opts {
		if opt == nil {
			return nil, invalid("option", "option is nil")
		}
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	if r.events == nil {
		r.events = newEventLog(defaultAuditLogSize)
	}
	db, err := newDB()
	if err != nil {
		return nil, err
	}
	r.setDB(db, 0, 0)
	return r, nil
}

// newDB returns an empty database that does not track mutations. go-memdb
// closes a watch channel for every radix node a commit changes so that
// blocking queries wake up; the registry has no blocking queries, and past
// 8192 changed nodes go-memdb falls back to walking every index whole to find
// the channels to close, which made a 100k-row delete cost as much as a scan
// of the registry. A go-memdb snapshot is a full database whose transactions
// skip that tracking ("snapshots should not notify", txn.go), so the registry
// runs on one.
func newDB() (*memdb.MemDB, error) {
	db, err := memdb.NewMemDB(newSchema())
	if err != nil {
		return nil, fmt.Errorf("registry: schema: %w", err)
	}
	return db.Snapshot(), nil
}

// Reset empties the registry: every artifact, lineage edge and idempotency
// token is removed at once (the artifact-registry seed's DELETE /reset).
// Storage URIs of the removed artifacts are queued for cleanup like those of
// a hard delete, and the audit log records one reset event. The principal
// must be authorized for ActionReset.
func (r *Registry) Reset(ctx context.Context) error {
	principal, err := begin(ctx)
	if err != nil {
		return err
	}
	if err := r.authorizeAction(ctx, principal, ActionReset, &record{}); err != nil {
		return err
	}
	fresh, err := newDB()
	if err != nil {
		return err
	}
	queued, err := r.reset(ctx, fresh, principal)
	if err != nil {
		return err
	}
	r.runCleanups(ctx, queued)
	return nil
}

func (r *Registry) reset(ctx context.Context, fresh *memdb.MemDB, principal string) ([]Cleanup, error) {
	now, op, err := r.decide(ctx) // before the lock: see write
	if err != nil {
		return nil, err
	}
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	now = r.stamp(now)
	txn := fresh.Txn(true)
	defer txn.Abort()
	queued, err := carryCleanups(r.snapshot(), txn, now, op)
	if err != nil {
		return nil, err
	}
	txn.Commit()
	r.setDB(fresh, 0, 1)
	r.events.publish(Event{Time: now, Principal: principal, Operation: op}, []change{{kind: EventReset}})
	return queued, nil
}

// isNil reports whether an interface holds nothing or a nil pointer,
// function, map, slice or channel: an option given one would fail later,
// at its first use, instead of now.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
