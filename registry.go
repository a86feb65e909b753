package registry

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
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
}

func (r *Registry) setDB(db *memdb.MemDB, tokens int) {
	r.state.Store(&dbState{db: db, read: db.Txn(false), tokens: tokens})
}

// snapshot returns a read transaction on the latest commit.
func (r *Registry) snapshot() *memdb.Txn { return r.state.Load().read }

// Clock tells the time; WithClock replaces the system clock so that tests
// can move time.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Option configures New.
type Option func(*Registry) error

// WithClock makes the registry read time from c (timestamps, token expiry,
// retention).
func WithClock(c Clock) Option {
	return func(r *Registry) error {
		if isNil(c) {
			return invalid("clock", "clock is nil")
		}
		r.clock = c
		return nil
	}
}

// WithTokenTTL sets how long an idempotency token is remembered (default 8
// hours, as Lookout for Vision's ClientToken).
func WithTokenTTL(d time.Duration) Option {
	return func(r *Registry) error {
		if d <= 0 {
			return invalid("tokenTTL", "token TTL must be positive, got %v", d)
		}
		r.tokenTTL = d
		return nil
	}
}

// WithPurgeProtection refuses every hard delete of a soft-deleted artifact
// that was deleted less than d ago (ErrPurgeProtected), as Azure Key Vault's
// purge protection does.
func WithPurgeProtection(d time.Duration) Option {
	return func(r *Registry) error {
		if d < 0 {
			return invalid("purgeProtection", "purge protection must not be negative, got %v", d)
		}
		r.purgeProtection = d
		return nil
	}
}

// WithAuditLogSize sets how many events the in-memory audit log keeps
// (default 10000).
func WithAuditLogSize(n int) Option {
	return func(r *Registry) error {
		if n < 1 || n > MaxAuditLogSize {
			return invalid("auditLogSize", "audit log size %d is out of range; want 1 to %d", n, MaxAuditLogSize)
		}
		r.events = newEventLog(n)
		return nil
	}
}

// DefaultTokenTTL is how long idempotency tokens live unless WithTokenTTL
// says otherwise.
const DefaultTokenTTL = 8 * time.Hour

const defaultAuditLogSize = 10000

// MaxAuditLogSize bounds WithAuditLogSize; MaxSubscriptionBuffer bounds
// Subscribe's buffer. Both are allocated up front.
const (
	MaxAuditLogSize       = 1 << 24
	MaxSubscriptionBuffer = 1 << 20
)

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
	r.setDB(db, 0)
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

type principalKey struct{}

// Anonymous is the principal of a context that carries none.
const Anonymous = "anonymous"

// WithPrincipal returns a context that carries the principal (a user or
// service name) recorded as UpdatedBy and passed to the authorizer. A nil
// ctx stands for context.Background().
func WithPrincipal(ctx context.Context, principal string) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithValue(ctx, principalKey{}, principal)
}

// PrincipalFrom returns the principal ctx carries, or Anonymous.
func PrincipalFrom(ctx context.Context) string {
	if ctx != nil {
		if p, ok := ctx.Value(principalKey{}).(string); ok && p != "" {
			return p
		}
	}
	return Anonymous
}

// begin checks the context every call starts with and returns its principal.
func begin(ctx context.Context) (string, error) {
	if ctx == nil {
		return "", invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	p := PrincipalFrom(ctx)
	if err := checkText("principal", p, MaxNameLength, false); err != nil {
		return "", err
	}
	return p, nil
}

// writeTxn is one write transaction with what it has done so far: the
// events to publish and the storage URIs to clean once it commits.
type writeTxn struct {
	*memdb.Txn
	r         *Registry
	ctx       context.Context
	now       time.Time
	principal string
	op        string
	reason    string
	events    []change  // what to announce once committed, in order
	cleanups  []Cleanup // URIs queued by this transaction, if cleaner
	cleaner   bool      // a cleaner will be handed the URIs queued
	tokens    int       // tokens stored once this transaction commits
}

// write runs fn in one write transaction and commits it when fn returns nil;
// otherwise nothing fn did is kept. It returns the storage cleanups the
// commit queued; the caller runs them after the lock is released.
func (r *Registry) write(ctx context.Context, reason string, fn func(w *writeTxn) error) ([]Cleanup, error) {
	principal, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state.Load()
	db := st.db
	w := &writeTxn{
		Txn:       db.Txn(true),
		cleaner:   r.cleaner != nil,
		tokens:    st.tokens,
		r:         r,
		ctx:       ctx,
		now:       r.clock.Now(),
		principal: principal,
		op:        newID(),
		reason:    reason,
	}
	defer w.Abort() // no-op after Commit
	if err := fn(w); err != nil {
		if err == errRollback {
			return nil, nil
		}
		return nil, err
	}
	if err := w.expireTokens(); err != nil {
		return nil, err
	}
	w.Commit()
	r.setDB(db, w.tokens)
	r.events.publish(w.meta(), w.events)
	return w.cleanups, nil
}

// newID returns a time-ordered (version 7) UUID.
func newID() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

// emit records an event about a, as it is after the change (before it, for
// a hard delete).
func (w *writeTxn) emit(t EventType, a *record) {
	w.events = append(w.events, change{kind: t, new: a})
}

// meta is what every event of one transaction shares.
func (w *writeTxn) meta() Event {
	return Event{Time: w.now, Principal: w.principal, Reason: w.reason, Operation: w.op}
}

// row returns the stored artifact with the canonical id, in any state.
func row(txn *memdb.Txn, id string) *record {
	return rowByKey(txn, idKey(id))
}

func rowByKey(txn *memdb.Txn, key []byte) *record {
	o, err := txn.First(tableArtifacts, indexID, key)
	if err != nil || o == nil {
		return nil
	}
	return o.(*record)
}

func rowByName(txn *memdb.Txn, namespace, name, version string) *record {
	o, err := txn.First(tableArtifacts, indexName, nameKey(namespace, name, version))
	if err != nil || o == nil {
		return nil
	}
	return o.(*record)
}

// replace stores new in place of old and keeps the side tables in step:
// containment, storage URIs, trash. old nil inserts, new nil deletes. new
// must be a fresh record: stored ones are shared with readers and are never
// modified in place.
func (w *writeTxn) replace(old, new *record) error {
	return w.replaceAll([]change{{old: old, new: new}})
}

// change is one record replaced by another; nil for none. As a pending
// event it carries the event type, the record the event is about, and the
// endpoint or edge of a deployment or lineage event.
type change struct {
	old, new *record
	kind     EventType
	endpoint string
	edge     *Edge
}

// replaceAll applies many changes, table by table and in key order within
// each table. Within one transaction the order of writes does not matter,
// but to go-immutable-radix it does: a write copies every node on its key's
// path unless an earlier write of the transaction copied it already, and it
// remembers only the last 8192 nodes it copied. Writes in key order share
// paths with their predecessors; writes in a large plan's own order (a tree
// walk) share almost none, and cost twice as much.
func (w *writeTxn) replaceAll(changes []change) error {
	type op struct {
		key []byte
		obj any
		del bool
	}
	var ops [3][]op // artifacts, contains, trash, in that order
	tables := [3]string{tableArtifacts, tableContains, tableTrash}
	var addRefs, removeRefs []uriRef
	for _, c := range changes {
		old, new := c.old, c.new
		id := w.idOf(old, new)
		key := idKey(id)
		if new != nil {
			ops[0] = append(ops[0], op{key, new, false})
		} else {
			ops[0] = append(ops[0], op{key, old, true})
		}
		switch {
		case old == nil && new.Parent != "":
			ops[1] = append(ops[1], op{append(idKey(new.Parent), key...), &containsRow{Parent: new.Parent, Child: id}, false})
		case new == nil && old.Parent != "":
			ops[1] = append(ops[1], op{append(idKey(old.Parent), key...), &containsRow{Parent: old.Parent, Child: id}, true})
		}
		var before, after []string
		var delBefore, delAfter *deletion
		if old != nil {
			before, delBefore = old.uris(), old.del
		}
		if new != nil {
			after, delAfter = new.uris(), new.del
		}
		for _, u := range before {
			if !slices.Contains(after, u) {
				removeRefs = append(removeRefs, uriRef{URI: u, Owner: id})
			}
		}
		for _, u := range after {
			if !slices.Contains(before, u) {
				addRefs = append(addRefs, uriRef{URI: u, Owner: id})
			}
		}
		if delBefore != delAfter {
			if delBefore != nil {
				ops[2] = append(ops[2], op{append(timeKey(delBefore.At), key...), &trashRow{At: delBefore.At, ID: id}, true})
			}
			if delAfter != nil {
				ops[2] = append(ops[2], op{append(timeKey(delAfter.At), key...), &trashRow{At: delAfter.At, ID: id}, false})
			}
		}
	}
	if err := w.changeRefs(addRefs, removeRefs); err != nil {
		return err
	}
	for t, list := range ops {
		if len(list) > 1 {
			// Deletes first, so that a key deleted and re-inserted (a trash
			// entry moved within one call) ends up present.
			slices.SortFunc(list, func(a, b op) int {
				if a.del != b.del {
					if a.del {
						return -1
					}
					return 1
				}
				return bytes.Compare(a.key, b.key)
			})
		}
		for _, o := range list {
			var err error
			if o.del {
				err = w.Delete(tables[t], o.obj)
			} else {
				err = w.Insert(tables[t], o.obj)
			}
			if err != nil {
				return fmt.Errorf("registry: %s %x: %w", tables[t], o.key, err)
			}
		}
	}
	return nil
}

func (w *writeTxn) idOf(old, new *record) string {
	if new != nil {
		return new.ID
	}
	return old.ID
}

// touch returns a copy of a stored record with its revision bumped and the
// change recorded.
func (w *writeTxn) touch(a *record) *record {
	c := copyRecord(a)
	c.Revision++
	c.UpdatedAt = w.now
	c.UpdatedBy = w.principal
	return c
}

// Register adds an artifact and returns it as stored. Kind, Namespace and
// Name are required; ID is assigned when empty; Parent, when given, must be
// a live artifact. Registering a (namespace, name, version) that is taken,
// even by a soft-deleted artifact, is ErrAlreadyExists.
func (r *Registry) Register(ctx context.Context, a Artifact) (Artifact, error) {
	out, err := r.RegisterBatch(ctx, []Artifact{a})
	if err != nil {
		return Artifact{}, err
	}
	return out[0], nil
}

// RegisterBatch adds several artifacts in one transaction: all of them or,
// on the first error, none. An artifact may name an earlier one of the same
// batch as its parent.
func (r *Registry) RegisterBatch(ctx context.Context, batch []Artifact) ([]Artifact, error) {
	if len(batch) == 0 {
		return nil, invalid("artifacts", "nothing to register")
	}
	rows := make([]*record, len(batch))
	// assigned marks the IDs the registry made: fresh time-ordered UUIDs,
	// which need no lookup to know they are not taken.
	assigned := make([]bool, len(batch))
	for i := range batch {
		a, err := prepareNew(&batch[i])
		if err != nil {
			var e *Error
			if len(batch) > 1 && errors.As(err, &e) {
				e.Message = fmt.Sprintf("artifact %d of the batch: %s", i, e.Message)
			}
			return nil, err
		}
		rows[i] = a
		assigned[i] = batch[i].ID == ""
	}
	_, err := r.write(ctx, "", func(w *writeTxn) error {
		return w.register(rows, assigned)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Artifact, len(rows))
	for i, a := range rows {
		out[i] = a.artifact()
	}
	return out, nil
}

// prepareNew validates a new artifact and returns the record to store, with
// its own copies of every list and the bookkeeping fields cleared.
func prepareNew(in *Artifact) (*record, error) {
	if !in.Kind.valid() {
		if in.Kind == "" {
			return nil, invalid("kind", "kind is empty; want model, dataset or code")
		}
		return nil, invalid("kind", "kind %q is not one of model, dataset, code", clip(string(in.Kind)))
	}
	if err := checkName("namespace", in.Namespace); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkVersion(in.Version); err != nil {
		return nil, err
	}
	if err := checkMetadata(in); err != nil {
		return nil, err
	}
	a := &record{Kind: in.Kind, Namespace: in.Namespace, Name: in.Name, Version: in.Version, Revision: 1}
	a.setMetadata(in)
	var err error
	if in.ID == "" {
		a.ID = newID()
	} else if a.ID, err = checkID("id", in.ID); err != nil {
		return nil, err
	}
	if in.Parent != "" {
		if a.Parent, err = checkID("parent", in.Parent); err != nil {
			return nil, err
		}
		if a.Parent == a.ID {
			return nil, invalid("parent", "artifact %s cannot be its own parent", a.ID)
		}
	}
	return a, nil
}

// register checks every row against the store and the batch first and then
// inserts them all, so that no read follows a write on the same index (a
// read of a modified index makes go-memdb copy the index's nodes again).
func (w *writeTxn) register(rows []*record, assigned []bool) error {
	ids := make(map[string]*record, len(rows))
	names := make(map[string]struct{}, len(rows))
	for i, a := range rows {
		if _, dup := ids[a.ID]; dup {
			return newError(CodeAlreadyExists, a.ID, "ID %s appears twice in the batch", a.ID)
		}
		if !assigned[i] {
			if old := row(w.Txn, a.ID); old != nil {
				return newError(CodeAlreadyExists, a.ID, "an artifact with ID %s already exists (%s)", a.ID, old.FQN())
			}
		}
		key := string(nameKey(a.Namespace, a.Name, a.Version))
		if _, dup := names[key]; dup {
			return newError(CodeAlreadyExists, a.ID, "%s appears twice in the batch", a.FQN())
		}
		if old := rowByName(w.Txn, a.Namespace, a.Name, a.Version); old != nil {
			return alreadyExists(a, old)
		}
		if a.Parent != "" {
			if err := w.checkParent(a, ids); err != nil {
				return err
			}
		}
		if err := w.authorize(ActionCreate, a); err != nil {
			return err
		}
		ids[a.ID] = a
		names[key] = struct{}{}
	}
	for _, a := range rows {
		a.CreatedAt, a.UpdatedAt, a.UpdatedBy = w.now, w.now, w.principal
		if err := w.replace(nil, a); err != nil {
			return err
		}
		w.emit(EventCreated, a)
	}
	return nil
}

func alreadyExists(a, old *record) *Error {
	if old.isDeleted() {
		return newError(CodeAlreadyExists, old.ID,
			"%s is taken by soft-deleted artifact %s; restore it (Restore) or delete it for good (Delete with Hard, or Purge) before registering the name again",
			a.FQN(), old.ID)
	}
	return newError(CodeAlreadyExists, old.ID, "%s already exists as artifact %s", a.FQN(), old.ID)
}

func (w *writeTxn) checkParent(a *record, batch map[string]*record) error {
	if _, ok := batch[a.Parent]; ok {
		return nil
	}
	p := row(w.Txn, a.Parent)
	switch {
	case p == nil:
		return invalid("parent", "parent %s of %s does not exist", a.Parent, a.FQN())
	case p.isDeleted():
		return invalid("parent", "parent %s (%s) of %s is soft deleted; restore it first", a.Parent, p.FQN(), a.FQN())
	}
	return nil
}

// Update replaces the metadata of a live artifact (display name,
// description, algorithm, tags, owners, labels, storage URIs) with those of
// a, identified by a.ID, and returns the artifact as stored. Identity fields
// are immutable: each must be empty or equal to the stored value. Deployment
// and bookkeeping fields are ignored. An update that changes nothing does not
// bump the revision. Storage URIs the update drops are handed to the cleaner
// like those of a hard delete, unless another artifact still references them.
func (r *Registry) Update(ctx context.Context, a Artifact) (Artifact, error) {
	id, err := checkID("id", a.ID)
	if err != nil {
		return Artifact{}, err
	}
	if err := checkMetadata(&a); err != nil {
		return Artifact{}, err
	}
	var out Artifact
	cleanups, err := r.write(ctx, "", func(w *writeTxn) error {
		old := row(w.Txn, id)
		if old == nil || old.isDeleted() {
			return notFound(id, old, IncludeNonDeleted)
		}
		if err := checkImmutable(&a, old); err != nil {
			return err
		}
		if err := w.authorize(ActionUpdate, old); err != nil {
			return err
		}
		if old.sameMetadata(&a) {
			out = old.artifact()
			return nil
		}
		c := w.touch(old)
		c.setMetadata(&a)
		// URIs the update drops become pending cleanups, unless another
		// artifact references them; URIs it adds are taken off the queue.
		if err := w.replace(old, c); err != nil {
			return err
		}
		w.emit(EventUpdated, c)
		out = c.artifact()
		return nil
	})
	if err != nil {
		return Artifact{}, err
	}
	r.runCleanups(ctx, cleanups)
	return out, nil
}

func checkImmutable(a *Artifact, old *record) error {
	parent := a.Parent
	if cp, err := checkID("parent", parent); parent != "" && err == nil {
		parent = cp // IDs compare case-insensitively, as everywhere
	}
	fields := []struct{ name, got, want string }{
		{"kind", string(a.Kind), string(old.Kind)},
		{"namespace", a.Namespace, old.Namespace},
		{"name", a.Name, old.Name},
		{"version", a.Version, old.Version},
		{"parent", parent, old.Parent},
	}
	for _, f := range fields {
		if f.got != "" && f.got != f.want {
			return invalid(f.name, "%s is immutable: artifact %s has %s %q, the update gives %q", f.name, old.ID, f.name, f.want, clip(f.got))
		}
	}
	return nil
}

// notFound explains why id is not visible: it does not exist, or it exists
// in a state the include hides.
func notFound(id string, a *record, inc Include) *Error {
	switch {
	case a == nil:
		return newError(CodeNotFound, id, "artifact %s does not exist", id)
	case a.isDeleted():
		return newError(CodeNotFound, id, "artifact %s (%s) is soft deleted; read it with IncludeDeleted or IncludeAll, or restore it", id, a.FQN())
	default:
		return newError(CodeNotFound, id, "artifact %s (%s) is not deleted; include %q shows only soft-deleted artifacts", id, a.FQN(), string(inc))
	}
}

// Get returns the artifact with the given ID. By default only a live
// artifact is found; pass IncludeDeleted or IncludeAll to see soft-deleted
// ones.
func (r *Registry) Get(ctx context.Context, id string, include ...Include) (Artifact, error) {
	inc, err := beginRead(ctx, include)
	if err != nil {
		return Artifact{}, err
	}
	cid, key, perr := parseID("id", id)
	if perr != nil {
		return Artifact{}, perr
	}
	a := rowByKey(r.snapshot(), key)
	if a == nil {
		return Artifact{}, newError(CodeNotFound, cid, "artifact %s does not exist", cid)
	}
	return r.found(ctx, cid, a, inc)
}

// GetByFQN returns the artifact with the given fully qualified name (see
// ParseFQN), in one index lookup.
func (r *Registry) GetByFQN(ctx context.Context, fqn string, include ...Include) (Artifact, error) {
	inc, err := beginRead(ctx, include)
	if err != nil {
		return Artifact{}, err
	}
	ns, name, version, err := ParseFQN(fqn)
	if err != nil {
		return Artifact{}, err
	}
	return r.found(ctx, fqn, rowByName(r.snapshot(), ns, name, version), inc)
}

// GetVersion returns the artifact with the given namespace, name and version
// (empty for an unversioned artifact).
func (r *Registry) GetVersion(ctx context.Context, namespace, name, version string, include ...Include) (Artifact, error) {
	inc, err := beginRead(ctx, include)
	if err != nil {
		return Artifact{}, err
	}
	if err := checkName("namespace", namespace); err != nil {
		return Artifact{}, err
	}
	if err := checkName("name", name); err != nil {
		return Artifact{}, err
	}
	if err := checkVersion(version); err != nil {
		return Artifact{}, err
	}
	a := rowByName(r.snapshot(), namespace, name, version)
	if a == nil {
		return Artifact{}, newError(CodeNotFound, "", "artifact %s does not exist", BuildFQN(namespace, name, version))
	}
	return r.found(ctx, "", a, inc)
}

// beginRead checks what every read starts with. Reads need no principal
// unless reads are authorized.
func beginRead(ctx context.Context, include []Include) (Include, error) {
	if ctx == nil {
		return "", invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return resolveInclude(include)
}

func (r *Registry) found(ctx context.Context, key string, a *record, inc Include) (Artifact, error) {
	if a == nil {
		return Artifact{}, newError(CodeNotFound, "", "artifact %s does not exist", key)
	}
	if !a.visible(inc) {
		return Artifact{}, notFound(a.ID, a, inc)
	}
	if r.authorizeReads {
		if err := r.authorizeRead(ctx, a); err != nil {
			return Artifact{}, err
		}
	}
	return a.artifact(), nil
}

// Filter selects artifacts for List. Empty fields match everything.
type Filter struct {
	Namespace string
	// Name filters on the exact name; with Namespace it is one index range.
	Name    string
	Kind    Kind
	Include Include
	// Limit is the page size: 0 means 100, at most 1000.
	Limit int
	// Cursor continues after the last item of a previous page (Page.Next).
	Cursor string
}

// Page is one page of List results.
type Page struct {
	Items []Artifact `json:"data"`
	// Next is the cursor of the following page, empty on the last page.
	Next string `json:"after,omitempty"`
}

// List returns artifacts in a stable order (namespace, then name, then
// version, byte-wise), a page at a time.
func (r *Registry) List(ctx context.Context, f Filter) (Page, error) {
	inc, err := beginRead(ctx, nil)
	if err != nil {
		return Page{}, err
	}
	if inc, err = checkInclude(f.Include); err != nil {
		return Page{}, err
	}
	limit, prefixKey, err := checkFilter(&f)
	if err != nil {
		return Page{}, err
	}
	txn := r.snapshot()
	var it memdb.ResultIterator
	var after []byte
	if f.Cursor != "" {
		if after, err = decodeCursor(f.Cursor, prefixKey); err != nil {
			return Page{}, err
		}
		it, err = txn.LowerBound(tableArtifacts, indexName, after)
	} else {
		it, err = txn.Get(tableArtifacts, indexName+prefix, prefixKey)
	}
	if err != nil {
		return Page{}, fmt.Errorf("registry: list: %w", err)
	}
	page := Page{Items: []Artifact{}}
	var last *record
	for o := it.Next(); o != nil; o = it.Next() {
		a := o.(*record)
		key := nameKey(a.Namespace, a.Name, a.Version)
		if !hasPrefix(key, prefixKey) {
			break
		}
		if after != nil && string(key) <= string(after) {
			continue
		}
		if !a.visible(inc) || (f.Kind != "" && a.Kind != f.Kind) || (f.Name != "" && a.Name != f.Name) {
			continue
		}
		if r.authorizeReads && r.authorizeRead(ctx, a) != nil {
			continue
		}
		if len(page.Items) == limit {
			page.Next = encodeCursor(nameKey(last.Namespace, last.Name, last.Version))
			break
		}
		page.Items = append(page.Items, a.artifact())
		last = a
	}
	return page, nil
}

func checkFilter(f *Filter) (int, []byte, error) {
	if f.Limit < 0 || f.Limit > maxPageSize {
		return 0, nil, invalid("limit", "limit %d is out of range; want 0 (default %d) to %d", f.Limit, defaultPageSize, maxPageSize)
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultPageSize
	}
	if f.Kind != "" && !f.Kind.valid() {
		return 0, nil, invalid("kind", "kind %q is not one of model, dataset, code", clip(string(f.Kind)))
	}
	if f.Name != "" {
		if err := checkName("name", f.Name); err != nil {
			return 0, nil, err
		}
	}
	if f.Namespace == "" {
		return limit, nil, nil
	}
	if err := checkName("namespace", f.Namespace); err != nil {
		return 0, nil, err
	}
	return limit, nameKeyPrefix(f.Namespace, f.Name), nil
}

func hasPrefix(key, p []byte) bool { return len(key) >= len(p) && string(key[:len(p)]) == string(p) }

func encodeCursor(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(c string, prefixKey []byte) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(key) == 0 {
		return nil, invalid("cursor", "cursor %q is not one List returned", clip(c))
	}
	if !hasPrefix(key, prefixKey) {
		return nil, invalid("cursor", "cursor %q belongs to another filter; start again without a cursor", clip(c))
	}
	return key, nil
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
	queued, err := r.reset(fresh, principal)
	if err != nil {
		return err
	}
	r.runCleanups(ctx, queued)
	return nil
}

func (r *Registry) reset(fresh *memdb.MemDB, principal string) ([]Cleanup, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now, op := r.clock.Now(), newID()
	txn := fresh.Txn(true)
	defer txn.Abort()
	queued, err := carryCleanups(r.snapshot(), txn, now, op)
	if err != nil {
		return nil, err
	}
	txn.Commit()
	r.setDB(fresh, 0)
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

// errRollback ends a write transaction without committing it and without
// an error: a dry run.
var errRollback = errors.New("registry: rollback")
