package openmetadata_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/internal/httpx"
	"github.com/modelreg/registry/httpapi/openmetadata"
	"github.com/modelreg/registry/registrytest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMountedInNewHandler serves the dialect through httpapi.NewHandler
// with a credentials table and its namespace authorizer, as the server
// does: tokens map to principals, principals stay in their namespaces, and
// every request is logged as structured JSON with its request ID.
func TestMountedInNewHandler(t *testing.T) {
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"admin": {Namespaces: []string{"*"}, Tokens: []string{adminToken}},
		"alice": {Namespaces: []string{"mlflow_svc"}, Tokens: []string{aliceToken}},
	})
	require.NoError(t, err)
	f := registrytest.NewEmpty(t, registry.WithAuthorizer(creds.Authorizer()))
	var logs syncBuffer
	h, err := httpapi.NewHandler(httpapi.Config{Registry: f.Registry, Credentials: creds,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, f: f, srv: srv, c: &http.Client{Timeout: 30 * time.Second}}

	e.service("mlflow_svc", "Mlflow")
	e.service("other_svc", "Sklearn")
	e.run(t, []step{
		{desc: "alice creates in her service", method: "POST", path: "/api/v1/mlmodels", token: aliceToken,
			body: `{"name":"churn","service":"mlflow_svc","algorithm":"XGBoost"}`, status: 201, fields: map[string]any{"updatedBy": "alice"}},
		{desc: "alice creates elsewhere", method: "POST", path: "/api/v1/mlmodels", token: aliceToken,
			body: `{"name":"churn","service":"other_svc","algorithm":"XGBoost"}`, status: 403},
		{desc: "alice deletes her service, recursively", method: "DELETE", token: aliceToken,
			path: "/api/v1/services/mlmodelServices/name/mlflow_svc?recursive=true", status: 200, change: "entitySoftDeleted"},
		{desc: "alice deletes another service", method: "DELETE", token: aliceToken,
			path: "/api/v1/services/mlmodelServices/name/other_svc", status: 403},
		{desc: "services list", method: "GET", path: "/api/v1/services/mlmodelServices?include=all", status: 200},
	})
	r := e.do("GET", "/healthz", "", "")
	assert.Equal(t, 200, r.status, "the other mounts still answer")

	var lines int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "log line %q", line)
		if entry["dialect"] == "openmetadata" {
			lines++
			assert.NotEmpty(t, entry["requestId"])
			assert.NotZero(t, entry["status"])
		}
	}
	assert.GreaterOrEqual(t, lines, 7, "one log line per request")
}

// TestPanicAnswered500 makes the authenticator panic: the request is
// answered 500 in OpenMetadata's shape, the panic logged with its stack,
// and the server keeps serving.
func TestPanicAnswered500(t *testing.T) {
	f := registrytest.NewEmpty(t)
	var logs syncBuffer
	h, err := openmetadata.New(openmetadata.Options{Registry: f.Registry, Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		Authenticate: func(tok string) (string, bool) {
			if tok == "boom" {
				panic("authenticator exploded")
			}
			return "admin", tok == adminToken
		}})
	require.NoError(t, err)
	srv := httptest.NewServer(httpx.RequestID(h))
	t.Cleanup(srv.Close)
	e := &env{t: t, f: f, srv: srv, c: &http.Client{Timeout: 30 * time.Second}}

	r := e.do("GET", "/api/v1/mlmodels", "boom", "")
	assertError(t, r, 500, "internal error; the request ID is "+r.header.Get("X-Request-Id"))
	assert.Contains(t, logs.String(), "authenticator exploded")
	assert.Contains(t, logs.String(), "handler panicked")
	assert.Equal(t, 200, e.do("GET", "/api/v1/mlmodels", adminToken, "").status)
}

// TestNewRefusesMissingOptions: New needs a registry and an authenticator.
func TestNewRefusesMissingOptions(t *testing.T) {
	f := registrytest.NewEmpty(t)
	_, err := openmetadata.New(openmetadata.Options{Authenticate: func(string) (string, bool) { return "", false }})
	assert.Error(t, err)
	_, err = openmetadata.New(openmetadata.Options{Registry: f.Registry})
	assert.Error(t, err)
}

// TestMountedAlone: the handler alone gives every answer a request ID,
// and keeps a sane one the client sent.
func TestMountedAlone(t *testing.T) {
	f := registrytest.NewEmpty(t)
	h, err := openmetadata.New(openmetadata.Options{Registry: f.Registry,
		Authenticate: func(tok string) (string, bool) { return "admin", tok == adminToken }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, f: f, srv: srv, c: &http.Client{Timeout: 30 * time.Second}}
	for _, tok := range []string{adminToken, ""} {
		r := e.do("GET", "/api/v1/mlmodels?fields=*", tok, "")
		assert.NotEmpty(t, r.header.Get("X-Request-Id"))
	}
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/services/mlmodelServices", nil)
	require.NoError(t, err)
	req.Header.Set("X-Request-Id", "client-chosen-1")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := e.c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 200, res.StatusCode)
	assert.Equal(t, "client-chosen-1", res.Header.Get("X-Request-Id"))
}
