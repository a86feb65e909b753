package openmetadata_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// The seed's IDs; the registry takes given IDs, so the seed's requests are
// sent with only the host and token substituted.
const (
	seedModelID   = "6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2"
	seedServiceID = "ca22d46e-81b9-4e48-85b5-0adc44980da9"
	seedUpdatedAt = 1769982669247
)

// seedEnv serves a registry holding the seed's service and model.
func seedEnv(t *testing.T) *env {
	e := newEnv(t)
	svc := e.f.MustRegister(t, registry.Artifact{ID: seedServiceID, Kind: registry.KindModel, Namespace: "mlflow_svc",
		Name: "::service", Labels: map[string]string{"om.serviceType": "Mlflow"}})
	e.f.MustRegister(t, registry.Artifact{ID: seedModelID, Kind: registry.KindModel, Namespace: "mlflow_svc",
		Name: "customer_segmentation", Parent: svc.ID, DisplayName: "Customer Segmentation Model", Algorithm: "KMeans"})
	e.f.Clock.Set(time.UnixMilli(seedUpdatedAt))
	return e
}

// seedCurl is one curl command of the seed's bash example.
type seedCurl struct {
	comment, method, url, body string
}

// seedCurls parses the curl commands of seed 000, verbatim.
func seedCurls(t *testing.T) ([]seedCurl, string) {
	data, err := os.ReadFile("testdata/seed000.txt")
	require.NoError(t, err)
	text := string(data)
	start := strings.Index(text, "```bash")
	require.GreaterOrEqual(t, start, 0)
	block := text[start:]
	block = block[:strings.Index(block[3:], "```")+3]
	block = strings.ReplaceAll(block, "\\\n", " ")
	cmd := regexp.MustCompile(`curl -X (\w+) "([^"]+)"(.*)`)
	bodyRe := regexp.MustCompile(`-d '([^']*)'`)
	var out []seedCurl
	comment := ""
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			comment = strings.TrimSpace(strings.TrimPrefix(line, "#"))
			continue
		}
		m := cmd.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		require.Contains(t, m[3], `-H "Authorization: Bearer {access_token}"`)
		c := seedCurl{comment: comment, method: m[1], url: m[2]}
		if b := bodyRe.FindStringSubmatch(m[3]); b != nil {
			c.body = b[1]
		}
		out = append(out, c)
	}
	// The response example.
	rs := strings.Index(text, "```json Response")
	require.GreaterOrEqual(t, rs, 0)
	resp := text[rs:]
	resp = resp[strings.Index(resp, "\n")+1:]
	resp = resp[:strings.Index(resp, "```")]
	return out, resp
}

// TestSeedRequestsVerbatim sends every curl request of seed 000 as written
// (host and token substituted) and checks the answer the seed gives: a soft
// delete 200 with exactly the seed's response body, a hard delete 204 with
// no body, a restore 200 with the restored model.
func TestSeedRequestsVerbatim(t *testing.T) {
	curls, example := seedCurls(t)
	require.Len(t, curls, 4, "the seed has four curl examples")
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(example), &want))

	for _, c := range curls {
		t.Run(c.comment, func(t *testing.T) {
			e := seedEnv(t)
			if c.method == "PUT" { // restore needs a soft-deleted model
				_, err := e.f.Delete(e.f.Ctx, seedModelID)
				require.NoError(t, err)
			}
			before := e.dump()
			url := strings.Replace(c.url, "{base_url}", "", 1)
			r := e.do(c.method, url, adminToken, c.body)
			switch {
			case strings.Contains(url, "hardDelete=true"):
				assert.Equal(t, http.StatusNoContent, r.status)
				assert.Empty(t, r.body, "a hard delete answers no content")
				_, err := e.f.Get(e.f.Ctx, seedModelID, registry.IncludeAll)
				assert.ErrorIs(t, err, registry.ErrNotFound)
			case c.method == "DELETE":
				require.Equal(t, http.StatusOK, r.status, "%s", r.body)
				assert.Equal(t, "entitySoftDeleted", r.header.Get("X-OpenMetadata-Change"))
				got := r.json(t)
				assert.Equal(t, "http://"+strings.TrimPrefix(e.srv.URL, "http://")+"/api/v1/mlmodels/"+seedModelID, got["href"])
				delete(got, "href")
				assert.Equal(t, want, got, "the seed's response, field for field")
			default:
				require.Equal(t, http.StatusOK, r.status, "%s", r.body)
				assert.Equal(t, "entityRestored", r.header.Get("X-OpenMetadata-Change"))
				got := r.json(t)
				assert.Equal(t, false, got["deleted"])
				assert.Equal(t, 0.3, got["version"])
				assert.Equal(t, seedModelID, got["id"])
			}
			assert.NotEqual(t, before, e.dump(), "the request changed the registry")
		})
	}
}

// TestSeedSDKCalls sends what the seed's Python and Java SDK calls put on
// the wire (OpenMetadata's ometa client: DELETE {suffix}/{id}?recursive=
// &hardDelete=, DELETE {suffix}/name/{fqn}?…, PUT {suffix}/restore {"id"}),
// in the seed's order, against one model.
func TestSeedSDKCalls(t *testing.T) {
	e := seedEnv(t)
	steps := []struct {
		call, method, path, body string
		status                   int
		change                   string
		deleted                  bool
		version                  float64
	}{
		{"MLModels.delete(id)", "DELETE", "/api/v1/mlmodels/" + seedModelID + "?recursive=false&hardDelete=false", "", 200, "entitySoftDeleted", true, 0.2},
		{"MLModels.restore(id)", "PUT", "/api/v1/mlmodels/restore", `{"id":"` + seedModelID + `"}`, 200, "entityRestored", false, 0.3},
		{"MLModels.delete_by_name(fqn)", "DELETE", "/api/v1/mlmodels/name/mlflow_svc.customer_segmentation?recursive=false&hardDelete=false", "", 200, "entitySoftDeleted", true, 0.4},
		{"MlModels.restore(id) (Java)", "PUT", "/api/v1/mlmodels/restore", `{"id": "` + seedModelID + `"}`, 200, "entityRestored", false, 0.5},
		{"MlModels.deleteByName(fqn).execute() (Java)", "DELETE", "/api/v1/mlmodels/name/mlflow_svc.customer_segmentation", "", 200, "entitySoftDeleted", true, 0.6},
		{"MLModels.delete(id, hard_delete=True)", "DELETE", "/api/v1/mlmodels/" + seedModelID + "?recursive=false&hardDelete=true", "", 204, "entityDeleted", false, 0},
		{"MLModels.delete(id) of a hard-deleted model", "DELETE", "/api/v1/mlmodels/" + seedModelID, "", 404, "", false, 0},
		{"MLModels.restore(id) of a hard-deleted model", "PUT", "/api/v1/mlmodels/restore", `{"id":"` + seedModelID + `"}`, 404, "", false, 0},
	}
	for _, s := range steps {
		r := e.do(s.method, s.path, adminToken, s.body)
		if !assert.Equal(t, s.status, r.status, "%s: %s", s.call, r.body) {
			continue
		}
		assert.Equal(t, s.change, r.header.Get("X-OpenMetadata-Change"), s.call)
		switch s.status {
		case 200:
			m := r.json(t)
			assert.Equal(t, s.deleted, m["deleted"], s.call)
			assert.Equal(t, s.version, m["version"], s.call)
			assert.Equal(t, "mlflow_svc.customer_segmentation", m["fullyQualifiedName"], s.call)
		case 404:
			assertError(t, r, 404, "mlmodel instance for "+seedModelID+" not found")
		case 204:
			assert.Empty(t, r.body)
		}
	}
	// Java's MlModels.delete(id).hardDelete().execute() and
	// MLModels.delete_by_name(fqn, hard_delete=True) on fresh models.
	for _, path := range []string{
		"/api/v1/mlmodels/" + seedModelID + "?hardDelete=true",
		"/api/v1/mlmodels/name/mlflow_svc.customer_segmentation?recursive=false&hardDelete=true",
	} {
		e := seedEnv(t)
		r := e.do("DELETE", path, adminToken, "")
		assert.Equal(t, http.StatusNoContent, r.status, "%s: %s", path, r.body)
		assert.Empty(t, r.body)
	}
}

// TestSeedErrorTable checks the seed's error table: 401 for a missing or
// invalid token, 403 for a principal without permission, 404 for an
// unknown ID or FQN, each in OpenMetadata's shape.
func TestSeedErrorTable(t *testing.T) {
	e := seedEnv(t)
	before := e.dump()
	cases := []struct {
		desc, method, path, token string
		status                    int
		msg                       string
	}{
		{"missing token", "DELETE", "/api/v1/mlmodels/" + seedModelID, "", 401, "Token not present"},
		{"invalid token", "DELETE", "/api/v1/mlmodels/" + seedModelID, "nope", 401, "Invalid token"},
		{"no permission", "DELETE", "/api/v1/mlmodels/" + seedModelID, bobToken, 403, "CatalogPrincipal{name='bob'}"},
		{"no permission, hard", "DELETE", "/api/v1/mlmodels/" + seedModelID + "?hardDelete=true", bobToken, 403, "not allowed"},
		{"no permission, by name", "DELETE", "/api/v1/mlmodels/name/mlflow_svc.customer_segmentation", bobToken, 403, "not allowed"},
		{"unknown id", "DELETE", "/api/v1/mlmodels/00000000-0000-4000-8000-000000000000", adminToken, 404, "mlmodel instance for 00000000-0000-4000-8000-000000000000 not found"},
		{"unknown fqn", "DELETE", "/api/v1/mlmodels/name/mlflow_svc.nope", adminToken, 404, "mlmodel instance for mlflow_svc.nope not found"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			assertError(t, e.do(c.method, c.path, c.token, ""), c.status, c.msg)
		})
	}
	assert.Equal(t, before, e.dump(), "no error changed anything")
}
