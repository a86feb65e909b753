// Package modelarts serves a *registry.Registry in the dialect of Huawei
// Cloud ModelArts' model management API v1 (seeds 001 and 002,
// DIALECTS.md §2), so that ModelArts clients work against it unchanged:
//
//	POST   /v1/{project_id}/models                 import a model → 200 {"model_id"}
//	GET    /v1/{project_id}/models                 list models → 200 {models, total_count, count}
//	GET    /v1/{project_id}/models/{model_id}      get a model
//	DELETE /v1/{project_id}/models/{model_id}      delete (cascade=true: its other versions too) → 200 per-item report
//	POST   /v1/{project_id}/services               deploy → 200 {service_id, resource_ids}
//	GET    /v1/{project_id}/services               list services → 200 {services, total_count, count}
//	GET    /v1/{project_id}/services/{service_id}  get a service
//	PUT    /v1/{project_id}/services/{service_id}  {"status":"running"|"stopped"}: start or stop it
//	DELETE /v1/{project_id}/services/{ids}         delete services (IDs comma-separated) → 200 {}
//
// # Authentication and errors
//
// The credential is the X-Auth-Token header, mapped to a principal by
// Options.Authenticate: a missing token is 401 ModelArts.0201, an unknown
// one 401 ModelArts.0203. Every registry call then carries that principal,
// and the registry's Authorizer decides (a refusal is 403 ModelArts.3010).
// Errors are {"error_code":"ModelArts.XXXX","error_msg":"…"}, with the codes
// of DIALECTS.md §2.4: 400 ModelArts.0101 for a body or query parameter that
// cannot be read (malformed JSON, wrong types, a bad path ID; 413 for a body
// over the size limit), 400 ModelArts.0104 for a value that breaks its rule,
// 400 ModelArts.3036 for a missing required parameter, 404 ModelArts.3001 (an
// unknown model on the models API), ModelArts.3507 (an unknown model named by
// a deploy) and ModelArts.3502 (an unknown service), 409 ModelArts.3002 (the
// model name and version exist) and ModelArts.3503 (the service exists), 405
// ModelArts.0105 for a method a path does not serve, and 500 ModelArts.0010
// for anything unexpected (logged, with the request ID in the message). Every
// response carries X-Request-Id.
//
// # Mapping onto the registry
//
// The project is a tenant: project_id is the registry namespace. A model is
// an artifact {Kind: model, Namespace: project_id, Name: model_name,
// Version: model_version, Description: description}; the registry assigns
// its ID, which is the model_id. The other fields of the import request live
// in the artifact's labels, under the "modelarts." prefix: model_type,
// source_location, runtime, source_type, workspace_id, install_type, the
// owner (the principal that imported it), and the structured fields (apis,
// input_params, output_params, dependencies, model_metrics, initial_config,
// model_docs, template) as compact JSON. A model, or a service, of another
// project is not found (404), whatever the principal may read: the project in
// the path must be the artifact's namespace.
//
// A service is an artifact {Kind: code, Namespace: project_id, Name:
// "::service:"+service_name} (ModelArts names cannot contain ':', so it never
// meets a model's name), whose ID is the service_id; its status, infer_type,
// owner, workspace_id and each config item (one label per item, as JSON) are
// labels. A running service deploys each of its models to the endpoint
// "modelarts:<project_id>/services/<service_id>" (registry.Deploy), so the
// registry refuses to delete a model a service uses (ModelArts.3009);
// stopping or deleting the service undeploys them. The dialect keeps no state
// of its own.
//
// A model delete is a hard delete (ModelArts has no trash and no restore):
// the name and version can be imported again at once. source_location is the
// user's OBS object, not the registry's, so it is a label, not a storage URI:
// deleting a model never hands it to the cleaner. cascade=true is the
// registry's cascade with its default limit of 20 versions, the target first;
// versions past the limit stay, unreported, as ModelArts documents. Lineage
// dependents (made by another dialect) refuse the delete (registry.LineageRestrict).
//
// # Where this dialect differs from the seeds and the public API
//
//   - A failed delete item carries both error_msg (seed 002, ModelArts 2024)
//     and error_message (seed 001, OTC 2022), with the same text, so that
//     clients of either revision read it. Codes: ModelArts.3009 for a
//     deployed model (message as seed 001's: "Failed to delete model, model
//     (<id>) already deploy service."), ModelArts.3010 for a refusal by the
//     authorizer, ModelArts.0105 ("operation not allowed") for the registry's
//     other refusals (lineage dependents, contained children, purge
//     protection).
//   - An unknown model_id on delete is undocumented (DIALECTS §2.2); it is
//     404 ModelArts.3001, the catalogued "model does not exist", as for get.
//     A delete the authorizer refuses outright (nothing deleted, the target
//     refused) is 403 ModelArts.3010 rather than a 200 report.
//   - An imported model is "published" at once, with model_size 0: there is
//     no asynchronous build. It can be deployed immediately.
//   - Unknown JSON fields are accepted and ignored: ModelArts does not say its
//     API is strict, and newer clients send fields older servers lack. Known
//     fields are type-checked (a wrong type is 400 ModelArts.0101). Fields
//     the registry has no place for (schedule, cluster_id, vpc_id and the like
//     of a deploy) are accepted but not kept; a structured import field whose
//     compact JSON is over 1024 bytes (the registry's label limit) is refused
//     with 400 ModelArts.0104.
//   - offset is the page index (as documented), so a page holds the items
//     from offset×limit; limit is 1–1000 (default 1000).
//   - A deploy is several registry calls (register the service, then deploy
//     each model); if one fails, the earlier ones are undone, so a failed
//     deploy leaves nothing behind. A deploy takes at most 20 models; batch
//     services take exactly one. instance_count is 1–5, weights of a
//     real-time service sum to 100.
//   - PUT on a service changes its status and description only; a config
//     change is 400 ModelArts.0104. The answer is 200 {}.
//   - Services answer at once: status is running or stopped, never deploying,
//     and resource_ids is the service ID.
package modelarts

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

// TokenHeader is the header that carries the credential (an IAM token).
const TokenHeader = "X-Auth-Token"

// Options configure New.
type Options struct {
	// Registry is served: a *registry.Registry, or a durable
	// replicated.Node; required.
	Registry registry.API
	// Authenticate maps an X-Auth-Token to its principal; required.
	// httpapi.Credentials.Token fits.
	Authenticate func(token string) (principal string, ok bool)
	// Logger receives one line per request and every handler panic; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default httpx.DefaultMaxBody).
	MaxBodyBytes int64
}

// Patterns are the net/http patterns this dialect serves, without methods,
// for a mux that mounts it beside others.
var Patterns = []string{
	"/v1/{project_id}/models",
	"/v1/{project_id}/models/{model_id}",
	"/v1/{project_id}/services",
	"/v1/{project_id}/services/{service_id}",
}

type handler struct {
	reg   registry.API
	auth  func(string) (string, bool)
	log   *slog.Logger
	limit int64
}

// New returns the ModelArts dialect as an http.Handler serving Patterns.
func New(o Options) (http.Handler, error) {
	if httpx.IsNil(o.Registry) {
		return nil, errors.New("modelarts: Options.Registry is nil")
	}
	if o.Authenticate == nil {
		return nil, errors.New("modelarts: Options.Authenticate is nil")
	}
	h := &handler{reg: o.Registry, auth: o.Authenticate, log: o.Logger, limit: o.MaxBodyBytes}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.limit <= 0 {
		h.limit = httpx.DefaultMaxBody
	}
	mux := http.NewServeMux()
	mux.HandleFunc(Patterns[0], h.methods(map[string]func(http.ResponseWriter, *http.Request, context.Context, string){
		http.MethodPost: h.createModel, http.MethodGet: h.listModels}))
	mux.HandleFunc(Patterns[1], h.methods(map[string]func(http.ResponseWriter, *http.Request, context.Context, string){
		http.MethodGet: h.getModel, http.MethodDelete: h.deleteModel}))
	mux.HandleFunc(Patterns[2], h.methods(map[string]func(http.ResponseWriter, *http.Request, context.Context, string){
		http.MethodPost: h.createService, http.MethodGet: h.listServices}))
	mux.HandleFunc(Patterns[3], h.methods(map[string]func(http.ResponseWriter, *http.Request, context.Context, string){
		http.MethodGet: h.getService, http.MethodPut: h.updateService, http.MethodDelete: h.deleteServices}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, http.StatusNotFound, "ModelArts.0102", "no API at "+r.URL.Path)
	})
	served := httpx.Serve(h.log, "modelarts", writeErrorStatus, mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestIDFrom(r.Context()) == "" {
			httpx.RequestID(served).ServeHTTP(w, r)
			return
		}
		served.ServeHTTP(w, r)
	}), nil
}

var projectRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// methods dispatches on the method, after authenticating the caller and
// checking the project ID; the handler gets the principal's context and the
// project.
func (h *handler) methods(m map[string]func(http.ResponseWriter, *http.Request, context.Context, string)) http.HandlerFunc {
	allow := make([]string, 0, len(m))
	for _, meth := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := m[meth]; ok {
			allow = append(allow, meth)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, http.StatusMethodNotAllowed, "ModelArts.0105", "method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, ", "))
			return
		}
		tok := r.Header.Get(TokenHeader)
		if tok == "" {
			writeError(w, r, http.StatusUnauthorized, "ModelArts.0201", "the request carries no token; send it in the X-Auth-Token header")
			return
		}
		principal, ok := h.auth(tok)
		if !ok {
			writeError(w, r, http.StatusUnauthorized, "ModelArts.0203", "the token in X-Auth-Token is not valid")
			return
		}
		project := r.PathValue("project_id")
		if !projectRE.MatchString(project) {
			writeError(w, r, http.StatusBadRequest, "ModelArts.0101", "invalid project_id: want 1 to 64 letters, digits, '-' or '_'")
			return
		}
		f(w, r, registry.WithPrincipal(r.Context(), principal), project)
	}
}

// errorBody is ModelArts' error shape.
type errorBody struct {
	Code    string `json:"error_code"`
	Message string `json:"error_msg"`
}

func writeError(w http.ResponseWriter, _ *http.Request, status int, code, msg string) {
	httpx.WriteJSON(w, status, errorBody{Code: code, Message: msg})
}

// writeErrorStatus is the httpx.ErrorWriter: a code chosen by status.
func writeErrorStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	code := "ModelArts.0010"
	switch {
	case status == http.StatusRequestEntityTooLarge, status == http.StatusBadRequest:
		code = "ModelArts.0101"
	}
	writeError(w, r, status, code, msg)
}

// bodyError answers a body that DecodeJSON refused.
func bodyError(w http.ResponseWriter, r *http.Request, err error) {
	var be *httpx.BodyError
	if errors.As(err, &be) {
		writeError(w, r, be.Status, "ModelArts.0101", be.Message)
		return
	}
	writeError(w, r, http.StatusBadRequest, "ModelArts.0101", err.Error())
}

// registryError answers an error of the registry; notFound is the code of
// a missing artifact on this API, exists the code of a taken name.
func (h *handler) registryError(w http.ResponseWriter, r *http.Request, err error, notFound, exists string) {
	msg := strings.TrimPrefix(err.Error(), "registry: ")
	var re *registry.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		writeError(w, r, http.StatusNotFound, notFound, msg)
	case errors.Is(err, registry.ErrForbidden):
		writeError(w, r, http.StatusForbidden, "ModelArts.3010", msg)
	case errors.Is(err, registry.ErrInvalid):
		writeError(w, r, http.StatusBadRequest, "ModelArts.0104", msg)
	case errors.Is(err, registry.ErrAlreadyExists):
		writeError(w, r, http.StatusConflict, exists, msg)
	case errors.Is(err, registry.ErrDeployed):
		writeError(w, r, http.StatusConflict, "ModelArts.3009", msg)
	case registry.HTTPStatus(err) == http.StatusConflict:
		writeError(w, r, http.StatusConflict, "ModelArts.0105", msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, r, http.StatusServiceUnavailable, "ModelArts.0012", "the request was cancelled or timed out")
	default:
		h.log.Error("registry error", "dialect", "modelarts", "requestId", httpx.RequestIDFrom(r.Context()), "error", err)
		writeError(w, r, http.StatusInternalServerError, "ModelArts.0010", "internal error; the request ID is "+httpx.RequestIDFrom(r.Context()))
	}
}
