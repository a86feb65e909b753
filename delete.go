package registry

import (
	"context"
	"fmt"
	"slices"
)

// LineagePolicy says what a delete does about live artifacts, outside the
// set being deleted, that depend on the set through lineage. It applies to
// the deletes that can break lineage: hard deletes (which drop edges) and
// cascade deletes of versions. A plain soft delete keeps every edge and
// breaks nothing, so it leaves dependents alone under LineageRestrict, the
// default; LineageDetach or LineageCascade on a plain soft delete is
// ErrInvalid rather than an option silently ignored.
type LineagePolicy int

// Lineage policies. The names carry the Lineage prefix so that a call reads
// unambiguously next to DeleteOptions.Cascade, which takes other versions.
const (
	// LineageRestrict refuses to delete an artifact with live dependents
	// (HAS_DEPENDENTS, naming them). The default.
	LineageRestrict LineagePolicy = iota
	// LineageDetach deletes anyway. A hard delete drops the edges and lists
	// the deleted upstream in each dependent's DeletedUpstreams; a soft
	// cascade keeps the edges, as every soft delete does.
	LineageDetach
	// LineageCascade adds the dependents to the set, transitively, under the
	// same checks.
	LineageCascade
)

// The lineage policies' earlier names.
//
// Deprecated: Cascade read as one word with DeleteOptions.Cascade; use
// LineageRestrict, LineageDetach and LineageCascade.
const (
	Restrict = LineageRestrict
	Detach   = LineageDetach
	Cascade  = LineageCascade
)

// String names the policy as the docs do: restrict, detach, cascade.
func (p LineagePolicy) String() string {
	switch p {
	case LineageRestrict:
		return "restrict"
	case LineageDetach:
		return "detach"
	case LineageCascade:
		return "cascade"
	}
	return fmt.Sprintf("LineagePolicy(%d)", int(p))
}

// DefaultCascadeLimit is how many versions a cascade deletes at most, the
// target included, unless CascadeLimit says otherwise (ModelArts' limit).
const DefaultCascadeLimit = 20

// DeleteOptions are the options of Delete and DeleteByFQN; each is off by
// default.
type DeleteOptions struct {
	// Hard removes the artifact for good: row, index entries, lineage edges
	// and deployments. Otherwise the delete is soft and reversible by
	// Restore. A hard delete of a soft-deleted artifact makes it permanent.
	// Client tokens of earlier requests on it are kept (see ClientToken).
	Hard bool
	// Recursive deletes the containment subtree too, children first, in the
	// same mode. Without it an artifact with live children that the call
	// does not take otherwise (as cascaded versions or lineage dependents)
	// is ErrNotEmpty.
	Recursive bool
	// Cascade deletes the other versions of the same namespace and name too,
	// at most CascadeLimit in all: the target first, then the others newest
	// first; the rest are reported as Skipped.
	Cascade bool
	// CascadeLimit is 0 for DefaultCascadeLimit; it is ErrInvalid without
	// Cascade.
	CascadeLimit int
	// Lineage is the policy for live dependents of a hard or cascade delete
	// (see LineagePolicy); only LineageRestrict, the default, is valid on a
	// plain soft delete.
	Lineage LineagePolicy
	// Atomic fails the whole call, changing nothing, if any item fails.
	// Otherwise a multi-item delete deletes what it can and reports the rest.
	Atomic bool
	// DryRun computes the result and changes nothing. A ClientToken given
	// with it is checked for form but neither stored nor replayed, so that a
	// preview may carry the key its confirmed delete will use.
	DryRun bool
	// ClientToken (1–64 of [a-zA-Z0-9-]) makes the delete happen once: a
	// retry with the same token and request returns the first result
	// (Replayed) and changes nothing, for the token's whole lifetime
	// (WithTokenTTL), even if the artifact was hard deleted and its name
	// registered again meanwhile. The same token with another request is
	// ErrIdempotencyMismatch, naming each field that differs. The request is
	// the call, the target as given (ID or FQN), every option but DryRun and
	// ClientToken (CascadeLimit only with Cascade), and Reason. A token is
	// its principal's: another principal's same token is another token.
	ClientToken string
	// Reason is recorded on soft-deleted artifacts and in events. It is part
	// of the request a ClientToken remembers: a retry must give the same.
	Reason string
	// IfRevision, when not 0, makes the delete conditional: if the target's
	// revision is another, the call is ErrPreconditionFailed and changes
	// nothing. It is checked in the delete's own transaction, so that no
	// change can come between the check and the delete (HTTP's If-Match).
	// It names the target's revision only, so DeleteAllVersions refuses it;
	// it is not part of the request a ClientToken remembers (a retry of a
	// delete that happened is replayed whatever revision it gives).
	IfRevision int64
}

func (o *DeleteOptions) limit() int {
	if o.CascadeLimit == 0 {
		return DefaultCascadeLimit
	}
	return o.CascadeLimit
}

func (o *DeleteOptions) check() error {
	if o.CascadeLimit < 0 {
		return invalid("cascadeLimit", "cascade limit %d is negative; use 0 for the default of %d", o.CascadeLimit, DefaultCascadeLimit)
	}
	if o.CascadeLimit != 0 && !o.Cascade {
		return invalid("cascadeLimit", "cascade limit %d is set but Cascade is not; set Cascade to delete other versions, or leave the limit 0", o.CascadeLimit)
	}
	if o.Lineage < LineageRestrict || o.Lineage > LineageCascade {
		return invalid("lineage", "lineage policy %d is not LineageRestrict, LineageDetach or LineageCascade", int(o.Lineage))
	}
	if o.Lineage != LineageRestrict && !o.Hard && !o.Cascade {
		return invalid("lineage", "lineage policy %s applies to hard and cascade deletes only; a plain soft delete keeps every edge and leaves dependents alone (set Hard or Cascade, or leave the policy LineageRestrict)", o.Lineage)
	}
	if o.IfRevision < 0 {
		return invalid("ifRevision", "revision precondition %d is negative; revisions start at 1 (0 means no precondition)", o.IfRevision)
	}
	if err := checkToken(o.ClientToken); err != nil {
		return err
	}
	return checkText("reason", o.Reason, MaxReasonLength, false)
}

// DeleteOption is an option of Delete, DeleteByFQN and DeleteAllVersions:
// a DeleteOptions. Options apply in order; each sets the fields it gives a
// non-zero value, so one DeleteOptions literal says everything.
type DeleteOption interface{ applyDelete(*DeleteOptions) }

// applyDelete sets the fields o gives a non-zero value.
func (o DeleteOptions) applyDelete(to *DeleteOptions) {
	to.Hard = to.Hard || o.Hard
	to.Recursive = to.Recursive || o.Recursive
	to.Cascade = to.Cascade || o.Cascade
	to.Atomic = to.Atomic || o.Atomic
	to.DryRun = to.DryRun || o.DryRun
	if o.CascadeLimit != 0 {
		to.CascadeLimit = o.CascadeLimit
	}
	if o.Lineage != LineageRestrict {
		to.Lineage = o.Lineage
	}
	if o.ClientToken != "" {
		to.ClientToken = o.ClientToken
	}
	if o.Reason != "" {
		to.Reason = o.Reason
	}
	if o.IfRevision != 0 {
		to.IfRevision = o.IfRevision
	}
}

func deleteOptions(opts []DeleteOption) (DeleteOptions, error) {
	var o DeleteOptions
	for i, opt := range opts {
		if isNil(opt) {
			return o, invalid("options", "delete option %d is nil", i)
		}
		opt.applyDelete(&o)
	}
	return o, nil
}

// multi reports whether the request may take more than its target.
func (o *DeleteOptions) multi() bool {
	return o.Recursive || o.Cascade || (o.Lineage == LineageCascade && o.Hard)
}

// Result reports a delete item by item, in ModelArts' shape.
type Result struct {
	// Operation identifies the call; it is recorded on every artifact a soft
	// delete took and on every event.
	Operation string `json:"operation"`
	Hard      bool   `json:"hard"`
	DryRun    bool   `json:"dryRun,omitempty"`
	// Deleted lists the IDs deleted (or, in a dry run, that would be), in
	// the order applied: children before parents and, in a hard or cascade
	// delete (where lineage rules apply), dependents before what they depend
	// on.
	Deleted []string `json:"delete_success_list"`
	// DeletedItems is Deleted with each artifact's FQN and kind, one to one
	// and in the same order: after a hard delete the registry no longer
	// knows what an ID was.
	DeletedItems []Item `json:"deletedItems"`
	// Failed lists the items not deleted and why, in the same order.
	Failed []Failure `json:"delete_failed_list"`
	// Skipped lists versions past the cascade limit, not deleted and not
	// failed; SkipReason says why. SkippedItems is the same list with each
	// artifact's FQN and kind.
	Skipped      []string `json:"skipped,omitempty"`
	SkippedItems []Item   `json:"skippedItems,omitempty"`
	SkipReason   string   `json:"skipReason,omitempty"`
	// Detached lists artifacts that stay and lost an upstream to this hard
	// delete (see Artifact.DeletedUpstreams). DetachedItems is the same list
	// with each artifact's FQN and kind.
	Detached      []string `json:"detached,omitempty"`
	DetachedItems []Item   `json:"detachedItems,omitempty"`
	// Replayed is true when a client token returned the first call's result.
	Replayed bool `json:"replayed,omitempty"`
}

// Failure is one item a delete did not delete. An item fails either
// because it broke a rule itself, or because a child it would keep or a
// dependent it would strand failed; then Cause names that child or
// dependent and RootCause the item at the end of the chain of causes,
// which broke a rule itself (a deployed leaf under ancestors that are not
// empty). The message names both too, and never copies the cause's
// message, so that it stays short however deep the chain.
type Failure struct {
	ID string `json:"model_id"`
	// FQN and Kind say what the artifact is.
	FQN     string `json:"fullyQualifiedName"`
	Kind    Kind   `json:"kind"`
	Code    string `json:"error_code"`
	Message string `json:"error_message"`
	// Cause is the ID of the child or dependent whose failure made this
	// item fail; empty when the item broke a rule itself.
	Cause string `json:"cause,omitempty"`
	// RootCause and RootCode are the ID and the code of the item that broke
	// a rule at the end of the chain of causes (Cause's own RootCause, or
	// Cause itself); empty when the item broke a rule itself.
	RootCause string `json:"rootCause,omitempty"`
	RootCode  string `json:"rootCode,omitempty"`
}

// Item is one artifact a Result reports, as it was when the delete
// planned it: its ID, fully qualified name and kind.
type Item struct {
	ID   string `json:"id"`
	FQN  string `json:"fullyQualifiedName"`
	Kind Kind   `json:"kind"`
}

// Err returns the failure as an *Error, for errors.Is.
func (f Failure) Err() error { return &Error{Code: f.Code, ID: f.ID, Message: f.Message} }

func (r Result) clone() Result {
	r.Deleted = slices.Clone(r.Deleted)
	r.DeletedItems = slices.Clone(r.DeletedItems)
	r.Failed = slices.Clone(r.Failed)
	r.Skipped = slices.Clone(r.Skipped)
	r.SkippedItems = slices.Clone(r.SkippedItems)
	r.Detached = slices.Clone(r.Detached)
	r.DetachedItems = slices.Clone(r.DetachedItems)
	return r
}

// Delete deletes the artifact with the given ID, and with Recursive and
// Cascade what it contains and its other versions. Without options it is a
// soft delete. See DeleteOptions and the package documentation for the
// rules.
//
// A delete that targets one artifact returns that artifact's failure as the
// error. A delete of several returns a nil error and reports each item in
// the Result, unless Atomic, where any failure is the error and nothing
// changes. An unknown ID, or a soft delete of a soft-deleted artifact, is
// ErrNotFound.
func (r *Registry) Delete(ctx context.Context, id string, opts ...DeleteOption) (Result, error) {
	cid, err := checkID("id", id)
	if err != nil {
		return Result{}, err
	}
	return r.delete(ctx, target{id: cid}, opts)
}

// DeleteByFQN is Delete for the artifact with the given fully qualified name.
func (r *Registry) DeleteByFQN(ctx context.Context, fqn string, opts ...DeleteOption) (Result, error) {
	ns, name, version, err := ParseFQN(fqn)
	if err != nil {
		return Result{}, err
	}
	return r.delete(ctx, target{fqn: fqn, ns: ns, name: name, version: version}, opts)
}

// DeleteAllVersions deletes every version of namespace/name: a cascade
// (DeleteOptions.Cascade is implied) whose target is the newest version the
// delete can take (the newest live one for a soft delete, the newest of all
// for a hard one, in natural version order), at most CascadeLimit versions
// (default 20) with the rest reported as Skipped, as Delete with Cascade
// does. When no version exists, or a soft delete finds every version soft
// deleted already, it is ErrNotFound. A ClientToken makes the whole call
// happen once: a retry returns the first result, whatever versions were
// registered meanwhile.
func (r *Registry) DeleteAllVersions(ctx context.Context, namespace, name string, opts ...DeleteOption) (Result, error) {
	if err := checkName("namespace", namespace); err != nil {
		return Result{}, err
	}
	if err := checkName("name", name); err != nil {
		return Result{}, err
	}
	return r.delete(ctx, target{ns: namespace, name: name, all: true}, append(opts, DeleteOptions{Cascade: true}))
}

// target is an artifact named by ID or by FQN, or (all) the versions of a
// name.
type target struct {
	id, fqn, ns, name, version string
	all                        bool
}

func (t target) String() string {
	switch {
	case t.all:
		return "every version of " + BuildFQN(t.ns, t.name, "")
	case t.fqn != "":
		return t.fqn
	}
	return t.id
}

// resolve finds the target row in any state; for every version of a name,
// the newest that a delete (hard or soft) can take.
func (t target) resolve(w *writeTxn, hard bool) (*record, *Error) {
	var a *record
	switch {
	case t.all:
		vs, err := versionsOf(w.Txn, t.ns, t.name)
		if err != nil {
			return nil, newError(CodeInvalid, "", "%v", err)
		}
		vs = slices.DeleteFunc(vs, w.hidden)
		for _, v := range vs {
			if hard || !v.isDeleted() {
				return v, nil
			}
		}
		if len(vs) > 0 {
			return nil, newError(CodeNotFound, "", "every version of %s is soft deleted already; restore one, or hard delete them to make the delete permanent", BuildFQN(t.ns, t.name, ""))
		}
	case t.fqn != "":
		a = rowByName(w.Txn, t.ns, t.name, t.version)
	default:
		a = row(w.Txn, t.id)
	}
	if a == nil || w.hidden(a) {
		if t.all {
			return nil, newError(CodeNotFound, "", "no version of %s exists", BuildFQN(t.ns, t.name, ""))
		}
		return nil, newError(CodeNotFound, t.id, "artifact %s does not exist", t)
	}
	return a, nil
}

func (r *Registry) delete(ctx context.Context, t target, opts []DeleteOption) (Result, error) {
	o, err := deleteOptions(opts)
	if err != nil {
		return Result{}, err
	}
	if err := o.check(); err != nil {
		return Result{}, err
	}
	if t.all && o.IfRevision != 0 {
		return Result{}, invalid("ifRevision", "a revision precondition names one artifact's revision; a delete of every version of %s has no single target (delete a version by ID or FQN)", BuildFQN(t.ns, t.name, ""))
	}
	req := deleteRequest(t, &o, PrincipalFrom(ctx))
	var res Result
	cleanups, err := r.write(ctx, o.Reason, func(w *writeTxn) error {
		if !o.DryRun {
			tr, err := w.replay(o.ClientToken, req)
			if err != nil {
				return err
			}
			if tr != nil {
				res = tr.Result.clone()
				res.Replayed = true
				return nil
			}
		}
		a, nf := t.resolve(w, o.Hard)
		if nf != nil {
			return nf
		}
		if o.IfRevision != 0 && a.Revision != o.IfRevision {
			return stale(a, o.IfRevision)
		}
		if a.isDeleted() && !o.Hard {
			return newError(CodeNotFound, a.ID, "artifact %s (%s) is already soft deleted; restore it, or hard delete it to make the delete permanent", a.ID, a.FQN())
		}
		p := newPlanner(w, o)
		if err := p.build([]*record{a}); err != nil {
			return err
		}
		if fail := p.failure(o.multi()); fail != nil && (o.Atomic || !o.multi()) {
			res = p.result(false)
			return fail
		}
		res = p.result(true)
		if o.DryRun {
			return errRollback
		}
		if err := p.apply(); err != nil {
			return err
		}
		// A call that changed nothing does not bind its token: the caller
		// may fix the cause and retry with it.
		if o.ClientToken != "" && len(res.Deleted) > 0 {
			kept := res.clone()
			return w.remember(&tokenRow{Token: o.ClientToken, Request: req, Target: a.ID, Result: &kept})
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	r.runCleanups(ctx, cleanups)
	return res, nil
}
