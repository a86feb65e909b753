package registry

import (
	"context"
	"fmt"
	"time"
)

// PurgeOptions are the options of Purge.
type PurgeOptions struct {
	// Lineage is the policy for live dependents of what is purged; the
	// default, LineageRestrict, keeps a soft-deleted artifact that live artifacts
	// still depend on.
	Lineage LineagePolicy
	// DryRun reports what would be purged and changes nothing.
	DryRun bool
	// Reason is recorded in the events; "purge" when empty.
	Reason string
}

// PurgeOption is an option of Purge: a PurgeOptions. Options apply in
// order; each sets the fields it gives a non-zero value.
type PurgeOption interface{ applyPurge(*PurgeOptions) }

func (o PurgeOptions) applyPurge(to *PurgeOptions) {
	if o.Lineage != LineageRestrict {
		to.Lineage = o.Lineage
	}
	to.DryRun = to.DryRun || o.DryRun
	if o.Reason != "" {
		to.Reason = o.Reason
	}
}

// Purge hard deletes the soft-deleted artifacts that were deleted at least
// olderThan ago, oldest first, through the same planner and checks as any
// hard delete (authorization, lineage, purge protection), with their
// subtrees, and reports each item. It finds them through the deletion-time
// index, never by scanning live artifacts.
func (r *Registry) Purge(ctx context.Context, olderThan time.Duration, opts ...PurgeOption) (Result, error) {
	if olderThan < 0 {
		return Result{}, invalid("olderThan", "age %v is negative", olderThan)
	}
	var po PurgeOptions
	for i, opt := range opts {
		if isNil(opt) {
			return Result{}, invalid("options", "purge option %d is nil", i)
		}
		opt.applyPurge(&po)
	}
	if po.Reason == "" {
		po.Reason = "purge"
	}
	o := DeleteOptions{Hard: true, Recursive: true, Lineage: po.Lineage, DryRun: po.DryRun, Reason: po.Reason}
	if err := o.check(); err != nil {
		return Result{}, err
	}
	var res Result
	cleanups, err := r.write(ctx, o.Reason, func(w *writeTxn) error {
		roots, err := w.purgeable(w.now.Add(-olderThan))
		if err != nil {
			return err
		}
		p := newPlanner(w, o)
		if err := p.build(roots); err != nil {
			return err
		}
		res = p.result(true)
		if o.DryRun {
			return errRollback
		}
		return p.apply()
	})
	if err != nil {
		return Result{}, err
	}
	r.runCleanups(ctx, cleanups)
	return res, nil
}

// purgeable returns the soft-deleted artifacts deleted at or before cutoff
// whose parent is not one of them, oldest first. The descendants of a
// soft-deleted artifact were deleted with it or before it, so each root's
// subtree is purgeable too.
func (w *writeTxn) purgeable(cutoff time.Time) ([]*record, error) {
	it, err := w.Get(tableTrash, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: purge scan: %w", err)
	}
	var old []*record
	in := map[string]bool{}
	for o := it.Next(); o != nil; o = it.Next() {
		t := o.(*trashRow)
		if t.At.After(cutoff) {
			break
		}
		a := row(w.Txn, t.ID)
		if a == nil {
			return nil, fmt.Errorf("registry: trash lists %s, which is not stored", t.ID)
		}
		if w.hidden(a) {
			continue // another principal's trash: not this one's to purge
		}
		old = append(old, a)
		in[a.ID] = true
	}
	roots := old[:0:0]
	for _, a := range old {
		if !in[a.Parent] {
			roots = append(roots, a)
		}
	}
	return roots, nil
}
