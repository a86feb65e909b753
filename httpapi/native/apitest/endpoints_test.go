package apitest

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// tcase is one request to one endpoint, on a fresh seeded server: what
// to send, what status (and, for an error, what code) to expect, and what
// else to check. prep runs first and returns values the path, body and
// headers may name as {name}.
type tcase struct {
	name    string
	prep    func(t *testing.T, e *env) map[string]string
	method  string
	path    string
	token   string // default adminToken; "-" sends none
	body    string
	headers []string
	status  int
	code    string
	check   func(t *testing.T, e *env, r reply)
	opts    []registry.Option
}

func (c tcase) run(t *testing.T) {
	e := newEnv(t, c.opts...)
	vars := map[string]string{
		"dataset": e.f.Dataset.ID, "v1": e.f.Versions[0].ID, "v2": e.f.Versions[1].ID, "v3": e.f.Versions[2].ID,
		"pkg": e.f.Package.ID, "child": e.f.Children[0].ID, "code": e.f.Code.ID,
		"unknown": "0190a8a8-0000-7000-8000-000000000000",
	}
	if c.prep != nil {
		for k, v := range c.prep(t, e) {
			vars[k] = v
		}
	}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	token := c.token
	switch token {
	case "":
		token = adminToken
	case "-":
		token = ""
	}
	headers := make([]string, len(c.headers))
	for i, h := range c.headers {
		headers[i] = expand(h)
	}
	r := e.do(c.method, expand(c.path), token, expand(c.body), headers...)
	require.Equal(t, c.status, r.status, "%s", r.body)
	if c.code != "" {
		assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		p := r.json(t)
		assert.Equal(t, c.code, p["code"], "%s", r.body)
		assert.Equal(t, "https://modelreg.dev/problems/"+strings.ToLower(strings.ReplaceAll(c.code, "_", "-")), p["type"])
		assert.EqualValues(t, c.status, p["status"])
	}
	if c.check != nil {
		c.check(t, e, r)
	}
}

func runCases(t *testing.T, cases []tcase) {
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func admin() context.Context { return registry.WithPrincipal(context.Background(), "admin") }

func mustGet(t *testing.T, e *env, id string) registry.Artifact {
	t.Helper()
	a, err := e.f.Get(admin(), id, registry.IncludeAll)
	require.NoError(t, err)
	return a
}

func softDelete(t *testing.T, e *env, id string) registry.Result {
	t.Helper()
	res, err := e.f.Delete(admin(), id)
	require.NoError(t, err)
	return res
}

func TestOpenAPIDocument(t *testing.T) {
	runCases(t, []tcase{
		{name: "yaml", method: "GET", path: "/v1/openapi.yaml", token: "-", status: 200, check: func(t *testing.T, e *env, r reply) {
			assert.Equal(t, "application/yaml", r.header.Get("Content-Type"))
			assert.True(t, strings.HasPrefix(string(r.body), "openapi: 3.1.0"))
		}},
		{name: "json", method: "GET", path: "/v1/openapi.json", token: "-", status: 200, check: func(t *testing.T, e *env, r reply) {
			assert.Equal(t, "3.1.0", r.json(t)["openapi"])
		}},
		{name: "unknown parameter", method: "GET", path: "/v1/openapi.json?v=2", token: "-", status: 400, code: "INVALID_ARGUMENT"},
		{name: "metrics", method: "GET", path: "/metrics", token: "-", status: 200},
	})
}

func TestRegister(t *testing.T) {
	runCases(t, []tcase{
		{name: "one", method: "POST", path: "/v1/artifacts", status: 201,
			body: `{"kind":"model","namespace":"mlflow_svc","name":"fraud","version":"1","tags":["t"],"labels":{"k":"v"},"storageUris":["s3://b/f"]}`,
			check: func(t *testing.T, e *env, r reply) {
				a := r.artifact(t)
				assert.Equal(t, "/v1/artifacts/"+a.ID, r.header.Get("Location"))
				assert.Equal(t, `"1"`, r.header.Get("ETag"))
				assert.Equal(t, "admin", a.UpdatedBy)
				assert.Equal(t, a, mustGet(t, e, a.ID))
			}},
		{name: "a child", method: "POST", path: "/v1/artifacts", status: 201, token: aliceToken,
			body:  `{"kind":"model","namespace":"mlflow_svc","name":"sub","parent":"{pkg}"}`,
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, e.f.Package.ID, r.artifact(t).Parent) }},
		{name: "exists", method: "POST", path: "/v1/artifacts", status: 409, code: "ALREADY_EXISTS",
			body: `{"kind":"code","namespace":"mlflow_svc","name":"train_script","version":"1"}`},
		{name: "exists soft deleted", method: "POST", path: "/v1/artifacts", status: 409, code: "ALREADY_EXISTS",
			prep: func(t *testing.T, e *env) map[string]string { softDelete(t, e, e.f.Code.ID); return nil },
			body: `{"kind":"code","namespace":"mlflow_svc","name":"train_script","version":"1"}`},
		{name: "no kind", method: "POST", path: "/v1/artifacts", status: 400, code: "INVALID_ARGUMENT",
			body: `{"namespace":"mlflow_svc","name":"x"}`, check: func(t *testing.T, e *env, r reply) {
				assert.Equal(t, "kind", r.json(t)["field"])
			}},
		{name: "another namespace", method: "POST", path: "/v1/artifacts", status: 403, code: "FORBIDDEN", token: bobToken,
			body: `{"kind":"model","namespace":"mlflow_svc","name":"x"}`},
		{name: "unknown parent", method: "POST", path: "/v1/artifacts", status: 400, code: "INVALID_ARGUMENT",
			body: `{"kind":"model","namespace":"mlflow_svc","name":"x","parent":"{unknown}"}`},
		{name: "unknown field", method: "POST", path: "/v1/artifacts", status: 400, code: "INVALID_ARGUMENT",
			body: `{"kind":"model","namespace":"mlflow_svc","name":"x","revision":3}`},
		{name: "not JSON media type", method: "POST", path: "/v1/artifacts", status: 415, code: "UNSUPPORTED_MEDIA_TYPE",
			body: `{"kind":"model","namespace":"mlflow_svc","name":"x"}`, headers: []string{"Content-Type", "text/plain"}},
		{name: "too large", method: "POST", path: "/v1/artifacts", status: 413, code: "PAYLOAD_TOO_LARGE",
			body: `{"kind":"model","namespace":"mlflow_svc","name":"x","description":"` + strings.Repeat("d", 1<<20) + `"}`},
	})
}

func TestRegisterBatch(t *testing.T) {
	runCases(t, []tcase{
		{name: "parent and child", method: "POST", path: "/v1/artifacts/batch", status: 201,
			body: `{"items":[{"id":"0190a8a8-0000-7000-8000-00000000000a","kind":"model","namespace":"mlflow_svc","name":"p"},
				{"kind":"model","namespace":"mlflow_svc","name":"c","parent":"0190a8a8-0000-7000-8000-00000000000a"}]}`,
			check: func(t *testing.T, e *env, r reply) {
				var out struct{ Items []registry.Artifact }
				require.NoError(t, json.Unmarshal(r.body, &out))
				require.Len(t, out.Items, 2)
				assert.Equal(t, out.Items[0].ID, out.Items[1].Parent)
			}},
		{name: "all or none", method: "POST", path: "/v1/artifacts/batch", status: 409, code: "ALREADY_EXISTS",
			body: `{"items":[{"kind":"model","namespace":"mlflow_svc","name":"new"},{"kind":"code","namespace":"mlflow_svc","name":"train_script","version":"1"}]}`,
			check: func(t *testing.T, e *env, r reply) {
				_, err := e.f.GetVersion(admin(), "mlflow_svc", "new", "")
				assert.ErrorIs(t, err, registry.ErrNotFound)
			}},
		{name: "empty", method: "POST", path: "/v1/artifacts/batch", status: 400, code: "INVALID_ARGUMENT", body: `{"items":[]}`},
		{name: "not an object", method: "POST", path: "/v1/artifacts/batch", status: 400, code: "INVALID_ARGUMENT", body: `[]`},
	})
}

func TestGet(t *testing.T) {
	runCases(t, []tcase{
		{name: "by ID", method: "GET", path: "/v1/artifacts/{code}", status: 200, check: func(t *testing.T, e *env, r reply) {
			assert.Equal(t, e.f.Code, r.artifact(t))
			assert.Equal(t, `"1"`, r.header.Get("ETag"))
		}},
		{name: "by ID in upper case", method: "GET", path: "/v1/artifacts/" + "{CODE}", status: 200,
			prep: func(t *testing.T, e *env) map[string]string {
				return map[string]string{"CODE": strings.ToUpper(e.f.Code.ID)}
			}},
		{name: "soft deleted, default include", method: "GET", path: "/v1/artifacts/{code}", status: 404, code: "NOT_FOUND",
			prep: func(t *testing.T, e *env) map[string]string { softDelete(t, e, e.f.Code.ID); return nil }},
		{name: "soft deleted, include deleted", method: "GET", path: "/v1/artifacts/{code}?include=deleted", status: 200,
			prep: func(t *testing.T, e *env) map[string]string { softDelete(t, e, e.f.Code.ID); return nil },
			check: func(t *testing.T, e *env, r reply) {
				a := r.artifact(t)
				assert.True(t, a.Deleted)
				assert.Equal(t, `"2"`, r.header.Get("ETag"))
			}},
		{name: "unknown", method: "GET", path: "/v1/artifacts/{unknown}", status: 404, code: "NOT_FOUND"},
		{name: "not a UUID", method: "GET", path: "/v1/artifacts/abc", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad include", method: "GET", path: "/v1/artifacts/{code}?include=some", status: 400, code: "INVALID_ARGUMENT"},
		{name: "no credential", method: "GET", path: "/v1/artifacts/{code}", token: "-", status: 401, code: "UNAUTHENTICATED",
			check: func(t *testing.T, e *env, r reply) { assert.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer") }},
		{name: "unknown credential", method: "GET", path: "/v1/artifacts/{code}", token: "nope", status: 401, code: "UNAUTHENTICATED"},
		{name: "by FQN", method: "GET", path: "/v1/fqn/mlflow_svc.train_script.1", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, e.f.Code.ID, r.artifact(t).ID) }},
		{name: "by FQN with a quoted part and a slash", method: "GET", status: 200,
			prep: func(t *testing.T, e *env) map[string]string {
				a := e.f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "a/b.c", Version: "2"})
				return map[string]string{"fqn": url.PathEscape(a.FQN())}
			},
			path: "/v1/fqn/{fqn}", check: func(t *testing.T, e *env, r reply) { assert.Equal(t, "a/b.c", r.artifact(t).Name) }},
		{name: "by FQN unknown", method: "GET", path: "/v1/fqn/mlflow_svc.nothing.1", status: 404, code: "NOT_FOUND"},
		{name: "by FQN malformed", method: "GET", path: "/v1/fqn/a..b", status: 400, code: "INVALID_ARGUMENT"},
		{name: "version", method: "GET", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions/2", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, e.f.Versions[1].ID, r.artifact(t).ID) }},
		{name: "version unknown", method: "GET", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions/9", status: 404, code: "NOT_FOUND"},
		{name: "unversioned", method: "GET", path: "/v1/namespaces/mlflow_svc/names/plain", status: 200,
			prep: func(t *testing.T, e *env) map[string]string {
				e.f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "mlflow_svc", Name: "plain"})
				return nil
			}},
		{name: "unversioned unknown", method: "GET", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation", status: 404, code: "NOT_FOUND"},
		{name: "unversioned bad include", method: "GET", path: "/v1/namespaces/mlflow_svc/names/x?include=", status: 400, code: "INVALID_ARGUMENT"},
	})
}

func TestList(t *testing.T) {
	runCases(t, []tcase{
		{name: "a namespace, paged", method: "GET", path: "/v1/artifacts?namespace=mlflow_svc&limit=2", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				n, err := e.f.Count(admin(), registry.Filter{Namespace: "mlflow_svc"})
				require.NoError(t, err)
				var seen []string
				for {
					var pg struct {
						Data []registry.Artifact
						Next string
					}
					require.NoError(t, json.Unmarshal(r.body, &pg))
					for _, a := range pg.Data {
						seen = append(seen, a.ID)
					}
					if pg.Next == "" {
						assert.NotContains(t, strings.Join(r.header.Values("Link"), ","), `rel="next"`)
						break
					}
					assert.Contains(t, r.header.Values("Link"), "<"+pg.Next+`>; rel="next"`)
					r = e.do("GET", pg.Next, adminToken, "")
					require.Equal(t, 200, r.status)
				}
				assert.Len(t, seen, n)
			}},
		{name: "kind and include", method: "GET", path: "/v1/artifacts?kind=code&include=all", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Len(t, r.json(t)["data"], 1) }},
		{name: "children", method: "GET", path: "/v1/artifacts?parent={pkg}", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Len(t, r.json(t)["data"], len(e.f.Children)) }},
		{name: "backward", method: "GET", path: "/v1/artifacts?limit=1&before=" + url.QueryEscape(registry.CursorAt("mlflow_svc", "train_script", "1")), status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.NotEmpty(t, r.json(t)["next"]) }},
		{name: "others' artifacts are forbidden to list", method: "GET", path: "/v1/artifacts", token: bobToken, status: 200},
		{name: "limit zero", method: "GET", path: "/v1/artifacts?limit=0", status: 400, code: "INVALID_ARGUMENT"},
		{name: "limit too big", method: "GET", path: "/v1/artifacts?limit=1001", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad kind", method: "GET", path: "/v1/artifacts?kind=weights", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad cursor", method: "GET", path: "/v1/artifacts?cursor=%21%21", status: 400, code: "INVALID_ARGUMENT"},
		{name: "cursor and before", method: "GET", path: "/v1/artifacts?cursor=a&before=b", status: 400, code: "INVALID_ARGUMENT"},
		{name: "repeated parameter", method: "GET", path: "/v1/artifacts?limit=1&limit=2", status: 400, code: "INVALID_ARGUMENT"},
		{name: "unknown parameter", method: "GET", path: "/v1/artifacts?offset=3", status: 400, code: "INVALID_ARGUMENT"},
		{name: "versions", method: "GET", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Len(t, r.json(t)["data"], 3) }},
		{name: "versions bad limit", method: "GET", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions?limit=x", status: 400, code: "INVALID_ARGUMENT"},
	})
}

func TestUpdate(t *testing.T) {
	body := `{"description":"retrained","tags":["prod"]}`
	runCases(t, []tcase{
		{name: "unconditional", method: "PUT", path: "/v1/artifacts/{code}", body: body, status: 200, check: func(t *testing.T, e *env, r reply) {
			a := r.artifact(t)
			assert.Equal(t, "retrained", a.Description)
			assert.Equal(t, `"2"`, r.header.Get("ETag"))
		}},
		{name: "if match", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `"1"`}, status: 200},
		{name: "if match any", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `*`}, status: 200},
		{name: "stale", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `"7"`}, status: 412, code: "PRECONDITION_FAILED",
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, e.f.Code, mustGet(t, e, e.f.Code.ID)) }},
		{name: "weak tag", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `W/"1"`}, status: 412, code: "PRECONDITION_FAILED"},
		{name: "several tags", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `"1", "2"`}, status: 400, code: "INVALID_ARGUMENT"},
		{name: "not a tag", method: "PUT", path: "/v1/artifacts/{code}", body: body, headers: []string{"If-Match", `1`}, status: 400, code: "INVALID_ARGUMENT"},
		{name: "same id in body", method: "PUT", path: "/v1/artifacts/{code}", body: `{"id":"{code}","description":"x"}`, status: 200},
		{name: "other id in body", method: "PUT", path: "/v1/artifacts/{code}", body: `{"id":"{dataset}","description":"x"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "identity changes", method: "PUT", path: "/v1/artifacts/{code}", body: `{"name":"renamed"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "unknown", method: "PUT", path: "/v1/artifacts/{unknown}", body: body, status: 404, code: "NOT_FOUND"},
		{name: "other namespace", method: "PUT", path: "/v1/artifacts/{code}", body: body, token: bobToken, status: 403, code: "FORBIDDEN"},
		{name: "no body", method: "PUT", path: "/v1/artifacts/{code}", status: 415, code: "UNSUPPORTED_MEDIA_TYPE"},
		{name: "empty JSON body", method: "PUT", path: "/v1/artifacts/{code}", body: ` `, status: 400, code: "INVALID_ARGUMENT"},
	})
}

func TestDelete(t *testing.T) {
	runCases(t, []tcase{
		{name: "soft", method: "DELETE", path: "/v1/artifacts/{code}?reason=retired", status: 200, check: func(t *testing.T, e *env, r reply) {
			res := r.result(t)
			assert.Equal(t, []string{e.f.Code.ID}, res.Deleted)
			a := mustGet(t, e, e.f.Code.ID)
			assert.True(t, a.Deleted)
			assert.Equal(t, "retired", a.DeleteReason)
			assert.Equal(t, res.Operation, a.DeleteOperation)
		}},
		{name: "hard recursive with if match", method: "DELETE", path: "/v1/artifacts/{pkg}?hard=true&recursive=1", headers: []string{"If-Match", `"1"`}, status: 200,
			check: func(t *testing.T, e *env, r reply) {
				assert.Len(t, r.result(t).Deleted, 1+len(e.f.Children))
				_, err := e.f.Get(admin(), e.f.Package.ID, registry.IncludeAll)
				assert.ErrorIs(t, err, registry.ErrNotFound)
			}},
		{name: "dry run", method: "DELETE", path: "/v1/artifacts/{pkg}?hard=true&recursive=true&dryRun=true", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				res := r.result(t)
				assert.True(t, res.DryRun)
				assert.Len(t, res.Deleted, 1+len(e.f.Children))
				assert.False(t, mustGet(t, e, e.f.Package.ID).Deleted)
			}},
		{name: "cascade with limit and lineage detach", method: "DELETE", path: "/v1/artifacts/{v2}?cascade=true&cascadeLimit=1&lineage=detach&hard=true", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				res := r.result(t)
				assert.Equal(t, []string{e.f.Versions[1].ID}, res.Deleted)
				assert.Len(t, res.Skipped, 2)
			}},
		{name: "lineage cascade, atomic, refused by a deployed dependent", method: "DELETE",
			path: "/v1/artifacts/{v1}?hard=true&lineage=cascade&atomic=true", status: 409, code: "DEPLOYED",
			check: func(t *testing.T, e *env, r reply) {
				p := r.json(t)
				require.Contains(t, p, "result", "the failed delete's report")
				assert.False(t, mustGet(t, e, e.f.Versions[0].ID).Deleted)
			}},
		{name: "deployed", method: "DELETE", path: "/v1/artifacts/{v3}", status: 409, code: "DEPLOYED",
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, e.f.Versions[2].ID, r.json(t)["id"]) }},
		{name: "has dependents", method: "DELETE", path: "/v1/artifacts/{dataset}?hard=true", status: 409, code: "HAS_DEPENDENTS"},
		{name: "not empty", method: "DELETE", path: "/v1/artifacts/{pkg}", status: 409, code: "NOT_EMPTY"},
		{name: "stale if match", method: "DELETE", path: "/v1/artifacts/{code}", headers: []string{"If-Match", `"2"`}, status: 412, code: "PRECONDITION_FAILED"},
		{name: "second soft delete", method: "DELETE", path: "/v1/artifacts/{code}", status: 404, code: "NOT_FOUND",
			prep: func(t *testing.T, e *env) map[string]string { softDelete(t, e, e.f.Code.ID); return nil }},
		{name: "lineage policy on a plain soft delete", method: "DELETE", path: "/v1/artifacts/{code}?lineage=detach", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad lineage", method: "DELETE", path: "/v1/artifacts/{code}?lineage=orphan", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad boolean", method: "DELETE", path: "/v1/artifacts/{code}?hard=yes", status: 400, code: "INVALID_ARGUMENT"},
		{name: "limit without cascade", method: "DELETE", path: "/v1/artifacts/{code}?cascadeLimit=3", status: 400, code: "INVALID_ARGUMENT"},
		{name: "other namespace", method: "DELETE", path: "/v1/artifacts/{code}", token: bobToken, status: 403, code: "FORBIDDEN"},
		{name: "idempotency key replays", method: "DELETE", path: "/v1/artifacts/{code}", headers: []string{"Idempotency-Key", "del-1"}, status: 200,
			prep: func(t *testing.T, e *env) map[string]string {
				_, err := e.f.Delete(admin(), e.f.Code.ID, registry.DeleteOptions{ClientToken: "del-1"})
				require.NoError(t, err)
				return nil
			},
			check: func(t *testing.T, e *env, r reply) { assert.True(t, r.result(t).Replayed) }},
		{name: "idempotency key reused", method: "DELETE", path: "/v1/artifacts/{code}?hard=true", headers: []string{"Idempotency-Key", "del-1"}, status: 409, code: "IDEMPOTENCY_MISMATCH",
			prep: func(t *testing.T, e *env) map[string]string {
				_, err := e.f.Delete(admin(), e.f.Code.ID, registry.DeleteOptions{ClientToken: "del-1"})
				require.NoError(t, err)
				return nil
			}},
		{name: "bad idempotency key", method: "DELETE", path: "/v1/artifacts/{code}", headers: []string{"Idempotency-Key", "a b"}, status: 400, code: "INVALID_ARGUMENT"},
		{name: "by FQN", method: "DELETE", path: "/v1/fqn/mlflow_svc.train_script.1?hard=true", status: 200},
		{name: "by FQN, stale", method: "DELETE", path: "/v1/fqn/mlflow_svc.train_script.1", headers: []string{"If-Match", `"3"`}, status: 412, code: "PRECONDITION_FAILED"},
		{name: "by FQN unknown", method: "DELETE", path: "/v1/fqn/mlflow_svc.none.1", status: 404, code: "NOT_FOUND"},
		{name: "every version", method: "DELETE", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions?lineage=cascade&hard=true", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				res := r.result(t)
				assert.NotEmpty(t, res.Failed, "the deployed version fails")
			}},
		{name: "every version, with if match", method: "DELETE", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions",
			headers: []string{"If-Match", `"1"`}, status: 400, code: "INVALID_ARGUMENT"},
		{name: "every version, cascade is implied", method: "DELETE", path: "/v1/namespaces/mlflow_svc/names/customer_segmentation/versions?cascade=true", status: 400, code: "INVALID_ARGUMENT"},
		{name: "every version of nothing", method: "DELETE", path: "/v1/namespaces/mlflow_svc/names/nothing/versions", status: 404, code: "NOT_FOUND"},
	})
}

func TestRestore(t *testing.T) {
	deleted := func(t *testing.T, e *env) map[string]string {
		res := softDelete(t, e, e.f.Code.ID)
		return map[string]string{"op": res.Operation}
	}
	cascade := func(t *testing.T, e *env) map[string]string {
		require.NoError(t, e.f.Undeploy(admin(), e.f.Versions[2].ID, registrytest.Endpoint))
		res, err := e.f.Delete(admin(), e.f.Versions[2].ID, registry.DeleteOptions{Cascade: true, Lineage: registry.LineageDetach})
		require.NoError(t, err)
		require.Len(t, res.Deleted, 3)
		return map[string]string{"op": res.Operation}
	}
	runCases(t, []tcase{
		{name: "by ID", prep: deleted, method: "POST", path: "/v1/artifacts/{code}/restore?reason=oops", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				a := r.artifact(t)
				assert.False(t, a.Deleted)
				assert.Equal(t, `"3"`, r.header.Get("ETag"))
			}},
		{name: "by ID with a key, twice", prep: func(t *testing.T, e *env) map[string]string {
			m := deleted(t, e)
			_, err := e.f.Restore(admin(), e.f.Code.ID, registry.RestoreOptions{ClientToken: "r-1"})
			require.NoError(t, err)
			return m
		}, method: "POST", path: "/v1/artifacts/{code}/restore", headers: []string{"Idempotency-Key", "r-1"}, status: 200},
		{name: "not deleted", method: "POST", path: "/v1/artifacts/{code}/restore", status: 409, code: "NOT_DELETED"},
		{name: "unknown", method: "POST", path: "/v1/artifacts/{unknown}/restore", status: 404, code: "NOT_FOUND"},
		{name: "parent deleted", prep: func(t *testing.T, e *env) map[string]string {
			softDelete(t, e, e.f.Children[0].ID)
			_, err := e.f.Delete(admin(), e.f.Package.ID, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			return nil
		}, method: "POST", path: "/v1/artifacts/{child}/restore", status: 409, code: "PARENT_DELETED"},
		{name: "unknown parameter", prep: deleted, method: "POST", path: "/v1/artifacts/{code}/restore?hard=true", status: 400, code: "INVALID_ARGUMENT"},
		{name: "by FQN", prep: deleted, method: "POST", path: "/v1/fqn/mlflow_svc.train_script.1/restore", status: 200},
		{name: "by FQN not deleted", method: "POST", path: "/v1/fqn/mlflow_svc.train_script.1/restore", status: 409, code: "NOT_DELETED"},
		{name: "an operation", prep: cascade, method: "POST", path: "/v1/operations/{op}/restore", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				var out struct{ Items []registry.Artifact }
				require.NoError(t, json.Unmarshal(r.body, &out))
				assert.Len(t, out.Items, 3)
				for _, v := range e.f.Versions {
					assert.False(t, mustGet(t, e, v.ID).Deleted)
				}
			}},
		{name: "an operation, by another principal", prep: cascade, method: "POST", path: "/v1/operations/{op}/restore", token: bobToken, status: 403, code: "FORBIDDEN"},
		{name: "an unknown operation", method: "POST", path: "/v1/operations/{unknown}/restore", status: 404, code: "NOT_FOUND"},
		{name: "a malformed operation", method: "POST", path: "/v1/operations/op-1/restore", status: 400, code: "INVALID_ARGUMENT"},
	})
}

func TestLineageEndpoints(t *testing.T) {
	runCases(t, []tcase{
		{name: "walk", method: "GET", path: "/v1/artifacts/{v2}/lineage?direction=both&depth=2", status: 200,
			check: func(t *testing.T, e *env, r reply) {
				var g registry.LineageGraph
				require.NoError(t, json.Unmarshal(r.body, &g))
				assert.Equal(t, e.f.Versions[1].ID, g.Root.ID)
				assert.Len(t, g.Nodes, 3)
			}},
		{name: "default depth", method: "GET", path: "/v1/artifacts/{v2}/lineage?direction=upstream", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Len(t, r.json(t)["nodes"], 1) }},
		{name: "bad depth", method: "GET", path: "/v1/artifacts/{v2}/lineage?depth=0", status: 400, code: "INVALID_ARGUMENT"},
		{name: "bad direction", method: "GET", path: "/v1/artifacts/{v2}/lineage?direction=sideways", status: 400, code: "INVALID_ARGUMENT"},
		{name: "unknown", method: "GET", path: "/v1/artifacts/{unknown}/lineage", status: 404, code: "NOT_FOUND"},
		{name: "link", method: "POST", path: "/v1/lineage", body: `{"upstream":"{dataset}","downstream":"{code}"}`, status: 201,
			check: func(t *testing.T, e *env, r reply) {
				assert.Equal(t, "/v1/lineage/"+e.f.Dataset.ID+"/"+e.f.Code.ID, r.header.Get("Location"))
			}},
		{name: "link closing a cycle", method: "POST", path: "/v1/lineage", body: `{"upstream":"{v3}","downstream":"{v1}"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "link exists", method: "POST", path: "/v1/lineage", body: `{"upstream":"{v1}","downstream":"{v2}"}`, status: 409, code: "ALREADY_EXISTS"},
		{name: "link missing end", method: "POST", path: "/v1/lineage", body: `{"upstream":"{v1}"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "link another's", method: "POST", path: "/v1/lineage", token: bobToken, body: `{"upstream":"{v1}","downstream":"{code}"}`, status: 403, code: "FORBIDDEN"},
		{name: "unlink", method: "DELETE", path: "/v1/lineage/{v1}/{v2}", status: 204},
		{name: "unlink missing", method: "DELETE", path: "/v1/lineage/{v1}/{v3}", status: 404, code: "NOT_FOUND"},
		{name: "deploy", method: "PUT", path: "/v1/artifacts/{code}/deployments/ep-2", status: 200, check: func(t *testing.T, e *env, r reply) {
			assert.Equal(t, []string{"ep-2"}, r.artifact(t).Endpoints)
			assert.Equal(t, `"2"`, r.header.Get("ETag"))
		}},
		{name: "deploy unknown", method: "PUT", path: "/v1/artifacts/{unknown}/deployments/ep-2", status: 404, code: "NOT_FOUND"},
		{name: "deploy bad endpoint", method: "PUT", path: "/v1/artifacts/{code}/deployments/%E2%80%AEx", status: 400, code: "INVALID_ARGUMENT"},
		{name: "undeploy", method: "DELETE", path: "/v1/artifacts/{v3}/deployments/" + registrytest.Endpoint, status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Empty(t, r.artifact(t).Endpoints) }},
		{name: "undeploy not deployed", method: "DELETE", path: "/v1/artifacts/{code}/deployments/ep", status: 404, code: "NOT_FOUND"},
	})
}

func TestAdminEndpoints(t *testing.T) {
	var cleaned []string
	cleaner := registry.WithCleaner(registry.CleanerFunc(func(_ context.Context, uri string) error {
		cleaned = append(cleaned, uri)
		return nil
	}))
	old := func(t *testing.T, e *env) map[string]string {
		softDelete(t, e, e.f.Code.ID)
		e.f.Clock.Advance(48 * 3600e9)
		return nil
	}
	runCases(t, []tcase{
		{name: "purge", prep: old, method: "POST", path: "/v1/purge", body: `{"olderThan":"24h"}`, status: 200,
			check: func(t *testing.T, e *env, r reply) {
				assert.Equal(t, []string{e.f.Code.ID}, r.result(t).Deleted)
				_, err := e.f.Get(admin(), e.f.Code.ID, registry.IncludeAll)
				assert.ErrorIs(t, err, registry.ErrNotFound)
			}},
		{name: "purge dry run, nothing old enough", prep: old, method: "POST", path: "/v1/purge", body: `{"olderThan":"72h","dryRun":true,"lineage":"detach","reason":"tidy"}`, status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Empty(t, r.result(t).Deleted) }},
		{name: "purge bad age", method: "POST", path: "/v1/purge", body: `{"olderThan":"a while"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "purge negative age", method: "POST", path: "/v1/purge", body: `{"olderThan":"-1h"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "purge bad lineage", method: "POST", path: "/v1/purge", body: `{"olderThan":"1h","lineage":"x"}`, status: 400, code: "INVALID_ARGUMENT"},
		{name: "pending cleanups", method: "GET", path: "/v1/cleanups", status: 200, prep: func(t *testing.T, e *env) map[string]string {
			a := e.f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "m", StorageURIs: []string{"s3://b/m"}})
			_, err := e.f.Delete(admin(), a.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			return nil
		}, check: func(t *testing.T, e *env, r reply) {
			var out struct{ Items []registry.Cleanup }
			require.NoError(t, json.Unmarshal(r.body, &out))
			require.Len(t, out.Items, 1)
			assert.Equal(t, "s3://b/m", out.Items[0].URI)
		}},
		{name: "pending cleanups, no credential", method: "GET", path: "/v1/cleanups", token: "-", status: 401, code: "UNAUTHENTICATED"},
		{name: "retry without a cleaner", method: "POST", path: "/v1/cleanups/retry", status: 400, code: "INVALID_ARGUMENT"},
		{name: "retry", opts: []registry.Option{cleaner}, method: "POST", path: "/v1/cleanups/retry", status: 200,
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, []any{}, r.json(t)["cleaned"]) }},
		{name: "retry, not an admin", opts: []registry.Option{cleaner}, method: "POST", path: "/v1/cleanups/retry", token: aliceToken, status: 403, code: "FORBIDDEN"},
		{name: "check", method: "GET", path: "/v1/check", status: 200, check: func(t *testing.T, e *env, r reply) {
			assert.Equal(t, true, r.json(t)["consistent"])
		}},
		{name: "check, not an admin", method: "GET", path: "/v1/check", token: aliceToken, status: 403, code: "FORBIDDEN"},
		{name: "reset", method: "POST", path: "/v1/reset", status: 204, check: func(t *testing.T, e *env, r reply) {
			n, err := e.f.Count(admin(), registry.Filter{Include: registry.IncludeAll})
			require.NoError(t, err)
			assert.Zero(t, n)
		}},
		{name: "reset, not an admin", method: "POST", path: "/v1/reset", token: aliceToken, status: 403, code: "FORBIDDEN"},
	})
}

func TestUnknownPathsAndMethods(t *testing.T) {
	runCases(t, []tcase{
		{name: "no such endpoint", method: "GET", path: "/v1/nothing/here/at/all/really", status: 404, code: "NOT_FOUND"},
		{name: "method not allowed", method: "PATCH", path: "/v1/artifacts/{code}", status: 405, code: "METHOD_NOT_ALLOWED",
			check: func(t *testing.T, e *env, r reply) { assert.Equal(t, "GET, HEAD, PUT, DELETE", r.header.Get("Allow")) }},
		{name: "head", method: "HEAD", path: "/v1/artifacts/{code}", status: 200},
	})
}

var _ = strconv.Itoa
