package openmetadata

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// The paths this dialect serves.
const (
	modelsPath   = "/api/v1/mlmodels"
	servicesPath = "/api/v1/services/mlmodelServices"
)

// Patterns are the net/http patterns this dialect serves, without methods,
// for mounting it in a larger mux.
var Patterns = []string{modelsPath, modelsPath + "/", servicesPath, servicesPath + "/"}

// ChangeHeader is OpenMetadata's response header naming what a PUT, DELETE
// or restore did: entityCreated, entityUpdated, entityNoChange,
// entitySoftDeleted, entityDeleted or entityRestored.
const ChangeHeader = "X-OpenMetadata-Change"

// Options configure New.
type Options struct {
	// Registry is served: a *registry.Registry, or a durable
	// replicated.Node; required.
	Registry registry.API
	// Authenticate maps the bearer token of Authorization: Bearer <token> to
	// its principal (httpapi.Credentials.Token fits); required.
	Authenticate func(token string) (principal string, ok bool)
	// Logger receives one line per request and every panic; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 1 MiB); a larger body is
	// answered 413.
	MaxBodyBytes int64
}

type handler struct {
	reg     registry.API
	auth    func(string) (string, bool)
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
}

// New returns the handler of OpenMetadata's ML model and ML model service
// APIs: every path under /api/v1/mlmodels and
// /api/v1/services/mlmodelServices. Mounted alone, it gives every request
// an ID (X-Request-Id) itself; behind httpapi.NewHandler it keeps the one
// NewHandler gave.
func New(o Options) (http.Handler, error) {
	if httpx.IsNil(o.Registry) {
		return nil, errors.New("openmetadata: Options.Registry is nil")
	}
	if o.Authenticate == nil {
		return nil, errors.New("openmetadata: Options.Authenticate is nil")
	}
	h := &handler{reg: o.Registry, auth: o.Authenticate, log: o.Logger, maxBody: o.MaxBodyBytes, mux: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	routes := map[string]func(http.ResponseWriter, *http.Request, context.Context){
		"POST " + modelsPath:                             h.createModel,
		"PUT " + modelsPath:                              h.upsertModel,
		"GET " + modelsPath:                              h.listModels,
		"GET " + modelsPath + "/{id}":                    h.getModel,
		"GET " + modelsPath + "/{first}/{second}":        h.getModelPair,
		"DELETE " + modelsPath + "/{id}":                 h.deleteModel,
		"DELETE " + modelsPath + "/name/{fqn}":           h.deleteModelByName,
		"PUT " + modelsPath + "/restore":                 h.restoreModel,
		"GET " + modelsPath + "/{id}/versions/{version}": h.modelVersion,
		"POST " + servicesPath:                           h.createService,
		"PUT " + servicesPath:                            h.upsertService,
		"GET " + servicesPath:                            h.listServices,
		"GET " + servicesPath + "/{id}":                  h.getService,
		"GET " + servicesPath + "/name/{name}":           h.getServiceByName,
		"DELETE " + servicesPath + "/{id}":               h.deleteService,
		"DELETE " + servicesPath + "/name/{name}":        h.deleteServiceByName,
		"PUT " + servicesPath + "/restore":               h.restoreService,
	}
	for pattern, fn := range routes {
		h.mux.Handle(pattern, h.authenticated(fn))
	}
	for _, p := range Patterns {
		h.mux.HandleFunc(p, h.unrouted)
	}
	served := httpx.Serve(o.Logger, "openmetadata", writeError, h.mux)
	withID := httpx.RequestID(served)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestIDFrom(r.Context()) == "" { // mounted alone
			withID.ServeHTTP(w, r)
			return
		}
		served.ServeHTTP(w, r)
	}), nil
}

// unrouted answers a path no route serves: 405 when another method would
// be served there, else 404, in OpenMetadata's shape (as Jersey does).
func (h *handler) unrouted(w http.ResponseWriter, r *http.Request) {
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); strings.HasPrefix(pattern, m+" ") {
			writeError(w, r, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
			return
		}
	}
	writeError(w, r, http.StatusNotFound, "HTTP 404 Not Found")
}

// authenticated checks the bearer token and gives fn a context that
// carries the principal.
func (h *handler) authenticated(fn func(http.ResponseWriter, *http.Request, context.Context)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		if header == "" {
			writeError(w, r, http.StatusUnauthorized, "Not Authorized! Token not present")
			return
		}
		scheme, token, ok := strings.Cut(header, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			writeError(w, r, http.StatusUnauthorized, "Not Authorized! Token not present")
			return
		}
		principal, ok := h.auth(strings.TrimSpace(token))
		if !ok {
			writeError(w, r, http.StatusUnauthorized, "Not Authorized! Invalid token")
			return
		}
		fn(w, r, registry.WithPrincipal(r.Context(), principal))
	})
}

// errorBody is Dropwizard's ErrorMessage, OpenMetadata's error shape.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// writeError writes OpenMetadata's error body; 401, 403, 404 and 409 also
// carry WWW-Authenticate: om-auth, as OpenMetadata's exception mapper sends.
func writeError(w http.ResponseWriter, _ *http.Request, status int, message string) {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict:
		w.Header().Set("WWW-Authenticate", "om-auth")
	}
	httpx.WriteJSON(w, status, errorBody{Code: status, Message: message})
}

// fail answers err: a validation error 400, a body error its status, a
// registry error the status its code means in OpenMetadata. entity and key
// name the target for a 404 ("mlmodel instance for <key> not found").
func (h *handler) fail(w http.ResponseWriter, r *http.Request, ctx context.Context, err error, entity, key string) {
	var inv invalidf
	var body *httpx.BodyError
	var rerr *registry.Error
	switch {
	case errors.As(err, &inv):
		writeError(w, r, http.StatusBadRequest, string(inv))
	case errors.As(err, &body):
		writeError(w, r, body.Status, body.Message)
	case errors.Is(err, registry.ErrNotFound):
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("%s instance for %s not found", entity, key))
	case errors.Is(err, registry.ErrNotEmpty):
		writeError(w, r, http.StatusBadRequest, entity+" is not empty")
	case errors.Is(err, registry.ErrAlreadyExists):
		writeError(w, r, http.StatusConflict, "Entity already exists")
	case errors.Is(err, registry.ErrForbidden):
		msg := fmt.Sprintf("Principal: CatalogPrincipal{name='%s'} operations not allowed", registry.PrincipalFrom(ctx))
		if errors.As(err, &rerr) {
			msg += ": " + rerr.Message
		}
		writeError(w, r, http.StatusForbidden, msg)
	case errors.As(err, &rerr):
		writeError(w, r, registry.HTTPStatus(err), rerr.Message)
	default:
		status := registry.HTTPStatus(err)
		if status == http.StatusInternalServerError {
			h.log.Error("request failed", "requestId", httpx.RequestIDFrom(r.Context()), "error", err)
			writeError(w, r, status, "internal error; the request ID is "+httpx.RequestIDFrom(r.Context()))
			return
		}
		writeError(w, r, status, err.Error())
	}
}

// baseURL is the scheme and host the client reached, for href and Location.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// boolParam reads a boolean query parameter: true or false in any case,
// absent for the default. OpenMetadata (Jersey) would read anything else as
// false; this dialect refuses it rather than guess.
func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	switch strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidf(fmt.Sprintf("[query param %s must be true or false, not %q]", name, clipped(v)))
}

// includeParam reads include: non-deleted (default), deleted or all.
func includeParam(r *http.Request, def registry.Include) (registry.Include, error) {
	v := r.URL.Query().Get("include")
	switch registry.Include(v) {
	case "":
		return def, nil
	case registry.IncludeNonDeleted, registry.IncludeDeleted, registry.IncludeAll:
		return registry.Include(v), nil
	}
	return "", invalidf(fmt.Sprintf("[query param include must be one of [non-deleted, deleted, all], not %q]", clipped(v)))
}

// fieldsParam validates fields against the entity's field list.
func fieldsParam(r *http.Request, allowed []string) error {
	for _, f := range strings.Split(r.URL.Query().Get("fields"), ",") {
		f = strings.TrimSpace(f)
		if f == "" || f == "*" { // "*" is every field, as the Python client asks
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == f
		}
		if !ok {
			return invalidf("Invalid field name " + clipped(f))
		}
	}
	return nil
}

// limitParam reads limit: 0 to 1,000,000, default 10.
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	digits := strings.TrimPrefix(v, "-")
	if err != nil && (digits == "" || strings.Trim(digits, "0123456789") != "") {
		return 0, invalidf(fmt.Sprintf("[query param limit must be an integer, not %q]", clipped(v)))
	}
	switch {
	case strings.HasPrefix(v, "-") && (err != nil || n < 0):
		return 0, invalidf("[query param limit must be greater than or equal to 0]")
	case err != nil || n > 1000000: // err: a number too large for an int
		return 0, invalidf("[query param limit must be less than or equal to 1000000]")
	}
	return n, nil
}

// clipped shortens what a client sent for an error message.
func clipped(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
