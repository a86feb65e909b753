package registry

import (
	"context"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"
)

// Action is what an operation does to an artifact, as the authorizer sees it.
type Action string

// The actions an Authorizer is asked about.
const (
	ActionRead       Action = "read" // only with WithReadAuthorization
	ActionCreate     Action = "create"
	ActionUpdate     Action = "update" // Update, a new child's parent, the other owners of a storage URI a write adds, a dependent Detach marks
	ActionDelete     Action = "delete" // soft delete
	ActionHardDelete Action = "hard-delete"
	ActionRestore    Action = "restore"
	ActionLink       Action = "link" // Link and Unlink, asked for both ends
	ActionDeploy     Action = "deploy"
	ActionReset      Action = "reset" // asked once, with a zero Artifact
	// ActionAdmin is asked once, with a zero Artifact, for the cleanup queue:
	// RetryCleanups always, PendingCleanups with WithReadAuthorization.
	ActionAdmin Action = "admin"
)

// Authorizer decides whether a principal may do an action to an artifact.
// It is asked for every artifact an operation touches: each one a recursive,
// cascade or lineage-cascade delete takes, each dependent a Detach marks,
// both ends of a lineage edge (whatever their state), the parent of a new
// artifact, and every artifact sharing a storage URI a write adds. A
// non-nil error refuses; the registry reports it as ErrForbidden (a
// FORBIDDEN failed item inside a multi-item delete), with the error's text
// in the message. A panic refuses too.
//
// Isolation: a principal can change what happens to an artifact (its
// children, its lineage, the storage its hard delete cleans) only through an
// action the authorizer allows on that artifact. With WithReadAuthorization,
// an artifact the principal may not read does not exist to it: a call that
// names it answers exactly as for a missing artifact; where the answer must
// tell it exists (its ID or name is taken, it holds back the call) it is
// FORBIDDEN naming neither the artifact, its namespace nor its state; lists,
// lineage, events, purges and dry runs leave it out, or count it without
// naming it ("1 you may not read"). Without WithReadAuthorization, messages
// name what refused the call.
//
// For a write, Authorize runs inside the write transaction, under the
// registry's write lock: it must be fast, and must not modify the artifact's
// slices or map. What it may do with the registry:
//
//   - Read it: reads take no lock, with the ctx it was given or any other.
//   - Not write to it. A write method called with the ctx it was given is
//     refused with ErrInvalid ("a registry write cannot be made from inside
//     an authorizer callback") and changes nothing; so is one called with
//     another ctx from the goroutine that runs Authorize while the registry
//     holds its write lock. The call that asked goes on with the decision
//     Authorize returns. A write that Authorize waits for on another
//     goroutine cannot be detected and deadlocks.
//   - Asked outside the lock (by a read under WithReadAuthorization, by
//     Reset or RetryCleanups before they lock), a write made with another
//     ctx goes through; do not rely on it.
//
// The ctx it is given carries the caller's values (principal, deadline) and
// the registry's mark; pass it on to reads.
type Authorizer interface {
	Authorize(ctx context.Context, principal string, action Action, a Artifact) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, principal string, action Action, a Artifact) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, principal string, action Action, a Artifact) error {
	return f(ctx, principal, action, a)
}

// NamespaceAuthorizer scopes principals to namespaces, as ModelArts and
// Lookout for Vision scope everything by project: it maps a principal to the
// namespaces it may touch, "*" meaning all of them. Reset needs "*".
type NamespaceAuthorizer map[string][]string

// Authorize allows the action when the principal's namespaces include the
// artifact's namespace or "*".
func (n NamespaceAuthorizer) Authorize(_ context.Context, principal string, action Action, a Artifact) error {
	spaces := n[principal]
	if slices.Contains(spaces, "*") {
		return nil
	}
	if action == ActionReset || action == ActionAdmin {
		return fmt.Errorf("%s may %s the registry only with access to every namespace (\"*\")", principal, action)
	}
	if slices.Contains(spaces, a.Namespace) {
		return nil
	}
	return fmt.Errorf("%s has no access to namespace %q", principal, a.Namespace)
}

// authorizeAction asks the authorizer, turning a refusal or a panic into a
// FORBIDDEN error. With WithReadAuthorization, the refusal of an artifact
// the principal may not read names neither the artifact nor the
// authorizer's reason (which may name its namespace).
func (r *Registry) authorizeAction(ctx context.Context, principal string, action Action, a *record) error {
	if r.authz == nil {
		return nil
	}
	why := r.ask(ctx, principal, action, a)
	if why == nil {
		return nil
	}
	if r.authorizeReads && a.ID != "" && (action == ActionRead || r.ask(ctx, principal, ActionRead, a) != nil) {
		return unreadable(principal, action)
	}
	return forbidden(principal, action, a, why)
}

// ask asks the authorizer once; a panic is a refusal.
func (r *Registry) ask(ctx context.Context, principal string, action Action, a *record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("authorizer panicked: %v", p)
		}
	}()
	return r.authz.Authorize(r.authorizerCtx(ctx), principal, action, a.artifact())
}

// hidden reports whether a exists but, with WithReadAuthorization, the
// principal may not read it: to that principal it does not exist.
func (r *Registry) hidden(ctx context.Context, principal string, a *record) bool {
	return a != nil && r.authorizeReads && r.authz != nil && r.ask(ctx, principal, ActionRead, a) != nil
}

// view is a as the principal may see it: with WithReadAuthorization, a
// parent it may not read is left out, as if it did not exist.
func (r *Registry) view(ctx context.Context, principal string, txn *memdb.Txn, a *record) Artifact {
	out := a.artifact()
	if r.authorizeReads && out.Parent != "" && r.hidden(ctx, principal, row(txn, out.Parent)) {
		out.Parent = ""
	}
	return out
}

// unreadable is the refusal of an action on an artifact the principal may
// not read: it names neither the artifact nor its namespace.
func unreadable(principal string, action Action) *Error {
	return newError(CodeForbidden, "", "%s may not %s an artifact it may not read", principal, action)
}

// hidden reports whether the principal may not read a (see Registry.hidden).
// It asks through authorize, which records the writer's goroutine.
func (w *writeTxn) hidden(a *record) bool {
	return a != nil && w.r.authorizeReads && w.r.authz != nil && w.authorize(ActionRead, a) != nil
}

func forbidden(principal string, action Action, a *record, why error) *Error {
	if a.ID == "" {
		return newError(CodeForbidden, "", "%s may not %s: %v", principal, action, why)
	}
	return newError(CodeForbidden, a.ID, "%s may not %s %s (%s): %v", principal, action, a.ID, a.FQN(), why)
}

// authorize asks the authorizer from inside the write transaction, under
// the lock: it records the writer's goroutine meanwhile, so that a write
// the authorizer attempts is refused instead of waiting for this one.
func (w *writeTxn) authorize(action Action, a *record) error {
	r := w.r
	if r.authz == nil {
		return nil
	}
	if w.authzCtx == nil {
		w.authzCtx, w.goroutine = r.authorizerCtx(w.ctx), goroutineID()
	}
	r.authzG.Store(w.goroutine)
	defer r.authzG.Store(0)
	return r.authorizeAction(w.authzCtx, w.principal, action, a)
}

// authorizeEvent asks whether the principal may read the artifact an event
// is about (and the upstream of an edge event); an event about no artifact
// (reset) needs ActionAdmin.
func (r *Registry) authorizeEvent(ctx context.Context, e *Event) error {
	if e.FQN == "" {
		return r.authorizeAction(ctx, PrincipalFrom(ctx), ActionAdmin, &record{})
	}
	ns, name, version, err := ParseFQN(e.FQN)
	if err != nil {
		return err
	}
	if err := r.authorizeRead(ctx, eventRecord(e.ArtifactID, e.Kind, ns, name, version)); err != nil {
		return err
	}
	// An edge event names its upstream too, which the principal must be
	// able to read, as Lineage shows only edges between what it may read.
	if e.Upstream != "" && r.hidden(ctx, PrincipalFrom(ctx), row(r.snapshot(), e.Upstream)) {
		return unreadable(PrincipalFrom(ctx), ActionRead)
	}
	return nil
}

func (r *Registry) authorizeRead(ctx context.Context, a *record) error {
	if !r.authorizeReads {
		return nil
	}
	return r.authorizeAction(ctx, PrincipalFrom(ctx), ActionRead, a)
}
