package registry

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
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
//
// Clean is only ever handed a URI that no artifact references: each URI is
// checked under the registry's lock right before its hand-off, and one that
// an artifact took back since it was queued is not handed over. The
// registry cannot take a URI back from a Clean already running: a URI
// referenced again while Clean works on it stays pending with ReclaimedBy
// naming the artifact and LastError "re-referenced by <id> while being
// cleaned (...); verify the object exists"; it is never handed over while
// referenced, and is queued afresh once its last reference goes.
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
	// ReclaimedBy is set when an artifact referenced the URI again while the
	// cleaner was working on it: the object may be gone although that
	// artifact uses it. Verify it (and upload it again if need be). Such a
	// cleanup stays listed, and is never handed to the cleaner, as long as an
	// artifact references the URI; when the last reference goes, the URI is
	// queued afresh and cleaned as any other.
	ReclaimedBy string `json:"reclaimedBy,omitempty"`
}

// runCleanups hands queued URIs to the cleaner and records the outcome:
// a cleaned URI leaves the pending table, a failed one stays with its
// attempt count and error. It must run without the registry lock. When the
// clock panics it cleans nothing and returns the error: the URIs stay
// pending as they were.
//
// Each URI is checked under the lock right before its hand-off (handOff):
// it is handed over only if it is still pending, no artifact references it
// and no other round is cleaning it. A URI an artifact references again
// while the cleaner works on it is put back as pending with ReclaimedBy set
// (see Cleanup), since the cleaner may have removed a live object. The
// outcomes are recorded by settle, as SettleCleanups records those of a
// cleaner run elsewhere.
func (r *Registry) runCleanups(ctx context.Context, queued []Cleanup) (CleanupReport, error) {
	var rep CleanupReport
	if r.cleaner == nil || len(queued) == 0 {
		return rep, nil
	}
	now, _, err := r.decide(ctx) // before any lock: see write
	if err != nil {
		return rep, err
	}
	results := make([]CleanupOutcome, 0, len(queued))
	defer func() {
		r.cleaning.Lock()
		defer r.cleaning.Unlock()
		for _, o := range results {
			delete(r.cleaning.busy, o.Cleanup.URI)
		}
	}()
	for _, c := range queued {
		claimed, held, err := r.handOff(ctx, c.URI)
		if err != nil {
			return rep, err
		}
		if held != nil {
			rep.Failed = append(rep.Failed, *held) // referenced again: reported, never cleaned
		}
		if claimed == nil {
			continue
		}
		o := CleanupOutcome{Cleanup: *claimed}
		if err := r.clean(ctx, c.URI); err != nil {
			o.Err = err.Error()
		}
		results = append(results, o)
	}
	if len(results) == 0 {
		slices.SortFunc(rep.Failed, compareCleanups)
		return rep, nil
	}
	if err := r.lock(ctx); err != nil {
		return rep, err
	}
	defer r.mu.Unlock()
	return r.settle(now, results, rep), nil
}

// CleanupOutcome is what cleaning one pending URI came to, as
// SettleCleanups records it.
type CleanupOutcome struct {
	// Cleanup is the pending entry handed to the cleaner, as listed. The
	// outcome settles that entry only (matched by URI and Operation), not a
	// newer one queued for the same URI meanwhile.
	Cleanup Cleanup `json:"cleanup"`
	// Err is the cleaner's error, "" when it removed the object.
	Err string `json:"err,omitempty"`
}

// SettleCleanups records the outcomes of cleaning done outside the
// registry (by a replicated node's leader, whose state machine has no
// cleaner), exactly as a round of the registry's own cleaner records
// them: a cleaned URI leaves the pending list, a failed one stays with its
// attempt counted and its error; an outcome whose URI is no longer pending
// under the same Operation (cleaned meanwhile, or referenced and queued
// again) is ignored; a URI referenced again since is kept pending with
// ReclaimedBy set (see Cleanup). The time recorded is the context's
// Decision, or the clock's. It asks no authorizer: it changes no artifact,
// and its caller is the program's own cleaner. An outcome without a URI or
// an Operation is ErrInvalid and nothing is recorded.
func (r *Registry) SettleCleanups(ctx context.Context, outcomes []CleanupOutcome) (CleanupReport, error) {
	if _, err := begin(ctx); err != nil {
		return CleanupReport{}, err
	}
	for i, o := range outcomes {
		if o.Cleanup.URI == "" || o.Cleanup.Operation == "" {
			return CleanupReport{}, invalid("outcomes", "outcome %d has no URI or no operation", i)
		}
	}
	now, _, err := r.decide(ctx)
	if err != nil {
		return CleanupReport{}, err
	}
	if err := r.lock(ctx); err != nil {
		return CleanupReport{}, err
	}
	defer r.mu.Unlock()
	return r.settle(now, outcomes, CleanupReport{}), nil
}

// settle records cleaning outcomes in one transaction, adding them to rep.
// It must be called with mu held.
func (r *Registry) settle(now time.Time, results []CleanupOutcome, rep CleanupReport) CleanupReport {
	now = r.stamp(now)
	st := r.state.Load()
	txn := st.db.Txn(true)
	defer txn.Abort()
	byBucket := map[uint16][]int{}
	for i, o := range results {
		b := uriBucketOf(o.Cleanup.URI)
		byBucket[b] = append(byBucket[b], i)
	}
	for _, b := range slices.Sorted(maps.Keys(byBucket)) {
		idx := byBucket[b]
		old := loadBucket(txn, b)
		if old == nil {
			continue // Reset settled them: nothing references or queues them
		}
		next := &uriBucket{Bucket: b, Refs: old.Refs, Pending: slices.Clone(old.Pending)}
		for _, i := range idx {
			o := results[i]
			k, queued := findPending(next.Pending, o.Cleanup.URI)
			if by := bucketOwners(next, o.Cleanup.URI); len(by) > 0 {
				// Referenced again while the cleaner worked on it: the
				// object may be gone under a live artifact. Say so.
				c := o.Cleanup
				c.Attempts++
				c.LastAttempt = now
				c.ReclaimedBy = by[0]
				what := "reported it removed"
				if o.Err != "" {
					what = "failed: " + o.Err
				}
				c.LastError = fmt.Sprintf("re-referenced by %s while being cleaned (the cleaner %s); verify the object exists",
					strings.Join(by, ", "), what)
				if queued {
					next.Pending[k] = &c
				} else {
					next.Pending = slices.Insert(next.Pending, k, &c)
				}
				rep.Failed = append(rep.Failed, c)
				continue
			}
			if !queued || next.Pending[k].Operation != o.Cleanup.Operation {
				// Referenced and released again meanwhile: the newer
				// entry waits for its own round (or a retry).
				continue
			}
			if o.Err == "" {
				next.Pending = slices.Delete(next.Pending, k, k+1)
				rep.Cleaned = append(rep.Cleaned, o.Cleanup.URI)
				continue
			}
			c := *next.Pending[k]
			c.Attempts++
			c.LastAttempt = now
			c.LastError = o.Err
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
			return rep // leave them pending, as they were
		}
	}
	slices.Sort(rep.Cleaned)
	slices.SortFunc(rep.Failed, compareCleanups)
	txn.Commit()
	r.setDB(st.db, st.tokens, 0)
	return rep
}

// PendingCleanup returns the pending cleanup of one storage URI, if there
// is one, as PendingCleanups lists it (with WithReadAuthorization it needs
// ActionAdmin). A cleaner run outside the registry checks it right before
// handing the URI over: a URI still pending, and not a reclaim warning
// (ReclaimedBy empty), is referenced by no artifact.
func (r *Registry) PendingCleanup(ctx context.Context, uri string) (Cleanup, bool, error) {
	principal, err := begin(ctx)
	if err != nil {
		return Cleanup{}, false, err
	}
	if r.authorizeReads {
		if err := r.authorizeAction(ctx, principal, ActionAdmin, &record{}); err != nil {
			return Cleanup{}, false, err
		}
	}
	bk := loadBucket(r.snapshot(), uriBucketOf(uri))
	if bk == nil {
		return Cleanup{}, false, nil
	}
	k, queued := findPending(bk.Pending, uri)
	if !queued {
		return Cleanup{}, false, nil
	}
	return *bk.Pending[k], true, nil
}

// handOff decides, under the registry's lock, whether uri may go to the
// cleaner now: it must be pending, referenced by no artifact, and not being
// cleaned by another round. It then marks it busy and returns its pending
// entry. A URI pending while referenced (a reclaim warning) comes back as
// held.
func (r *Registry) handOff(ctx context.Context, uri string) (claimed, held *Cleanup, err error) {
	if err := r.lock(ctx); err != nil {
		return nil, nil, err
	}
	defer r.mu.Unlock()
	bk := loadBucket(r.snapshot(), uriBucketOf(uri)) // the latest commit: writers commit under the lock
	if bk == nil {
		return nil, nil, nil
	}
	k, queued := findPending(bk.Pending, uri)
	if !queued {
		return nil, nil, nil // cleaned, or referenced again
	}
	if len(bucketOwners(bk, uri)) > 0 {
		return nil, bk.Pending[k], nil
	}
	r.cleaning.Lock()
	defer r.cleaning.Unlock()
	if r.cleaning.busy == nil {
		r.cleaning.busy = map[string]struct{}{}
	}
	if _, busy := r.cleaning.busy[uri]; busy {
		return nil, nil, nil
	}
	r.cleaning.busy[uri] = struct{}{}
	return bk.Pending[k], nil, nil
}

func (r *Registry) clean(ctx context.Context, uri string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cleaner panicked: %v", p)
		}
	}()
	return r.cleaner.Clean(ctx, uri)
}

// CleanupReport says what a round of cleaning did.
type CleanupReport struct {
	// Cleaned lists the URIs the cleaner removed.
	Cleaned []string `json:"cleaned"`
	// Failed lists the URIs still pending, with their attempt counts: those
	// the cleaner failed on, and reclaim warnings (ReclaimedBy).
	Failed []Cleanup `json:"failed"`
}

// PendingCleanups lists the storage URIs waiting to be cleaned, in URI
// order: those of hard deletes made without a cleaner, those whose
// cleaning failed, and reclaim warnings (ReclaimedBy set), which wait for
// their last reference to go.
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
// which were cleaned and which still fail. A reclaim warning (ReclaimedBy)
// is not handed over while an artifact references its URI; it is reported
// in Failed as it is. Without a cleaner it is ErrInvalid; called from
// inside an authorizer it is ErrInvalid too (see Authorizer).
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
			c := &Cleanup{URI: r.URI, ArtifactID: r.Owner, Operation: op, QueuedAt: now}
			switch {
			case !queuedAlready:
				next.Pending = slices.Insert(next.Pending, k, c)
			case next.Pending[k].ReclaimedBy != "":
				next.Pending[k] = c // its reference goes: an orphan again
			default:
				continue
			}
			queued = append(queued, *c)
		}
		if err := to.Insert(tableURIs, next); err != nil {
			return nil, fmt.Errorf("registry: reset: %w", err)
		}
	}
	return queued, nil
}
