// Package httpapi serves a registry (any registry.API: a *registry.Registry
// in memory, or a durable replicated.Node) over HTTP in the dialects of the
// four systems the registry was designed from, so that their own clients
// work against it unchanged:
//
//   - OpenMetadata's ML models and ML model services, under /api/v1
//     (package httpapi/openmetadata);
//   - Huawei ModelArts' models and services, under /v1/{project_id}
//     (package httpapi/modelarts);
//   - the artifact registry of seed 003, under /artifact, /artifacts and
//     /reset (package httpapi/artifacts);
//   - AWS Lookout for Vision's projects and models, under /2020-11-20,
//     signed with AWS Signature Version 4 (package httpapi/lookout);
//   - the registry's own native API, every library call, under /v1 beside
//     ModelArts (package httpapi/native, with its OpenAPI document).
//
// Each dialect is an http.Handler of its own package and can be mounted
// alone; NewHandler mounts them all, with health and readiness endpoints
// and Prometheus metrics at GET /metrics (requests by dialect, route
// pattern, method and status, their latency, the registry's size by state,
// pending cleanups, native deletes by mode and outcome, events dropped).
// Tracing is not built in: a handler can be wrapped with OpenTelemetry's
// otelhttp from outside at no cost to servers that do not.
//
// Every credential maps to a principal through one table (Credentials), and
// every action then goes through the registry's Authorizer, so that
// namespaces, projects and tenants stay isolated. NewServer wraps the
// handler in an http.Server with timeouts; DemoCredentials and SeedDemo
// make the demo server of cmd/registryd -demo.
package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/artifacts"
	"github.com/modelreg/registry/httpapi/internal/httpx"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/httpapi/modelarts"
	"github.com/modelreg/registry/httpapi/native"
	"github.com/modelreg/registry/httpapi/openmetadata"
	"github.com/modelreg/registry/httpapi/ui"
)

// Principal is one caller: the namespaces it may touch ("*" for all) and
// the credentials that identify it.
type Principal struct {
	// Namespaces the principal may act in: OpenMetadata services, ModelArts
	// projects, Lookout for Vision projects, the artifact registry's
	// namespace. "*" means every namespace.
	Namespaces []string `json:"namespaces"`
	// Tokens are bearer tokens: OpenMetadata's Authorization: Bearer,
	// ModelArts' X-Auth-Token and the artifact registry's X-Authorization.
	Tokens []string `json:"tokens,omitempty"`
	// AWSKeys are the access keys whose SigV4 signatures identify it to the
	// Lookout for Vision dialect.
	AWSKeys []AWSKey `json:"awsKeys,omitempty"`
}

// AWSKey is an AWS access key pair.
type AWSKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// Credentials is the table that maps every credential to its principal. A
// server reads it from a JSON file (LoadCredentials):
//
//	{"principals": {
//	  "alice": {"namespaces": ["mlflow_svc"], "tokens": ["alice-token"],
//	            "awsKeys": [{"accessKeyId": "AKIDALICE", "secretAccessKey": "alice-secret"}]},
//	  "admin": {"namespaces": ["*"], "tokens": ["admin-token"]}}}
type Credentials struct {
	Principals map[string]Principal `json:"principals"`

	tokens map[string]string
	keys   map[string]awsEntry
}

type awsEntry struct{ secret, principal string }

// ParseCredentials reads a credentials table from JSON and checks it: every
// principal has a valid name and at least one namespace, and no token or
// access key belongs to two principals.
func ParseCredentials(data []byte) (*Credentials, error) {
	var c Credentials
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("httpapi: credentials: %w", err)
	}
	if err := c.index(); err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadCredentials reads a credentials table from a JSON file.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("httpapi: credentials: %w", err)
	}
	return ParseCredentials(data)
}

// NewCredentials builds a credentials table from principals, checked as
// ParseCredentials checks a file.
func NewCredentials(principals map[string]Principal) (*Credentials, error) {
	c := &Credentials{Principals: principals}
	if err := c.index(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Credentials) index() error {
	if len(c.Principals) == 0 {
		return errors.New("httpapi: credentials: no principals")
	}
	c.tokens, c.keys = map[string]string{}, map[string]awsEntry{}
	for _, name := range slices.Sorted(maps.Keys(c.Principals)) {
		p := c.Principals[name]
		if name == "" || name == registry.Anonymous {
			return fmt.Errorf("httpapi: credentials: principal name %q is reserved", name)
		}
		if len(p.Namespaces) == 0 {
			return fmt.Errorf("httpapi: credentials: principal %q has no namespaces; give at least one, or \"*\"", name)
		}
		for _, t := range p.Tokens {
			if t == "" {
				return fmt.Errorf("httpapi: credentials: principal %q has an empty token", name)
			}
			if other, dup := c.tokens[t]; dup {
				return fmt.Errorf("httpapi: credentials: a token of %q is also a token of %q", name, other)
			}
			c.tokens[t] = name
		}
		for _, k := range p.AWSKeys {
			if k.AccessKeyID == "" || k.SecretAccessKey == "" {
				return fmt.Errorf("httpapi: credentials: principal %q has an AWS key without ID or secret", name)
			}
			if other, dup := c.keys[k.AccessKeyID]; dup {
				return fmt.Errorf("httpapi: credentials: access key %s of %q is also a key of %q", k.AccessKeyID, name, other.principal)
			}
			c.keys[k.AccessKeyID] = awsEntry{k.SecretAccessKey, name}
		}
	}
	return nil
}

// Token returns the principal a bearer token belongs to.
func (c *Credentials) Token(token string) (string, bool) {
	if c == nil {
		return "", false
	}
	p, ok := c.tokens[token]
	return p, ok
}

// AWSKey returns the secret of an access key and the principal it belongs
// to.
func (c *Credentials) AWSKey(accessKeyID string) (secret, principal string, ok bool) {
	if c == nil {
		return "", "", false
	}
	e, ok := c.keys[accessKeyID]
	return e.secret, e.principal, ok
}

// admin reports whether a principal may act in every namespace.
func (c *Credentials) admin(principal string) bool {
	p, ok := c.Principals[principal]
	return ok && slices.Contains(p.Namespaces, "*")
}

// Authorizer scopes each principal to its namespaces, for registry.New.
func (c *Credentials) Authorizer() registry.NamespaceAuthorizer {
	n := registry.NamespaceAuthorizer{}
	for name, p := range c.Principals {
		n[name] = slices.Clone(p.Namespaces)
	}
	return n
}

// Config is what NewHandler serves.
type Config struct {
	// Registry is served; required: a *registry.Registry built with
	// registry.WithAuthorizer(Credentials.Authorizer()), or a durable
	// replicated.Node opened with that authorizer in its Config, so that
	// principals stay in their namespaces. When it has a Ready() error
	// method (replicated.Node does), GET /readyz answers ready only while
	// that returns nil.
	Registry registry.API
	// Credentials authenticate every request; required.
	Credentials *Credentials
	// Logger receives one line per request and every handler panic; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// AWSRegion and AWSAccount make Lookout for Vision's ARNs and scope its
	// signatures (defaults us-east-1 and 123456789012).
	AWSRegion, AWSAccount string
	// ArtifactsAnonymous, when not empty, is the principal of artifact
	// registry requests without X-Authorization (artifacts.Options.Anonymous);
	// empty, the default, refuses them. For demos: registryd -demo sets it
	// to DemoGuest.
	ArtifactsAnonymous string
}

// NewHandler returns a handler that serves every dialect, GET /healthz
// (the process is up), GET /readyz (the registry is ready, for a node:
// it has a leader and has applied its log, and its invariants hold), GET
// /metrics (Prometheus text; no credential), and the web page under /ui/ (package httpapi/ui), to which GET / redirects.
func NewHandler(cfg Config) (http.Handler, error) {
	if httpx.IsNil(cfg.Registry) {
		return nil, errors.New("httpapi: Config.Registry is nil")
	}
	if cfg.Credentials == nil {
		return nil, errors.New("httpapi: Config.Credentials is nil")
	}
	mux := http.NewServeMux()
	m := newMetrics(cfg.Registry)
	handle := func(dialect, pattern string, h http.Handler) { mux.Handle(pattern, m.instrument(dialect, pattern, h)) }
	mux.Handle("GET /metrics", m.handler())
	plain := func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
		httpx.WriteJSON(w, status, map[string]any{"status": status, "message": msg})
	}
	handle("health", "GET /healthz", httpx.Serve(cfg.Logger, "health", plain, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	handle("health", "GET /readyz", httpx.Serve(cfg.Logger, "health", plain, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if node, ok := cfg.Registry.(interface{ Ready() error }); ok {
			if err := node.Ready(); err != nil {
				plain(w, r, http.StatusServiceUnavailable, "not ready: "+err.Error())
				return
			}
		}
		if err := cfg.Registry.Check(); err != nil {
			plain(w, r, http.StatusServiceUnavailable, "registry invariants broken: "+err.Error())
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})))
	// Dialects are mounted here.
	om, err := openmetadata.New(openmetadata.Options{Registry: cfg.Registry, Authenticate: cfg.Credentials.Token,
		Logger: cfg.Logger, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	for _, p := range openmetadata.Patterns {
		handle("openmetadata", p, om)
	}
	ma, err := modelarts.New(modelarts.Options{Registry: cfg.Registry, Authenticate: cfg.Credentials.Token,
		Logger: cfg.Logger, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	for _, p := range modelarts.Patterns {
		handle("modelarts", p, ma)
	}
	ar, err := artifacts.New(artifacts.Options{Registry: cfg.Registry, Authenticate: cfg.Credentials.Token,
		Logger: cfg.Logger, MaxBodyBytes: cfg.MaxBodyBytes, Anonymous: cfg.ArtifactsAnonymous})
	if err != nil {
		return nil, err
	}
	for _, p := range artifacts.Patterns {
		handle("artifacts", p, ar)
	}
	lv, err := lookout.New(lookout.Options{Registry: cfg.Registry, Keys: cfg.Credentials.AWSKey,
		Region: cfg.AWSRegion, Account: cfg.AWSAccount, Logger: cfg.Logger, MaxBodyBytes: cfg.MaxBodyBytes})
	if err != nil {
		return nil, err
	}
	handle("lookout", lookout.Prefix+"/", lv)
	// The native API is mounted on /v1/, which every ModelArts pattern is
	// more specific than, and routes inside (see package native).
	nv, err := native.New(native.Options{Registry: cfg.Registry, Authenticate: cfg.Credentials.Token,
		Admin: cfg.Credentials.admin, Logger: cfg.Logger, MaxBodyBytes: cfg.MaxBodyBytes, Metrics: m.reg})
	if err != nil {
		return nil, err
	}
	for _, p := range native.Patterns {
		handle("native", p, nv)
	}
	// The web page, and / sends a browser to it.
	handle("ui", "GET "+ui.Prefix, httpx.Serve(cfg.Logger, "ui", plain, ui.Handler()))
	handle("ui", "GET /{$}", http.RedirectHandler(ui.Prefix, http.StatusFound))
	return httpx.RequestID(mux), nil
}

// NewServer returns an http.Server for h on addr with timeouts that bound
// slow clients: 10 s to send the headers, 1 minute for the whole request,
// 2 minutes to write the answer (a recursive delete of 100,000 artifacts
// takes about two seconds), 2 minutes idle. Stop it with Shutdown, which
// lets in-flight requests finish.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	s := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if log != nil {
		s.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return s
}
