package native

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

//go:embed openapi.yaml
var openapiYAML []byte

// openapiJSON is the document converted once, at init.
var openapiJSON = mustJSON(openapiYAML)

func mustJSON(doc []byte) []byte {
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		panic("native: openapi.yaml: " + err.Error())
	}
	out, err := json.Marshal(v)
	if err != nil {
		panic("native: openapi.yaml as JSON: " + err.Error())
	}
	return out
}

// OpenAPI returns the OpenAPI 3.1 document of the API, as YAML: the one
// the server serves at /v1/openapi.yaml. The caller may keep it; it is a
// copy.
func OpenAPI() []byte { return slices.Clone(openapiYAML) }

// Patterns are the net/http patterns this package serves, for a mux that
// mounts it beside other dialects: one prefix, under which every more
// specific pattern (ModelArts') wins.
var Patterns = []string{"/v1/"}

// DefaultHeartbeat is how often an event stream sends a comment when it has
// nothing else to send.
const DefaultHeartbeat = 15 * time.Second

// Options configure New.
type Options struct {
	// Registry is served: a *registry.Registry, or a durable
	// replicated.Node; required.
	Registry registry.API
	// Authenticate maps the bearer token of Authorization: Bearer <token>
	// to its principal (httpapi.Credentials.Token fits); required.
	Authenticate func(token string) (principal string, ok bool)
	// Admin says whether a principal may call GET /v1/check, whose report
	// names artifacts of every namespace; nil allows every authenticated
	// principal.
	Admin func(principal string) bool
	// Logger receives one line per request and every handler panic; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default httpx.DefaultMaxBody).
	MaxBodyBytes int64
	// Metrics, when not nil, receives the API's own collectors
	// (registry_deletes_total, registry_events_dropped_total).
	Metrics prometheus.Registerer
	// Heartbeat is the event stream's keep-alive interval (default
	// DefaultHeartbeat).
	Heartbeat time.Duration
	// EventBuffer is the buffer of each event stream's subscription
	// (default 1024); a stream that falls further behind catches up from
	// the audit log.
	EventBuffer int
}

type handler struct {
	Options
	mux     *http.ServeMux
	deletes *prometheus.CounterVec
	dropped prometheus.Counter
}

// ctxFunc is a route: it runs after authentication, with a context that
// carries the principal.
type ctxFunc func(w http.ResponseWriter, r *http.Request, ctx context.Context)

// New returns the native API as an http.Handler serving Patterns.
func New(o Options) (http.Handler, error) {
	if httpx.IsNil(o.Registry) {
		return nil, errors.New("native: Options.Registry is nil")
	}
	if o.Authenticate == nil {
		return nil, errors.New("native: Options.Authenticate is nil")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = httpx.DefaultMaxBody
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 1024
	}
	if o.EventBuffer > registry.MaxSubscriptionBuffer {
		return nil, fmt.Errorf("native: Options.EventBuffer %d is above %d", o.EventBuffer, registry.MaxSubscriptionBuffer)
	}
	h := &handler{Options: o, mux: http.NewServeMux()}
	h.deletes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "registry_deletes_total",
		Help: "Delete calls of the native API by mode (soft, hard) and outcome (deleted, partial, failed, dry-run, replayed).",
	}, []string{"mode", "outcome"})
	h.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "registry_events_dropped_total",
		Help: "Events that event streams' subscriptions lost and the audit log no longer held.",
	})
	if o.Metrics != nil {
		for _, c := range []prometheus.Collector{h.deletes, h.dropped} {
			if err := o.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("native: metrics: %w", err)
			}
		}
	}
	h.routes()
	return httpx.Serve(o.Logger, "native", func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		writeProblem(w, r, problemFor(status, msg))
	}, h.mux), nil
}

func (h *handler) routes() {
	handle := func(method, path string, fn ctxFunc, public ...bool) {
		pattern := method + " " + path
		h.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpx.SetRoute(r.Context(), path)
			ctx := r.Context()
			if len(public) == 0 {
				principal, ok := h.authenticate(w, r)
				if !ok {
					return
				}
				ctx = registry.WithPrincipal(ctx, principal)
			}
			fn(w, r, ctx)
		}))
	}
	handle("GET", "/v1/openapi.yaml", h.openapi("application/yaml", openapiYAML), true)
	handle("GET", "/v1/openapi.json", h.openapi("application/json", openapiJSON), true)

	handle("GET", "/v1/artifacts", h.list)
	handle("POST", "/v1/artifacts", h.register)
	handle("POST", "/v1/artifacts/batch", h.registerBatch)
	handle("GET", "/v1/artifacts/{id}", h.get)
	handle("PUT", "/v1/artifacts/{id}", h.update)
	handle("DELETE", "/v1/artifacts/{id}", h.deleteByID)
	handle("POST", "/v1/artifacts/{id}/restore", h.restoreByID)
	handle("GET", "/v1/artifacts/{id}/lineage", h.lineage)
	handle("PUT", "/v1/artifacts/{id}/deployments/{endpoint}", h.deploy)
	handle("DELETE", "/v1/artifacts/{id}/deployments/{endpoint}", h.undeploy)
	handle("GET", "/v1/fqn/{fqn}", h.getByFQN)
	handle("DELETE", "/v1/fqn/{fqn}", h.deleteByFQN)
	handle("POST", "/v1/fqn/{fqn}/restore", h.restoreByFQN)
	handle("GET", "/v1/namespaces/{namespace}/names/{name}", h.getUnversioned)
	handle("GET", "/v1/namespaces/{namespace}/names/{name}/versions", h.listVersions)
	handle("DELETE", "/v1/namespaces/{namespace}/names/{name}/versions", h.deleteAllVersions)
	handle("GET", "/v1/namespaces/{namespace}/names/{name}/versions/{version}", h.getVersion)
	handle("POST", "/v1/lineage", h.link)
	handle("DELETE", "/v1/lineage/{upstream}/{downstream}", h.unlink)
	handle("POST", "/v1/operations/{operation}/restore", h.restoreOperation)
	handle("POST", "/v1/purge", h.purge)
	handle("GET", "/v1/cleanups", h.cleanups)
	handle("POST", "/v1/cleanups/retry", h.retryCleanups)
	handle("GET", "/v1/check", h.check)
	handle("POST", "/v1/reset", h.reset)
	handle("GET", "/v1/events", h.events)

	// A path served for other methods answers 405 naming them, in problem
	// details (ServeMux's own 405 is plain text, and the catch-all below
	// takes the request anyway, since it matches every method).
	h.mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE"} {
			if _, pattern := h.mux.Handler(withMethod(r, m)); pattern != "/v1/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		httpx.SetRoute(r.Context(), "/v1/")
		if len(allow) == 0 {
			writeProblem(w, r, &problem{Status: http.StatusNotFound, Code: registry.CodeNotFound,
				Detail: fmt.Sprintf("no endpoint %s; see /v1/openapi.yaml", r.URL.Path)})
			return
		}
		if _, pattern := h.mux.Handler(withMethod(r, allow[0])); pattern != "" {
			httpx.SetRoute(r.Context(), pattern[strings.Index(pattern, " ")+1:])
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, r, &problem{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed,
			Detail: fmt.Sprintf("%s does not serve %s; it serves %s", r.URL.Path, r.Method, strings.Join(allow, ", "))})
	})
}

func withMethod(r *http.Request, method string) *http.Request {
	probe := r.Clone(r.Context())
	probe.Method = method
	return probe
}

func (h *handler) openapi(contentType string, doc []byte) ctxFunc {
	return func(w http.ResponseWriter, r *http.Request, _ context.Context) {
		if _, ok := h.query(w, r); !ok {
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(doc)
	}
}

// authenticate maps Authorization: Bearer <token> to a principal, or
// answers 401.
func (h *handler) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="registry"`)
		writeProblem(w, r, &problem{Status: http.StatusUnauthorized, Code: codeUnauthenticated,
			Detail: "no credential: send Authorization: Bearer <token>"})
		return "", false
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	token = strings.TrimSpace(token)
	if len(values) > 1 || !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="registry", error="invalid_request"`)
		writeProblem(w, r, &problem{Status: http.StatusUnauthorized, Code: codeUnauthenticated,
			Detail: "the Authorization header is not one Bearer <token>"})
		return "", false
	}
	principal, ok := h.Authenticate(token)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="registry", error="invalid_token"`)
		writeProblem(w, r, &problem{Status: http.StatusUnauthorized, Code: codeUnauthenticated,
			Detail: "the bearer token is not known"})
		return "", false
	}
	return principal, true
}
