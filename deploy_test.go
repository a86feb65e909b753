package registry_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

func TestDeployAndUndeploy(t *testing.T) {
	f := registrytest.NewEmpty(t)
	m := f.MustRegister(t, coreModel("svc", "m", "1"))
	require.False(t, m.IsDeployed())
	bob := registry.WithPrincipal(context.Background(), "bob")

	at := f.Clock.Advance(time.Minute)
	require.NoError(t, f.Deploy(bob, m.ID, "ep-1"))
	got := f.MustGet(t, m.ID)
	assert.Equal(t, []string{"ep-1"}, got.Endpoints)
	assert.True(t, got.IsDeployed())
	assert.Equal(t, int64(2), got.Revision, "deploy is a change")
	assert.Equal(t, at, got.UpdatedAt)
	assert.Equal(t, "bob", got.UpdatedBy)

	f.Clock.Advance(time.Minute)
	require.NoError(t, f.Deploy(f.Ctx, m.ID, "ep-2"))
	got = f.MustGet(t, m.ID)
	assert.Equal(t, []string{"ep-1", "ep-2"}, got.Endpoints, "in the order deployed")
	assert.Equal(t, int64(3), got.Revision)

	t.Run("redeploy is idempotent", func(t *testing.T) {
		events := coreEventCount(t, f.Registry)
		f.Clock.Advance(time.Minute)
		require.NoError(t, f.Deploy(bob, m.ID, "ep-1"))
		require.NoError(t, f.Deploy(bob, m.ID, "ep-2"))
		assert.Equal(t, got, f.MustGet(t, m.ID), "nothing changes, not even the revision")
		assert.Equal(t, events, coreEventCount(t, f.Registry))
	})

	at = f.Clock.Advance(time.Minute)
	require.NoError(t, f.Undeploy(bob, m.ID, "ep-1"))
	got = f.MustGet(t, m.ID)
	assert.Equal(t, []string{"ep-2"}, got.Endpoints)
	assert.True(t, got.IsDeployed())
	assert.Equal(t, int64(4), got.Revision)
	assert.Equal(t, at, got.UpdatedAt)

	t.Run("undeploy from an endpoint it is not on", func(t *testing.T) {
		for _, ep := range []string{"ep-1", "never"} {
			err := f.Undeploy(f.Ctx, m.ID, ep)
			e := coreErr(t, err, registry.ErrNotFound)
			assert.Equal(t, m.ID, e.ID)
			assert.Contains(t, e.Message, ep)
			assert.Equal(t, got, f.MustGet(t, m.ID))
		}
	})

	require.NoError(t, f.Undeploy(f.Ctx, m.ID, "ep-2"))
	got = f.MustGet(t, m.ID)
	assert.Empty(t, got.Endpoints)
	assert.False(t, got.IsDeployed())
	assert.Equal(t, int64(5), got.Revision)
}

func TestDeployRejectsBadInput(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	missing := uuid.NewString()
	cases := []struct {
		desc     string
		id, ep   string
		want     error
		field    string
		undeploy bool
	}{
		{"malformed id", "x", "ep", registry.ErrInvalid, "id", true},
		{"empty endpoint", f.Dataset.ID, "", registry.ErrInvalid, "endpoint", true},
		{"endpoint with control character", f.Dataset.ID, "ep\n1", registry.ErrInvalid, "endpoint", true},
		{"endpoint too long", f.Dataset.ID, strings.Repeat("e", 257), registry.ErrInvalid, "endpoint", true},
		{"unknown artifact", missing, "ep", registry.ErrNotFound, "", true},
		{"soft-deleted artifact", f.Code.ID, "ep", registry.ErrNotFound, "", false},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			calls := map[string]func(context.Context, string, string) error{"Deploy": f.Deploy}
			if c.undeploy {
				calls["Undeploy"] = f.Undeploy
			}
			for name, call := range calls {
				e := coreErr(t, call(f.Ctx, c.id, c.ep), c.want)
				if c.field != "" {
					assert.Equal(t, c.field, e.Field, name)
				}
			}
		})
	}
	assert.Empty(t, f.MustGet(t, f.Code.ID).Endpoints)
	assert.Empty(t, f.MustGet(t, f.Dataset.ID).Endpoints)
}

func TestDeployHasALimit(t *testing.T) {
	f := registrytest.NewEmpty(t)
	m := f.MustRegister(t, coreModel("svc", "m", "1"))
	for i := range registry.MaxListEntries {
		require.NoError(t, f.Deploy(f.Ctx, m.ID, fmt.Sprint("ep-", i)))
	}
	err := f.Deploy(f.Ctx, m.ID, "one-too-many")
	coreInvalid(t, err, "endpoint")
	assert.Len(t, f.MustGet(t, m.ID).Endpoints, registry.MaxListEntries)
	// Redeploying where it already is still works at the limit.
	require.NoError(t, f.Deploy(f.Ctx, m.ID, "ep-0"))
}

// TestDeployedArtifactCannotBeDeleted: soft or hard, by ID or FQN, a
// deployed artifact is ErrDeployed (ModelArts.3009, Lookout's 409) and
// nothing changes; once undeployed from every endpoint it can be deleted.
func TestDeployedArtifactCannotBeDeleted(t *testing.T) {
	for _, hard := range []bool{false, true} {
		for _, byFQN := range []bool{false, true} {
			t.Run(fmt.Sprintf("hard=%t/byFQN=%t", hard, byFQN), func(t *testing.T) {
				f := registrytest.New(t)
				v3 := f.Versions[2]
				require.NoError(t, f.Deploy(f.Ctx, v3.ID, "endpoint-us-1"))
				v3 = f.MustGet(t, v3.ID)
				del := func() (registry.Result, error) {
					if byFQN {
						return f.DeleteByFQN(f.Ctx, v3.FQN(), registry.DeleteOptions{Hard: hard})
					}
					return f.Delete(f.Ctx, v3.ID, registry.DeleteOptions{Hard: hard})
				}
				f.Clock.Advance(time.Hour)

				res, err := del()
				e := coreErr(t, err, registry.ErrDeployed)
				assert.Equal(t, "DEPLOYED", e.Code)
				assert.Equal(t, registry.CodeDeployed, registry.ErrorCode(err))
				assert.Equal(t, v3.ID, e.ID)
				assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
				assert.Contains(t, e.Message, registrytest.Endpoint)
				assert.Contains(t, e.Message, "endpoint-us-1")
				assert.Contains(t, e.Message, "undeploy")
				assert.Empty(t, res.Deleted)
				assert.Equal(t, v3, f.MustGet(t, v3.ID), "nothing changed")

				require.NoError(t, f.Undeploy(f.Ctx, v3.ID, registrytest.Endpoint))
				_, err = del()
				coreErr(t, err, registry.ErrDeployed) // still on endpoint-us-1

				require.NoError(t, f.Undeploy(f.Ctx, v3.ID, "endpoint-us-1"))
				res, err = del()
				require.NoError(t, err)
				assert.Equal(t, []string{v3.ID}, res.Deleted)
				assert.Equal(t, hard, res.Hard)
				got, err := f.Get(f.Ctx, v3.ID, registry.IncludeAll)
				if hard {
					assert.ErrorIs(t, err, registry.ErrNotFound)
				} else {
					require.NoError(t, err)
					assert.True(t, got.Deleted)
					assert.Empty(t, got.Endpoints)
				}
			})
		}
	}
}
