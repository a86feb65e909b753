package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/native"
	"github.com/modelreg/registry/registrytest"
)

const (
	adminToken = "admin-token"
	aliceToken = "alice-token" // mlflow_svc only
	bobToken   = "bob-token"   // other_svc only
)

// spec is the API's document, loaded once, with its router.
var spec struct {
	doc    *openapi3.T
	router routers.Router
	// seen counts responses by operation and status, for the coverage
	// check of TestMain.
	mu   sync.Mutex
	seen map[string]map[int]int
}

func TestMain(m *testing.M) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(native.OpenAPI())
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi.yaml does not load:", err)
		os.Exit(1)
	}
	if err := doc.Validate(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "openapi.yaml is not valid OpenAPI:", err)
		os.Exit(1)
	}
	doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1"}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi.yaml: router:", err)
		os.Exit(1)
	}
	spec.doc, spec.router, spec.seen = doc, router, map[string]map[int]int{}
	code := m.Run()
	if code == 0 && !isFiltered() {
		code = checkCoverage()
	}
	os.Exit(code)
}

func isFiltered() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.skip") {
			return true
		}
	}
	return false
}

// checkCoverage fails the run unless every operation of the document was
// seen answering at least one success and one error.
func checkCoverage() int {
	spec.mu.Lock()
	defer spec.mu.Unlock()
	var missing []string
	for path, item := range spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ok, bad := false, false
			for status := range spec.seen[op.OperationID] {
				ok = ok || status < 300
				bad = bad || status >= 400
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !ok || !bad && !public {
				missing = append(missing, fmt.Sprintf("%s %s (%s): seen %v", method, path, op.OperationID, spec.seen[op.OperationID]))
			}
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		fmt.Fprintln(os.Stderr, "operations not tested with a success and an error:\n  "+strings.Join(missing, "\n  "))
		return 1
	}
	return 0
}

// validating is a RoundTripper that validates every response against the
// document: its status, headers and body, by the operation the request
// matches. A request no operation matches must be answered with a problem.
type validating struct {
	t    testing.TB
	next http.RoundTripper
}

func (v validating) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := v.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		validateResponse(v.t, req, resp, nil, true)
		return resp, nil
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	validateResponse(v.t, req, resp, data, false)
	return resp, nil
}

func validateResponse(t testing.TB, req *http.Request, resp *http.Response, data []byte, stream bool) {
	t.Helper()
	probe := req.Clone(context.Background())
	probe.URL.Scheme, probe.URL.Host = "http", "127.0.0.1"
	if probe.Method == http.MethodHead {
		// HEAD is GET without a body (ServeMux serves both).
		probe.Method, stream = http.MethodGet, true
	}
	if resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect {
		// net/http's redirect of an unclean path, before any dialect.
		assert.NotEmpty(t, resp.Header.Get("Location"))
		return
	}
	route, params, err := spec.router.FindRoute(probe)
	if err != nil {
		// Not a path or method of the document: the answer is a problem.
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), "%s %s: %s", req.Method, req.URL, data)
		validateSchema(t, "Problem", data)
		return
	}
	spec.mu.Lock()
	if spec.seen[route.Operation.OperationID] == nil {
		spec.seen[route.Operation.OperationID] = map[int]int{}
	}
	spec.seen[route.Operation.OperationID][resp.StatusCode]++
	spec.mu.Unlock()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode,
		Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, ExcludeResponseBody: stream,
			MultiError: true},
	}
	if !stream {
		in.SetBodyBytes(data)
	}
	err = openapi3filter.ValidateResponse(context.Background(), in)
	assert.NoError(t, err, "%s %s answered %d %s", req.Method, req.URL, resp.StatusCode, data)
}

// validateSchema validates a JSON value against a schema of the document.
func validateSchema(t testing.TB, name string, data []byte) {
	t.Helper()
	ref := spec.doc.Components.Schemas[name]
	require.NotNil(t, ref, "schema %s", name)
	var v any
	if !assert.NoError(t, json.Unmarshal(data, &v), "%s: %s", name, data) {
		return
	}
	assert.NoError(t, ref.Value.VisitJSON(v), "%s: %s", name, data)
}

// env is a server on a real listener with its registry and a validating
// client.
type env struct {
	t   testing.TB
	f   *registrytest.Fixture
	srv *httptest.Server
	c   *http.Client
}

func newEnv(t testing.TB, opts ...registry.Option) *env {
	t.Helper()
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"admin": {Namespaces: []string{"*"}, Tokens: []string{adminToken}},
		"alice": {Namespaces: []string{registrytest.Namespace}, Tokens: []string{aliceToken}},
		"bob":   {Namespaces: []string{"other_svc"}, Tokens: []string{bobToken}},
	})
	require.NoError(t, err)
	f := registrytest.New(t, append([]registry.Option{registry.WithAuthorizer(creds.Authorizer())}, opts...)...)
	h, err := httpapi.NewHandler(httpapi.Config{Registry: f.Registry, Credentials: creds, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, f: f, srv: srv, c: &http.Client{Timeout: 30 * time.Second,
		Transport:     validating{t: t, next: http.DefaultTransport},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// reply is a response, read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "%s", r.body)
	return m
}

func (r reply) artifact(t testing.TB) registry.Artifact {
	t.Helper()
	var a registry.Artifact
	require.NoError(t, json.Unmarshal(r.body, &a), "%s", r.body)
	return a
}

func (r reply) result(t testing.TB) registry.Result {
	t.Helper()
	var res registry.Result
	require.NoError(t, json.Unmarshal(r.body, &res), "%s", r.body)
	return res
}

// do sends a request; token "" sends none; body "" sends none, and a body
// is sent as application/json unless headers say otherwise.
func (e *env) do(method, path, token, body string, headers ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.c.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: data}
}

// state is everything a client can observe of the registry, to prove a
// request changed nothing.
func (e *env) state() string {
	e.t.Helper()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	var b strings.Builder
	cursor := ""
	for {
		pg, err := e.f.List(ctx, registry.Filter{Include: registry.IncludeAll, Limit: 1000, Cursor: cursor})
		require.NoError(e.t, err)
		for _, a := range pg.Items {
			fmt.Fprintf(&b, "%+v\n", a)
			g, err := e.f.Lineage(ctx, a.ID, registry.Downstream, 1, registry.IncludeAll)
			require.NoError(e.t, err)
			fmt.Fprintf(&b, "  edges %v\n", g.Edges)
		}
		if pg.Next == "" {
			break
		}
		cursor = pg.Next
	}
	_, next := e.f.EventSpan()
	fmt.Fprintf(&b, "next event %d\n", next)
	return b.String()
}
