package native

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// ProblemTypeBase prefixes every problem type: the code in lower case with
// '-' for '_' follows (https://modelreg.dev/problems/not-empty).
const ProblemTypeBase = "https://modelreg.dev/problems/"

// The API's own codes, beside the registry's.
const (
	codeUnauthenticated  = "UNAUTHENTICATED"
	codeTooLarge         = "PAYLOAD_TOO_LARGE"
	codeMediaType        = "UNSUPPORTED_MEDIA_TYPE"
	codeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	codeCanceled         = "CANCELED"
	codeTimeout          = "TIMEOUT"
	codeInternal         = "INTERNAL"
)

var titles = map[string]string{
	registry.CodeNotFound:            "Not found",
	registry.CodeInvalid:             "Invalid argument",
	registry.CodeAlreadyExists:       "Already exists",
	registry.CodeNotEmpty:            "Not empty",
	registry.CodeDeployed:            "Deployed",
	registry.CodeHasDependents:       "Has dependents",
	registry.CodeNotDeleted:          "Not deleted",
	registry.CodeParentDeleted:       "Parent deleted",
	registry.CodeForbidden:           "Forbidden",
	registry.CodeIdempotencyMismatch: "Idempotency key reused for another request",
	registry.CodePurgeProtected:      "Purge protected",
	registry.CodePreconditionFailed:  "Precondition failed",
	codeUnauthenticated:              "Unauthenticated",
	codeTooLarge:                     "Payload too large",
	codeMediaType:                    "Unsupported media type",
	codeMethodNotAllowed:             "Method not allowed",
	codeCanceled:                     "Canceled",
	codeTimeout:                      "Timeout",
	codeInternal:                     "Internal error",
}

// problem is RFC 9457 problem details with the registry's error fields.
type problem struct {
	Type      string           `json:"type"`
	Title     string           `json:"title"`
	Status    int              `json:"status"`
	Detail    string           `json:"detail"`
	Instance  string           `json:"instance,omitempty"`
	Code      string           `json:"code"`
	ID        string           `json:"id,omitempty"`
	Field     string           `json:"field,omitempty"`
	RequestID string           `json:"requestId,omitempty"`
	Result    *registry.Result `json:"result,omitempty"`
}

// problemFor is a problem of a status alone (a panic, a body error).
func problemFor(status int, detail string) *problem {
	code := codeInternal
	switch status {
	case http.StatusBadRequest:
		code = registry.CodeInvalid
	case http.StatusRequestEntityTooLarge:
		code = codeTooLarge
	case http.StatusUnsupportedMediaType:
		code = codeMediaType
	}
	return &problem{Status: status, Code: code, Detail: detail}
}

func writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	p.Type = ProblemTypeBase + strings.ToLower(strings.ReplaceAll(p.Code, "_", "-"))
	p.Title = titles[p.Code]
	p.Instance = r.URL.Path
	p.RequestID = httpx.RequestIDFrom(r.Context())
	data, err := json.Marshal(p)
	if err != nil {
		data = []byte(`{"type":"` + ProblemTypeBase + `internal","title":"Internal error","status":500,"detail":"the error could not be encoded","code":"INTERNAL"}`)
		p.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Del("ETag")
	w.WriteHeader(p.Status)
	w.Write(append(data, '\n'))
}

// writeError answers err from the registry (or from the request) as a
// problem: the registry's code and status, its ID and field.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body *httpx.BodyError
	if errors.As(err, &body) {
		writeProblem(w, r, problemFor(body.Status, body.Message))
		return
	}
	status := registry.HTTPStatus(err)
	p := &problem{Status: status, Code: registry.ErrorCode(err), Detail: strings.TrimPrefix(err.Error(), "registry: ")}
	var e *registry.Error
	if errors.As(err, &e) {
		p.ID, p.Field = e.ID, e.Field
	}
	switch {
	case p.Code != "":
	case status == 499:
		p.Code = codeCanceled
	case status == http.StatusGatewayTimeout:
		p.Code = codeTimeout
	default:
		p.Code = codeInternal
		h.Logger.Error("registry call failed", "path", r.URL.Path, "error", err, "requestId", httpx.RequestIDFrom(r.Context()))
		p.Detail = "internal error; the request ID is " + httpx.RequestIDFrom(r.Context())
	}
	writeProblem(w, r, p)
}

// invalid is a 400 naming the offending parameter.
func invalid(field, detail string) error {
	return &registry.Error{Code: registry.CodeInvalid, Field: field, Message: detail}
}
