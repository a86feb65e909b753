// Package artifacts serves a *registry.Registry as the artifact registry of
// seed 003 (the ACME Registry API of ECE 461, Fall 2025, spec 3.4.4;
// DIALECTS.md §3), so that its clients work against it unchanged:
//
//	GET    /health                                  200 {"status":"ok"} (no credential)
//	POST   /artifact/{artifact_type}                ArtifactData {url, name?} → 201 Artifact; 409 exists
//	GET    /artifacts/{artifact_type}/{id}          → 200 Artifact
//	PUT    /artifacts/{artifact_type}/{id}          Artifact (name, id and type must match) → 200 Artifact
//	DELETE /artifacts/{artifact_type}/{id}          → 200 {"status":"deleted","id"}
//	GET    /artifact/{artifact_type}/{id}/lineage   → 200 ArtifactLineageGraph
//	GET    /artifact/byName/{name}                  → 200 [ArtifactMetadata]
//	POST   /artifact/byRegEx                        {regex} → 200 [ArtifactMetadata]
//	POST   /artifacts?offset=N                      [ArtifactQuery] → 200 [ArtifactMetadata], header offset
//	DELETE /reset                                   → 200 {"status":"reset"}
//
// artifact_type is model, dataset or code. Errors are FastAPI's
// {"detail":"…"}; a body or parameter that breaks the schema is 400 (the
// spec's status, not FastAPI's 422), an unknown artifact 404
// {"detail":"Artifact does not exist."}. Every response carries
// X-Request-Id.
//
// # Authentication
//
// The credential is the X-Authorization header, mapped to a principal by
// Options.Authenticate; the whole value is tried first, then, for a value
// of the form "bearer <token>" (any case), the token alone. As §3 says for
// this API, a missing or unknown credential is 403, not 401; 401 is kept for
// what §3 gives it, a reset the principal may not do. Every registry call
// carries the principal and the registry's Authorizer decides (403 when it
// refuses). Options.Anonymous, off by default, lets requests without the
// header act as a given principal, for demos whose curl lines carry none
// (seed 003's); a header that is present must still be valid.
//
// # Mapping onto the registry
//
// Every artifact lives in one namespace (Options.Namespace, "artifacts" by
// default) as {Kind: artifact_type, Namespace, Name: name, Version:
// artifact_type, StorageURIs: [url]}. The registry assigns the ID (a UUID,
// which matches the spec's ArtifactID pattern). The version is the type so
// that a model and a dataset may share a name, as GET /artifact/byName's
// "every id with that name" implies; the same name and type again is 409.
// A name not given is the last path segment of the URL
// (https://huggingface.co/org/churn → churn).
//
// A delete is a hard delete: the artifact, its lineage edges and its row
// go at once, and its URL, a storage URI of the artifact, goes to the
// registry's cleaner (or its pending-cleanup list), unless another artifact
// still references it. This is where it departs from the seed's own
// implementation, which leaves the stored files orphaned and dependents'
// lineage broken. The API documents no 409 for delete, so the lineage policy
// is registry.LineageDetach: the delete always succeeds, and each live
// dependent loses the edge and keeps the deleted upstream's ID in
// DeletedUpstreams, which the lineage endpoint shows in the node's metadata
// ("deleted_upstreams"); no edge ever names a node that is not in the graph.
// A second delete is 404. Marking a dependent is a change to it: a
// dependent the principal may not update (one of another namespace) makes
// the delete 403 and changes nothing.
//
// # Where this dialect differs from the seed and the spec
//
//   - download_url is the stored url: the registry keeps no copy of the
//     artifact to serve (the seed's example points to a server path).
//   - Request bodies are strict: an unknown field is 400. ArtifactData
//     accepts url, name (some servers take one) and download_url (read-only,
//     ignored).
//   - Rating is not done: an upload is 201 at once, never 202 or 424, and
//     /cost, /rate and /authenticate are not served (404).
//   - The lineage graph holds the artifact (first), its ancestors and its
//     descendants, up to registry.MaxLineageDepth edges away (the
//     registry's Lineage in both directions). Edges are registry edges
//     (made through the Go API or another dialect; this API has no call
//     that links), each with relationship "lineage"; node source is
//     "registry" and metadata gives the type. Artifacts of other namespaces
//     and the edges that touch them are left out, so every edge joins two
//     nodes of the graph.
//   - A delete of an artifact deployed through another dialect is 409
//     {"detail"}, as is any other conflict the registry reports.
//   - DELETE /reset is the registry's Reset: it empties the whole registry,
//     every dialect's artifacts included, so it needs a principal allowed
//     every namespace ("*"); another is 401.
//   - POST /artifacts: offset is a page index (default 0) of pages of
//     PageSize; the offset response header is always the next page's index,
//     and a page past the end is empty. A query name "*" matches every name.
//   - An id that is not a UUID (like the seed's 12345) is well formed but
//     names nothing here: 404. An id outside ^[a-zA-Z0-9-]+$ is 400.
package artifacts

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// AuthHeader is the header that carries the credential.
const AuthHeader = "X-Authorization"

// DefaultNamespace is the registry namespace of the artifacts unless
// Options.Namespace says otherwise.
const DefaultNamespace = "artifacts"

// PageSize is how many artifacts a page of POST /artifacts holds.
const PageSize = 100

// Options configure New.
type Options struct {
	// Registry is served: a *registry.Registry, or a durable
	// replicated.Node; required.
	Registry registry.API
	// Authenticate maps an X-Authorization credential to its principal;
	// required. httpapi.Credentials.Token fits.
	Authenticate func(token string) (principal string, ok bool)
	// Logger receives one line per request and every handler panic; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default httpx.DefaultMaxBody).
	MaxBodyBytes int64
	// Namespace holds the artifacts (default DefaultNamespace).
	Namespace string
	// Anonymous, when not empty, is the principal of requests that carry no
	// X-Authorization header, which are otherwise refused (403). It is for
	// demos (registryd -demo, whose seed 003 curl lines send no header);
	// scope the principal to Namespace in the registry's Authorizer. A
	// header that is present but unknown is still 403.
	Anonymous string
}

// Patterns are the net/http patterns this dialect serves, for a mux that
// mounts it beside others.
var Patterns = []string{"/artifact/", "/artifacts/", "/artifacts", "/reset", "/health"}

type handler struct {
	reg   registry.API
	auth  func(string) (string, bool)
	log   *slog.Logger
	limit int64
	ns    string
	anon  string
}

type route func(w http.ResponseWriter, r *http.Request, ctx context.Context)

// New returns the artifact registry dialect as an http.Handler serving
// Patterns.
func New(o Options) (http.Handler, error) {
	if httpx.IsNil(o.Registry) {
		return nil, errors.New("artifacts: Options.Registry is nil")
	}
	if o.Authenticate == nil {
		return nil, errors.New("artifacts: Options.Authenticate is nil")
	}
	h := &handler{reg: o.Registry, auth: o.Authenticate, log: o.Logger, limit: o.MaxBodyBytes, ns: o.Namespace, anon: o.Anonymous}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.limit <= 0 {
		h.limit = httpx.DefaultMaxBody
	}
	if h.ns == "" {
		h.ns = DefaultNamespace
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", h.methods(false, map[string]route{http.MethodGet: func(w http.ResponseWriter, _ *http.Request, _ context.Context) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}}))
	mux.HandleFunc("/artifact/{artifact_type}", h.methods(true, map[string]route{http.MethodPost: h.create}))
	mux.HandleFunc("/artifacts/{artifact_type}/{id}", h.methods(true, map[string]route{
		http.MethodGet: h.get, http.MethodPut: h.update, http.MethodDelete: h.delete}))
	mux.HandleFunc("/artifact/{artifact_type}/{id}/lineage", h.methods(true, map[string]route{http.MethodGet: h.lineage}))
	mux.HandleFunc("/artifact/byName/{name}", h.methods(true, map[string]route{http.MethodGet: h.byName}))
	mux.HandleFunc("/artifact/byRegEx", h.methods(true, map[string]route{http.MethodPost: h.byRegEx}))
	mux.HandleFunc("/artifacts", h.methods(true, map[string]route{http.MethodPost: h.query}))
	mux.HandleFunc("/reset", h.methods(true, map[string]route{http.MethodDelete: h.reset}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	served := httpx.Serve(h.log, "artifacts", func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
		writeError(w, status, msg)
	}, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestIDFrom(r.Context()) == "" {
			httpx.RequestID(served).ServeHTTP(w, r)
			return
		}
		served.ServeHTTP(w, r)
	}), nil
}

// methods dispatches on the method and, with auth, authenticates the
// caller first.
func (h *handler) methods(auth bool, m map[string]route) http.HandlerFunc {
	var allow []string
	for _, meth := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := m[meth]; ok {
			allow = append(allow, meth)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		ctx := r.Context()
		if auth {
			principal, ok := h.authenticate(r.Header.Get(AuthHeader))
			if !ok {
				writeError(w, http.StatusForbidden, "Authentication failed due to invalid or missing AuthenticationToken.")
				return
			}
			ctx = registry.WithPrincipal(ctx, principal)
		}
		f(w, r, ctx)
	}
}

func (h *handler) authenticate(cred string) (string, bool) {
	if cred == "" {
		return h.anon, h.anon != ""
	}
	if p, ok := h.auth(cred); ok {
		return p, true
	}
	if len(cred) > 7 && strings.EqualFold(cred[:7], "bearer ") {
		if tok := strings.TrimSpace(cred[7:]); tok != "" {
			return h.auth(tok)
		}
	}
	return "", false
}

// errorBody is FastAPI's error shape.
type errorBody struct {
	Detail string `json:"detail"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	httpx.WriteJSON(w, status, errorBody{Detail: msg})
}

// notExist is the seed's 404.
func notExist(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Artifact does not exist.")
}

var (
	idRE   = regexp.MustCompile(`^[a-zA-Z0-9-]{1,128}$`)
	uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// kind reads an artifact_type; false when it is not one.
func kind(s string) (registry.Kind, bool) {
	switch k := registry.Kind(s); k {
	case registry.KindModel, registry.KindDataset, registry.KindCode:
		return k, true
	}
	return "", false
}

// target reads and checks the type and id of the path and finds the
// artifact; it answers the error itself when it returns false.
func (h *handler) target(w http.ResponseWriter, r *http.Request, ctx context.Context) (registry.Artifact, bool) {
	k, ok := kind(r.PathValue("artifact_type"))
	if !ok {
		writeError(w, http.StatusBadRequest, "artifact_type must be model, dataset or code.")
		return registry.Artifact{}, false
	}
	id := r.PathValue("id")
	if !idRE.MatchString(id) {
		writeError(w, http.StatusBadRequest, "artifact_id must be 1 to 128 letters, digits or '-'.")
		return registry.Artifact{}, false
	}
	if !uuidRE.MatchString(id) {
		notExist(w)
		return registry.Artifact{}, false
	}
	a, err := h.reg.Get(ctx, id)
	if err == nil && (a.Namespace != h.ns || a.Kind != k) {
		err = registry.ErrNotFound
	}
	if err != nil {
		h.registryError(w, r, err)
		return registry.Artifact{}, false
	}
	return a, true
}

// registryError answers an error of the registry.
func (h *handler) registryError(w http.ResponseWriter, r *http.Request, err error) {
	msg := strings.TrimPrefix(err.Error(), "registry: ")
	var re *registry.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		notExist(w)
	case errors.Is(err, registry.ErrForbidden):
		writeError(w, http.StatusForbidden, msg)
	case errors.Is(err, registry.ErrInvalid):
		writeError(w, http.StatusBadRequest, msg)
	case errors.Is(err, registry.ErrAlreadyExists):
		writeError(w, http.StatusConflict, "Artifact exists already.")
	case registry.HTTPStatus(err) == http.StatusConflict:
		writeError(w, http.StatusConflict, msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, "The request was cancelled or timed out.")
	default:
		h.log.Error("registry error", "dialect", "artifacts", "requestId", httpx.RequestIDFrom(r.Context()), "error", err)
		writeError(w, http.StatusInternalServerError, "Internal error; the request ID is "+httpx.RequestIDFrom(r.Context())+".")
	}
}

func bodyError(w http.ResponseWriter, err error) {
	var be *httpx.BodyError
	if errors.As(err, &be) {
		writeError(w, be.Status, be.Message)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}
