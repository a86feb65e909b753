package registry

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit of registrations.
//
// Concurrent Register and RegisterBatch calls are applied together, the way
// LevelDB groups its writers: a call joins a queue; the call at its front
// takes the writer's lock and applies every call queued by then (up to
// maxGroup) in one go-memdb transaction, a group, in queue order, then wakes
// them and the next front; the others sleep until then. Within a group each
// call is checked, in order, against the store and the rows of the calls
// accepted before it (pendingRows), exactly as if those calls had committed
// alone, before anything is written; a refused call contributes nothing and
// gets its own error. The rows of the accepted calls are then written
// together, table by table in key order, and committed once: the calls
// share the transaction, the copies of the radix nodes their keys have in
// common, the commit and the publication of the new state. Readers see
// whole calls only (they see whole groups). Each call keeps its own time,
// operation ID, principal and events, published in group order.
//
// Only registrations are grouped. Other writes (deletes, restores, updates,
// links) read the rows the earlier calls of a group would write, and
// go-memdb resets a transaction's cache of copied nodes on every read of an
// index the transaction has modified, which would take back what a group
// saves; they keep a transaction each, serialized with the groups by the
// same lock.

// maxGroup bounds the calls applied in one transaction, so that a burst of
// writers does not make one of them hold the lock for long.
const maxGroup = 256

// registerCall is one Register or RegisterBatch call waiting to be applied.
type registerCall struct {
	ctx       context.Context
	principal string
	now       time.Time
	op        string
	rows      []*record
	assigned  []bool
	queued    bool // counted out of registerQueue.arriving
	// wake is signalled when the call is done or at the front of the
	// queue; nil for a call that joined an empty queue (it leads at once).
	wake chan struct{}

	// Set by the call that applied it, before wake is signalled.
	done     bool
	err      error
	panicked bool
	panicVal any
}

// registerQueue holds the calls waiting to be applied, oldest first; the
// first is the one applying a group or about to.
type registerQueue struct {
	mu      sync.Mutex
	pending []*registerCall
	// arriving counts the calls preparing their rows, not queued yet.
	arriving atomic.Int64
	// lastGroup is the size of the last group applied (under mu).
	lastGroup int
}

// registerGrouped applies c, alone or with the calls queued beside it, and
// returns its outcome; c's rows are prepared (prepareNew).
func (r *Registry) registerGrouped(ctx context.Context, c *registerCall) error {
	principal, err := begin(ctx)
	if err != nil {
		return err
	}
	// The clock is user code: read it before joining the queue.
	now, op, err := r.decide(ctx)
	if err != nil {
		return err
	}
	c.ctx, c.principal, c.now, c.op = ctx, principal, now, op
	// A write from inside an authorizer would wait for the group that is
	// asking the authorizer: refuse it (see lock).
	if ctx.Value(callbackKey{}) == r {
		return errFromCallback()
	}
	if g := r.authzG.Load(); g != 0 && g == goroutineID() {
		return errFromCallback()
	}
	q := &r.registers
	q.mu.Lock()
	if len(q.pending) > 0 {
		c.wake = make(chan struct{}, 1)
	}
	q.pending = append(q.pending, c)
	q.mu.Unlock()
	q.arriving.Add(-1)
	c.queued = true
	if c.wake != nil {
		<-c.wake
	}
	if !c.done {
		r.leadRegisters()
	}
	if c.panicked {
		panic(c.panicVal)
	}
	return c.err
}

// leadRegisters applies the group of calls queued from the front of the
// queue (the caller's own call) on, then wakes them and the next front.
func (r *Registry) leadRegisters() {
	q := &r.registers
	q.mu.Lock()
	alone := len(q.pending) == 1
	last := q.lastGroup
	q.mu.Unlock()
	if alone && (q.arriving.Load() > 0 || last > 1) {
		// Other calls are preparing their rows, or the writers of the last
		// group are about to call again: let them run and queue, so that
		// they join this group rather than wait for the next one. On a busy
		// processor they would otherwise run only once this call has
		// returned.
		runtime.Gosched()
	}
	q.mu.Lock()
	group := slices.Clone(q.pending[:min(len(q.pending), maxGroup)])
	q.mu.Unlock()
	r.mu.Lock()
	func() {
		defer r.mu.Unlock()
		r.applyRegisters(group)
	}()
	q.mu.Lock()
	q.lastGroup = len(group)
	clear(q.pending[:len(group)])
	q.pending = q.pending[len(group):]
	var next *registerCall
	if len(q.pending) > 0 {
		next = q.pending[0]
	} else {
		q.pending = nil
	}
	q.mu.Unlock()
	for _, c := range group[1:] {
		c.wake <- struct{}{}
	}
	if next != nil {
		next.wake <- struct{}{}
	}
}

// pendingRows are the rows of the calls of a group accepted so far, not
// written yet: what a later call of the group must see as stored.
type pendingRows struct {
	ids   map[string]*record
	names map[string]*record   // by name key
	uris  map[string][]*record // by storage URI
}

func (p *pendingRows) byID(id string) *record {
	if p == nil {
		return nil
	}
	return p.ids[id]
}

func (p *pendingRows) byName(key string) *record {
	if p == nil {
		return nil
	}
	return p.names[key]
}

// byURI returns a copy of the pending rows that reference uri.
func (p *pendingRows) byURI(uri string) []*record {
	if p == nil {
		return nil
	}
	return slices.Clone(p.uris[uri])
}

func (p *pendingRows) add(rows []*record) {
	if p.ids == nil {
		p.ids, p.names, p.uris = map[string]*record{}, map[string]*record{}, map[string][]*record{}
	}
	for _, a := range rows {
		p.ids[a.ID] = a
		p.names[a.key] = a
		for _, u := range a.uris() {
			p.uris[u] = append(p.uris[u], a)
		}
	}
}

// applyRegisters applies a group of calls in one transaction and marks
// each done with its outcome. Called with r.mu held.
func (r *Registry) applyRegisters(group []*registerCall) {
	if len(group) == 0 {
		return
	}
	// A panic that escapes (a bug) fails every call of the group not done
	// yet, in its own goroutine, and leaves the registry as it was.
	defer func() {
		if p := recover(); p != nil {
			for _, c := range group {
				if !c.done {
					c.done, c.err, c.panicked, c.panicVal = true, nil, true, p
				}
			}
		}
	}()
	if r.onGroup != nil {
		r.onGroup(group)
	}
	r.grouped.groups.Add(1)
	r.grouped.calls.Add(int64(len(group)))
	if n := int64(len(group)); n > r.grouped.largest.Load() {
		r.grouped.largest.Store(n) // under r.mu
	}
	st := r.state.Load()
	txn := st.db.Txn(true)
	defer txn.Abort() // no-op after Commit
	var pending pendingRows
	var accepted []*writeTxn
	var calls []*registerCall
	for _, c := range group {
		w := r.newWriteTxn(c.ctx, txn, r.stamp(c.now), c.principal, c.op, "", st.tokens)
		if !c.guard(func() error {
			if r.onCheck != nil {
				r.onCheck(c)
			}
			return w.checkNew(c.rows, c.assigned, &pending)
		}) {
			c.done = true
			continue
		}
		if len(group) > 1 {
			pending.add(c.rows)
		}
		accepted = append(accepted, w)
		calls = append(calls, c)
	}
	if len(accepted) == 0 {
		return
	}
	var changes []change
	for _, c := range calls {
		for _, a := range c.rows {
			changes = append(changes, change{new: a})
		}
	}
	last := accepted[len(accepted)-1]
	var werr error
	var wpanic any
	panicked := true
	func() {
		defer func() {
			if panicked {
				wpanic = recover()
			}
		}()
		werr = last.replaceAll(changes)
		if werr == nil {
			werr = last.expireTokens()
		}
		panicked = false
	}()
	if panicked || werr != nil {
		txn.Abort()
		if len(calls) == 1 {
			c := calls[0]
			c.done, c.err, c.panicked, c.panicVal = true, werr, panicked, wpanic
			return
		}
		// Should never happen: every check passed. Apply the calls one by
		// one, so that the failure is the failing call's alone.
		for _, c := range calls {
			r.applyRegisters([]*registerCall{c})
		}
		return
	}
	events := 0
	for i, w := range accepted {
		w.emitCreated(calls[i].rows)
		events += len(w.events)
	}
	txn.Commit()
	r.setDB(st.db, last.tokens, events)
	for i, w := range accepted {
		r.events.publish(w.meta(), w.events)
		calls[i].done = true
	}
}

// guard runs fn for c and records its outcome: an error or a panic fails
// c alone. It reports whether fn succeeded.
func (c *registerCall) guard(fn func() error) (ok bool) {
	panicked := true
	defer func() {
		if panicked {
			c.panicked, c.panicVal = true, recover()
		}
	}()
	c.err = fn()
	panicked = false
	return c.err == nil
}
