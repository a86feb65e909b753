// Package registry is an embedded, in-memory, transactional registry of ML
// artifacts (models, datasets, code) whose hard part is deleting them
// correctly: soft delete and restore, hard delete, recursive delete of what
// an artifact contains, cascade delete of a model's other versions, refusal
// to delete what is deployed or what others depend on through lineage,
// per-item results, dry runs and retries that happen once.
//
// It is built on go-memdb: every call is one transaction, readers never
// block and see whole transactions only, and a failed call changes nothing.
// It is safe for concurrent use. Writers are serialized; registrations made
// at the same time are group committed: the calls waiting for the writer's
// lock are checked one after the other, each against the store and the calls
// accepted before it, and the accepted ones are written and committed in
// one go-memdb transaction. Each call still gets its own result, error,
// time, operation ID and events, exactly those it would have had alone in
// that order; a refused call contributes nothing to the others.
//
// # Registering and reading
//
//	reg, err := registry.New()
//	ctx = registry.WithPrincipal(ctx, "admin") // recorded as UpdatedBy
//	m, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel,
//		Namespace: "mlflow_svc", Name: "customer_segmentation", Version: "3"})
//	m, err = reg.Get(ctx, m.ID)
//	m, err = reg.GetByFQN(ctx, "mlflow_svc.customer_segmentation.3")
//	m, err = reg.GetVersion(ctx, "mlflow_svc", "customer_segmentation", "3")
//	page, err := reg.List(ctx, registry.Filter{Namespace: "mlflow_svc"})
//
// An artifact's identity is its ID (a UUID, time-ordered when the registry
// assigns it) and its (Namespace, Name, Version), which is unique. The fully
// qualified name is namespace.name.version (namespace.name when unversioned),
// a part containing '.' wrapped in double quotes as OpenMetadata does:
// svc."churn.v2".3. BuildFQN and ParseFQN convert exactly, both ways.
// Names are compared byte for byte, so every part must be in Unicode
// normalization form NFC and hold no control or format character (Unicode
// categories Cc and Cf: no bidirectional override, zero-width space or byte
// order mark): two names that look the same are one name, and no name can
// pass for another. A part that breaks this is ErrInvalid, at registration
// and at lookup (GetByFQN, GetVersion, List), naming the code point and its
// byte position and, for a part not in NFC, the composed form to use. Tags,
// owners, label keys, endpoints and the principal follow the same rule;
// free text (display name, description, algorithm, label values, reasons)
// and storage URIs do not.
//
// Every read takes an optional Include, with OpenMetadata's meaning:
// IncludeNonDeleted (the default: a soft-deleted artifact is not found),
// IncludeDeleted, IncludeAll.
//
// Revision starts at 1 and grows by 1 with every change (update, soft
// delete, restore, deploy, undeploy, detach); EntityVersion renders it as
// OpenMetadata's 0.1, 0.2, ... Every change records UpdatedAt (from the
// clock, see WithClock) and UpdatedBy (the context's principal).
//
// # Containment and lineage
//
// Parent makes a containment tree: a model package contains sub-models.
// It is what a recursive delete follows. Lineage is a directed acyclic graph
// of edges upstream → downstream between live artifacts (a dataset trained a
// model): Link refuses a cycle and names it; Lineage walks it to a depth.
//
// # Deleting
//
//	res, err := reg.Delete(ctx, id)                                    // soft
//	res, err = reg.Delete(ctx, id, registry.DeleteOptions{Hard: true}) // for good
//	res, err = reg.DeleteByFQN(ctx, "mlflow_svc.churn.3", registry.DeleteOptions{
//		Cascade: true, Recursive: true, Hard: true, Lineage: registry.LineageDetach})
//	res, err = reg.DeleteAllVersions(ctx, "mlflow_svc", "fraud", registry.DeleteOptions{Hard: true})
//
// Every call takes its options the same way: last, as a variadic list of
// that call's option type (DeleteOption, RestoreOption, PurgeOption,
// UpdateOption, ReadOption), which its options struct (or, for reads, an Include)
// implements. Options apply in order, each setting the fields it gives a
// non-zero value; a wrong type does not compile. No option is silently
// ignored: one that cannot apply to the call it is given to (a CascadeLimit
// without Cascade, a lineage policy other than LineageRestrict on a plain
// soft delete) is ErrInvalid naming it.
//
// The rules:
//
//   - Not found. An unknown ID or FQN is ErrNotFound, and so is a soft
//     delete of an artifact that is soft deleted already (a second delete is
//     a 404). A hard delete of a soft-deleted artifact makes it permanent.
//   - Soft delete (the default) marks the artifact deleted, bumps its
//     revision, records who, when, why and the operation, keeps every edge,
//     and keeps the name reserved: registering the same FQN again is
//     ErrAlreadyExists until the artifact is restored or hard deleted.
//   - Hard delete removes the row, its index entries, its lineage edges and
//     its deployments, in one transaction. Soft-deleted descendants go with
//     it, so that nothing is left orphaned. Idempotency tokens of earlier
//     requests on it are kept for their whole lifetime (see Retries).
//   - Children. An artifact with live children is ErrNotEmpty ("model is not
//     empty") unless Recursive, which takes the subtree in the same mode,
//     children before parents. Only the children the call leaves behind
//     count: a live child that the same call takes anyway (as a version of
//     the cascade, or a dependent under the Cascade lineage policy) is
//     deleted before its parent, and fails it only if it fails.
//   - Cascade takes the target and the other versions of the same namespace
//     and name, at most CascadeLimit (default 20, as ModelArts) in all: the
//     target first, then the others newest first (natural version order, so
//     "10" is newer than "9"), because a version is usually fine-tuned from
//     the one before it and deleting newest first never strands a dependent.
//     The rest are Skipped, with SkipReason; a soft cascade takes live
//     versions only, a hard one soft-deleted versions too.
//     DeleteAllVersions is the cascade whose target is the newest version
//     the delete can take, for when no version is in hand.
//   - Deployed. An artifact deployed to an endpoint is not deleted
//     (ErrDeployed, code DEPLOYED: ModelArts.3009, Lookout's 409).
//   - Lineage, for hard and cascade deletes only: live downstream artifacts
//     outside the set refuse the item under LineageRestrict (the default,
//     HAS_DEPENDENTS naming them); LineageDetach deletes anyway and, for a
//     hard delete, drops the edges and lists the lost upstream in each
//     dependent's DeletedUpstreams; LineageCascade adds the dependents to the
//     set, transitively, under the same checks. A plain soft delete keeps
//     edges and leaves dependents alone, so it takes LineageRestrict only
//     (the others are ErrInvalid rather than ignored). The policies carry
//     the Lineage prefix so that a call with DeleteOptions.Cascade (versions)
//     reads unambiguously; Restrict, Detach and Cascade remain as deprecated
//     names.
//   - Consistency. An item whose descendant, or (under LineageRestrict and
//     LineageCascade)
//     whose live dependent in the set, fails, fails too: no live child is
//     left under a deleted parent and no live artifact depends on a hard
//     deleted one without being told.
//   - Authorization (WithAuthorizer) is asked for every artifact the delete
//     takes, and for every dependent it marks; a refusal is ErrForbidden,
//     code FORBIDDEN. No write reaches another principal's artifact without
//     its authorization: adding a child needs update on the parent, a lineage
//     edge link on both ends, sharing a storage URI update on its other
//     owners. With WithReadAuthorization, an artifact the principal may not
//     read does not exist to it: calls naming it answer as for a missing
//     one, or FORBIDDEN naming nothing of it where existence must be told,
//     and results and dry runs count it without naming it.
//   - Purge protection (WithPurgeProtection) refuses a hard delete of an
//     artifact soft deleted too recently (ErrPurgeProtected).
//
// When several rules refuse one item, the first of these wins:
// authorization, live children, deployment, purge protection, lineage
// dependents; an item that breaks none but whose child or dependent fails
// reports NOT_EMPTY or HAS_DEPENDENTS, naming that cause and the root cause
// at the end of the chain (Failure.Cause, RootCause, RootCode) without
// copying their messages, so that a report stays linear in its items.
//
// A delete that targets one artifact returns that artifact's failure as the
// error. A multi-item delete (Recursive, Cascade, DeleteAllVersions, or a
// hard delete under LineageCascade) commits what it can and reports each item, as
// ModelArts does: Result.Deleted in the order applied, Result.Failed with a
// code and a message, Result.Skipped; DeletedItems, SkippedItems and
// DetachedItems repeat the ID lists with each artifact's FQN and kind, as
// Failure carries them, so that a caller can tell what a hard delete
// removed. With Atomic, any failure is the error (the cause: a deployed
// child's DEPLOYED rather than its parent's NOT_EMPTY) and nothing changes.
// A call that fails this way still returns its Result, with Failed filled
// and Deleted empty. DryRun computes exactly the same Result and changes
// nothing; a ClientToken given with it is checked but neither stored nor
// replayed, so that a preview may carry the key of the delete it previews.
// Deleted lists children before parents and, where the lineage rules apply,
// dependents before what they depend on.
//
// # Restoring and purging
//
//	m, err = reg.Restore(ctx, id)
//	res, err = reg.Purge(ctx, 30*24*time.Hour)
//
// Every delete call has an operation ID, recorded on each artifact it soft
// deleted. Restore brings back the artifact and the descendants that the
// same operation took, and only those: a child deleted on its own earlier
// stays deleted (OpenMetadata restores it too; this registry does not). A
// live artifact is ErrNotDeleted; a child whose parent is still deleted is
// ErrParentDeleted. RestoreOperation brings back everything one delete call
// soft deleted that is still soft deleted by it (a cascade of versions, say),
// parents before children, in one transaction. Purge hard deletes what was
// soft deleted at least an age ago (Purge(ctx, 0) takes everything soft
// deleted), through the same planner.
//
// DeleteOptions.IfRevision and UpdateOptions.IfRevision make a delete or an
// update conditional on the revision the caller last read (HTTP's If-Match):
// another revision is ErrPreconditionFailed, checked in the call's own
// transaction, and nothing changes.
//
// # Retries, storage and events
//
// A ClientToken (1–64 of [a-zA-Z0-9-], as Lookout for Vision's) makes a
// delete or a restore happen once: the first call that deletes (or
// restores) something stores the token with its result in the same
// transaction; a retry with the same token and the same request gets that
// result back (Replayed, never a 404) and changes nothing; the same token
// with another request is ErrIdempotencyMismatch, whose message names each
// field that differs with its first and its new value. The request is the
// call (Delete or Restore), the target as given (an ID, or an FQN: the two
// forms are different requests, while an ID's letter case is not), every
// option that matters (CascadeLimit only with Cascade; not DryRun) and the
// Reason. A token belongs to its principal: tokens are kept per (principal,
// token), so two principals using the same token never meet, each getting
// its own first result, and no error shows one the other's request. A call
// that deletes nothing does not bind its token, so the caller can fix the
// cause and retry with it; a dry run neither replays nor stores one. A
// token lives 8 hours (WithTokenTTL) whatever happens to its target
// meanwhile: a retry after the artifact was hard deleted, even after its
// name was registered again, returns the first result and acts on nothing.
//
// Artifacts carry StorageURIs. When a hard delete commits, the URIs no other
// artifact references are queued for cleanup in the same transaction and
// then handed to the Cleaner (WithCleaner) outside the lock; a failure or a
// panic leaves the URI in PendingCleanups, with its attempts and last error,
// for RetryCleanups. Each URI is checked under the lock right before its
// hand-off, so the cleaner never gets one an artifact references; one
// referenced again while the cleaner works on it stays in PendingCleanups
// with ReclaimedBy and a LastError that says to verify the object, is never
// handed over while referenced, and is queued afresh once its last
// reference goes. Nothing is orphaned and nothing is lost.
//
// Every committed change emits one event per artifact, in commit order, to
// subscribers (Subscribe; a slow one loses events and is told so, it never
// blocks the registry) and to a bounded audit log (Events). Dry runs and
// failed calls emit nothing.
//
// # Snapshots
//
// WriteSnapshot writes the whole registry (every artifact in every state,
// lineage, deployments, idempotency tokens with their expiry, pending
// cleanups, and the sequence number of the next event) as it was at one
// commit, without blocking writers; the same state always gives the same
// bytes. SaveSnapshot writes one to a file atomically. Load and LoadFile
// build a registry from one, and ReadSnapshot replaces a registry's whole
// state with one at once: a snapshot that is truncated, corrupted,
// reordered, of a future version or that breaks the registry's rules is
// refused with a *SnapshotError (ErrCorruptSnapshot) saying where and why,
// and nothing changes. Loading emits no event; the audit log's events are
// not part of a snapshot, only its sequence, which goes on from the
// snapshot's. snapshot.go documents the format.
//
// # Errors
//
// Every error for a rule matches one sentinel with errors.Is (ErrNotFound,
// ErrInvalid, ErrAlreadyExists, ErrNotEmpty, ErrDeployed, ErrHasDependents,
// ErrNotDeleted, ErrParentDeleted, ErrForbidden, ErrIdempotencyMismatch,
// ErrPurgeProtected, ErrPreconditionFailed) and is an *Error with a stable
// Code, the artifact's ID and a message that says what to do. HTTPStatus
// maps an error to 404, 400, 403, 409 or 412. Bad input never panics and never changes anything.
//
// # The one rule
//
// Values returned by the registry are copies: change them freely. The
// registry never hands out its stored rows, which readers of older snapshots
// share; Check verifies every invariant the registry keeps.
package registry
