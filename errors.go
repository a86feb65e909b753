package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors. Every error the registry returns for a rule it enforces
// matches exactly one of them with errors.Is; errors.As with *Error gives the
// code, the artifact and the message.
var (
	// ErrNotFound: no artifact with that ID, FQN or name/version is visible
	// under the requested include (a soft-deleted artifact is not found by
	// default) or, with WithReadAuthorization, readable by the principal; or
	// a second soft delete of the same artifact.
	ErrNotFound = errors.New("registry: not found")
	// ErrInvalid: an argument is malformed, out of range or missing.
	ErrInvalid = errors.New("registry: invalid argument")
	// ErrAlreadyExists: the ID or the (namespace, name, version) is taken,
	// possibly by a soft-deleted artifact that still reserves it.
	ErrAlreadyExists = errors.New("registry: already exists")
	// ErrNotEmpty: the artifact contains live children and the delete is not
	// recursive.
	ErrNotEmpty = errors.New("registry: not empty")
	// ErrDeployed: the artifact is deployed to an endpoint.
	ErrDeployed = errors.New("registry: deployed")
	// ErrHasDependents: live artifacts depend on this one through lineage.
	ErrHasDependents = errors.New("registry: has dependents")
	// ErrNotDeleted: restore of an artifact that is not soft deleted.
	ErrNotDeleted = errors.New("registry: not deleted")
	// ErrParentDeleted: restore of an artifact whose parent is still soft
	// deleted; restore the parent first.
	ErrParentDeleted = errors.New("registry: parent deleted")
	// ErrForbidden: the authorizer refused the principal this action.
	ErrForbidden = errors.New("registry: forbidden")
	// ErrIdempotencyMismatch: a principal reused its client token with a
	// different request; the message names each field that differs.
	ErrIdempotencyMismatch = errors.New("registry: idempotency token mismatch")
	// ErrPurgeProtected: a hard delete of a soft-deleted artifact inside the
	// purge-protection period.
	ErrPurgeProtected = errors.New("registry: purge protected")
	// ErrPreconditionFailed: a call made conditional on the artifact's
	// revision (DeleteOptions.IfRevision, UpdateOptions.IfRevision) found
	// another revision; nothing changed.
	ErrPreconditionFailed = errors.New("registry: precondition failed")
)

// Stable error codes, carried by *Error and by Failure. They are plain
// strings so they compare equal to literals and survive JSON unchanged.
const (
	CodeNotFound            = "NOT_FOUND"
	CodeInvalid             = "INVALID_ARGUMENT"
	CodeAlreadyExists       = "ALREADY_EXISTS"
	CodeNotEmpty            = "NOT_EMPTY"
	CodeDeployed            = "DEPLOYED"
	CodeHasDependents       = "HAS_DEPENDENTS"
	CodeNotDeleted          = "NOT_DELETED"
	CodeParentDeleted       = "PARENT_DELETED"
	CodeForbidden           = "FORBIDDEN"
	CodeIdempotencyMismatch = "IDEMPOTENCY_MISMATCH"
	CodePurgeProtected      = "PURGE_PROTECTED"
	CodePreconditionFailed  = "PRECONDITION_FAILED"
)

var codeSentinel = map[string]error{
	CodeNotFound:            ErrNotFound,
	CodeInvalid:             ErrInvalid,
	CodeAlreadyExists:       ErrAlreadyExists,
	CodeNotEmpty:            ErrNotEmpty,
	CodeDeployed:            ErrDeployed,
	CodeHasDependents:       ErrHasDependents,
	CodeNotDeleted:          ErrNotDeleted,
	CodeParentDeleted:       ErrParentDeleted,
	CodeForbidden:           ErrForbidden,
	CodeIdempotencyMismatch: ErrIdempotencyMismatch,
	CodePurgeProtected:      ErrPurgeProtected,
	CodePreconditionFailed:  ErrPreconditionFailed,
}

var codeStatus = map[string]int{
	CodeNotFound:            http.StatusNotFound,
	CodeInvalid:             http.StatusBadRequest,
	CodeForbidden:           http.StatusForbidden,
	CodeAlreadyExists:       http.StatusConflict,
	CodeNotEmpty:            http.StatusConflict,
	CodeDeployed:            http.StatusConflict,
	CodeHasDependents:       http.StatusConflict,
	CodeNotDeleted:          http.StatusConflict,
	CodeParentDeleted:       http.StatusConflict,
	CodeIdempotencyMismatch: http.StatusConflict,
	CodePurgeProtected:      http.StatusConflict,
	CodePreconditionFailed:  http.StatusPreconditionFailed,
}

// Error is the one error type of the package. It matches the sentinel of its
// Code with errors.Is.
type Error struct {
	// Code is one of the Code constants.
	Code string `json:"code"`
	// ID is the artifact the error is about, when there is one.
	ID string `json:"id,omitempty"`
	// Field names the offending argument of an INVALID_ARGUMENT error.
	Field string `json:"field,omitempty"`
	// Message says what went wrong and what to do about it.
	Message string `json:"message"`
}

// Error returns the message, prefixed with the package name.
func (e *Error) Error() string {
	if e == nil {
		return "registry: <nil>"
	}
	return "registry: " + e.Message
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	if e == nil {
		return false
	}
	s, ok := codeSentinel[e.Code]
	return ok && s == target
}

// HTTPStatus maps an error to the HTTP status a server should answer with:
// 200 for nil, 404 not found, 400 invalid, 403 forbidden, 409 for every
// conflict (not empty, deployed, has dependents, already exists, not
// deleted, parent deleted, token mismatch, purge protected), 412 for a
// failed revision precondition, 499 for a canceled context, 504 for an
// expired one and 500 for anything else.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var e *Error
	if errors.As(err, &e) && e != nil {
		if s, ok := codeStatus[e.Code]; ok {
			return s
		}
	}
	for code, s := range codeSentinel {
		if errors.Is(err, s) {
			return codeStatus[code]
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return 499
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// ErrorCode returns the code of err: the Code of an *Error, the code of a
// bare sentinel, or "" for anything else.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e == nil {
			return ""
		}
		return e.Code
	}
	for code, s := range codeSentinel {
		if errors.Is(err, s) {
			return code
		}
	}
	return ""
}

func newError(code, id, format string, args ...any) *Error {
	return &Error{Code: code, ID: id, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// stale is the error of a revision precondition that a's revision fails.
func stale(a *record, want int64) *Error {
	return newError(CodePreconditionFailed, a.ID, "artifact %s (%s) is at revision %d, not %d: it changed since it was read; read it again and decide anew",
		a.ID, a.FQN(), a.Revision, want)
}
