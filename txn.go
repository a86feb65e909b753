package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-memdb"
)

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

	// Set when the authorizer is first asked: ctx as handed to it, and the
	// writer's goroutine (see Registry.lock).
	authzCtx  context.Context
	goroutine uint64
}

// write runs fn in one write transaction and commits it when fn returns nil;
// otherwise nothing fn did is kept. It returns the storage cleanups the
// commit queued; the caller runs them after the lock is released.
func (r *Registry) write(ctx context.Context, reason string, fn func(w *writeTxn) error) ([]Cleanup, error) {
	principal, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	// The clock is user code: read it before taking any lock, so that a
	// clock that panics or calls the registry leaves nothing held.
	now, op, err := r.decide(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.lock(ctx); err != nil {
		return nil, err
	}
	defer r.mu.Unlock()
	now = r.stamp(now)
	st := r.state.Load()
	db := st.db
	txn := db.Txn(true)
	defer txn.Abort() // no-op after Commit; taken before anything may panic
	w := r.newWriteTxn(ctx, txn, now, principal, op, reason, st.tokens)
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
	r.setDB(db, w.tokens, len(w.events))
	r.events.publish(w.meta(), w.events)
	return w.cleanups, nil
}

// newWriteTxn wraps txn for one call: its context, recorded time,
// principal, operation ID and reason, and the tokens stored so far.
func (r *Registry) newWriteTxn(ctx context.Context, txn *memdb.Txn, now time.Time, principal, op, reason string, tokens int) *writeTxn {
	return &writeTxn{Txn: txn, r: r, ctx: ctx, now: now, principal: principal, op: op, reason: reason,
		cleaner: r.cleaner != nil, tokens: tokens}
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
	fqn      string // the artifact's FQN when built already, else empty
}

// replaceAll applies many changes, table by table and in key order within
// each table. Within one transaction the order of writes does not matter,
// but to go-immutable-radix it does: a write copies every node on its key's
// path unless an earlier write of the transaction copied it already, and it
// remembers only the last 8192 nodes it copied. Writes in key order share
// paths with their predecessors; writes in a large plan's own order (a tree
// walk) share almost none, and cost twice as much.
func (w *writeTxn) replaceAll(changes []change) error {
	return w.replaceAllDropping(changes, nil)
}

// replaceAllDropping is replaceAll for changes that delete, among others,
// every child of each parent in dropped: their containment rows go with
// one prefix delete per parent, which copies only the radix nodes on the
// path to the parent's subtree, instead of one delete per row, which
// copies each row's own node too. The caller vouches that every child of
// those parents is deleted by the same changes.
func (w *writeTxn) replaceAllDropping(changes []change, dropped map[string]bool) error {
	type op struct {
		key []byte
		obj any
		del bool
	}
	var ops [3][]op // artifacts, contains, trash, in that order
	ops[0] = make([]op, 0, len(changes))
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
			ops[1] = append(ops[1], op{append(appendIDKey(make([]byte, 0, 32), new.Parent), key...), &containsRow{Parent: new.Parent, Child: id}, false})
		case new == nil && old.Parent != "" && !dropped[old.Parent]:
			ops[1] = append(ops[1], op{append(appendIDKey(make([]byte, 0, 32), old.Parent), key...), &containsRow{Parent: old.Parent, Child: id}, true})
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
		if t == 0 {
			var err error
			if list, err = dropPureRuns(w, list, func(o op) ([]byte, bool) { return o.key, o.del }); err != nil {
				return err
			}
		}
		if t == 2 {
			var err error
			if list, err = dropTrashRuns(w, list, func(o op) ([]byte, bool) { return o.key, o.del }); err != nil {
				return err
			}
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
		if t == 1 && len(dropped) > 0 {
			// After the row writes: go-memdb's DeletePrefix reads the
			// index first, which makes later writes copy its nodes anew.
			parents := slices.Sorted(maps.Keys(dropped))
			for _, parent := range parents {
				if _, err := w.DeletePrefix(tableContains, indexID+prefix, string(idKey(parent))); err != nil {
					return fmt.Errorf("registry: children of %s: %w", parent, err)
				}
			}
		}
	}
	return nil
}

// minTrashRun is the fewest trash deletes of one deletion time for which
// dropTrashRuns counts the time's entries, hoping to drop them by prefix.
const minTrashRun = 16

// dropTrashRuns deletes by prefix the trash entries of each deletion time
// whose every entry list (sorted, deletes first) deletes, and returns list
// without those deletes. Every artifact one delete call soft deleted
// shares its deletion time, so restoring or purging what a call took is
// one prefix delete, which copies the radix nodes on the path to the
// time's subtree only, instead of one delete per entry, which copies each
// entry's own node too. The counts read the trash before any of list's
// writes (a read after a write would make go-memdb copy the written nodes
// anew).
func dropTrashRuns[T any](w *writeTxn, list []T, keyOf func(T) ([]byte, bool)) ([]T, error) {
	type run struct{ from, to int }
	var runs []run
	for i := 0; i < len(list); {
		k, del := keyOf(list[i])
		if !del {
			break // deletes come first
		}
		j := i + 1
		for ; j < len(list); j++ {
			kj, delj := keyOf(list[j])
			if !delj || !bytes.Equal(kj[:8], k[:8]) {
				break
			}
		}
		if j-i >= minTrashRun {
			it, err := w.Get(tableTrash, indexID+prefix, k[:8])
			if err != nil {
				return nil, fmt.Errorf("registry: trash scan: %w", err)
			}
			n := 0
			for o := it.Next(); o != nil && n <= j-i; o = it.Next() {
				n++
			}
			if n == j-i {
				runs = append(runs, run{i, j})
			}
		}
		i = j
	}
	if len(runs) == 0 {
		return list, nil
	}
	out := list[:0:0]
	next := 0
	for _, r := range runs {
		k, _ := keyOf(list[r.from])
		if _, err := w.DeletePrefix(tableTrash, indexID+prefix, string(k[:8])); err != nil {
			return nil, fmt.Errorf("registry: trash at %x: %w", k[:8], err)
		}
		out = append(out, list[next:r.from]...)
		next = r.to
	}
	return append(out, list[next:]...), nil
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

// errRollback ends a write transaction without committing it and without
// an error: a dry run.
var errRollback = errors.New("registry: rollback")
