package openmetadata_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// step is one request of a scenario and what its answer must be.
type step struct {
	desc, method, path, token, body string
	status                          int
	change                          string         // X-OpenMetadata-Change, "" for none
	fields                          map[string]any // top-level fields the body must have
	msg                             string         // for an error: part of the message
	check                           func(t *testing.T, r resp)
}

func (e *env) run(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		t.Run(s.desc, func(t *testing.T) {
			tok := s.token
			if tok == "" {
				tok = adminToken
			}
			r := e.do(s.method, s.path, tok, s.body)
			if s.status >= 400 {
				assertError(t, r, s.status, s.msg)
			} else {
				require.Equal(t, s.status, r.status, "%s", r.body)
				assert.NotEmpty(t, r.header.Get("X-Request-Id"))
			}
			assert.Equal(t, s.change, r.header.Get("X-OpenMetadata-Change"))
			if len(s.fields) > 0 {
				m := r.json(t)
				for k, v := range s.fields {
					assert.Equal(t, v, m[k], "field %s", k)
				}
			}
			if s.check != nil {
				s.check(t, r)
			}
		})
	}
}

// entityShape checks what every entity answer has, as the seed's example.
func entityShape(t *testing.T, r resp) {
	m := r.json(t)
	for _, k := range []string{"id", "name", "fullyQualifiedName", "version", "updatedAt", "updatedBy", "deleted", "owners", "tags", "domains", "href"} {
		assert.Contains(t, m, k)
	}
	assert.IsType(t, float64(0), m["updatedAt"])
	assert.Greater(t, m["updatedAt"].(float64), 1e12, "updatedAt is in epoch milliseconds")
	if _, ok := m["algorithm"]; ok {
		svc := m["service"].(map[string]any)
		assert.Equal(t, "mlmodelService", svc["type"])
		for _, k := range []string{"id", "name", "fullyQualifiedName"} {
			assert.NotEmpty(t, svc[k])
		}
	}
}

func TestModelEndpoints(t *testing.T) {
	e := newEnv(t)
	svc := e.service("mlflow_svc", "Mlflow")
	e.service("other_svc", "Sklearn")
	create := `{"name":"churn","service":"mlflow_svc","algorithm":"XGBoost"}`
	var churnID string
	idOf := func(t *testing.T, r resp) { churnID = r.json(t)["id"].(string) }
	e.run(t, []step{
		{desc: "create", method: "POST", path: "/api/v1/mlmodels", body: create, status: 201,
			fields: map[string]any{"name": "churn", "fullyQualifiedName": "mlflow_svc.churn", "algorithm": "XGBoost",
				"version": 0.1, "updatedBy": "admin", "deleted": false, "serviceType": "Mlflow",
				"service": map[string]any{"id": svc["id"], "type": "mlmodelService", "name": "mlflow_svc", "fullyQualifiedName": "mlflow_svc"}},
			check: func(t *testing.T, r resp) {
				idOf(t, r)
				entityShape(t, r)
				assert.Equal(t, r.json(t)["href"], r.header.Get("Location"))
				assert.True(t, strings.HasSuffix(r.header.Get("Location"), "/api/v1/mlmodels/"+churnID))
			}},
		{desc: "create again", method: "POST", path: "/api/v1/mlmodels", body: create, status: 409, msg: "Entity already exists"},
		{desc: "create a dotted name", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"churn.v2","service":"mlflow_svc","algorithm":"XGBoost"}`,
			status: 201, fields: map[string]any{"fullyQualifiedName": `mlflow_svc."churn.v2"`}},
		{desc: "create in an unknown service", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"x","service":"nope","algorithm":"a"}`,
			status: 404, msg: "mlmodelService instance for nope not found"},
		{desc: "create without required fields", method: "POST", path: "/api/v1/mlmodels", body: `{"displayName":"x"}`,
			status: 400, msg: "[name must not be null, algorithm must not be null, service must not be null]"},
		{desc: "create with an unknown field", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"x","service":"mlflow_svc","algorithm":"a","colour":"red"}`,
			status: 400, msg: "unknown field \"colour\""},
		{desc: "create a name with ::", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"a::b","service":"mlflow_svc","algorithm":"a"}`,
			status: 400, msg: "name must match"},
		{desc: "alice creates in her service", method: "POST", path: "/api/v1/mlmodels", token: aliceToken,
			body: `{"name":"alices","service":"mlflow_svc","algorithm":"a"}`, status: 201, fields: map[string]any{"updatedBy": "alice"}},
		{desc: "alice creates in another service", method: "POST", path: "/api/v1/mlmodels", token: aliceToken,
			body: `{"name":"x","service":"other_svc","algorithm":"a"}`, status: 403, msg: "CatalogPrincipal{name='alice'}"},
	})
	byID := func() string { return "/api/v1/mlmodels/" + churnID }
	e.run(t, []step{
		{desc: "get", method: "GET", path: byID(), status: 200, fields: map[string]any{"id": churnID, "version": 0.1}, check: entityShape},
		{desc: "get with fields", method: "GET", path: byID() + "?fields=owners,tags,domains,followers", status: 200},
		{desc: "get with an unknown field", method: "GET", path: byID() + "?fields=owners,colour", status: 400, msg: "Invalid field name colour"},
		{desc: "get by name", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.churn", status: 200, fields: map[string]any{"id": churnID}},
		{desc: "get a quoted FQN", method: "GET", path: "/api/v1/mlmodels/name/" + url.PathEscape(`mlflow_svc."churn.v2"`), status: 200,
			fields: map[string]any{"name": "churn.v2"}},
		{desc: "create a name with a slash", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"team/churn","service":"mlflow_svc","algorithm":"a"}`,
			status: 201, fields: map[string]any{"fullyQualifiedName": "mlflow_svc.team/churn"}},
		{desc: "get it as the Python client quotes it", method: "GET", path: "/api/v1/mlmodels/name/" + url.PathEscape("mlflow_svc.team/churn") + "?fields=*",
			status: 200, fields: map[string]any{"name": "team/churn"}},
		{desc: "delete it by name", method: "DELETE", path: "/api/v1/mlmodels/name/" + url.PathEscape("mlflow_svc.team/churn") + "?recursive=false&hardDelete=true",
			status: 204, change: "entityDeleted"},
		{desc: "get an unknown id", method: "GET", path: "/api/v1/mlmodels/00000000-0000-4000-8000-000000000001", status: 404,
			msg: "mlmodel instance for 00000000-0000-4000-8000-000000000001 not found"},
		{desc: "get the service as a model", method: "GET", path: "/api/v1/mlmodels/" + svc["id"].(string), status: 404},
		{desc: "upsert unchanged", method: "PUT", path: "/api/v1/mlmodels", body: create, status: 200, change: "entityNoChange",
			fields: map[string]any{"version": 0.1}},
		{desc: "upsert changed", method: "PUT", path: "/api/v1/mlmodels", body: `{"name":"churn","service":"mlflow_svc","algorithm":"XGBoost","description":"new"}`,
			status: 200, change: "entityUpdated", fields: map[string]any{"version": 0.2, "description": "new", "id": churnID}},
		{desc: "upsert new", method: "PUT", path: "/api/v1/mlmodels", body: `{"name":"fresh","service":"mlflow_svc","algorithm":"a"}`,
			status: 201, change: "entityCreated", fields: map[string]any{"version": 0.1},
			check: func(t *testing.T, r resp) { assert.Equal(t, r.json(t)["href"], r.header.Get("Location")) }},
		{desc: "soft delete", method: "DELETE", path: byID(), status: 200, change: "entitySoftDeleted",
			fields: map[string]any{"deleted": true, "version": 0.3}},
		{desc: "get soft-deleted", method: "GET", path: byID(), status: 404},
		{desc: "get soft-deleted, include=deleted", method: "GET", path: byID() + "?include=deleted", status: 200, fields: map[string]any{"deleted": true}},
		{desc: "get live, include=deleted", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.fresh?include=deleted", status: 404},
		{desc: "get by name, include=all", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.churn?include=all", status: 200},
		{desc: "second soft delete", method: "DELETE", path: byID(), status: 200, change: "entitySoftDeleted",
			fields: map[string]any{"deleted": true, "version": 0.3}},
		{desc: "create over a soft-deleted name", method: "POST", path: "/api/v1/mlmodels", body: create, status: 409},
		{desc: "upsert restores", method: "PUT", path: "/api/v1/mlmodels", body: create, status: 200, change: "entityUpdated",
			fields: map[string]any{"deleted": false, "id": churnID}},
		{desc: "restore a live model", method: "PUT", path: "/api/v1/mlmodels/restore", body: `{"id":"` + churnID + `"}`, status: 409, msg: "not"},
		{desc: "versions", method: "GET", path: byID() + "/versions", status: 200, check: func(t *testing.T, r resp) {
			var h struct {
				EntityType string   `json:"entityType"`
				Versions   []string `json:"versions"`
			}
			require.NoError(t, json.Unmarshal(r.body, &h))
			assert.Equal(t, "mlmodel", h.EntityType)
			require.Len(t, h.Versions, 1)
			var v map[string]any
			require.NoError(t, json.Unmarshal([]byte(h.Versions[0]), &v))
			assert.Equal(t, churnID, v["id"])
		}},
		{desc: "bob deletes in mlflow_svc", method: "DELETE", path: byID(), token: bobToken, status: 403},
		{desc: "hard delete", method: "DELETE", path: byID() + "?hardDelete=true", status: 204, change: "entityDeleted",
			check: func(t *testing.T, r resp) { assert.Empty(t, r.body) }},
		{desc: "get hard-deleted, include=all", method: "GET", path: byID() + "?include=all", status: 404},
		{desc: "restore hard-deleted", method: "PUT", path: "/api/v1/mlmodels/restore", body: `{"id":"` + churnID + `"}`, status: 404},
	})
}

// versionsOf reads GET /{id}/versions: the entity type and each
// version's (version, deleted, description, updatedBy).
func versionsOf(t *testing.T, e *env, id string) []map[string]any {
	t.Helper()
	r := e.do("GET", "/api/v1/mlmodels/"+id+"/versions", adminToken, "")
	require.Equal(t, 200, r.status, "%s", r.body)
	var h struct {
		EntityType string   `json:"entityType"`
		Versions   []string `json:"versions"`
	}
	require.NoError(t, json.Unmarshal(r.body, &h))
	assert.Equal(t, "mlmodel", h.EntityType)
	var out []map[string]any
	for _, v := range h.Versions {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(v), &m), "each version is the entity's JSON as a string")
		assert.Equal(t, id, m["id"])
		out = append(out, map[string]any{"version": m["version"], "deleted": m["deleted"], "description": m["description"], "updatedBy": m["updatedBy"]})
	}
	return out
}

// TestModelVersionsAndHistory: the versions the registry can tell are
// listed newest first, back to the last change of metadata.
func TestModelVersionsAndHistory(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	id := e.model("mlflow_svc", "churn")["id"].(string)
	assert.Equal(t, []map[string]any{{"version": 0.1, "deleted": false, "description": nil, "updatedBy": "admin"}}, versionsOf(t, e, id))

	// The seed's soft delete: 0.1 → 0.2, both listed, as OpenMetadata does.
	require.Equal(t, 200, e.do("DELETE", "/api/v1/mlmodels/"+id, aliceToken, "").status)
	assert.Equal(t, []map[string]any{
		{"version": 0.2, "deleted": true, "description": nil, "updatedBy": "alice"},
		{"version": 0.1, "deleted": false, "description": nil, "updatedBy": "admin"},
	}, versionsOf(t, e, id))

	// An update replaces metadata: history starts again from it.
	require.Equal(t, 200, e.do("PUT", "/api/v1/mlmodels/restore", adminToken, `{"id":"`+id+`"}`).status)
	r := e.do("PUT", "/api/v1/mlmodels", adminToken, `{"name":"churn","service":"mlflow_svc","algorithm":"KMeans","description":"v2"}`)
	require.Equal(t, 200, r.status, "%s", r.body)
	require.Equal(t, 200, e.do("DELETE", "/api/v1/mlmodels/"+id, adminToken, "").status)
	require.Equal(t, 200, e.do("PUT", "/api/v1/mlmodels/restore", aliceToken, `{"id":"`+id+`"}`).status)
	assert.Equal(t, []map[string]any{
		{"version": 0.6, "deleted": false, "description": "v2", "updatedBy": "alice"},
		{"version": 0.5, "deleted": true, "description": "v2", "updatedBy": "admin"},
		{"version": 0.4, "deleted": false, "description": "v2", "updatedBy": "admin"},
	}, versionsOf(t, e, id))

	for range 5 {
		require.Equal(t, 200, e.do("DELETE", "/api/v1/mlmodels/"+id, adminToken, "").status)
		require.Equal(t, 200, e.do("PUT", "/api/v1/mlmodels/restore", adminToken, `{"id":"`+id+`"}`).status)
	}
	assert.Len(t, versionsOf(t, e, id), 13)
	e.run(t, []step{
		{desc: "the current version", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/1.6", status: 200,
			check: func(t *testing.T, r resp) { assert.Contains(t, string(r.body), `"version":1.6`) }},
		{desc: "1.0 renders with its decimal", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/1", status: 200,
			check: func(t *testing.T, r resp) { assert.Contains(t, string(r.body), `"version":1.0,`) }},
		{desc: "a soft-deleted version", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/0.5", status: 200,
			fields: map[string]any{"deleted": true, "description": "v2"}},
		{desc: "a version before the update", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/0.3", status: 404,
			msg: "mlmodel instance for " + id + " and version 0.3 not found"},
		{desc: "a version to come", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/1.7", status: 404},
		{desc: "a malformed version", method: "GET", path: "/api/v1/mlmodels/" + id + "/versions/x.y", status: 400},
		{desc: "versions of an unknown id", method: "GET", path: "/api/v1/mlmodels/00000000-0000-4000-8000-000000000001/versions", status: 404},
	})
}

func TestModelOptionalFieldsRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	body := `{"name":"full","displayName":"Full","description":"**md**","algorithm":"KMeans",
		"mlFeatures":[{"name":"age","dataType":"numerical"}],"target":"churned",
		"mlHyperParameters":[{"name":"k","value":"8"}],"dashboard":"superset.churn",
		"mlStore":{"storage":"s3://bucket/full","imageRepository":"https://hub/full"},
		"server":"http://serve:8080","sourceUrl":"http://mlflow/full",
		"tags":[{"tagFQN":"PII.Sensitive","source":"Classification","labelType":"Manual","state":"Confirmed"},
		        {"tagFQN":"Tier.Tier1","source":"Classification","labelType":"Automated","state":"Suggested"}],
		"owners":[{"id":"11111111-1111-4111-8111-111111111111","type":"team","name":"data"}],
		"service":"mlflow_svc","extension":{"x":1},"domains":["Marketing"],"dataProducts":["churnDP"],
		"lifeCycle":{"created":{"timestamp":1}},"sourceHash":"abc"}`
	r := e.do("POST", "/api/v1/mlmodels", adminToken, body)
	require.Equal(t, 201, r.status, "%s", r.body)
	created := r.json(t)
	got := e.do("GET", "/api/v1/mlmodels/"+created["id"].(string), adminToken, "").json(t)
	assert.Equal(t, created, got)
	var sent map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &sent))
	for _, k := range []string{"displayName", "description", "algorithm", "mlFeatures", "target", "mlHyperParameters", "mlStore",
		"server", "sourceUrl", "tags", "owners", "extension", "lifeCycle", "sourceHash"} {
		assert.Equal(t, sent[k], got[k], k)
	}
	assert.Equal(t, "superset.churn", got["dashboard"].(map[string]any)["fullyQualifiedName"])
	assert.Equal(t, "Marketing", got["domains"].([]any)[0].(map[string]any)["name"])
	a, err := e.f.Get(e.f.Ctx, created["id"].(string))
	require.NoError(t, err)
	assert.Equal(t, []string{"s3://bucket/full"}, a.StorageURIs, "mlStore.storage is the artifact's storage")
	assert.Equal(t, []string{"PII.Sensitive", "Tier.Tier1"}, a.Tags)
	assert.Equal(t, []string{"data"}, a.Owners)

	// A hard delete hands the storage to the registry's cleanup queue.
	r = e.do("DELETE", "/api/v1/mlmodels/name/mlflow_svc.full?hardDelete=true", adminToken, "")
	require.Equal(t, 204, r.status)
	pending, err := e.f.PendingCleanups(e.f.Ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, "s3://bucket/full", pending[0].URI)
}

func TestModelDeleteRules(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	pkg := e.model("mlflow_svc", "pkg")
	child := e.f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "pkg-part", Parent: pkg["id"].(string)})
	served := e.model("mlflow_svc", "served")
	require.NoError(t, e.f.Deploy(e.f.Ctx, served["id"].(string), "endpoint-1"))
	up := e.model("mlflow_svc", "up")
	down := e.model("mlflow_svc", "down")
	e.f.MustLink(t, up["id"].(string), down["id"].(string))
	before := e.dump()
	e.run(t, []step{
		{desc: "a model with children", method: "DELETE", path: "/api/v1/mlmodels/" + pkg["id"].(string), status: 400, msg: "mlmodel is not empty"},
		{desc: "by name, hard", method: "DELETE", path: "/api/v1/mlmodels/name/mlflow_svc.pkg?hardDelete=true", status: 400, msg: "mlmodel is not empty"},
		{desc: "a deployed model", method: "DELETE", path: "/api/v1/mlmodels/" + served["id"].(string), status: 409, msg: "deployed"},
		{desc: "a model others depend on, hard", method: "DELETE", path: "/api/v1/mlmodels/" + up["id"].(string) + "?hardDelete=true", status: 409, msg: "depend"},
		{desc: "a sub-model is not an ML model here", method: "GET", path: "/api/v1/mlmodels/" + child.ID, status: 404},
	})
	assert.Equal(t, before, e.dump(), "refused deletes changed nothing")
	e.run(t, []step{
		{desc: "recursive", method: "DELETE", path: "/api/v1/mlmodels/" + pkg["id"].(string) + "?recursive=true", status: 200,
			change: "entitySoftDeleted", fields: map[string]any{"deleted": true}},
		{desc: "a soft delete keeps lineage", method: "DELETE", path: "/api/v1/mlmodels/" + up["id"].(string), status: 200, change: "entitySoftDeleted"},
	})
	a := e.f.MustGet(t, child.ID)
	assert.True(t, a.Deleted, "the child went with its parent")
}

func TestServiceEndpoints(t *testing.T) {
	e := newEnv(t)
	var svcID string
	e.run(t, []step{
		{desc: "create", method: "POST", path: "/api/v1/services/mlmodelServices",
			body:   `{"name":"mlflow_svc","serviceType":"Mlflow","description":"prod","connection":{"config":{"type":"Mlflow","trackingUri":"http://mlflow:5000"}}}`,
			status: 201, fields: map[string]any{"name": "mlflow_svc", "fullyQualifiedName": "mlflow_svc", "serviceType": "Mlflow",
				"version": 0.1, "deleted": false, "description": "prod",
				"connection": map[string]any{"config": map[string]any{"type": "Mlflow", "trackingUri": "http://mlflow:5000"}}},
			check: func(t *testing.T, r resp) {
				svcID = r.json(t)["id"].(string)
				entityShape(t, r)
				assert.Equal(t, r.json(t)["href"], r.header.Get("Location"))
			}},
		{desc: "create again", method: "POST", path: "/api/v1/services/mlmodelServices", body: `{"name":"mlflow_svc","serviceType":"Mlflow"}`,
			status: 409, msg: "Entity already exists"},
		{desc: "a dotted name", method: "POST", path: "/api/v1/services/mlmodelServices", body: `{"name":"a.b","serviceType":"Sklearn"}`,
			status: 201, fields: map[string]any{"fullyQualifiedName": `"a.b"`}},
		{desc: "create without fields", method: "POST", path: "/api/v1/services/mlmodelServices", body: `{}`,
			status: 400, msg: "[name must not be null, serviceType must not be null]"},
		{desc: "an unknown serviceType", method: "POST", path: "/api/v1/services/mlmodelServices", body: `{"name":"x","serviceType":"Spark"}`,
			status: 400, msg: "serviceType must be one of"},
		{desc: "an unknown field", method: "POST", path: "/api/v1/services/mlmodelServices", body: `{"name":"x","serviceType":"Mlflow","colour":1}`,
			status: 400, msg: "unknown field"},
		{desc: "alice creates outside her namespace", method: "POST", path: "/api/v1/services/mlmodelServices", token: aliceToken,
			body: `{"name":"other_svc","serviceType":"Mlflow"}`, status: 403},
	})
	e.run(t, []step{
		{desc: "upsert unchanged", method: "PUT", path: "/api/v1/services/mlmodelServices",
			body:   `{"name":"mlflow_svc","serviceType":"Mlflow","description":"prod","connection":{"config":{"type":"Mlflow","trackingUri":"http://mlflow:5000"}}}`,
			status: 200, change: "entityNoChange", fields: map[string]any{"id": svcID, "version": 0.1}},
		{desc: "upsert changed", method: "PUT", path: "/api/v1/services/mlmodelServices",
			body:   `{"name":"mlflow_svc","serviceType":"Mlflow","description":"prod","displayName":"MLflow","connection":{"config":{"type":"Mlflow","trackingUri":"http://mlflow:5000"}}}`,
			status: 200, change: "entityUpdated", fields: map[string]any{"id": svcID, "version": 0.2, "displayName": "MLflow"}},
		{desc: "upsert new", method: "PUT", path: "/api/v1/services/mlmodelServices", body: `{"name":"new_svc","serviceType":"SageMaker"}`,
			status: 201, change: "entityCreated", fields: map[string]any{"serviceType": "SageMaker"}},
		{desc: "delete the new one", method: "DELETE", path: "/api/v1/services/mlmodelServices/name/new_svc", status: 200, change: "entitySoftDeleted"},
		{desc: "upsert restores it", method: "PUT", path: "/api/v1/services/mlmodelServices", body: `{"name":"new_svc","serviceType":"SageMaker"}`,
			status: 200, change: "entityUpdated", fields: map[string]any{"deleted": false, "version": 0.3}},
		{desc: "hard delete the new one", method: "DELETE", path: "/api/v1/services/mlmodelServices/name/new_svc?hardDelete=true", status: 200, change: "entityDeleted"},
	})
	e.model("mlflow_svc", "churn")
	e.model("mlflow_svc", "fraud")
	e.run(t, []step{
		{desc: "get", method: "GET", path: "/api/v1/services/mlmodelServices/" + svcID, status: 200, fields: map[string]any{"id": svcID}},
		{desc: "get by name", method: "GET", path: "/api/v1/services/mlmodelServices/name/mlflow_svc?fields=owners", status: 200, fields: map[string]any{"id": svcID}},
		{desc: "get by quoted name", method: "GET", path: "/api/v1/services/mlmodelServices/name/" + url.PathEscape(`"a.b"`), status: 200},
		{desc: "get unknown", method: "GET", path: "/api/v1/services/mlmodelServices/name/nope", status: 404, msg: "mlmodelService instance for nope not found"},
		{desc: "get a bad field", method: "GET", path: "/api/v1/services/mlmodelServices/" + svcID + "?fields=x", status: 400, msg: "Invalid field name x"},
		{desc: "list", method: "GET", path: "/api/v1/services/mlmodelServices", status: 200, check: func(t *testing.T, r resp) {
			m := r.json(t)
			assert.Len(t, m["data"], 2)
			assert.Equal(t, map[string]any{"total": 2.0}, m["paging"])
		}},
		{desc: "delete a non-empty service", method: "DELETE", path: "/api/v1/services/mlmodelServices/" + svcID, status: 400,
			msg: "mlmodelService is not empty"},
		{desc: "hard delete a non-empty service", method: "DELETE", path: "/api/v1/services/mlmodelServices/name/mlflow_svc?hardDelete=true", status: 400,
			msg: "mlmodelService is not empty"},
		{desc: "recursive soft delete", method: "DELETE", path: "/api/v1/services/mlmodelServices/" + svcID + "?recursive=true", status: 200,
			change: "entitySoftDeleted", fields: map[string]any{"deleted": true, "version": 0.3}},
		{desc: "its models are gone", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.churn", status: 404},
		{desc: "and soft deleted", method: "GET", path: "/api/v1/mlmodels?service=mlflow_svc&include=deleted", status: 200, check: func(t *testing.T, r resp) {
			assert.Equal(t, 2.0, r.json(t)["paging"].(map[string]any)["total"])
		}},
		{desc: "no model in a deleted service", method: "POST", path: "/api/v1/mlmodels", body: `{"name":"x","service":"mlflow_svc","algorithm":"a"}`, status: 404},
		{desc: "restore", method: "PUT", path: "/api/v1/services/mlmodelServices/restore", body: `{"id":"` + svcID + `"}`, status: 200,
			change: "entityRestored", fields: map[string]any{"deleted": false, "version": 0.4}},
		{desc: "its models are back", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.churn", status: 200},
		{desc: "recursive hard delete", method: "DELETE", path: "/api/v1/services/mlmodelServices/name/mlflow_svc?recursive=true&hardDelete=true", status: 200,
			change: "entityDeleted", fields: map[string]any{"id": svcID, "name": "mlflow_svc"}},
		{desc: "gone", method: "GET", path: "/api/v1/services/mlmodelServices/" + svcID + "?include=all", status: 404},
		{desc: "its models gone", method: "GET", path: "/api/v1/mlmodels/name/mlflow_svc.churn?include=all", status: 404},
		{desc: "empty service, hard", method: "DELETE", path: "/api/v1/services/mlmodelServices/name/" + url.PathEscape(`"a.b"`) + "?hardDelete=true", status: 200,
			change: "entityDeleted"},
	})
	assert.Equal(t, []registry.Artifact(nil), e.dump())
}

// TestRoutingAndAuth: unknown paths are 404, wrong methods 405, and every
// route wants a valid bearer token, all in OpenMetadata's shape.
func TestRoutingAndAuth(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	id := e.model("mlflow_svc", "churn")["id"].(string)
	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/mlmodels", ""},
		{"POST", "/api/v1/mlmodels", `{"name":"x","service":"mlflow_svc","algorithm":"a"}`},
		{"PUT", "/api/v1/mlmodels", `{"name":"x","service":"mlflow_svc","algorithm":"a"}`},
		{"GET", "/api/v1/mlmodels/" + id, ""},
		{"GET", "/api/v1/mlmodels/name/mlflow_svc.churn", ""},
		{"DELETE", "/api/v1/mlmodels/" + id, ""},
		{"DELETE", "/api/v1/mlmodels/name/mlflow_svc.churn", ""},
		{"PUT", "/api/v1/mlmodels/restore", `{"id":"` + id + `"}`},
		{"GET", "/api/v1/mlmodels/" + id + "/versions", ""},
		{"GET", "/api/v1/mlmodels/" + id + "/versions/0.1", ""},
		{"GET", "/api/v1/services/mlmodelServices", ""},
		{"POST", "/api/v1/services/mlmodelServices", `{"name":"x","serviceType":"Mlflow"}`},
		{"GET", "/api/v1/services/mlmodelServices/name/mlflow_svc", ""},
		{"DELETE", "/api/v1/services/mlmodelServices/name/mlflow_svc", ""},
		{"PUT", "/api/v1/services/mlmodelServices/restore", `{"id":"` + id + `"}`},
	}
	before := e.dump()
	for _, rt := range routes {
		for _, tok := range []string{"", "wrong"} {
			r := e.do(rt.method, rt.path, tok, rt.body)
			assertError(t, r, 401, "Not Authorized")
		}
		// Not a bearer scheme.
		req := e.do(rt.method, rt.path, "", rt.body)
		assert.Equal(t, 401, req.status)
	}
	assert.Equal(t, before, e.dump())
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"PATCH", "/api/v1/mlmodels/" + id, 405},
		{"POST", "/api/v1/mlmodels/" + id, 405},
		{"DELETE", "/api/v1/mlmodels", 405},
		{"GET", "/api/v1/mlmodels/restore/x/y/z", 404},
		{"GET", "/api/v1/mlmodels/" + id + "/followers", 404},
		{"DELETE", "/api/v1/mlmodels/async/" + id, 405},
		{"PATCH", "/api/v1/services/mlmodelServices/name/mlflow_svc", 405},
	} {
		assertError(t, e.do(c.method, c.path, adminToken, ""), c.status, "")
	}
	assert.Equal(t, before, e.dump())

	// A scheme other than Bearer is no token.
	req, err := http.NewRequest("GET", e.srv.URL+"/api/v1/mlmodels", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+adminToken)
	res, err := e.c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, 401, res.StatusCode)
}
