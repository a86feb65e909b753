package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/artifacts"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/httpapi/modelarts"
	"github.com/modelreg/registry/httpapi/native"
	"github.com/modelreg/registry/httpapi/openmetadata"
	"github.com/modelreg/registry/registrytest"
)

const adminToken = "admin-token"

func newServer(t testing.TB) (*registrytest.Fixture, *httptest.Server) {
	t.Helper()
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"admin": {Namespaces: []string{"*"}, Tokens: []string{adminToken}},
		"alice": {Namespaces: []string{registrytest.Namespace}, Tokens: []string{"alice-token"}},
	})
	require.NoError(t, err)
	f := registrytest.New(t, registry.WithAuthorizer(creds.Authorizer()))
	h, err := httpapi.NewHandler(httpapi.Config{Registry: f.Registry, Credentials: creds})
	require.NoError(t, err, "mounting every dialect on one ServeMux must not collide (a collision panics)")
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return f, srv
}

func call(t *testing.T, srv *httptest.Server, method, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// TestNativeBesideModelArts proves that NewHandler serves both dialects
// under /v1 and routes each path to the right one: every native route
// answers in problem details (401 without a credential), every ModelArts
// route in ModelArts' own error shape.
func TestNativeBesideModelArts(t *testing.T) {
	f, srv := newServer(t)
	id := f.Code.ID
	native := []struct{ method, path string }{
		{"GET", "/v1/artifacts"}, {"POST", "/v1/artifacts"}, {"POST", "/v1/artifacts/batch"},
		{"GET", "/v1/artifacts/" + id}, {"PUT", "/v1/artifacts/" + id}, {"DELETE", "/v1/artifacts/" + id},
		{"POST", "/v1/artifacts/" + id + "/restore"}, {"GET", "/v1/artifacts/" + id + "/lineage"},
		{"PUT", "/v1/artifacts/" + id + "/deployments/ep"}, {"DELETE", "/v1/artifacts/" + id + "/deployments/ep"},
		{"GET", "/v1/fqn/mlflow_svc.train_script.1"}, {"DELETE", "/v1/fqn/mlflow_svc.train_script.1"},
		{"POST", "/v1/fqn/mlflow_svc.train_script.1/restore"},
		{"GET", "/v1/namespaces/mlflow_svc/names/x"}, {"GET", "/v1/namespaces/mlflow_svc/names/x/versions"},
		{"DELETE", "/v1/namespaces/mlflow_svc/names/x/versions"}, {"GET", "/v1/namespaces/mlflow_svc/names/x/versions/1"},
		{"POST", "/v1/lineage"}, {"DELETE", "/v1/lineage/" + id + "/" + id},
		{"POST", "/v1/operations/" + id + "/restore"}, {"POST", "/v1/purge"},
		{"GET", "/v1/cleanups"}, {"POST", "/v1/cleanups/retry"}, {"GET", "/v1/check"}, {"POST", "/v1/reset"},
		{"GET", "/v1/events"},
	}
	for _, c := range native {
		t.Run("native "+c.method+" "+c.path, func(t *testing.T) {
			resp, body := call(t, srv, c.method, c.path, "")
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, `"code":"UNAUTHENTICATED"`)
		})
	}
	modelarts := []struct{ method, path string }{
		{"GET", "/v1/proj1/models"}, {"GET", "/v1/proj1/models/" + id}, {"DELETE", "/v1/proj1/models/" + id},
		{"GET", "/v1/proj1/services"}, {"GET", "/v1/proj1/services/svc1"},
		// A project named like a native word is still ModelArts'.
		{"GET", "/v1/artifacts/models"}, {"GET", "/v1/lineage/services"},
	}
	for _, c := range modelarts {
		t.Run("modelarts "+c.method+" "+c.path, func(t *testing.T) {
			resp, body := call(t, srv, c.method, c.path, "")
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Contains(t, body, `"error_code":"ModelArts.`)
		})
	}
	// The native API works with a credential, the public document without.
	resp, body := call(t, srv, "GET", "/v1/artifacts/"+id, adminToken)
	assert.Equal(t, http.StatusOK, resp.StatusCode, body)
	assert.Equal(t, `"1"`, resp.Header.Get("ETag"))
	resp, body = call(t, srv, "GET", "/v1/openapi.yaml", "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(body, "openapi: 3.1.0"))
}

// TestMetricsScrape scrapes GET /metrics after requests to two dialects
// and a delete, and finds every metric the server promises, labelled by
// route pattern rather than raw path.
func TestMetricsScrape(t *testing.T) {
	f, srv := newServer(t)
	call(t, srv, "GET", "/v1/artifacts/"+f.Code.ID, adminToken)
	call(t, srv, "GET", "/v1/artifacts/"+f.Dataset.ID, adminToken)
	call(t, srv, "DELETE", "/v1/artifacts/"+f.Code.ID, adminToken)
	call(t, srv, "DELETE", "/v1/artifacts/"+f.Versions[2].ID, adminToken) // deployed: 409
	call(t, srv, "GET", "/v1/proj1/models", "")
	call(t, srv, "BREW", "/v1/artifacts", adminToken)

	resp, body := call(t, srv, "GET", "/metrics", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "text/plain")
	n, err := f.Count(f.Ctx, registry.Filter{})
	require.NoError(t, err)
	for _, want := range []string{
		`registry_http_requests_total{dialect="native",method="GET",route="/v1/artifacts/{id}",status="200"} 2`,
		`registry_http_requests_total{dialect="native",method="DELETE",route="/v1/artifacts/{id}",status="200"} 1`,
		`registry_http_requests_total{dialect="native",method="DELETE",route="/v1/artifacts/{id}",status="409"} 1`,
		`registry_http_requests_total{dialect="native",method="OTHER",route="/v1/artifacts",status="405"} 1`,
		`registry_http_requests_total{dialect="modelarts",method="GET",route="/v1/{project_id}/models",status="401"} 1`,
		`registry_http_request_duration_seconds_bucket{dialect="native",method="GET",route="/v1/artifacts/{id}",le="+Inf"} 2`,
		`registry_artifacts{state="live"} ` + itoa(n),
		`registry_artifacts{state="soft-deleted"} 1`,
		`registry_deletes_total{mode="soft",outcome="deleted"} 1`,
		`registry_deletes_total{mode="soft",outcome="failed"} 1`,
		`registry_pending_cleanups 0`,
		`registry_events_dropped_total 0`,
	} {
		assert.Contains(t, body, want+"\n")
	}
	assert.NotContains(t, body, f.Code.ID, "no raw path in a label")
}

func itoa(n int) string { return strconv.Itoa(n) }

// A nil registry is refused when the handler is built, also as a nil
// *registry.Registry inside the registry.API.
func TestNewHandlerRefusesANilRegistry(t *testing.T) {
	creds := httpapi.DemoCredentials()
	for _, reg := range []registry.API{nil, (*registry.Registry)(nil)} {
		_, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
		assert.ErrorContains(t, err, "Config.Registry is nil")
	}
	var none *registry.Registry
	auth := func(string) (string, bool) { return "", false }
	doors := map[string]func() (http.Handler, error){
		"openmetadata": func() (http.Handler, error) {
			return openmetadata.New(openmetadata.Options{Registry: none, Authenticate: auth})
		},
		"modelarts": func() (http.Handler, error) {
			return modelarts.New(modelarts.Options{Registry: none, Authenticate: auth})
		},
		"artifacts": func() (http.Handler, error) {
			return artifacts.New(artifacts.Options{Registry: none, Authenticate: auth})
		},
		"lookout": func() (http.Handler, error) {
			return lookout.New(lookout.Options{Registry: none, Keys: creds.AWSKey})
		},
		"native": func() (http.Handler, error) { return native.New(native.Options{Registry: none, Authenticate: auth}) },
	}
	for name, build := range doors {
		_, err := build()
		assert.ErrorContains(t, err, "Options.Registry is nil", name)
	}
}
