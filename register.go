package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"
)

// Register adds an artifact and returns it as stored. Kind, Namespace and
// Name are required; ID is assigned when empty; Parent, when given, must be
// a live artifact. Registering a (namespace, name, version) that is taken,
// even by a soft-deleted artifact, is ErrAlreadyExists. With an Authorizer,
// the principal needs ActionCreate on the artifact, ActionUpdate on its
// parent (a child changes what the parent's deletes do) and ActionUpdate on
// every other artifact that references one of its storage URIs.
func (r *Registry) Register(ctx context.Context, a Artifact) (Artifact, error) {
	rows, err := r.registerRows(ctx, []Artifact{a})
	if err != nil {
		return Artifact{}, err
	}
	return rows[0].artifact(), nil
}

// RegisterBatch adds several artifacts in one transaction: all of them or,
// on the first error, none. An artifact may name an earlier one of the same
// batch as its parent.
func (r *Registry) RegisterBatch(ctx context.Context, batch []Artifact) ([]Artifact, error) {
	if len(batch) == 0 {
		return nil, invalid("artifacts", "nothing to register")
	}
	rows, err := r.registerRows(ctx, batch)
	if err != nil {
		return nil, err
	}
	out := make([]Artifact, len(rows))
	for i, a := range rows {
		out[i] = a.artifact()
	}
	return out, nil
}

// registerRows registers a non-empty batch and returns the records stored.
func (r *Registry) registerRows(ctx context.Context, batch []Artifact) ([]*record, error) {
	// Tell a group's leader that this call is on its way (see leadRegisters).
	r.registers.arriving.Add(1)
	c := &registerCall{}
	defer func() {
		if !c.queued {
			r.registers.arriving.Add(-1)
		}
	}()
	rows := make([]*record, len(batch))
	// assigned marks the IDs the registry made: fresh time-ordered UUIDs,
	// which need no lookup to know they are not taken.
	assigned := make([]bool, len(batch))
	for i := range batch {
		a, err := prepareNew(&batch[i])
		if err != nil {
			var e *Error
			if len(batch) > 1 && errors.As(err, &e) {
				e.Message = fmt.Sprintf("artifact %d of the batch: %s", i, e.Message)
			}
			return nil, err
		}
		rows[i] = a
		assigned[i] = batch[i].ID == ""
	}
	c.rows, c.assigned = rows, assigned
	if err := r.registerGrouped(ctx, c); err != nil {
		return nil, err
	}
	return rows, nil
}

// checkKind refuses a kind other than model, dataset and code.
func checkKind(k Kind) error {
	if k.valid() {
		return nil
	}
	if k == "" {
		return invalid("kind", "kind is empty; want model, dataset or code")
	}
	return invalid("kind", "kind %q is not one of model, dataset, code", clip(string(k)))
}

// prepareNew validates a new artifact and returns the record to store, with
// its own copies of every list and the bookkeeping fields cleared.
func prepareNew(in *Artifact) (*record, error) {
	if err := checkKind(in.Kind); err != nil {
		return nil, err
	}
	if err := checkName("namespace", in.Namespace); err != nil {
		return nil, err
	}
	if err := checkName("name", in.Name); err != nil {
		return nil, err
	}
	if err := checkVersion(in.Version); err != nil {
		return nil, err
	}
	if err := checkMetadata(in); err != nil {
		return nil, err
	}
	a := &record{kind: codeOf(in.Kind), Revision: 1}
	a.setName(in.Namespace, in.Name, in.Version)
	a.setMetadata(in)
	var err error
	if in.ID == "" {
		a.ID = newID()
	} else if a.ID, err = checkID("id", in.ID); err != nil {
		return nil, err
	}
	if in.Parent != "" {
		if a.Parent, err = checkID("parent", in.Parent); err != nil {
			return nil, err
		}
		if a.Parent == a.ID {
			return nil, invalid("parent", "artifact %s cannot be its own parent", a.ID)
		}
	}
	return a, nil
}

// checkNew checks the rows of one register call against the store, the
// rows of earlier calls of its group that are not written yet (pending, nil
// outside a group) and the call's own batch, and stamps them with the
// call's time and principal. It only reads.
func (w *writeTxn) checkNew(rows []*record, assigned []bool, pending *pendingRows) error {
	// The batch's own IDs and names, to refuse duplicates and find parents
	// within it; a call of one artifact has none to look up.
	var ids map[string]*record
	var names map[string]struct{}
	if len(rows) > 1 {
		ids, names = make(map[string]*record, len(rows)), make(map[string]struct{}, len(rows))
	}
	for i, a := range rows {
		if _, dup := ids[a.ID]; dup {
			return newError(CodeAlreadyExists, a.ID, "ID %s appears twice in the batch", a.ID)
		}
		key := a.key
		if _, dup := names[key]; dup {
			return newError(CodeAlreadyExists, a.ID, "%s appears twice in the batch", a.FQN())
		}
		// Authorization first: a principal that may not create the row
		// learns nothing about what its ID or name would collide with.
		if err := w.authorize(ActionCreate, a); err != nil {
			return err
		}
		if !assigned[i] {
			if old := w.newRowByID(pending, a.ID); old != nil {
				if w.hidden(old) {
					return newError(CodeForbidden, "", "%s may not register %s with the ID given: it is taken by an artifact %s may not read; register without an ID to have one assigned",
						w.principal, a.FQN(), w.principal)
				}
				return newError(CodeAlreadyExists, a.ID, "an artifact with ID %s already exists (%s)", a.ID, old.FQN())
			}
		}
		old := pending.byName(a.key)
		if old == nil {
			old = rowWithName(w.Txn, a)
		}
		if old != nil {
			if w.hidden(old) {
				return newError(CodeForbidden, "", "%s may not register %s: the name is taken by an artifact %s may not read",
					w.principal, a.FQN(), w.principal)
			}
			return alreadyExists(a, old)
		}
		if a.Parent != "" {
			if err := w.checkParent(a, ids, pending); err != nil {
				return err
			}
		}
		if err := w.authorizeURIs(a, nil, pending); err != nil {
			return err
		}
		if ids != nil {
			ids[a.ID] = a
			names[key] = struct{}{}
		}
	}
	for _, a := range rows {
		a.CreatedAt, a.UpdatedAt, a.UpdatedBy = w.now, w.now, w.principal
	}
	return nil
}

// rowWithName returns the stored artifact that has a's name, in any state,
// looked up by a's own key.
func rowWithName(txn *memdb.Txn, a *record) *record {
	o, err := txn.First(tableArtifacts, indexName, keyBytes(a.key))
	if err != nil || o == nil {
		return nil
	}
	return o.(*record)
}

// newRowByID returns the row with the ID among the pending rows of the
// group, else in the store.
func (w *writeTxn) newRowByID(pending *pendingRows, id string) *record {
	if a := pending.byID(id); a != nil {
		return a
	}
	return row(w.Txn, id)
}

// emitCreated records the created events of rows, in order.
func (w *writeTxn) emitCreated(rows []*record) {
	for _, a := range rows {
		w.emit(EventCreated, a)
	}
}

func alreadyExists(a, old *record) *Error {
	if old.isDeleted() {
		return newError(CodeAlreadyExists, old.ID,
			"%s is taken by soft-deleted artifact %s; restore it (Restore) or delete it for good (Delete with Hard, or Purge) before registering the name again",
			a.FQN(), old.ID)
	}
	return newError(CodeAlreadyExists, old.ID, "%s already exists as artifact %s", a.FQN(), old.ID)
}

func (w *writeTxn) checkParent(a *record, batch map[string]*record, pending *pendingRows) error {
	if _, ok := batch[a.Parent]; ok {
		return nil
	}
	p := w.newRowByID(pending, a.Parent)
	if p == nil || w.hidden(p) {
		return invalid("parent", "parent %s of %s does not exist", a.Parent, a.FQN())
	}
	// A child changes what its parent's deletes do (NOT_EMPTY, what a
	// recursive delete takes): only who may update the parent may add one,
	// and only they learn its state.
	if err := w.authorize(ActionUpdate, p); err != nil {
		return err
	}
	if p.isDeleted() {
		return invalid("parent", "parent %s (%s) of %s is soft deleted; restore it first", a.Parent, p.FQN(), a.FQN())
	}
	return nil
}

// authorizeURIs asks, for every storage URI a references and old did not,
// that the principal may update each other artifact referencing it: sharing
// a URI changes what that artifact's hard delete cleans (it would no longer
// clean the object).
//
// pending, for a registration in a group (group.go), holds the rows of the
// group's earlier calls, not stored yet: they count as stored owners.
func (w *writeTxn) authorizeURIs(a, old *record, pending *pendingRows) error {
	if w.r.authz == nil {
		return nil
	}
	var had []string
	if old != nil {
		had = old.uris()
	}
	for i, uri := range a.uris() {
		if slices.Contains(had, uri) {
			continue
		}
		others := pending.byURI(uri)
		for _, id := range owners(w.Txn, uri) {
			if o := row(w.Txn, id); o != nil {
				others = append(others, o)
			}
		}
		for _, o := range others {
			if o.ID == a.ID {
				continue
			}
			if err := w.authorize(ActionUpdate, o); err != nil {
				e := err.(*Error)
				return newError(e.Code, e.ID, "storageUris[%d] is referenced by another artifact: %s", i, e.Message)
			}
		}
	}
	return nil
}

// UpdateOptions are the options of Update.
type UpdateOptions struct {
	// IfRevision, when not 0, makes the update conditional: if the
	// artifact's revision is another, the call is ErrPreconditionFailed and
	// changes nothing (HTTP's If-Match).
	IfRevision int64
}

// UpdateOption is an option of Update: an UpdateOptions. Options apply in
// order; each sets the fields it gives a non-zero value.
type UpdateOption interface{ applyUpdate(*UpdateOptions) }

func (o UpdateOptions) applyUpdate(to *UpdateOptions) {
	if o.IfRevision != 0 {
		to.IfRevision = o.IfRevision
	}
}

// Update replaces the metadata of a live artifact (display name,
// description, algorithm, tags, owners, labels, storage URIs) with those of
// a, identified by a.ID, and returns the artifact as stored. Identity fields
// are immutable: each must be empty or equal to the stored value. Deployment
// and bookkeeping fields are ignored. An update that changes nothing does not
// bump the revision. Storage URIs the update drops are handed to the cleaner
// like those of a hard delete, unless another artifact still references them.
// With an Authorizer, the principal needs ActionUpdate on the artifact and on
// every other artifact that references a storage URI the update adds: sharing
// a URI changes what that artifact's hard delete cleans.
// UpdateOptions.IfRevision makes the update conditional on the stored
// revision (ErrPreconditionFailed otherwise), checked in the update's own
// transaction.
func (r *Registry) Update(ctx context.Context, a Artifact, opts ...UpdateOption) (Artifact, error) {
	var o UpdateOptions
	for i, opt := range opts {
		if isNil(opt) {
			return Artifact{}, invalid("options", "update option %d is nil", i)
		}
		opt.applyUpdate(&o)
	}
	if o.IfRevision < 0 {
		return Artifact{}, invalid("ifRevision", "revision precondition %d is negative; revisions start at 1 (0 means no precondition)", o.IfRevision)
	}
	id, err := checkID("id", a.ID)
	if err != nil {
		return Artifact{}, err
	}
	if err := checkMetadata(&a); err != nil {
		return Artifact{}, err
	}
	var out Artifact
	cleanups, err := r.write(ctx, "", func(w *writeTxn) error {
		old := row(w.Txn, id)
		if w.hidden(old) {
			old = nil
		}
		if old == nil || old.isDeleted() {
			return notFound(id, old, IncludeNonDeleted)
		}
		if o.IfRevision != 0 && old.Revision != o.IfRevision {
			return stale(old, o.IfRevision)
		}
		if err := checkImmutable(&a, old); err != nil {
			return err
		}
		if err := w.authorize(ActionUpdate, old); err != nil {
			return err
		}
		if old.sameMetadata(&a) {
			out = w.r.view(w.ctx, w.principal, w.Txn, old)
			return nil
		}
		c := w.touch(old)
		c.setMetadata(&a)
		if err := w.authorizeURIs(c, old, nil); err != nil {
			return err
		}
		// URIs the update drops become pending cleanups, unless another
		// artifact references them; URIs it adds are taken off the queue.
		if err := w.replace(old, c); err != nil {
			return err
		}
		w.emit(EventUpdated, c)
		out = w.r.view(w.ctx, w.principal, w.Txn, c)
		return nil
	})
	if err != nil {
		return Artifact{}, err
	}
	r.runCleanups(ctx, cleanups)
	return out, nil
}

func checkImmutable(a *Artifact, old *record) error {
	parent := a.Parent
	if cp, err := checkID("parent", parent); parent != "" && err == nil {
		parent = cp // IDs compare case-insensitively, as everywhere
	}
	fields := []struct{ name, got, want string }{
		{"kind", string(a.Kind), string(old.Kind())},
		{"namespace", a.Namespace, old.namespace()},
		{"name", a.Name, old.name()},
		{"version", a.Version, old.version()},
		{"parent", parent, old.Parent},
	}
	for _, f := range fields {
		if f.got != "" && f.got != f.want {
			return invalid(f.name, "%s is immutable: artifact %s has %s %q, the update gives %q", f.name, old.ID, f.name, f.want, clip(f.got))
		}
	}
	return nil
}
