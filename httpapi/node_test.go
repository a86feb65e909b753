package httpapi_test

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
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/replicated"
)

// The handler serves a durable node as it serves a registry: writes
// through the dialects go through the node's log, reads see them, and
// /readyz follows the node's readiness.
func TestHandlerServesANode(t *testing.T) {
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"admin": {Namespaces: []string{"*"}, Tokens: []string{adminToken}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := replicated.Open(ctx, replicated.Config{DataDir: t.TempDir(), Authorizer: creds.Authorizer(),
		ElectionTimeout: 50 * time.Millisecond, LogOutput: io.Discard})
	require.NoError(t, err)
	t.Cleanup(func() { node.Close() })
	h, err := httpapi.NewHandler(httpapi.Config{Registry: node, Credentials: creds})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	send := func(method, path, body string, headers ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(data)
	}

	st, body := send("GET", "/readyz", "")
	require.Equal(t, http.StatusOK, st, body)
	st, body = send("POST", "/v1/artifacts", `{"kind":"model","namespace":"svc","name":"churn","version":"1"}`)
	require.Equal(t, http.StatusCreated, st, body)
	var a registry.Artifact
	require.NoError(t, json.Unmarshal([]byte(body), &a))
	before := node.AppliedIndex()

	st, body = send("DELETE", "/v1/artifacts/"+a.ID, "", "If-Match", `"99"`)
	assert.Equal(t, http.StatusPreconditionFailed, st, "a stale If-Match is refused at apply time: %s", body)
	st, body = send("DELETE", "/v1/artifacts/"+a.ID, "")
	require.Equal(t, http.StatusOK, st, body)
	assert.Greater(t, node.AppliedIndex(), before, "the delete went through the log")
	got, err := node.Registry().Get(registry.WithPrincipal(ctx, "admin"), a.ID, registry.IncludeAll)
	require.NoError(t, err)
	assert.True(t, got.Deleted)

	require.NoError(t, node.Close())
	st, body = send("GET", "/readyz", "")
	assert.Equal(t, http.StatusServiceUnavailable, st)
	assert.Contains(t, body, "closed")
}
