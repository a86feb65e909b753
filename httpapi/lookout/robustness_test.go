package lookout_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/registrytest"
)

// TestConcurrentCreateModel: models created at once get versions 1…n, each
// once.
func TestConcurrentCreateModel(t *testing.T) {
	e := newEnv(t)
	e.createProject("line-a")
	const n = 8
	versions := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.try(req{method: "POST", path: modelsA, body: outConfig})
			if assert.NoError(t, err) && assert.Equal(t, 202, out.status, out.raw) {
				versions <- out.body["ModelMetadata"].(map[string]any)["ModelVersion"].(string)
			}
		}()
	}
	wg.Wait()
	close(versions)
	seen := map[string]bool{}
	for v := range versions {
		assert.False(t, seen[v], "version %s given twice", v)
		seen[v] = true
	}
	for i := 1; i <= n; i++ {
		assert.True(t, seen[strconv.Itoa(i)], "version %d missing", i)
	}
}

// TestPanicAnswered: a panic in the handler is answered 500
// InternalServerException in the API's shape, with a request ID, and
// logged.
func TestPanicAnswered(t *testing.T) {
	f := registrytest.NewEmpty(t)
	var logs bytes.Buffer
	h, err := lookout.New(lookout.Options{
		Registry: f.Registry,
		Keys:     func(string) (string, string, bool) { panic("key store down") },
		Logger:   slog.New(slog.NewJSONHandler(&logs, nil)),
		Clock:    f.Clock.Now,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, f: f, srv: srv}
	out := e.do(req{path: projects})
	assert.Equal(t, http.StatusInternalServerError, out.status)
	assert.Equal(t, "InternalServerException", out.header.Get("X-Amzn-ErrorType"))
	assert.NotEmpty(t, out.header.Get("X-Amzn-RequestId"))
	assert.Contains(t, out.body["Message"], out.header.Get("X-Amzn-RequestId"))
	assert.Contains(t, logs.String(), "key store down")
}

// TestRequestID: every answer carries the request ID twice, as
// X-Amzn-RequestId (read by the AWS SDKs) and X-Request-Id (the server's).
func TestRequestID(t *testing.T) {
	e := newEnv(t)
	for _, r := range []req{{path: projects}, {path: projects + "/nope"}, {path: projects, unsigned: true}} {
		out := e.do(r)
		assert.NotEmpty(t, out.header.Get("X-Amzn-RequestId"))
		assert.Equal(t, out.header.Get("X-Request-Id"), out.header.Get("X-Amzn-RequestId"))
	}
	out := e.do(req{path: projects, header: map[string]string{"X-Request-Id": "trace-42"}})
	assert.Equal(t, "trace-42", out.header.Get("X-Amzn-RequestId"))
}

// TestTimestampsAreNumbers: timestamps are JSON numbers of epoch seconds
// with a fraction, as the SDKs parse them.
func TestTimestampsAreNumbers(t *testing.T) {
	e := newEnv(t)
	out := e.must(200, req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`})
	assert.Regexp(t, `"CreationTimestamp":\d{10}\.\d{3}[,}]`, out.raw)
}

// TestNewOptions: New refuses a missing registry or key table.
func TestNewOptions(t *testing.T) {
	reg, err := registry.New()
	require.NoError(t, err)
	_, err = lookout.New(lookout.Options{Registry: reg})
	assert.Error(t, err)
	_, err = lookout.New(lookout.Options{Keys: func(string) (string, string, bool) { return "", "", false }})
	assert.Error(t, err)
}

// TestIsolation: with read authorization, a principal sees only its own
// projects; another principal's project does not exist to it, and its
// name cannot be taken.
func TestIsolation(t *testing.T) {
	f := registrytest.NewEmpty(t, registry.WithReadAuthorization(), registry.WithAuthorizer(registry.NamespaceAuthorizer{
		"alice": {"line-a", "line-b"}, "bob": {"line-c"},
	}))
	h, err := lookout.New(lookout.Options{Registry: f.Registry, Clock: f.Clock.Now,
		Keys: func(id string) (string, string, bool) { k, ok := keys[id]; return k[0], k[1], ok }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, f: f, srv: srv}
	e.createProject("line-a")
	e.must(200, req{method: "POST", path: projects, body: `{"ProjectName":"line-c"}`, key: "AKIDBOB"})
	e.createModel("line-a")

	out := e.must(200, req{path: projects, key: "AKIDBOB"})
	require.Len(t, out.body["Projects"], 1)
	assert.Equal(t, "line-c", out.body["Projects"].([]any)[0].(map[string]any)["ProjectName"])
	e.must(404, req{path: lineA, key: "AKIDBOB"})
	e.must(404, req{path: modelsA + "/1", key: "AKIDBOB"})
	e.must(404, req{path: modelsA, key: "AKIDBOB"})
	e.must(404, req{method: "DELETE", path: modelsA + "/1", key: "AKIDBOB"})
	e.must(404, req{method: "POST", path: modelsA + "/1/stop", key: "AKIDBOB"})
	out = e.must(403, req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`, key: "AKIDBOB"})
	assert.Equal(t, "AccessDeniedException", out.header.Get("X-Amzn-ErrorType"))
}
