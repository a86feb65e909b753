package openmetadata_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
	"github.com/modelreg/registry/httpapi/openmetadata"
	"github.com/modelreg/registry/registrytest"
)

// bigService registers a service and n models in it through the library,
// in batches of a few thousand (one transaction each), and returns the
// service's ID.
func bigService(tb testing.TB, reg *registry.Registry, ctx context.Context, name string, n int) string {
	svc, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: name, Name: "::service",
		Labels: map[string]string{"om.serviceType": "Mlflow"}})
	require.NoError(tb, err)
	const batchSize = 5000
	batch := make([]registry.Artifact, 0, batchSize)
	for i := range n {
		batch = append(batch, registry.Artifact{Kind: registry.KindModel, Namespace: name, Name: fmt.Sprintf("model-%06d", i),
			Parent: svc.ID, Algorithm: "XGBoost", StorageURIs: []string{fmt.Sprintf("s3://models/%s/%06d", name, i)}})
		if len(batch) == batchSize || i == n-1 {
			_, err := reg.RegisterBatch(ctx, batch)
			require.NoError(tb, err)
			batch = batch[:0]
		}
	}
	return svc.ID
}

// TestServiceRecursiveHardDelete2000 is the benchmark's scenario at a
// size go test runs: one DELETE of a service of 2,000 models, recursive
// and hard, through the handler; and the same refused whole (atomic) when
// one model is deployed.
func TestServiceRecursiveHardDelete2000(t *testing.T) {
	e := newEnv(t)
	svcID := bigService(t, e.f.Registry, e.f.Ctx, "big_svc", 2000)
	other := e.service("mlflow_svc", "Mlflow")
	e.model("mlflow_svc", "keep")

	one, err := e.f.GetVersion(e.f.Ctx, "big_svc", "model-001234", "")
	require.NoError(t, err)
	require.NoError(t, e.f.Deploy(e.f.Ctx, one.ID, "endpoint-1"))
	before := e.dump()
	r := e.do("DELETE", "/api/v1/services/mlmodelServices/name/big_svc?recursive=true&hardDelete=true", adminToken, "")
	assertError(t, r, http.StatusConflict, "deployed")
	assert.Equal(t, before, e.dump(), "a refused recursive delete changes nothing")
	require.NoError(t, e.f.Undeploy(e.f.Ctx, one.ID, "endpoint-1"))

	start := time.Now()
	r = e.do("DELETE", "/api/v1/services/mlmodelServices/name/big_svc?recursive=true&hardDelete=true", adminToken, "")
	took := time.Since(start)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	assert.Equal(t, "entityDeleted", r.header.Get("X-OpenMetadata-Change"))
	assert.Equal(t, svcID, r.json(t)["id"])
	t.Logf("recursive hard delete of a service of 2,000 models over HTTP: %v", took)

	n, err := e.f.Count(e.f.Ctx, registry.Filter{Namespace: "big_svc", Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Zero(t, n, "nothing of the service is left")
	pending, err := e.f.PendingCleanups(e.f.Ctx)
	require.NoError(t, err)
	assert.Len(t, pending, 2000, "every model's storage is queued for cleanup")
	b := e.list(t, "/api/v1/mlmodels?include=all")
	assert.Equal(t, 1, *b.Paging.Total, "the other service's model stays")
	assert.Equal(t, other["id"], e.do("GET", "/api/v1/services/mlmodelServices/name/mlflow_svc", adminToken, "").json(t)["id"])
	require.NoError(t, e.f.Check())
}

// BenchmarkServiceRecursiveHardDelete100k times one
// DELETE /api/v1/services/mlmodelServices/name/{name}?recursive=true&hardDelete=true
// of a service of 100,000 models through the handler (httptest, in
// process), and, as the baseline in the same run, the same delete made
// directly on the library on an identical registry. ns/op is the HTTP
// delete; http-s, library-s and http/library report both and their ratio.
func BenchmarkServiceRecursiveHardDelete100k(b *testing.B) {
	const n = 100_000
	var httpTotal, libTotal time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := registrytest.NewEmpty(b)
		bigService(b, f.Registry, f.Ctx, "big_svc", n)
		h, err := openmetadata.New(openmetadata.Options{Registry: f.Registry,
			Authenticate: func(tok string) (string, bool) { return "admin", tok == adminToken }})
		require.NoError(b, err)
		srv := httptest.NewServer(httpx.RequestID(h))
		req, err := http.NewRequest("DELETE", srv.URL+"/api/v1/services/mlmodelServices/name/big_svc?recursive=true&hardDelete=true", nil)
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		client := &http.Client{Timeout: 5 * time.Minute}

		runtime.GC() // each timed delete starts from a collected heap
		b.StartTimer()
		start := time.Now()
		res, err := client.Do(req)
		took := time.Since(start)
		b.StopTimer()
		require.NoError(b, err)
		res.Body.Close()
		require.Equal(b, http.StatusOK, res.StatusCode)
		httpTotal += took
		srv.Close()

		g := registrytest.NewEmpty(b)
		svcID := bigService(b, g.Registry, g.Ctx, "big_svc", n)
		runtime.GC()
		start = time.Now()
		res2, err := g.Delete(g.Ctx, svcID, registry.DeleteOptions{Hard: true, Recursive: true, Atomic: true})
		libTotal += time.Since(start)
		require.NoError(b, err)
		require.Len(b, res2.Deleted, n+1)
		b.StartTimer()
	}
	b.ReportMetric(httpTotal.Seconds()/float64(b.N), "http-s")
	b.ReportMetric(libTotal.Seconds()/float64(b.N), "library-s")
	b.ReportMetric(float64(httpTotal)/float64(libTotal), "http/library")
}
