package registry

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-memdb"
)

// Cleaner removes a storage object (an S3 key, a file) once the artifact
// that owned it is gone. It runs after the hard delete has committed and
// outside the registry's lock; it should be idempotent, since a URI whose
// cleanup failed is retried.
type Cleaner interface {
	Clean(ctx context.Context, uri string) error
}

// CleanerFunc adapts a function to Cleaner.
type CleanerFunc func(ctx context.Context, uri string) error

// Clean calls f.
func (f CleanerFunc) Clean(ctx context.Context, uri string) error { return f(ctx, uri) }

// WithCleaner hands the storage URIs of hard-deleted artifacts to c.
func WithCleaner(c Cleaner) Option {
	return func(r *Registry) error {
		if isNil(c) {
			return invalid("cleaner", "cleaner is nil")
		}
		r.cleaner = c
		return nil
	}
}

// Cleanup is a storage URI whose artifact is gone and whose object has not
// been cleaned yet.
type Cleanup struct {
	URI string `json:"uri"`
	// ArtifactID is the hard-deleted artifact that owned the URI.
	ArtifactID string    `json:"artifactId"`
	Operation  string    `json:"operation"`
	QueuedAt   time.Time `json:"queuedAt"`
	Attempts   int       `json:"attempts"`
	// LastAttempt and LastError describe the latest failed attempt.
	LastAttempt time.Time `json:"lastAttempt,omitzero"`
	LastError   string    `json:"lastError,omitempty"`
}

// queueCleanups records, in the write transaction, the storage URIs that
// lost their owner: each goes to the pending-cleanup table unless another
// artifact still references it. Call it after the owner's change is stored,
// so that the reference check sees it.
func (w *writeTxn) queueCleanups(owner string, uris []string) error {
	var orphans []*Cleanup
	for _, u := range uris {
		if !referenced(w.Txn, u) {
			orphans = append(orphans, &Cleanup{URI: u, ArtifactID: owner})
		}
	}
	return w.queue(orphans)
}

// orphans returns the storage URIs of the records a hard delete is about to
// remove that no artifact outside gone references. Call it before the
// delete writes anything, so that its reads do not make go-memdb copy the
// URI index again.
func (w *writeTxn) orphans(gone map[string]bool, rows []*record) ([]*Cleanup, error) {
	var out []*Cleanup
	seen := map[string]bool{}
	for _, a := range rows {
		for _, u := range a.uris() {
			if seen[u] {
				continue
			}
			seen[u] = true
			kept := false
			for _, o := range owners(w.Txn, u) {
				kept = kept || !gone[o]
			}
			if !kept {
				out = append(out, &Cleanup{URI: u, ArtifactID: a.ID})
			}
		}
	}
	return out, nil
}

// queue adds orphaned URIs to the pending-cleanup table, skipping those
// queued already, and remembers them for the cleaner.
func (w *writeTxn) queue(orphans []*Cleanup) error {
	if len(orphans) == 0 {
		return nil
	}
	o, _ := w.First(tableCleanups, indexID)
	queueEmpty := o == nil
	fresh := orphans[:0]
	for _, c := range orphans {
		if !queueEmpty {
			if o, _ := w.First(tableCleanups, indexID, []byte(c.URI)); o != nil {
				continue // already queued
			}
		}
		c.Operation, c.QueuedAt = w.op, w.now
		fresh = append(fresh, c)
	}
	// In key order, for the reason replaceAll gives.
	slices.SortFunc(fresh, func(a, b *Cleanup) int { return strings.Compare(a.URI, b.URI) })
	for _, c := range fresh {
		if err := w.Insert(tableCleanups, c); err != nil {
			return fmt.Errorf("registry: queue cleanup: %w", err)
		}
		w.cleanups = append(w.cleanups, *c)
	}
	return nil
}

// reclaimURIs takes the storage URIs of new or updated artifacts off the
// pending-cleanup queue: an object that is owned again is no longer an
// orphan. (A cleaner already running for such a URI cannot be called back;
// do not reuse a URI while its cleanup is in flight.)
func (w *writeTxn) reclaimURIs(rows []*record) error {
	if o, _ := w.First(tableCleanups, indexID); o == nil {
		return nil // nothing pending
	}
	for _, a := range rows {
		for _, u := range a.uris() {
			o, err := w.First(tableCleanups, indexID, []byte(u))
			if err != nil {
				return fmt.Errorf("registry: cleanup lookup: %w", err)
			}
			if o == nil {
				continue
			}
			if err := w.Delete(tableCleanups, o); err != nil {
				return fmt.Errorf("registry: reclaim %s: %w", u, err)
			}
		}
	}
	return nil
}

// runCleanups hands queued URIs to the cleaner and records the outcome:
// a cleaned URI leaves the pending table, a failed one stays with its
// attempt count and error. It must run without the registry lock.
func (r *Registry) runCleanups(ctx context.Context, queued []Cleanup) CleanupReport {
	var rep CleanupReport
	if r.cleaner == nil || len(queued) == 0 {
		return rep
	}
	mine := r.claim(queued)
	defer r.release(mine)
	type outcome struct {
		uri string
		err error
	}
	results := make([]outcome, 0, len(mine))
	for _, c := range mine {
		results = append(results, outcome{c.URI, r.clean(ctx, c.URI)})
	}
	now := r.clock.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state.Load()
	txn := st.db.Txn(true)
	defer txn.Abort()
	for _, o := range results {
		cur, _ := txn.First(tableCleanups, indexID, []byte(o.uri))
		if cur == nil {
			continue // Reset or a concurrent retry already settled it
		}
		if o.err == nil {
			if err := txn.Delete(tableCleanups, cur); err != nil {
				continue
			}
			rep.Cleaned = append(rep.Cleaned, o.uri)
			continue
		}
		c := *cur.(*Cleanup)
		c.Attempts++
		c.LastAttempt = now
		c.LastError = o.err.Error()
		if err := txn.Insert(tableCleanups, &c); err == nil {
			rep.Failed = append(rep.Failed, c)
		}
	}
	txn.Commit()
	r.setDB(st.db, st.tokens)
	return rep
}

func (r *Registry) clean(ctx context.Context, uri string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cleaner panicked: %v", p)
		}
	}()
	return r.cleaner.Clean(ctx, uri)
}

// claim takes the URIs no other goroutine is cleaning right now.
func (r *Registry) claim(queued []Cleanup) []Cleanup {
	r.cleaning.Lock()
	defer r.cleaning.Unlock()
	if r.cleaning.busy == nil {
		r.cleaning.busy = map[string]struct{}{}
	}
	var mine []Cleanup
	for _, c := range queued {
		if _, ok := r.cleaning.busy[c.URI]; !ok {
			r.cleaning.busy[c.URI] = struct{}{}
			mine = append(mine, c)
		}
	}
	return mine
}

func (r *Registry) release(mine []Cleanup) {
	r.cleaning.Lock()
	defer r.cleaning.Unlock()
	for _, c := range mine {
		delete(r.cleaning.busy, c.URI)
	}
}

// CleanupReport says what a round of cleaning did.
type CleanupReport struct {
	// Cleaned lists the URIs the cleaner removed.
	Cleaned []string `json:"cleaned"`
	// Failed lists the URIs still pending, with their attempt counts.
	Failed []Cleanup `json:"failed"`
}

// PendingCleanups lists the storage URIs waiting to be cleaned, in URI
// order: those of hard deletes made without a cleaner and those whose
// cleaning failed.
func (r *Registry) PendingCleanups(ctx context.Context) ([]Cleanup, error) {
	principal, err := begin(ctx)
	if err != nil {
		return nil, err
	}
	if r.authorizeReads {
		if err := r.authorizeAction(ctx, principal, ActionAdmin, &record{}); err != nil {
			return nil, err
		}
	}
	it, err := r.snapshot().Get(tableCleanups, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: pending cleanups: %w", err)
	}
	var out []Cleanup
	for o := it.Next(); o != nil; o = it.Next() {
		out = append(out, *o.(*Cleanup))
	}
	return out, nil
}

// RetryCleanups hands every pending URI to the cleaner again and reports
// which were cleaned and which still fail. Without a cleaner it is
// ErrInvalid.
func (r *Registry) RetryCleanups(ctx context.Context) (CleanupReport, error) {
	if r.cleaner == nil {
		return CleanupReport{}, invalid("cleaner", "no cleaner is configured; pass WithCleaner to New")
	}
	principal, err := begin(ctx)
	if err != nil {
		return CleanupReport{}, err
	}
	if err := r.authorizeAction(ctx, principal, ActionAdmin, &record{}); err != nil {
		return CleanupReport{}, err
	}
	pending, err := r.PendingCleanups(ctx)
	if err != nil {
		return CleanupReport{}, err
	}
	return r.runCleanups(ctx, pending), nil
}

// carryCleanups fills the fresh database of a Reset: the pending-cleanup
// queue of from, plus the storage URIs of every artifact from holds.
func carryCleanups(from, to *memdb.Txn, now time.Time, op string) ([]Cleanup, error) {
	it, err := from.Get(tableCleanups, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: reset: %w", err)
	}
	for o := it.Next(); o != nil; o = it.Next() {
		if err := to.Insert(tableCleanups, o); err != nil {
			return nil, fmt.Errorf("registry: reset: %w", err)
		}
	}
	refs, err := allRefs(from)
	if err != nil {
		return nil, err
	}
	var queued []Cleanup
	for _, u := range refs {
		if c, _ := to.First(tableCleanups, indexID, []byte(u.URI)); c != nil {
			continue
		}
		c := &Cleanup{URI: u.URI, ArtifactID: u.Owner, Operation: op, QueuedAt: now}
		if err := to.Insert(tableCleanups, c); err != nil {
			return nil, fmt.Errorf("registry: reset: %w", err)
		}
		queued = append(queued, *c)
	}
	return queued, nil
}
