package registry

import (
	"context"
	"fmt"
	"slices"
)

// RestoreOperation brings back everything one delete call soft deleted
// (Result.Operation, Artifact.DeleteOperation) that is still soft deleted by
// it: every version of a cascade, every subtree of a recursive delete, every
// dependent of a lineage cascade. It is one transaction, and it returns the
// artifacts restored, each parent before its children.
//
// It is all or nothing: an artifact of the operation whose parent is still
// soft deleted by another operation is ErrParentDeleted (restore that one
// first), an artifact the authorizer refuses ActionRestore is ErrForbidden,
// and then nothing is restored. An operation that soft deleted nothing still
// deleted (unknown, hard deleted or restored since) is ErrNotFound. A
// ClientToken makes the call happen once, as for Restore: a retry with the
// same token and reason returns the first call's artifacts.
//
// Every artifact one delete call soft deletes records the same deletion
// time, and the trash is ordered by (time, ID), so the call scans the trash
// up to the operation's time and then reads its artifacts only: its cost
// grows with the soft-deleted artifacts older than the operation, not with
// the registry.
func (r *Registry) RestoreOperation(ctx context.Context, operation string, opts ...RestoreOption) ([]Artifact, error) {
	op, err := checkID("operation", operation)
	if err != nil {
		return nil, err
	}
	o, err := restoreOptions(opts)
	if err != nil {
		return nil, err
	}
	req := request{Call: callRestoreOperation, Target: op, Reason: o.Reason, Principal: PrincipalFrom(ctx)}
	var out []Artifact
	_, err = r.write(ctx, o.Reason, func(w *writeTxn) error {
		tr, err := w.replay(o.ClientToken, req)
		if err != nil {
			return err
		}
		if tr != nil {
			out = make([]Artifact, len(tr.RestoredAll))
			for i, x := range tr.RestoredAll {
				out[i] = x.artifact()
			}
			return nil
		}
		took, err := w.operationTrash(op)
		if err != nil {
			return err
		}
		if len(took) == 0 {
			return newError(CodeNotFound, "", "operation %s soft deleted nothing that is still soft deleted: it is unknown, or what it took was restored or hard deleted since", op)
		}
		hidden := 0
		for _, a := range took {
			if w.hidden(a) {
				hidden++
			}
		}
		if hidden > 0 {
			return newError(CodeForbidden, "", "operation %s took %d artifact(s) %s may not read; ask their owner to restore them", op, hidden, w.principal)
		}
		in := make(map[string]bool, len(took))
		for _, a := range took {
			in[a.ID] = true
		}
		var set []*record
		for _, a := range took {
			if in[a.Parent] {
				continue // restored with its parent, below it
			}
			if a.Parent != "" {
				if p := row(w.Txn, a.Parent); p != nil && p.isDeleted() {
					if w.hidden(p) {
						return newError(CodeForbidden, a.ID, "cannot restore %s (%s): its parent is an artifact %s may not read; ask its owner", a.ID, a.FQN(), w.principal)
					}
					return newError(CodeParentDeleted, a.ID, "cannot restore %s (%s) of operation %s: its parent %s (%s) is still soft deleted by operation %s; restore that first",
						a.ID, a.FQN(), op, p.ID, p.FQN(), p.del.Operation)
				}
			}
			sub, err := w.sameOperation(a)
			if err != nil {
				return err
			}
			set = append(set, sub...)
		}
		for _, x := range set {
			if err := w.authorize(ActionRestore, x); err != nil {
				return err
			}
		}
		changes := make([]change, len(set))
		restored := make([]*record, len(set))
		out = make([]Artifact, len(set))
		for i, x := range set {
			c := w.touch(x)
			c.del = nil
			changes[i] = change{old: x, new: c}
			restored[i] = c
			w.emit(EventRestored, c)
		}
		if err := w.replaceAll(changes); err != nil {
			return err
		}
		for i, c := range restored {
			out[i] = w.r.view(w.ctx, w.principal, w.Txn, c)
		}
		if o.ClientToken != "" {
			return w.remember(&tokenRow{Token: o.ClientToken, Request: req, Target: set[0].ID, RestoredAll: restored})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// operationTrash returns the artifacts that operation op soft deleted and
// that are still soft deleted by it, in trash order. They share one
// deletion time, so the scan stops at the first entry past it.
func (w *writeTxn) operationTrash(op string) ([]*record, error) {
	it, err := w.Get(tableTrash, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: trash scan: %w", err)
	}
	var took []*record
	n := 0
	for o := it.Next(); o != nil; o = it.Next() {
		t := o.(*trashRow)
		if len(took) > 0 && !t.At.Equal(took[0].del.At) {
			break
		}
		a := row(w.Txn, t.ID)
		if a == nil {
			return nil, fmt.Errorf("registry: trash lists %s, which is not stored", t.ID)
		}
		if a.isDeleted() && a.del.Operation == op {
			took = append(took, a)
		}
		if n++; n%4096 == 0 {
			if err := w.ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	return slices.Clip(took), nil
}
