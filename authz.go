package registry

import (
	"context"
	"fmt"
	"slices"
)

// Action is what an operation does to an artifact, as the authorizer sees it.
type Action string

// The actions an Authorizer is asked about.
const (
	ActionRead       Action = "read" // only with WithReadAuthorization
	ActionCreate     Action = "create"
	ActionUpdate     Action = "update" // Update, and marking a dependent under the Detach policy
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
// both ends of a lineage edge. A non-nil error refuses; the registry reports
// it as ErrForbidden (a FORBIDDEN failed item inside a multi-item delete),
// with the error's text in the message. A panic refuses too.
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
// FORBIDDEN error.
func (r *Registry) authorizeAction(ctx context.Context, principal string, action Action, a *record) (err error) {
	if r.authz == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = forbidden(principal, action, a, fmt.Errorf("authorizer panicked: %v", p))
		}
	}()
	if aerr := r.authz.Authorize(r.authorizerCtx(ctx), principal, action, a.artifact()); aerr != nil {
		return forbidden(principal, action, a, aerr)
	}
	return nil
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
// is about; an event about no artifact (reset) needs ActionAdmin.
func (r *Registry) authorizeEvent(ctx context.Context, e *Event) error {
	if e.FQN == "" {
		return r.authorizeAction(ctx, PrincipalFrom(ctx), ActionAdmin, &record{})
	}
	ns, name, version, err := ParseFQN(e.FQN)
	if err != nil {
		return err
	}
	return r.authorizeRead(ctx, &record{ID: e.ArtifactID, Kind: e.Kind, Namespace: ns, Name: name, Version: version})
}

func (r *Registry) authorizeRead(ctx context.Context, a *record) error {
	if !r.authorizeReads {
		return nil
	}
	return r.authorizeAction(ctx, PrincipalFrom(ctx), ActionRead, a)
}
