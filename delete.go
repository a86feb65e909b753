package registry

import (
	"context"
	"fmt"
	"slices"
)

// LineagePolicy says what a hard or cascade delete does about live
// artifacts, outside the set being deleted, that depend on the set through
// lineage. A plain soft delete keeps every edge and leaves dependents alone,
// whatever the policy.
type LineagePolicy int

// Lineage policies.
const (
	// Restrict refuses to delete an artifact with live dependents
	// (HAS_DEPENDENTS, naming them). The default.
	Restrict LineagePolicy = iota
	// Detach deletes anyway. A hard delete drops the edges and lists the
	// deleted upstream in each dependent's DeletedUpstreams; a soft cascade
	// keeps the edges, as every soft delete does.
	Detach
	// Cascade adds the dependents to the set, transitively, under the same
	// checks.
	Cascade
)

// String names the policy as the docs do: restrict, detach, cascade.
func (p LineagePolicy) String() string {
	switch p {
	case Restrict:
		return "restrict"
	case Detach:
		return "detach"
	case Cascade:
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
	// Hard removes the artifact for good: row, index entries, lineage edges,
	// tokens and deployments. Otherwise the delete is soft and reversible by
	// Restore. A hard delete of a soft-deleted artifact makes it permanent.
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
	// CascadeLimit is 0 for DefaultCascadeLimit; it is ignored without
	// Cascade.
	CascadeLimit int
	// Lineage is the policy for live dependents of a hard or cascade delete.
	Lineage LineagePolicy
	// Atomic fails the whole call, changing nothing, if any item fails.
	// Otherwise a multi-item delete deletes what it can and reports the rest.
	Atomic bool
	// DryRun computes the result and changes nothing.
	DryRun bool
	// ClientToken (1–64 of [a-zA-Z0-9-]) makes the delete happen once: a
	// retry with the same token and request returns the first result.
	ClientToken string
	// Reason is recorded on soft-deleted artifacts and in events.
	Reason string
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
	if o.Lineage < Restrict || o.Lineage > Cascade {
		return invalid("lineage", "lineage policy %d is not Restrict, Detach or Cascade", int(o.Lineage))
	}
	if err := checkToken(o.ClientToken); err != nil {
		return err
	}
	return checkText("reason", o.Reason, MaxReasonLength, false)
}

// multi reports whether the request may take more than its target.
func (o *DeleteOptions) multi() bool {
	return o.Recursive || o.Cascade || (o.Lineage == Cascade && o.Hard)
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
// Cascade what it contains and its other versions. See DeleteOptions and
// the package documentation for the rules.
//
// A delete that targets one artifact returns that artifact's failure as the
// error. A delete of several returns a nil error and reports each item in
// the Result, unless Atomic, where any failure is the error and nothing
// changes. An unknown ID, or a soft delete of a soft-deleted artifact, is
// ErrNotFound.
func (r *Registry) Delete(ctx context.Context, id string, o DeleteOptions) (Result, error) {
	cid, err := checkID("id", id)
	if err != nil {
		return Result{}, err
	}
	return r.delete(ctx, target{id: cid}, o)
}

// DeleteByFQN is Delete for the artifact with the given fully qualified name.
func (r *Registry) DeleteByFQN(ctx context.Context, fqn string, o DeleteOptions) (Result, error) {
	ns, name, version, err := ParseFQN(fqn)
	if err != nil {
		return Result{}, err
	}
	return r.delete(ctx, target{fqn: fqn, ns: ns, name: name, version: version}, o)
}

// target is an artifact named by ID or by FQN.
type target struct{ id, fqn, ns, name, version string }

func (t target) String() string {
	if t.fqn != "" {
		return t.fqn
	}
	return t.id
}

// resolve finds the target row in any state.
func (t target) resolve(w *writeTxn) (*record, *Error) {
	var a *record
	if t.fqn != "" {
		a = rowByName(w.Txn, t.ns, t.name, t.version)
	} else {
		a = row(w.Txn, t.id)
	}
	if a == nil {
		return nil, newError(CodeNotFound, t.id, "artifact %s does not exist", t)
	}
	return a, nil
}

func (r *Registry) delete(ctx context.Context, t target, o DeleteOptions) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	limit := 0
	if o.Cascade {
		limit = o.limit()
	}
	request := fmt.Sprintf("delete %s hard=%t recursive=%t cascade=%t limit=%d lineage=%s atomic=%t",
		t, o.Hard, o.Recursive, o.Cascade, limit, o.Lineage, o.Atomic)
	fp := fingerprint(request, o.Reason, PrincipalFrom(ctx))
	var res Result
	cleanups, err := r.write(ctx, o.Reason, func(w *writeTxn) error {
		if !o.DryRun {
			tr, err := w.replay(o.ClientToken, fp, request)
			if err != nil {
				return err
			}
			if tr != nil {
				res = tr.Result.clone()
				res.Replayed = true
				return nil
			}
		}
		a, nf := t.resolve(w)
		if nf != nil {
			return nf
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
			return w.remember(&tokenRow{Token: o.ClientToken, Fingerprint: fp, Request: request, Target: a.ID, Result: res.clone()})
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	r.runCleanups(ctx, cleanups)
	return res, nil
}
