package httpapi_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
)

// TestNewServerTimeouts: every timeout that bounds a slow client is set.
func TestNewServerTimeouts(t *testing.T) {
	s := httpapi.NewServer("127.0.0.1:0", nil, slog.New(slog.DiscardHandler))
	assert.Equal(t, 10*time.Second, s.ReadHeaderTimeout)
	assert.Equal(t, time.Minute, s.ReadTimeout)
	assert.Equal(t, 2*time.Minute, s.WriteTimeout)
	assert.Equal(t, 2*time.Minute, s.IdleTimeout)
	assert.Equal(t, 64<<10, s.MaxHeaderBytes)
	assert.NotNil(t, s.ErrorLog)
}

// TestSeedDemo: the demo seeds what Demo says, the registry's invariants
// hold, and seeding twice fails (the names are taken) without a panic.
func TestSeedDemo(t *testing.T) {
	creds := httpapi.DemoCredentials()
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()))
	require.NoError(t, err)
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
	require.NoError(t, err)
	d, err := httpapi.SeedDemo(context.Background(), h, reg)
	require.NoError(t, err)
	require.NoError(t, reg.Check())

	ctx := registry.WithPrincipal(context.Background(), httpapi.DemoAdmin)
	assert.Len(t, d.ModelArtsModelIDs, 3)
	for _, id := range append([]string{d.ModelArtsServiceID, d.ArtifactModelID, d.ArtifactDatasetID, d.ArtifactCodeID}, d.ModelArtsModelIDs...) {
		_, err := reg.Get(ctx, id)
		assert.NoError(t, err, id)
	}
	deployed, err := reg.Get(ctx, d.ModelArtsModelIDs[2])
	require.NoError(t, err)
	assert.Len(t, deployed.Endpoints, 1)
	lin, err := reg.Lineage(ctx, d.ArtifactModelID, registry.Upstream, 1)
	require.NoError(t, err)
	assert.Len(t, lin.Edges, 2)
	assert.Equal(t, "1", d.LookoutHostedVersion)
	assert.Equal(t, "2", d.LookoutStoppedVersion)
	assert.Contains(t, d.Requests("http://127.0.0.1:8585"), "/v1/demo-project/models/"+d.ModelArtsModelIDs[0]+"?cascade=true")

	_, err = httpapi.SeedDemo(context.Background(), h, reg)
	assert.Error(t, err)
	require.NoError(t, reg.Check())
}
