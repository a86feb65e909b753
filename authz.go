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
// action the authorizer allows on that artifact.
//
// Authorize runs inside the write transaction: it must be fast, must not
// call the registry, and must not modify the artifact's slices or map.
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
	if aerr := r.authz.Authorize(ctx, principal, action, a.artifact()); aerr != nil {
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

func (w *writeTxn) authorize(action Action, a *record) error {
	return w.r.authorizeAction(w.ctx, w.principal, action, a)
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
