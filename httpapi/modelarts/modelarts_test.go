package modelarts_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/modelarts"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// TestSeedExamples sends the request examples of seeds 001 and 002 and of
// DIALECTS.md §2.4 verbatim, with host and IDs substituted, and checks the
// answers the seeds give.
func TestSeedExamples(t *testing.T) {
	t.Run("seed 001: cascade delete, one version deployed", func(t *testing.T) {
		e := newEnv(t)
		target := e.importModel(projA, "flowers", "1.1.1")
		other := e.importModel(projA, "flowers", "1.1.2")
		deployed := e.importModel(projA, "flowers", "1.1.3")
		e.deploy(projA, "flowers-svc", deployed)
		// DELETE    https://endpoint/v1/{project_id}/models/023e90be-7e2a-4169-bab4-1bc34ff0ca45?cascade=true
		r := e.do("DELETE", "/v1/"+projA+"/models/"+target+"?cascade=true", alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.ElementsMatch(t, []any{target, other}, r.body["delete_success_list"])
		assert.Equal(t, []any{map[string]any{
			"model_id":      deployed,
			"error_code":    "ModelArts.3009",
			"error_message": "Failed to delete model, model (" + deployed + ") already deploy service.",
			"error_msg":     "Failed to delete model, model (" + deployed + ") already deploy service.",
		}}, r.body["delete_failed_list"])
		assert.Equal(t, 404, e.do("GET", "/v1/"+projA+"/models/"+target, alice, "").status)
		assert.Equal(t, 404, e.do("GET", "/v1/"+projA+"/models/"+other, alice, "").status)
		assert.Equal(t, 200, e.do("GET", "/v1/"+projA+"/models/"+deployed, alice, "").status)
	})
	t.Run("seed 002: delete one model", func(t *testing.T) {
		e := newEnv(t)
		id := e.importModel(projA, "flowers", "1.1.1")
		keep := e.importModel(projA, "flowers", "1.1.2")
		// DELETE https://{endpoint}/v1/{project_id}/models/{model_id}
		r := e.do("DELETE", "/v1/"+projA+"/models/"+id, alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.JSONEq(t, `{"delete_success_list":["`+id+`"],"delete_failed_list":[]}`, r.raw)
		// An empty cascade= is the default, false.
		id2 := e.importModel(projA, "flowers", "1.1.3")
		r = e.do("DELETE", "/v1/"+projA+"/models/"+id2+"?cascade=", alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.JSONEq(t, `{"delete_success_list":["`+id2+`"],"delete_failed_list":[]}`, r.raw)
		assert.Equal(t, 200, e.do("GET", "/v1/"+projA+"/models/"+keep, alice, "").status, "without cascade the other version stays")
	})
	t.Run("seed 002: the deployed model is a failed item", func(t *testing.T) {
		e := newEnv(t)
		id := e.importModel(projA, "flowers", "1.1.1")
		e.deploy(projA, "svc", id)
		before := e.dump()
		r := e.do("DELETE", "/v1/"+projA+"/models/"+id, alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []any{}, r.body["delete_success_list"])
		failed := r.body["delete_failed_list"].([]any)
		require.Len(t, failed, 1)
		item := failed[0].(map[string]any)
		assert.Equal(t, id, item["model_id"])
		assert.Equal(t, "ModelArts.3009", item["error_code"])
		assert.Equal(t, item["error_msg"], item["error_message"])
		assert.Contains(t, item["error_msg"], id)
		assert.Equal(t, before, e.dump())
	})
}

func TestImportModel(t *testing.T) {
	valid := `{"model_name":"mnist","model_version":"1.1.1","source_location":"https://models.obs.example.com/mnist","model_type":"TensorFlow"}`
	with := func(field, value string) string {
		return strings.Replace(valid, `"model_type"`, `"`+field+`":`+value+`,"model_type"`, 1)
	}
	tests := []struct {
		name, token, project, body string
		status                     int
		code                       string
	}{
		{"minimal", alice, projA, valid, 200, ""},
		{"every optional field", alice, projA, `{"model_name":"mnist","model_version":"1.1.1","source_location":"https://models.obs.example.com/mnist","model_type":"TensorFlow","description":"digits","runtime":"python3.6","source_type":"auto","workspace_id":"0","install_type":["real-time"],"model_algorithm":"image_classification","execution_code":"obs://x/customize_service.py","apis":[{"url":"/","method":"post"}],"input_params":[],"output_params":[],"dependencies":[{"installer":"pip","packages":[]}],"model_metrics":"{}","initial_config":{"a":1},"model_docs":[],"template":{"template_id":"t"}}`, 200, ""},
		{"Template needs no source_location", alice, projA, `{"model_name":"t","model_version":"1.1.1","model_type":"Template"}`, 200, ""},
		{"2022 model type", alice, projA, strings.Replace(valid, "TensorFlow", "XGBoost", 1), 200, ""},
		{"unknown fields are ignored", alice, projA, with("future_field", `{"x":1}`), 200, ""},
		{"99.99.99", alice, projA, strings.Replace(valid, "1.1.1", "99.99.99", 1), 200, ""},
		{"no token", "", projA, valid, 401, "ModelArts.0201"},
		{"unknown token", "nope", projA, valid, 401, "ModelArts.0203"},
		{"another project", alice, projB, valid, 403, "ModelArts.3010"},
		{"bad project id", alice, "proj.a", valid, 400, "ModelArts.0101"},
		{"missing model_name", alice, projA, strings.Replace(valid, `"model_name":"mnist",`, "", 1), 400, "ModelArts.3036"},
		{"missing model_version", alice, projA, strings.Replace(valid, `"model_version":"1.1.1",`, "", 1), 400, "ModelArts.3036"},
		{"missing model_type", alice, projA, strings.Replace(valid, `,"model_type":"TensorFlow"`, "", 1), 400, "ModelArts.3036"},
		{"missing source_location", alice, projA, strings.Replace(valid, `"source_location":"https://models.obs.example.com/mnist",`, "", 1), 400, "ModelArts.3036"},
		{"empty source_location", alice, projA, strings.Replace(valid, `https://models.obs.example.com/mnist`, "", 1), 400, "ModelArts.0104"},
		{"name with a dot", alice, projA, strings.Replace(valid, "mnist", "mn.ist", 1), 400, "ModelArts.0104"},
		{"name with a colon", alice, projA, strings.Replace(valid, `"mnist"`, `"::service:x"`, 1), 400, "ModelArts.0104"},
		{"empty name", alice, projA, strings.Replace(valid, `"mnist"`, `""`, 1), 400, "ModelArts.0104"},
		{"65-character name", alice, projA, strings.Replace(valid, `"mnist"`, `"`+strings.Repeat("a", 65)+`"`, 1), 400, "ModelArts.0104"},
		{"version 0.1.1", alice, projA, strings.Replace(valid, "1.1.1", "0.1.1", 1), 400, "ModelArts.0104"},
		{"version 01.1.1", alice, projA, strings.Replace(valid, "1.1.1", "01.1.1", 1), 400, "ModelArts.0104"},
		{"version 100.1.1", alice, projA, strings.Replace(valid, "1.1.1", "100.1.1", 1), 400, "ModelArts.0104"},
		{"version 1.1", alice, projA, strings.Replace(valid, "1.1.1", "1.1", 1), 400, "ModelArts.0104"},
		{"unknown model type", alice, projA, strings.Replace(valid, "TensorFlow", "Keras", 1), 400, "ModelArts.0104"},
		{"description of 101 characters", alice, projA, with("description", `"`+strings.Repeat("d", 101)+`"`), 400, "ModelArts.0104"},
		{"description with =", alice, projA, with("description", `"a=b"`), 400, "ModelArts.0104"},
		{"bad install_type", alice, projA, with("install_type", `["cloud"]`), 400, "ModelArts.0104"},
		{"huge apis", alice, projA, with("apis", `[{"x":"`+strings.Repeat("a", 2000)+`"}]`), 400, "ModelArts.0104"},
		{"name is a number", alice, projA, strings.Replace(valid, `"mnist"`, `7`, 1), 400, "ModelArts.0101"},
		{"apis is an object", alice, projA, with("apis", `{}`), 400, "ModelArts.0101"},
		{"truncated", alice, projA, valid[:30], 400, "ModelArts.0101"},
		{"empty body", alice, projA, "", 400, "ModelArts.0101"},
		{"an array", alice, projA, `[]`, 400, "ModelArts.0101"},
		{"trailing data", alice, projA, valid + `{}`, 400, "ModelArts.0101"},
		{"huge body", alice, projA, with("description", `"`+strings.Repeat("d", 70<<10)+`"`), 413, "ModelArts.0101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			before := e.dump()
			r := e.do("POST", "/v1/"+tt.project+"/models", tt.token, tt.body)
			if tt.status != 200 {
				assertError(t, r, tt.status, tt.code)
				assert.Equal(t, before, e.dump(), "a refused request changes nothing")
				return
			}
			require.Equal(t, 200, r.status, r.raw)
			assert.Len(t, r.body, 1)
			assert.Regexp(t, uuidRE, r.body["model_id"])
			assert.NotEmpty(t, r.header.Get("X-Request-Id"))
		})
	}
	t.Run("same name and version is 409 ModelArts.3002", func(t *testing.T) {
		e := newEnv(t)
		require.Equal(t, 200, e.do("POST", "/v1/"+projA+"/models", alice, valid).status)
		before := e.dump()
		assertError(t, e.do("POST", "/v1/"+projA+"/models", alice, valid), 409, "ModelArts.3002")
		assert.Equal(t, before, e.dump())
		assert.Equal(t, 200, e.do("POST", "/v1/"+projB+"/models", bob, valid).status, "another project is another namespace")
	})
	t.Run("a deleted model's name and version can be imported again", func(t *testing.T) {
		e := newEnv(t)
		id := e.importModel(projA, "mnist", "1.1.1")
		require.Equal(t, 200, e.do("DELETE", "/v1/"+projA+"/models/"+id, alice, "").status)
		assert.Equal(t, 200, e.do("POST", "/v1/"+projA+"/models", alice, valid).status)
	})
}

func TestGetModel(t *testing.T) {
	e := newEnv(t)
	body := `{"model_name":"mnist","model_version":"1.1.1","source_location":"https://models.obs.example.com/mnist","model_type":"PyTorch",
		"description":"digits","runtime":"python3.7","apis":[{"url":"/","method":"post"}],"initial_config":{"k":"v"}}`
	r := e.do("POST", "/v1/"+projA+"/models", alice, body)
	require.Equal(t, 200, r.status, r.raw)
	id := r.body["model_id"].(string)
	svcB := e.deploy(projB, "svc", e.importModel(projB, "other", "1.1.1"))

	r = e.do("GET", "/v1/"+projA+"/models/"+id, alice, "")
	require.Equal(t, 200, r.status, r.raw)
	for k, v := range map[string]any{"model_id": id, "model_name": "mnist", "model_version": "1.1.1", "model_type": "PyTorch",
		"model_status": "published", "description": "digits", "project": projA, "owner": "alice", "workspace_id": "0",
		"source_location": "https://models.obs.example.com/mnist", "runtime": "python3.7",
		"create_at": float64(registryEpochMillis), "install_type": []any{"real-time", "batch"},
		"apis": []any{map[string]any{"url": "/", "method": "post"}}, "initial_config": map[string]any{"k": "v"}} {
		assert.Equal(t, v, r.body[k], k)
	}
	tests := []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"another project's path", admin, "/v1/" + projB + "/models/" + id, 404, "ModelArts.3001"},
		{"unknown id", alice, "/v1/" + projA + "/models/00000000-0000-4000-8000-000000000000", 404, "ModelArts.3001"},
		{"a service is not a model", admin, "/v1/" + projB + "/models/" + svcB, 404, "ModelArts.3001"},
		{"not a uuid", alice, "/v1/" + projA + "/models/mnist", 400, "ModelArts.0101"},
		{"no token", "", "/v1/" + projA + "/models/" + id, 401, "ModelArts.0201"},
		{"unknown token", "x", "/v1/" + projA + "/models/" + id, 401, "ModelArts.0203"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertError(t, e.do("GET", tt.path, tt.token, ""), tt.status, tt.code)
		})
	}
}

var registryEpochMillis = int64(1767323045000) // registrytest.Epoch

func TestListModels(t *testing.T) {
	e := newEnv(t)
	ids := map[string]string{}
	for _, m := range []struct{ name, version, typ, desc string }{
		{"mnist", "1.1.1", "TensorFlow", "digits"}, {"mnist", "1.1.2", "TensorFlow", "more digits"},
		{"mnist", "1.1.10", "PyTorch", ""}, {"flowers_v", "2.1.1", "MindSpore", "petals"}, {"my_mnist", "1.1.1", "TensorFlow", ""},
	} {
		r := e.do("POST", "/v1/"+projA+"/models", alice, fmt.Sprintf(`{"model_name":%q,"model_version":%q,"source_location":"obs://b/k","model_type":%q,"description":%q}`,
			m.name, m.version, m.typ, m.desc))
		require.Equal(t, 200, r.status, r.raw)
		ids[m.name+"@"+m.version] = r.body["model_id"].(string)
		e.f.Clock.Advance(1e9)
	}
	e.importModel(projB, "mnist", "1.1.1")
	e.deploy(projA, "svc", ids["mnist@1.1.1"])
	names := func(r resp) []string {
		var out []string
		for _, m := range r.body["models"].([]any) {
			mm := m.(map[string]any)
			out = append(out, mm["model_name"].(string)+"@"+mm["model_version"].(string))
		}
		return out
	}
	tests := []struct {
		query string
		want  []string
		total int
	}{
		{"", []string{"my_mnist@1.1.1", "flowers_v@2.1.1", "mnist@1.1.10", "mnist@1.1.2", "mnist@1.1.1"}, 5},
		{"?order=asc", []string{"mnist@1.1.1", "mnist@1.1.2", "mnist@1.1.10", "flowers_v@2.1.1", "my_mnist@1.1.1"}, 5},
		{"?model_name=mnist", []string{"my_mnist@1.1.1", "mnist@1.1.10", "mnist@1.1.2", "mnist@1.1.1"}, 4},
		{"?model_name=MNIST", []string{"my_mnist@1.1.1", "mnist@1.1.10", "mnist@1.1.2", "mnist@1.1.1"}, 4},
		{"?model_name=mnist&exact_match=true", []string{"mnist@1.1.10", "mnist@1.1.2", "mnist@1.1.1"}, 3},
		{"?model_name=mnist&exact_match=true&sort_by=model_version&order=asc", []string{"mnist@1.1.1", "mnist@1.1.2", "mnist@1.1.10"}, 3},
		{"?model_version=1.1.1", []string{"my_mnist@1.1.1", "mnist@1.1.1"}, 2},
		{"?description=DIGITS", []string{"mnist@1.1.2", "mnist@1.1.1"}, 2},
		{"?model_type=TensorFlow", []string{"my_mnist@1.1.1", "mnist@1.1.2", "mnist@1.1.1"}, 3},
		{"?not_model_type=TensorFlow", []string{"flowers_v@2.1.1", "mnist@1.1.10"}, 2},
		{"?model_status=published&limit=2", []string{"my_mnist@1.1.1", "flowers_v@2.1.1"}, 5},
		{"?limit=2&offset=1", []string{"mnist@1.1.10", "mnist@1.1.2"}, 5},
		{"?limit=2&offset=2", []string{"mnist@1.1.1"}, 5},
		{"?limit=2&offset=3", nil, 5},
		{"?offset=9223372036854775807", nil, 5},
		{"?model_status=building", nil, 0},
		{"?workspace_id=1", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.do("GET", "/v1/"+projA+"/models"+tt.query, alice, "")
			require.Equal(t, 200, r.status, r.raw)
			assert.Equal(t, tt.want, names(r))
			assert.Equal(t, float64(tt.total), r.body["total_count"])
			assert.Equal(t, float64(len(tt.want)), r.body["count"])
		})
	}
	bad := []struct{ query, code string }{
		{"?limit=0", "ModelArts.0101"}, {"?limit=1001", "ModelArts.0101"}, {"?limit=x", "ModelArts.0101"},
		{"?offset=-1", "ModelArts.0101"}, {"?offset=1.5", "ModelArts.0101"}, {"?exact_match=yes", "ModelArts.0101"},
		{"?model_type=TensorFlow&not_model_type=PyTorch", "ModelArts.0101"}, {"?sort_by=name", "ModelArts.0101"},
		{"?order=up", "ModelArts.0101"}, {"?model_status=ready", "ModelArts.0101"},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			assertError(t, e.do("GET", "/v1/"+projA+"/models"+tt.query, alice, ""), 400, tt.code)
		})
	}
	t.Run("item fields", func(t *testing.T) {
		r := e.do("GET", "/v1/"+projA+"/models?model_name=flowers_v", alice, "")
		require.Equal(t, 200, r.status)
		item := r.body["models"].([]any)[0].(map[string]any)
		for _, k := range []string{"model_id", "model_name", "model_version", "model_type", "model_status", "model_size", "create_at",
			"description", "owner", "project", "tenant", "workspace_id", "source_type", "model_source", "install_type",
			"market_flag", "tunable", "publishable_flag", "specification"} {
			assert.Contains(t, item, k)
		}
		assert.NotContains(t, item, "source_location", "the list item has no detail fields")
	})
	t.Run("no token", func(t *testing.T) {
		assertError(t, e.do("GET", "/v1/"+projA+"/models", "", ""), 401, "ModelArts.0201")
	})
}

func TestDeleteModel(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *env) (path, token string)
		status int
		code   string
	}{
		{"unknown id", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/00000000-0000-4000-8000-000000000000", alice
		}, 404, "ModelArts.3001"},
		{"second delete", func(e *env) (string, string) {
			id := e.importModel(projA, "m", "1.1.1")
			require.Equal(e.t, 200, e.do("DELETE", "/v1/"+projA+"/models/"+id, alice, "").status)
			return "/v1/" + projA + "/models/" + id, alice
		}, 404, "ModelArts.3001"},
		{"another project's model, even for admin", func(e *env) (string, string) {
			return "/v1/" + projB + "/models/" + e.importModel(projA, "m", "1.1.1"), admin
		}, 404, "ModelArts.3001"},
		{"a principal without the project", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/" + e.importModel(projA, "m", "1.1.1") + "?cascade=true", bob
		}, 403, "ModelArts.3010"},
		{"a principal without the project, no cascade", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/" + e.importModel(projA, "m", "1.1.1"), bob
		}, 403, "ModelArts.3010"},
		{"bad cascade", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/" + e.importModel(projA, "m", "1.1.1") + "?cascade=yes", alice
		}, 400, "ModelArts.0101"},
		{"not a uuid", func(e *env) (string, string) { return "/v1/" + projA + "/models/mnist", alice }, 400, "ModelArts.0101"},
		{"no token", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/" + e.importModel(projA, "m", "1.1.1"), ""
		}, 401, "ModelArts.0201"},
		{"unknown token", func(e *env) (string, string) {
			return "/v1/" + projA + "/models/" + e.importModel(projA, "m", "1.1.1"), "bearer x"
		}, 401, "ModelArts.0203"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			path, token := tt.setup(e)
			before := e.dump()
			assertError(t, e.do("DELETE", path, token, ""), tt.status, tt.code)
			assert.Equal(t, before, e.dump())
		})
	}
	t.Run("cascade takes at most 20, the rest stay", func(t *testing.T) {
		e := newEnv(t)
		var ids []string
		for i := 1; i <= 25; i++ {
			ids = append(ids, e.importModel(projA, "big", fmt.Sprintf("1.1.%d", i)))
		}
		r := e.do("DELETE", "/v1/"+projA+"/models/"+ids[0]+"?cascade=true", alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.Len(t, r.body["delete_success_list"], 20)
		assert.Equal(t, ids[0], r.body["delete_success_list"].([]any)[0], "the target first")
		assert.Equal(t, []any{}, r.body["delete_failed_list"])
		left := e.do("GET", "/v1/"+projA+"/models?model_name=big&exact_match=true", alice, "")
		assert.Equal(t, float64(5), left.body["total_count"])
	})
	t.Run("a model with lineage dependents is a failed item", func(t *testing.T) {
		e := newEnv(t)
		up := e.importModel(projA, "base", "1.1.1")
		down := e.importModel(projA, "tuned", "1.1.1")
		require.NoError(t, e.f.Link(e.f.Ctx, up, down))
		before := e.dump()
		r := e.do("DELETE", "/v1/"+projA+"/models/"+up, alice, "")
		require.Equal(t, 200, r.status, r.raw)
		item := r.body["delete_failed_list"].([]any)[0].(map[string]any)
		assert.Equal(t, "ModelArts.0105", item["error_code"])
		assert.Equal(t, item["error_msg"], item["error_message"])
		assert.Equal(t, before, e.dump())
	})
	t.Run("delete is hard", func(t *testing.T) {
		e := newEnv(t)
		id := e.importModel(projA, "m", "1.1.1")
		require.Equal(t, 200, e.do("DELETE", "/v1/"+projA+"/models/"+id, alice, "").status)
		_, err := e.f.Get(e.f.Ctx, id, registry.IncludeAll)
		assert.ErrorIs(t, err, registry.ErrNotFound)
		pending, err := e.f.PendingCleanups(e.f.Ctx)
		require.NoError(t, err)
		assert.Empty(t, pending, "source_location is the user's object, never cleaned")
	})
}

func TestServices(t *testing.T) {
	e := newEnv(t)
	m1 := e.importModel(projA, "mnist", "1.1.1")
	m2 := e.importModel(projA, "mnist", "1.1.2")
	deployBody := `{"service_name":"mnist","description":"mnist service","infer_type":"real-time","config":[
		{"model_id":"` + m1 + `","weight":70,"specification":"modelarts.vm.cpu.2u","instance_count":1,"envs":{"A":"1"}},
		{"model_id":"` + m2 + `","weight":30,"specification":"custom","custom_spec":{"cpu":1.5,"memory":7500},"instance_count":2}],
		"schedule":[{"type":"stop","time_unit":"HOURS","duration":1}]}`
	r := e.do("POST", "/v1/"+projA+"/services", alice, deployBody)
	require.Equal(t, 200, r.status, r.raw)
	svc := r.body["service_id"].(string)
	assert.Regexp(t, uuidRE, svc)
	assert.Equal(t, []any{svc}, r.body["resource_ids"])

	modelEndpoints := func(id string) []string {
		a, err := e.f.Get(e.f.Ctx, id)
		require.NoError(t, err)
		return a.Endpoints
	}
	ep := modelarts.Endpoint(projA, svc)
	assert.Equal(t, []string{ep}, modelEndpoints(m1))
	assert.Equal(t, []string{ep}, modelEndpoints(m2))

	r = e.do("GET", "/v1/"+projA+"/services/"+svc, alice, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.Equal(t, "mnist", r.body["service_name"])
	assert.Equal(t, "running", r.body["status"])
	assert.Equal(t, "real-time", r.body["infer_type"])
	assert.Equal(t, "mnist service", r.body["description"])
	cfg := r.body["config"].([]any)
	require.Len(t, cfg, 2)
	c0 := cfg[0].(map[string]any)
	assert.Equal(t, m1, c0["model_id"])
	assert.Equal(t, "mnist", c0["model_name"])
	assert.Equal(t, "1.1.1", c0["model_version"])
	assert.Equal(t, float64(70), c0["weight"])
	assert.Equal(t, "modelarts.vm.cpu.2u", c0["specification"])
	assert.Equal(t, map[string]any{"cpu": 1.5, "memory": float64(7500)}, cfg[1].(map[string]any)["custom_spec"])

	r = e.do("GET", "/v1/"+projA+"/services", alice, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.Equal(t, float64(1), r.body["total_count"])
	assert.Equal(t, float64(1), r.body["count"])
	for q, n := range map[string]int{"?model_id=" + m2: 1, "?service_name=MN": 1, "?status=running": 1, "?status=stopped": 0,
		"?infer_type=batch": 0, "?model_id=00000000-0000-4000-8000-000000000000": 0, "?limit=1&offset=1": 0} {
		r = e.do("GET", "/v1/"+projA+"/services"+q, alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.Len(t, r.body["services"], n, q)
	}
	assert.Equal(t, float64(2), e.do("GET", "/v1/"+projA+"/models", alice, "").body["total_count"], "services are not models")

	// The models are deployed: deleting them fails per item.
	r = e.do("DELETE", "/v1/"+projA+"/models/"+m1+"?cascade=true", alice, "")
	require.Equal(t, 200, r.status)
	assert.Len(t, r.body["delete_failed_list"], 2)

	// Stop: undeployed, still listed, status stopped.
	r = e.do("PUT", "/v1/"+projA+"/services/"+svc, alice, `{"status":"stopped"}`)
	require.Equal(t, 200, r.status, r.raw)
	assert.JSONEq(t, `{}`, r.raw)
	assert.Empty(t, modelEndpoints(m1))
	assert.Empty(t, modelEndpoints(m2))
	assert.Equal(t, "stopped", e.do("GET", "/v1/"+projA+"/services/"+svc, alice, "").body["status"])
	// Start again.
	require.Equal(t, 200, e.do("PUT", "/v1/"+projA+"/services/"+svc, alice, `{"status":"running"}`).status)
	assert.Equal(t, []string{ep}, modelEndpoints(m1))
	require.Equal(t, 200, e.do("PUT", "/v1/"+projA+"/services/"+svc, alice, `{"status":"running","description":"again"}`).status, "starting a running service is a no-op")
	assert.Equal(t, "again", e.do("GET", "/v1/"+projA+"/services/"+svc, alice, "").body["description"])

	// A second service on the same model, then delete both at once.
	svc2 := e.deploy(projA, "second", m1)
	assert.ElementsMatch(t, []string{ep, modelarts.Endpoint(projA, svc2)}, modelEndpoints(m1))
	r = e.do("DELETE", "/v1/"+projA+"/services/"+svc+","+svc2, alice, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.JSONEq(t, `{}`, r.raw)
	assert.Empty(t, modelEndpoints(m1))
	assertError(t, e.do("GET", "/v1/"+projA+"/services/"+svc, alice, ""), 404, "ModelArts.3502")
	r = e.do("DELETE", "/v1/"+projA+"/models/"+m1+"?cascade=true", alice, "")
	require.Equal(t, 200, r.status)
	assert.Len(t, r.body["delete_success_list"], 2, "undeployed models can go")
	// The name is free again.
	e.deploy(projA, "mnist", e.importModel(projA, "mnist", "1.1.3"))
}

func TestServiceErrors(t *testing.T) {
	type fixture struct{ model, other, svc string }
	cfg := func(model string) string {
		return `[{"model_id":"` + model + `","weight":100,"specification":"modelarts.vm.cpu.2u","instance_count":1}]`
	}
	deploy := func(name, config string) string {
		return `{"service_name":"` + name + `","infer_type":"real-time","config":` + config + `}`
	}
	tests := []struct {
		name, method string
		path         func(f fixture) string
		token        string
		body         func(f fixture) string
		status       int
		code         string
	}{
		{"deploy: name taken", "POST", nil, alice, func(f fixture) string { return deploy("taken", cfg(f.model)) }, 409, "ModelArts.3503"},
		{"deploy: unknown model", "POST", nil, alice, func(f fixture) string { return deploy("n", cfg("00000000-0000-4000-8000-000000000000")) }, 404, "ModelArts.3507"},
		{"deploy: another project's model", "POST", nil, alice, func(f fixture) string { return deploy("n", cfg(f.other)) }, 404, "ModelArts.3507"},
		{"deploy: a principal without the project", "POST", nil, bob, func(f fixture) string { return deploy("n", cfg(f.model)) }, 403, "ModelArts.3010"},
		{"deploy: no token", "POST", nil, "", func(f fixture) string { return deploy("n", cfg(f.model)) }, 401, "ModelArts.0201"},
		{"deploy: missing service_name", "POST", nil, alice, func(f fixture) string { return `{"infer_type":"real-time","config":` + cfg(f.model) + `}` }, 400, "ModelArts.3036"},
		{"deploy: missing infer_type", "POST", nil, alice, func(f fixture) string { return `{"service_name":"n","config":` + cfg(f.model) + `}` }, 400, "ModelArts.3036"},
		{"deploy: missing config", "POST", nil, alice, func(f fixture) string { return `{"service_name":"n","infer_type":"real-time"}` }, 400, "ModelArts.3036"},
		{"deploy: empty config", "POST", nil, alice, func(f fixture) string { return deploy("n", `[]`) }, 400, "ModelArts.0104"},
		{"deploy: missing weight", "POST", nil, alice, func(f fixture) string {
			return deploy("n", `[{"model_id":"`+f.model+`","specification":"modelarts.vm.cpu.2u","instance_count":1}]`)
		}, 400, "ModelArts.3036"},
		{"deploy: weights sum to 90", "POST", nil, alice, func(f fixture) string { return deploy("n", strings.Replace(cfg(f.model), "100", "90", 1)) }, 400, "ModelArts.0104"},
		{"deploy: 6 instances", "POST", nil, alice, func(f fixture) string {
			return deploy("n", strings.Replace(cfg(f.model), `"instance_count":1`, `"instance_count":6`, 1))
		}, 400, "ModelArts.0104"},
		{"deploy: custom without custom_spec", "POST", nil, alice, func(f fixture) string {
			return deploy("n", strings.Replace(cfg(f.model), "modelarts.vm.cpu.2u", "custom", 1))
		}, 400, "ModelArts.3036"},
		{"deploy: bad infer_type", "POST", nil, alice, func(f fixture) string { return strings.Replace(deploy("n", cfg(f.model)), "real-time", "edge", 1) }, 400, "ModelArts.0104"},
		{"deploy: bad name", "POST", nil, alice, func(f fixture) string { return deploy("a:b", cfg(f.model)) }, 400, "ModelArts.0104"},
		{"deploy: model listed twice", "POST", nil, alice, func(f fixture) string {
			c := strings.Replace(cfg(f.model), "100", "50", 1)
			return deploy("n", c[:len(c)-1]+","+c[1:])
		}, 400, "ModelArts.0104"},
		{"deploy: model_id not a uuid", "POST", nil, alice, func(f fixture) string { return deploy("n", cfg("m")) }, 400, "ModelArts.0104"},
		{"deploy: weight is a string", "POST", nil, alice, func(f fixture) string { return deploy("n", strings.Replace(cfg(f.model), "100", `"100"`, 1)) }, 400, "ModelArts.0101"},
		{"deploy: truncated", "POST", nil, alice, func(f fixture) string { return deploy("n", cfg(f.model))[:40] }, 400, "ModelArts.0101"},
		{"deploy: batch with two models", "POST", nil, alice, func(f fixture) string {
			c := cfg(f.model)
			return `{"service_name":"n","infer_type":"batch","config":` + c[:len(c)-1] + "," + c[1:] + `}`
		}, 400, "ModelArts.0104"},
		{"get: unknown", "GET", func(f fixture) string { return "/00000000-0000-4000-8000-000000000000" }, alice, nil, 404, "ModelArts.3502"},
		{"get: a model is not a service", "GET", func(f fixture) string { return "/" + f.model }, alice, nil, 404, "ModelArts.3502"},
		{"get: not a uuid", "GET", func(f fixture) string { return "/x" }, alice, nil, 400, "ModelArts.0101"},
		{"list: bad status", "GET", func(f fixture) string { return "?status=up" }, alice, nil, 400, "ModelArts.0101"},
		{"list: bad limit", "GET", func(f fixture) string { return "?limit=-1" }, alice, nil, 400, "ModelArts.0101"},
		{"list: bad sort_by", "GET", func(f fixture) string { return "?sort_by=x" }, alice, nil, 400, "ModelArts.0101"},
		{"update: bad status", "PUT", func(f fixture) string { return "/" + f.svc }, alice, func(fixture) string { return `{"status":"paused"}` }, 400, "ModelArts.0104"},
		{"update: empty", "PUT", func(f fixture) string { return "/" + f.svc }, alice, func(fixture) string { return `{}` }, 400, "ModelArts.3036"},
		{"update: config", "PUT", func(f fixture) string { return "/" + f.svc }, alice, func(f fixture) string { return `{"config":` + cfg(f.model) + `}` }, 400, "ModelArts.0104"},
		{"update: status is a number", "PUT", func(f fixture) string { return "/" + f.svc }, alice, func(fixture) string { return `{"status":1}` }, 400, "ModelArts.0101"},
		{"update: unknown service", "PUT", func(f fixture) string { return "/00000000-0000-4000-8000-000000000000" }, alice, func(fixture) string { return `{"status":"stopped"}` }, 404, "ModelArts.3502"},
		{"update: another project", "PUT", func(f fixture) string { return "/" + f.svc }, bob, func(fixture) string { return `{"status":"stopped"}` }, 404, "ModelArts.3502"},
		{"delete: one unknown of two", "DELETE", func(f fixture) string { return "/" + f.svc + ",00000000-0000-4000-8000-000000000000" }, alice, nil, 404, "ModelArts.3502"},
		{"delete: empty item", "DELETE", func(f fixture) string { return "/" + f.svc + "," }, alice, nil, 400, "ModelArts.0101"},
		{"delete: a principal without the project", "DELETE", func(f fixture) string { return "/" + f.svc }, bob, nil, 403, "ModelArts.3010"},
		{"update: a principal without the project", "PUT", func(f fixture) string { return "/" + f.svc }, bob, func(fixture) string { return `{"status":"stopped"}` }, 403, "ModelArts.3010"},
		{"delete: no token", "DELETE", func(f fixture) string { return "/" + f.svc }, "", nil, 401, "ModelArts.0201"},
		{"method not allowed", "PATCH", func(f fixture) string { return "/" + f.svc }, alice, nil, 405, "ModelArts.0105"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			f := fixture{model: e.importModel(projA, "m", "1.1.1"), other: e.importModel(projB, "m", "1.1.1")}
			f.svc = e.deploy(projA, "taken", f.model)
			path := "/v1/" + projA + "/services"
			if tt.path != nil {
				path += tt.path(f)
			}
			if tt.name == "update: another project" {
				// bob's own project: the service is not there.
				path = "/v1/" + projB + "/services/" + f.svc
			}
			body := ""
			if tt.body != nil {
				body = tt.body(f)
			}
			before := e.dump()
			assertError(t, e.do(tt.method, path, tt.token, body), tt.status, tt.code)
			assert.Equal(t, before, e.dump(), "a refused request changes nothing")
		})
	}
}

// TestDeployUndoesOnFailure: a deploy whose second model cannot be
// deployed leaves nothing behind.
func TestDeployUndoesOnFailure(t *testing.T) {
	// The authorizer refuses deploying one model: the first is deployed,
	// the second refused, and the deploy is undone.
	var refused string
	authz := registry.AuthorizerFunc(func(_ context.Context, p string, action registry.Action, a registry.Artifact) error {
		if action == registry.ActionDeploy && a.ID == refused {
			return fmt.Errorf("no deploy of %s", a.Name)
		}
		return nil
	})
	f := newEnvAuthz(t, authz)
	m1, m2 := f.importModel(projA, "a", "1.1.1"), f.importModel(projA, "b", "1.1.1")
	refused = m2
	r := f.do("POST", "/v1/"+projA+"/services", alice, `{"service_name":"s","infer_type":"real-time","config":[
		{"model_id":"`+m1+`","weight":50,"specification":"modelarts.vm.cpu.2u","instance_count":1},
		{"model_id":"`+m2+`","weight":50,"specification":"modelarts.vm.cpu.2u","instance_count":1}]}`)
	assertError(t, r, 403, "ModelArts.3010")
	// The service artifact was registered and hard deleted, the first model
	// deployed and undeployed: revisions moved, nothing else.
	a, err := f.f.Get(f.f.Ctx, m1)
	require.NoError(t, err)
	assert.Empty(t, a.Endpoints)
	list := f.do("GET", "/v1/"+projA+"/services", alice, "")
	assert.Equal(t, float64(0), list.body["total_count"])
}

func newEnvAuthz(t *testing.T, a registry.Authorizer) *env {
	t.Helper()
	e := newEnv(t, registry.WithAuthorizer(a))
	return e
}

// TestProjectIsolation: a principal that may read both projects still finds
// a model only under its own project's path.
func TestProjectIsolation(t *testing.T) {
	e := newEnv(t)
	a := e.importModel(projA, "m", "1.1.1")
	b := e.importModel(projB, "m", "1.1.1")
	assert.Equal(t, 200, e.do("GET", "/v1/"+projA+"/models/"+a, admin, "").status)
	assertError(t, e.do("GET", "/v1/"+projA+"/models/"+b, admin, ""), 404, "ModelArts.3001")
	r := e.do("GET", "/v1/"+projA+"/models", admin, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, float64(1), r.body["total_count"])
	// alice cannot import into, delete from or deploy in proj-b.
	assertError(t, e.do("DELETE", "/v1/"+projB+"/models/"+b, alice, ""), 403, "ModelArts.3010")
}

// TestMountedInNewHandler serves the dialect through httpapi.NewHandler.
func TestMountedInNewHandler(t *testing.T) {
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"alice": {Namespaces: []string{projA}, Tokens: []string{alice}}})
	require.NoError(t, err)
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()))
	require.NoError(t, err)
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv, cl: &http.Client{Timeout: 10e9}}
	r := e.do("POST", "/v1/"+projA+"/models", alice, `{"model_name":"m","model_version":"1.1.1","source_location":"obs://b/k","model_type":"Image"}`)
	require.Equal(t, 200, r.status, r.raw)
	id := r.body["model_id"].(string)
	assert.Equal(t, 200, e.do("GET", "/v1/"+projA+"/models/"+id, alice, "").status)
	assert.Equal(t, 200, e.do("GET", "/v1/"+projA+"/services", alice, "").status)
	assert.NotEmpty(t, r.header.Get("X-Request-Id"))
	r = e.do("GET", "/v1/"+projA+"/models", alice, "")
	assert.Equal(t, float64(1), r.body["count"])
	assert.Equal(t, http.StatusUnauthorized, e.do("GET", "/v1/"+projA+"/models", "", "").status)
	require.NoError(t, reg.Check())
}

// TestConcurrentDeploys: several deploys of one service name at once make
// one service; the others are 409 ModelArts.3503.
func TestConcurrentDeploys(t *testing.T) {
	e := newEnv(t)
	m := e.importModel(projA, "m", "1.1.1")
	body := `{"service_name":"s","infer_type":"real-time","config":[{"model_id":"` + m + `","weight":100,"specification":"modelarts.vm.cpu.2u","instance_count":1}]}`
	const n = 8
	statuses := make(chan int, n)
	for range n {
		go func() {
			req, err := http.NewRequest("POST", e.srv.URL+"/v1/"+projA+"/services", strings.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			req.Header.Set("X-Auth-Token", alice)
			res, err := e.cl.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	count := map[int]int{}
	for range n {
		count[<-statuses]++
	}
	assert.Equal(t, map[int]int{200: 1, 409: n - 1}, count)
	a, err := e.f.Get(e.f.Ctx, m)
	require.NoError(t, err)
	assert.Len(t, a.Endpoints, 1)
}

// TestPanicIsAnswered: a panic in the handler (here in Authenticate) is
// answered 500 in ModelArts' shape and logged with the request ID.
func TestPanicIsAnswered(t *testing.T) {
	var logs strings.Builder
	f := newEnv(t).f
	h, err := modelarts.New(modelarts.Options{Registry: f.Registry,
		Logger:       slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil)),
		Authenticate: func(string) (string, bool) { panic("boom") }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv, cl: &http.Client{Timeout: 10 * time.Second}}
	r := e.do("GET", "/v1/"+projA+"/models", alice, "")
	assertError(t, r, 500, "ModelArts.0010")
	assert.Contains(t, r.body["error_msg"], r.header.Get("X-Request-Id"))
	srv.Close()
	assert.Contains(t, logs.String(), "handler panicked")
	assert.Contains(t, logs.String(), r.header.Get("X-Request-Id"))
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
