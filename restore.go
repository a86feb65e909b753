package registry

import (
	"context"
)

// RestoreOptions are the options of Restore and RestoreByFQN.
type RestoreOptions struct {
	// ClientToken makes the restore happen once, as for Delete: a retry
	// with the same token, target and reason returns the first call's
	// artifact and changes nothing, for the token's whole lifetime, whatever
	// happened to the artifact since.
	ClientToken string
	// Reason is recorded in the events. It is part of the request a
	// ClientToken remembers.
	Reason string
}

// RestoreOption is an option of Restore and RestoreByFQN: a RestoreOptions.
// Options apply in order; each sets the fields it gives a non-zero value.
type RestoreOption interface{ applyRestore(*RestoreOptions) }

func (o RestoreOptions) applyRestore(to *RestoreOptions) {
	if o.ClientToken != "" {
		to.ClientToken = o.ClientToken
	}
	if o.Reason != "" {
		to.Reason = o.Reason
	}
}

// Restore brings back a soft-deleted artifact and the descendants that the
// same delete operation took, and only those: a child deleted on its own
// before stays deleted. It is one transaction. A live artifact is
// ErrNotDeleted; an unknown or hard-deleted one ErrNotFound; one whose
// parent is still soft deleted ErrParentDeleted (restore the parent first).
func (r *Registry) Restore(ctx context.Context, id string, opts ...RestoreOption) (Artifact, error) {
	cid, err := checkID("id", id)
	if err != nil {
		return Artifact{}, err
	}
	return r.restore(ctx, target{id: cid}, opts)
}

// RestoreByFQN is Restore for the artifact with the given fully qualified
// name.
func (r *Registry) RestoreByFQN(ctx context.Context, fqn string, opts ...RestoreOption) (Artifact, error) {
	ns, name, version, err := ParseFQN(fqn)
	if err != nil {
		return Artifact{}, err
	}
	return r.restore(ctx, target{fqn: fqn, ns: ns, name: name, version: version}, opts)
}

// restoreOptions applies opts in order and checks the result.
func restoreOptions(opts []RestoreOption) (RestoreOptions, error) {
	var o RestoreOptions
	for i, opt := range opts {
		if isNil(opt) {
			return o, invalid("options", "restore option %d is nil", i)
		}
		opt.applyRestore(&o)
	}
	if err := checkToken(o.ClientToken); err != nil {
		return o, err
	}
	if err := checkText("reason", o.Reason, MaxReasonLength, false); err != nil {
		return o, err
	}
	return o, nil
}

func (r *Registry) restore(ctx context.Context, t target, opts []RestoreOption) (Artifact, error) {
	o, err := restoreOptions(opts)
	if err != nil {
		return Artifact{}, err
	}
	req := restoreRequest(t, &o, PrincipalFrom(ctx))
	var out Artifact
	_, err = r.write(ctx, o.Reason, func(w *writeTxn) error {
		tr, err := w.replay(o.ClientToken, req)
		if err != nil {
			return err
		}
		if tr != nil {
			out = tr.Restored.artifact()
			return nil
		}
		a, nf := t.resolve(w, false)
		if nf != nil {
			return nf
		}
		if !a.isDeleted() {
			return newError(CodeNotDeleted, a.ID, "artifact %s (%s) is not deleted; there is nothing to restore", a.ID, a.FQN())
		}
		if a.Parent != "" {
			if p := row(w.Txn, a.Parent); p != nil && p.isDeleted() && w.hidden(p) {
				return newError(CodeForbidden, a.ID, "cannot restore %s (%s): its parent is an artifact %s may not read; ask its owner",
					a.ID, a.FQN(), w.principal)
			} else if p != nil && p.isDeleted() {
				return newError(CodeParentDeleted, a.ID, "cannot restore %s (%s): its parent %s (%s) is still soft deleted; restore the parent first",
					a.ID, a.FQN(), p.ID, p.FQN())
			}
		}
		set, err := w.sameOperation(a)
		if err != nil {
			return err
		}
		for _, x := range set {
			if err := w.authorize(ActionRestore, x); err != nil {
				return err
			}
		}
		changes := make([]change, len(set))
		for i, x := range set {
			c := w.touch(x)
			c.del = nil
			changes[i] = change{old: x, new: c}
			w.emit(EventRestored, c)
		}
		if err := w.replaceAll(changes); err != nil {
			return err
		}
		restored := changes[0].new
		out = w.r.view(w.ctx, w.principal, w.Txn, restored)
		if o.ClientToken != "" {
			return w.remember(&tokenRow{Token: o.ClientToken, Request: req, Target: a.ID, Restored: restored})
		}
		return nil
	})
	if err != nil {
		return Artifact{}, err
	}
	return out, nil
}

// sameOperation returns a and, breadth first, its descendants that the
// delete operation which took a took too. A child deleted by another
// operation is left out with its whole subtree: whatever is below it was
// deleted with it or before it.
func (w *writeTxn) sameOperation(a *record) ([]*record, error) {
	// Level by level (the order of a first-in first-out queue), each
	// level's children read in one pass (childrenOf).
	set := []*record{a}
	for from := 0; from < len(set); {
		level := set[from:]
		kidsOf := func(i int) []*record { return nil }
		if len(level) == 1 {
			kids, err := children(w.Txn, level[0].ID)
			if err != nil {
				return nil, err
			}
			kidsOf = func(int) []*record { return kids }
		} else {
			ids := make([]string, len(level))
			for i, x := range level {
				ids[i] = x.ID
			}
			kids, err := childrenOf(w.Txn, ids)
			if err != nil {
				return nil, err
			}
			kidsOf = func(i int) []*record { return kids[i] }
		}
		for i := range level {
			for _, c := range kidsOf(i) {
				if c.isDeleted() && c.del.Operation == a.del.Operation {
					set = append(set, c)
				}
			}
			if (from+i)%4096 == 4095 {
				if err := w.ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
		from += len(level)
	}
	return set, nil
}
