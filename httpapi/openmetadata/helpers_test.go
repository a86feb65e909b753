package openmetadata_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
	"github.com/modelreg/registry/httpapi/openmetadata"
	"github.com/modelreg/registry/registrytest"
)

// Tokens of the test principals: admin may act everywhere, alice in
// mlflow_svc only, bob in other_svc only.
const (
	adminToken = "admin-token"
	aliceToken = "alice-token"
	bobToken   = "bob-token"
)

var tokens = map[string]string{adminToken: "admin", aliceToken: "alice", bobToken: "bob"}

// env is a registry served by the dialect on 127.0.0.1.
type env struct {
	t   testing.TB
	f   *registrytest.Fixture
	srv *httptest.Server
	c   *http.Client
}

func newEnv(t testing.TB) *env {
	f := registrytest.NewEmpty(t, registry.WithAuthorizer(registry.NamespaceAuthorizer{
		"admin": {"*"}, "alice": {"mlflow_svc"}, "bob": {"other_svc"}}))
	h, err := openmetadata.New(openmetadata.Options{Registry: f.Registry, MaxBodyBytes: 64 << 10,
		Authenticate: func(tok string) (string, bool) { p, ok := tokens[tok]; return p, ok }})
	require.NoError(t, err)
	srv := httptest.NewServer(httpx.RequestID(h))
	t.Cleanup(srv.Close)
	return &env{t: t, f: f, srv: srv, c: &http.Client{Timeout: 30 * time.Second}}
}

// resp is one answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// do sends a request with a bearer token ("" for none) and a raw body.
func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.c.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{res.StatusCode, res.Header, data}
}

// service creates a service through the API.
func (e *env) service(name, serviceType string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/services/mlmodelServices", adminToken, `{"name":"`+name+`","serviceType":"`+serviceType+`"}`)
	require.Equal(e.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(e.t)
}

// model creates a model through the API.
func (e *env) model(service, name string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/mlmodels", adminToken, `{"name":"`+name+`","service":"`+service+`","algorithm":"KMeans"}`)
	require.Equal(e.t, http.StatusCreated, r.status, "%s", r.body)
	return r.json(e.t)
}

// dump is everything the registry holds, for before/after comparisons.
func (e *env) dump() []registry.Artifact {
	e.t.Helper()
	var all []registry.Artifact
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		p, err := e.f.List(e.f.Ctx, f)
		require.NoError(e.t, err)
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	pending, err := e.f.PendingCleanups(e.f.Ctx)
	require.NoError(e.t, err)
	for _, c := range pending {
		all = append(all, registry.Artifact{Name: "cleanup:" + c.URI})
	}
	return all
}

// assertError checks OpenMetadata's error shape.
func assertError(t testing.TB, r resp, status int, message string) {
	t.Helper()
	assert.Equal(t, status, r.status, "body: %s", r.body)
	var body struct {
		Code    int     `json:"code"`
		Message *string `json:"message"`
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if assert.NoError(t, dec.Decode(&body), "error body %s", r.body) && assert.NotNil(t, body.Message) {
		assert.Equal(t, status, body.Code)
		if message != "" {
			assert.Contains(t, *body.Message, message)
		}
	}
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	switch status {
	case 401, 403, 404, 409:
		assert.Equal(t, "om-auth", r.header.Get("WWW-Authenticate"))
	default:
		assert.Empty(t, r.header.Get("WWW-Authenticate"))
	}
	assert.NotEmpty(t, r.header.Get("X-Request-Id"))
}
