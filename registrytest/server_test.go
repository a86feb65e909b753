package registrytest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/registrytest"
)

// call sends one request and returns the status and JSON answer.
func call(t *testing.T, s *registrytest.Server, method, path, header, value, body string, sign bool) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	if sign {
		require.NoError(t, lookout.Sign(req, []byte(body), s.AWS.AccessKeyID, s.AWS.SecretAccessKey, s.AWS.Region, time.Now()))
	}
	res, err := s.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// TestNewServer: each dialect answers on the server's URL with the
// configuration NewServer hands back, and what it does is in the fixture.
func TestNewServer(t *testing.T) {
	s := registrytest.NewServer(t)
	require.Contains(t, s.URL, "http://127.0.0.1:")
	assert.Nil(t, s.Demo)

	st, _ := call(t, s, "GET", "/readyz", "", "", "", false)
	assert.Equal(t, 200, st)

	st, body := call(t, s, "POST", "/v1/"+s.ModelArts.ProjectID+"/models", "X-Auth-Token", s.ModelArts.Token,
		`{"model_name":"churn","model_version":"1.1.1","model_type":"PyTorch","source_location":"obs://b/churn/"}`, false)
	require.Equal(t, 200, st, body)
	a, err := s.Fixture.Get(s.Fixture.Ctx, body["model_id"].(string))
	require.NoError(t, err)
	assert.Equal(t, registrytest.TestProject, a.Namespace)

	st, body = call(t, s, "POST", "/artifact/dataset", "X-Authorization", s.ArtifactsAuthorization, `{"url":"https://huggingface.co/datasets/x/y"}`, false)
	require.Equal(t, 201, st, body)
	st, _ = call(t, s, "POST", "/artifact/dataset", "", "", `{"url":"https://huggingface.co/datasets/x/z"}`, false)
	assert.Equal(t, 403, st, "no anonymous requests without WithDemo")

	st, body = call(t, s, "POST", "/2020-11-20/projects", "", "", `{"ProjectName":"line-a"}`, true)
	require.Equal(t, 200, st, body)
	assert.Equal(t, "us-east-1", s.AWS.Region)
	assert.Equal(t, s.URL, s.AWS.Endpoint)

	st, body = call(t, s, "POST", "/api/v1/services/mlmodelServices", "Authorization", "Bearer "+s.OpenMetadataToken, `{"name":"svc","serviceType":"Mlflow"}`, false)
	require.Equal(t, 201, st, body)
	st, body = call(t, s, "POST", "/api/v1/mlmodels", "Authorization", "Bearer "+s.OpenMetadataToken, `{"name":"churn","service":"svc","algorithm":"KMeans"}`, false)
	require.Equal(t, 201, st, body)
	assert.Equal(t, "svc.churn", body["fullyQualifiedName"])
	require.NoError(t, s.Fixture.Check())
}

// TestNewServerOptions: WithPrincipals adds callers kept in their
// namespaces, WithRegistryOptions reaches the registry, and WithDemo seeds
// the demo and admits anonymous artifact requests.
func TestNewServerOptions(t *testing.T) {
	var cleaned []string
	s := registrytest.NewServer(t, registrytest.WithDemo(),
		registrytest.WithPrincipals(map[string]httpapi.Principal{"carol": {Namespaces: []string{"carol-ns"}, Tokens: []string{"carol-token"}}}),
		registrytest.WithRegistryOptions(registry.WithCleaner(registry.CleanerFunc(func(_ context.Context, uri string) error {
			cleaned = append(cleaned, uri)
			return nil
		}))))
	require.NotNil(t, s.Demo)
	require.Len(t, s.Demo.ModelArtsModelIDs, 3)

	st, body := call(t, s, "DELETE", "/v1/"+httpapi.DemoModelArtsProject+"/models/"+s.Demo.ModelArtsModelIDs[0]+"?cascade=true", "X-Auth-Token", "carol-token", "", false)
	assert.Equal(t, 403, st, "carol may not act in the demo project: %v", body)
	st, _ = call(t, s, "POST", "/v1/carol-ns/models", "X-Auth-Token", "carol-token",
		`{"model_name":"m","model_version":"1.1.1","model_type":"PyTorch","source_location":"obs://b/m/"}`, false)
	assert.Equal(t, 200, st)

	st, body = call(t, s, "DELETE", "/artifacts/model/"+s.Demo.ArtifactModelID, "", "", "", false)
	require.Equal(t, 200, st, body)
	assert.Equal(t, []string{"https://huggingface.co/demo/churn"}, cleaned, "the registry has the test's cleaner")
}
