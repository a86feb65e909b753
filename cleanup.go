package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/go-memdb"
)

// Cleaner removes a storage object (an S3 key, a file) once the artifact
// that owned it is gone. It runs after the hard delete has committed and
// outside the registry's lock, on the goroutine of the call that queued the
// URI (or of RetryCleanups), which waits for it. It may call the registry,
// reads and writes alike. It should be idempotent, since a URI whose
// cleanup failed is retried. An error or a panic leaves the URI pending,
// with the attempt counted and the error (or "cleaner panicked: ...") as
// LastError; the delete that queued it stands.
type Cleaner interface {
	Clean(ctx context.Context, uri string) error
}

// CleanerFunc adapts a function to Cleaner.
type CleanerFunc func(ctx context.Context, uri string) error

// Clean calls f.
func (f CleanerFunc) Clean(ctx context.Context, uri string) error { return f(ctx, uri) }

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

// runCleanups hands queued URIs to the cleaner and records the outcome:
// a cleaned URI leaves the pending table, a failed one stays with its
// attempt count and error. It must run without the registry lock. When the
// clock panics it cleans nothing and returns the error: the URIs stay
// pending as they were.
func (r *Registry) runCleanups(ctx context.Context, queued []Cleanup) (CleanupReport, error) {
	var rep CleanupReport
	if r.cleaner == nil || len(queued) == 0 {
		return rep, nil
	}
	now, err := r.now() // before any lock: see write
	if err != nil {
		return rep, err
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
	if err := r.lock(ctx); err != nil {
		return rep, err
	}
	defer r.mu.Unlock()
	st := r.state.Load()
	txn := st.db.Txn(true)
	defer txn.Abort()
	byBucket := map[uint16][]int{}
	for i, o := range results {
		b := uriBucketOf(o.uri)
		byBucket[b] = append(byBucket[b], i)
	}
	for _, b := range slices.Sorted(maps.Keys(byBucket)) {
		idx := byBucket[b]
		old := loadBucket(txn, b)
		if old == nil {
			continue // Reset or a concurrent retry already settled them
		}
		next := &uriBucket{Bucket: b, Refs: old.Refs, Pending: slices.Clone(old.Pending)}
		for _, i := range idx {
			o := results[i]
			k, queued := findPending(next.Pending, o.uri)
			if !queued {
				continue // reclaimed by a new reference, or settled already
			}
			if o.err == nil {
				next.Pending = slices.Delete(next.Pending, k, k+1)
				rep.Cleaned = append(rep.Cleaned, o.uri)
				continue
			}
			c := *next.Pending[k]
			c.Attempts++
			c.LastAttempt = now
			c.LastError = o.err.Error()
			next.Pending[k] = &c
			rep.Failed = append(rep.Failed, c)
		}
		var err error
		if len(next.Refs) == 0 && len(next.Pending) == 0 {
			err = txn.Delete(tableURIs, old)
		} else {
			err = txn.Insert(tableURIs, next)
		}
		if err != nil {
			return rep, nil // leave them pending, as they were
		}
	}
	slices.Sort(rep.Cleaned)
	slices.SortFunc(rep.Failed, compareCleanups)
	txn.Commit()
	r.setDB(st.db, st.tokens)
	return rep, nil
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
	out, err := pendingCleanups(r.snapshot())
	if out == nil && err == nil {
		out = []Cleanup{}
	}
	return out, err
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
	if err := r.refuseCallback(ctx); err != nil {
		return CleanupReport{}, err
	}
	if err := r.authorizeAction(ctx, principal, ActionAdmin, &record{}); err != nil {
		return CleanupReport{}, err
	}
	pending, err := r.PendingCleanups(ctx)
	if err != nil {
		return CleanupReport{}, err
	}
	return r.runCleanups(ctx, pending)
}

// carryCleanups fills the fresh database of a Reset: what from had pending,
// and every storage URI from's artifacts referenced, all pending now.
func carryCleanups(from, to *memdb.Txn, now time.Time, op string) ([]Cleanup, error) {
	it, err := from.Get(tableURIs, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: reset: %w", err)
	}
	var queued []Cleanup
	for o := it.Next(); o != nil; o = it.Next() {
		old := o.(*uriBucket)
		next := &uriBucket{Bucket: old.Bucket, Pending: slices.Clone(old.Pending)}
		for _, r := range old.Refs {
			k, queuedAlready := findPending(next.Pending, r.URI)
			if queuedAlready {
				continue
			}
			c := &Cleanup{URI: r.URI, ArtifactID: r.Owner, Operation: op, QueuedAt: now}
			next.Pending = slices.Insert(next.Pending, k, c)
			queued = append(queued, *c)
		}
		if err := to.Insert(tableURIs, next); err != nil {
			return nil, fmt.Errorf("registry: reset: %w", err)
		}
	}
	return queued, nil
}
