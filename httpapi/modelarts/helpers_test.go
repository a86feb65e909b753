package modelarts_test

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
	"github.com/modelreg/registry/httpapi/modelarts"
	"github.com/modelreg/registry/registrytest"
)

// Tokens of the test principals: alice may touch proj-a, bob proj-b, admin
// everything.
const (
	alice = "alice-token"
	bob   = "bob-token"
	admin = "admin-token"
	projA = "proj-a"
	projB = "proj-b"
)

var tokens = map[string]string{alice: "alice", bob: "bob", admin: "admin"}

type env struct {
	t   *testing.T
	f   *registrytest.Fixture
	srv *httptest.Server
	cl  *http.Client
}

func newEnv(t *testing.T, opts ...registry.Option) *env {
	t.Helper()
	authz := registry.NamespaceAuthorizer{"alice": {projA}, "bob": {projB}, "admin": {"*"}}
	f := registrytest.NewEmpty(t, append([]registry.Option{registry.WithAuthorizer(authz)}, opts...)...)
	h, err := modelarts.New(modelarts.Options{Registry: f.Registry, MaxBodyBytes: 64 << 10,
		Authenticate: func(tok string) (string, bool) { p, ok := tokens[tok]; return p, ok }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, f: f, srv: srv, cl: &http.Client{Timeout: 10 * time.Second}}
}

type resp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends a request; token "" sends no X-Auth-Token.
func (e *env) do(method, path, token, body string) resp {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.cl.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(data)}
	_ = json.Unmarshal(data, &out.body)
	return out
}

// importModel imports a model and returns its ID.
func (e *env) importModel(project, name, version string) string {
	e.t.Helper()
	r := e.do("POST", "/v1/"+project+"/models", admin,
		`{"model_name":"`+name+`","model_version":"`+version+`","source_location":"https://models.obs.example.com/`+name+`","model_type":"TensorFlow"}`)
	require.Equal(e.t, 200, r.status, r.raw)
	id, _ := r.body["model_id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

// deploy deploys models to a new real-time service and returns its ID.
func (e *env) deploy(project, name string, models ...string) string {
	e.t.Helper()
	var cfg []string
	for i, m := range models {
		w := 0
		if i == 0 {
			w = 100
		}
		cfg = append(cfg, `{"model_id":"`+m+`","weight":`+itoa(w)+`,"specification":"modelarts.vm.cpu.2u","instance_count":1}`)
	}
	r := e.do("POST", "/v1/"+project+"/services", admin,
		`{"service_name":"`+name+`","infer_type":"real-time","config":[`+strings.Join(cfg, ",")+`]}`)
	require.Equal(e.t, 200, r.status, r.raw)
	id, _ := r.body["service_id"].(string)
	require.NotEmpty(e.t, id)
	return id
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// dump is everything the registry holds, for before/after comparisons.
func (e *env) dump() string {
	e.t.Helper()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	var all []registry.Artifact
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		p, err := e.f.List(ctx, f)
		require.NoError(e.t, err)
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	pending, err := e.f.PendingCleanups(ctx)
	require.NoError(e.t, err)
	data, err := json.Marshal(map[string]any{"artifacts": all, "pending": pending})
	require.NoError(e.t, err)
	return string(data)
}

// assertError checks a ModelArts error answer.
func assertError(t *testing.T, r resp, status int, code string) {
	t.Helper()
	assert.Equal(t, status, r.status, r.raw)
	assert.Equal(t, code, r.body["error_code"], r.raw)
	assert.NotEmpty(t, r.body["error_msg"], r.raw)
	assert.Len(t, r.body, 2, "an error has error_code and error_msg only: %s", r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.NotEmpty(t, r.header.Get("X-Request-Id"))
}
