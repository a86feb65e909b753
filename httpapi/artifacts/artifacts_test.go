package artifacts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/artifacts"
	"github.com/modelreg/registry/registrytest"
)

// Credentials of the test principals: alice may touch the artifacts
// namespace, bob another one, admin everything.
const (
	alice = "alice-token"
	bob   = "bob-token"
	admin = "admin-token"
)

var tokens = map[string]string{alice: "alice", bob: "bob", admin: "admin"}

type env struct {
	t   *testing.T
	f   *registrytest.Fixture
	srv *httptest.Server
	cl  *http.Client

	mu      sync.Mutex
	cleaned []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, cl: &http.Client{Timeout: 10 * time.Second}}
	authz := registry.NamespaceAuthorizer{"alice": {"artifacts"}, "bob": {"other"}, "admin": {"*"}}
	e.f = registrytest.NewEmpty(t, registry.WithAuthorizer(authz), registry.WithCleaner(registry.CleanerFunc(func(_ context.Context, uri string) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.cleaned = append(e.cleaned, uri)
		return nil
	})))
	h, err := artifacts.New(artifacts.Options{Registry: e.f.Registry, MaxBodyBytes: 64 << 10,
		Authenticate: func(tok string) (string, bool) { p, ok := tokens[tok]; return p, ok }})
	require.NoError(t, err)
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) cleanedURIs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.cleaned...)
}

type resp struct {
	status int
	header http.Header
	raw    string
	body   any
}

func (r resp) obj() map[string]any { m, _ := r.body.(map[string]any); return m }

// do sends a request; cred "" sends no X-Authorization.
func (e *env) do(method, path, cred, body string) resp {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	require.NoError(e.t, err)
	if cred != "" {
		req.Header.Set("X-Authorization", cred)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := e.cl.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(data)}
	_ = json.Unmarshal(data, &out.body)
	return out
}

// create registers an artifact through the API and returns its id.
func (e *env) create(typ, url, name string) string {
	e.t.Helper()
	body := `{"url":"` + url + `"}`
	if name != "" {
		body = `{"url":"` + url + `","name":"` + name + `"}`
	}
	r := e.do("POST", "/artifact/"+typ, alice, body)
	require.Equal(e.t, 201, r.status, r.raw)
	return r.obj()["metadata"].(map[string]any)["id"].(string)
}

func (e *env) dump() string {
	e.t.Helper()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	var all []registry.Artifact
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		p, err := e.f.List(ctx, f)
		require.NoError(e.t, err)
		all = append(all, p.Items...)
		if p.Next == "" {
			break
		}
		f.Cursor = p.Next
	}
	pending, err := e.f.PendingCleanups(ctx)
	require.NoError(e.t, err)
	data, err := json.Marshal(map[string]any{"artifacts": all, "pending": pending, "cleaned": e.cleanedURIs()})
	require.NoError(e.t, err)
	return string(data)
}

func assertError(t *testing.T, r resp, status int) {
	t.Helper()
	assert.Equal(t, status, r.status, r.raw)
	m := r.obj()
	assert.Len(t, m, 1, "an error is {\"detail\"}: %s", r.raw)
	assert.NotEmpty(t, m["detail"], r.raw)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.NotEmpty(t, r.header.Get("X-Request-Id"))
}

// TestSeedExamples sends every request example of seed 003 verbatim, with
// the host and the IDs substituted. The seed's curl lines carry no
// credential ("Authentication headers may be required depending on
// deployment configuration"); this server requires one, so each carries
// X-Authorization.
func TestSeedExamples(t *testing.T) {
	e := newEnv(t)
	ids := map[string]string{}
	for _, a := range []struct{ key, typ, url string }{
		{"12345", "model", "https://huggingface.co/org/m12345"}, {"old-version-123", "model", "https://huggingface.co/org/old"},
		{"failed-456", "model", "https://huggingface.co/org/failed"}, {"test-dataset-1", "dataset", "https://huggingface.co/datasets/org/test"},
		{"test-code-1", "code", "https://github.com/org/test"},
		{"101", "model", "https://huggingface.co/org/a101"}, {"102", "model", "https://huggingface.co/org/a102"},
		{"103", "model", "https://huggingface.co/org/a103"}, {"104", "model", "https://huggingface.co/org/a104"},
	} {
		ids[a.key] = e.create(a.typ, a.url, "")
	}
	deleted := func(r resp, id string) {
		t.Helper()
		require.Equal(t, 200, r.status, r.raw)
		assert.JSONEq(t, `{"status":"deleted","id":"`+id+`"}`, r.raw)
	}
	// Best practices 1: check dependents first.
	// curl https://api.example.com/artifact/model/12345/lineage
	r := e.do("GET", "/artifact/model/"+ids["12345"]+"/lineage", alice, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.JSONEq(t, `{"nodes":[{"artifact_id":"`+ids["12345"]+`","name":"m12345","source":"registry","metadata":{"type":"model"}}],"edges":[]}`, r.raw)
	// curl -X DELETE https://api.example.com/artifacts/model/12345
	deleted(e.do("DELETE", "/artifacts/model/"+ids["12345"], alice, ""), ids["12345"])
	// Verify deletion: curl https://api.example.com/artifacts/model/12345 → 404
	r = e.do("GET", "/artifacts/model/"+ids["12345"], alice, "")
	assertError(t, r, 404)
	assert.JSONEq(t, `{"detail":"Artifact does not exist."}`, r.raw)
	// Idempotency: a second delete is 404.
	r = e.do("DELETE", "/artifacts/model/"+ids["12345"], alice, "")
	assertError(t, r, 404)
	assert.JSONEq(t, `{"detail":"Artifact does not exist."}`, r.raw)
	// curl -X DELETE https://api.example.com/artifacts/model/old-version-123
	deleted(e.do("DELETE", "/artifacts/model/"+ids["old-version-123"], alice, ""), ids["old-version-123"])
	// curl -X DELETE https://api.example.com/artifacts/model/failed-456, then re-create.
	deleted(e.do("DELETE", "/artifacts/model/"+ids["failed-456"], alice, ""), ids["failed-456"])
	r = e.do("POST", "/artifact/model", alice, `{"url": "https://huggingface.co/correct-model"}`)
	require.Equal(t, 201, r.status, r.raw)
	md := r.obj()["metadata"].(map[string]any)
	assert.Equal(t, "correct-model", md["name"])
	assert.Equal(t, "model", md["type"])
	assert.Regexp(t, `^[a-zA-Z0-9\-]+$`, md["id"])
	assert.Equal(t, map[string]any{"url": "https://huggingface.co/correct-model", "download_url": "https://huggingface.co/correct-model"}, r.obj()["data"])
	// curl -X DELETE .../artifacts/dataset/test-dataset-1 and .../artifacts/code/test-code-1
	deleted(e.do("DELETE", "/artifacts/dataset/"+ids["test-dataset-1"], alice, ""), ids["test-dataset-1"])
	deleted(e.do("DELETE", "/artifacts/code/"+ids["test-code-1"], alice, ""), ids["test-code-1"])
	// for id in 101 102 103 104; do curl -X DELETE .../artifacts/model/$id; done
	for _, k := range []string{"101", "102", "103", "104"} {
		deleted(e.do("DELETE", "/artifacts/model/"+ids[k], alice, ""), ids[k])
	}
	// The storage of every deleted artifact reached the cleaner.
	assert.ElementsMatch(t, []string{"https://huggingface.co/org/m12345", "https://huggingface.co/org/old", "https://huggingface.co/org/failed",
		"https://huggingface.co/datasets/org/test", "https://github.com/org/test", "https://huggingface.co/org/a101",
		"https://huggingface.co/org/a102", "https://huggingface.co/org/a103", "https://huggingface.co/org/a104"}, e.cleanedURIs())
	// The seed's IDs themselves are well formed and name nothing.
	assertError(t, e.do("DELETE", "/artifacts/model/12345", alice, ""), 404)
	assertError(t, e.do("DELETE", "/artifacts/model/old-version-123", alice, ""), 404)
	// curl -X DELETE https://api.example.com/reset (needs every namespace).
	r = e.do("DELETE", "/reset", admin, "")
	require.Equal(t, 200, r.status, r.raw)
	page, err := e.f.List(e.f.Ctx, registry.Filter{Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Empty(t, page.Items)
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name, typ, cred, body string
		status                int
		wantName              string
	}{
		{"url only", "model", alice, `{"url":"https://huggingface.co/org/churn"}`, 201, "churn"},
		{"url with trailing slash", "dataset", alice, `{"url":"https://huggingface.co/datasets/org/rows/"}`, 201, "rows"},
		{"url and name", "code", alice, `{"url":"https://github.com/org/repo","name":"trainer"}`, 201, "trainer"},
		{"download_url is ignored", "model", alice, `{"url":"s3://bucket/m.zip","download_url":"x"}`, 201, "m.zip"},
		{"bearer prefix", "model", "bearer " + alice, `{"url":"https://huggingface.co/org/churn"}`, 201, "churn"},
		{"Bearer prefix", "model", "Bearer " + alice, `{"url":"https://huggingface.co/org/churn"}`, 201, "churn"},
		{"no credential", "model", "", `{"url":"https://huggingface.co/org/churn"}`, 403, ""},
		{"unknown credential", "model", "bearer nope", `{"url":"https://huggingface.co/org/churn"}`, 403, ""},
		{"principal without the namespace", "model", bob, `{"url":"https://huggingface.co/org/churn"}`, 403, ""},
		{"bad type", "models", alice, `{"url":"https://huggingface.co/org/churn"}`, 400, ""},
		{"missing url", "model", alice, `{"name":"x"}`, 400, ""},
		{"empty url", "model", alice, `{"url":""}`, 400, ""},
		{"relative url", "model", alice, `{"url":"org/churn"}`, 400, ""},
		{"url is a number", "model", alice, `{"url":5}`, 400, ""},
		{"name is reserved", "model", alice, `{"url":"https://x.org/a","name":"*"}`, 400, ""},
		{"name with a quote", "model", alice, `{"url":"https://x.org/a","name":"a\"b"}`, 400, ""},
		{"name with a newline", "model", alice, `{"url":"https://x.org/a","name":"a\nb"}`, 400, ""},
		{"unknown field", "model", alice, `{"url":"https://x.org/a","URL":"https://x.org/b"}`, 400, ""},
		{"truncated", "model", alice, `{"url":"https://x.o`, 400, ""},
		{"empty body", "model", alice, ``, 400, ""},
		{"an array", "model", alice, `[{"url":"https://x.org/a"}]`, 400, ""},
		{"huge", "model", alice, `{"url":"https://x.org/` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
		{"url too long", "model", alice, `{"url":"https://x.org/` + strings.Repeat("a", 3000) + `"}`, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			before := e.dump()
			r := e.do("POST", "/artifact/"+tt.typ, tt.cred, tt.body)
			if tt.status != 201 {
				assertError(t, r, tt.status)
				assert.Equal(t, before, e.dump(), "a refused request changes nothing")
				return
			}
			require.Equal(t, 201, r.status, r.raw)
			md := r.obj()["metadata"].(map[string]any)
			assert.Equal(t, tt.wantName, md["name"])
			assert.Equal(t, tt.typ, md["type"])
			id := md["id"].(string)
			got := e.do("GET", "/artifacts/"+tt.typ+"/"+id, alice, "")
			require.Equal(t, 200, got.status, got.raw)
			assert.JSONEq(t, r.raw, got.raw, "GET answers what POST did")
		})
	}
	t.Run("same name and type is 409, another type is not", func(t *testing.T) {
		e := newEnv(t)
		e.create("model", "https://huggingface.co/org/churn", "")
		before := e.dump()
		r := e.do("POST", "/artifact/model", alice, `{"url":"https://huggingface.co/other/churn"}`)
		assertError(t, r, 409)
		assert.Equal(t, before, e.dump())
		e.create("dataset", "https://huggingface.co/datasets/org/churn", "")
		r = e.do("GET", "/artifact/byName/churn", alice, "")
		require.Equal(t, 200, r.status)
		assert.Len(t, r.body, 2)
	})
}

func TestGetPutDelete(t *testing.T) {
	type fx struct{ model, dataset string }
	tests := []struct {
		name, method string
		path         func(f fx) string
		cred, body   string
		status       int
	}{
		{"get: wrong type", "GET", func(f fx) string { return "/artifacts/dataset/" + f.model }, alice, "", 404},
		{"get: bad type", "GET", func(f fx) string { return "/artifacts/thing/" + f.model }, alice, "", 400},
		{"get: bad id", "GET", func(f fx) string { return "/artifacts/model/a_b" }, alice, "", 400},
		{"get: unknown uuid", "GET", func(f fx) string { return "/artifacts/model/00000000-0000-4000-8000-000000000000" }, alice, "", 404},
		{"get: no credential", "GET", func(f fx) string { return "/artifacts/model/" + f.model }, "", "", 403},
		{"get: other namespace's principal reads it (reads are not authorized)", "GET", func(f fx) string { return "/artifacts/model/" + f.model }, bob, "", 200},
		{"put: url changes", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%m","type":"model"},"data":{"url":"https://huggingface.co/org/churn2"}}`, 200},
		{"put: id differs", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%d","type":"model"},"data":{"url":"https://x.org/a"}}`, 400},
		{"put: name differs", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"other","id":"%m","type":"model"},"data":{"url":"https://x.org/a"}}`, 400},
		{"put: type differs", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%m","type":"code"},"data":{"url":"https://x.org/a"}}`, 400},
		{"put: missing data", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%m","type":"model"}}`, 400},
		{"put: bad url", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%m","type":"model"},"data":{"url":"nope"}}`, 400},
		{"put: unknown field", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"churn","id":"%m","type":"model","x":1},"data":{"url":"https://x.org/a"}}`, 400},
		{"put: a key in another case", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"Name":"churn","id":"%m","type":"model"},"data":{"url":"https://x.org/a"}}`, 400},
		{"put: truncated", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, alice, `{"metadata":{"name":"ch`, 400},
		{"put: forbidden", "PUT", func(f fx) string { return "/artifacts/model/" + f.model }, bob, `{"metadata":{"name":"churn","id":"%m","type":"model"},"data":{"url":"https://x.org/a"}}`, 403},
		{"put: unknown", "PUT", func(f fx) string { return "/artifacts/model/00000000-0000-4000-8000-000000000000" }, alice, `{"metadata":{"name":"churn","id":"00000000-0000-4000-8000-000000000000","type":"model"},"data":{"url":"https://x.org/a"}}`, 404},
		{"delete: wrong type", "DELETE", func(f fx) string { return "/artifacts/code/" + f.model }, alice, "", 404},
		{"delete: forbidden", "DELETE", func(f fx) string { return "/artifacts/model/" + f.model }, bob, "", 403},
		{"delete: no credential", "DELETE", func(f fx) string { return "/artifacts/model/" + f.model }, "", "", 403},
		{"delete: bad id", "DELETE", func(f fx) string { return "/artifacts/model/" + f.model + "%20" }, alice, "", 400},
		{"method not allowed", "PATCH", func(f fx) string { return "/artifacts/model/" + f.model }, alice, "", 405},
		{"not served", "GET", func(f fx) string { return "/artifact/model/" + f.model + "/cost" }, alice, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			f := fx{model: e.create("model", "https://huggingface.co/org/churn", ""), dataset: e.create("dataset", "https://huggingface.co/datasets/org/rows", "")}
			body := strings.NewReplacer("%m", f.model, "%d", f.dataset).Replace(tt.body)
			before := e.dump()
			r := e.do(tt.method, tt.path(f), tt.cred, body)
			if tt.status >= 400 {
				assertError(t, r, tt.status)
				assert.Equal(t, before, e.dump(), "a refused request changes nothing")
				return
			}
			require.Equal(t, tt.status, r.status, r.raw)
		})
	}
	t.Run("put replaces the url and cleans the old one", func(t *testing.T) {
		e := newEnv(t)
		id := e.create("model", "https://huggingface.co/org/churn", "")
		r := e.do("PUT", "/artifacts/model/"+id, alice, `{"metadata":{"name":"churn","id":"`+id+`","type":"model"},"data":{"url":"https://huggingface.co/org/churn2"}}`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, "https://huggingface.co/org/churn2", r.obj()["data"].(map[string]any)["url"])
		assert.Equal(t, []string{"https://huggingface.co/org/churn"}, e.cleanedURIs())
	})
}

// TestDeleteKeepsLineageConsistent: dataset → base → tuned. Deleting the
// base hands its URL to the cleaner and leaves the tuned model's lineage
// with no edge to a missing node and a record of the deleted upstream.
func TestDeleteKeepsLineageConsistent(t *testing.T) {
	e := newEnv(t)
	ds := e.create("dataset", "https://huggingface.co/datasets/org/rows", "")
	base := e.create("model", "https://huggingface.co/org/base", "")
	tuned := e.create("model", "https://huggingface.co/org/tuned", "")
	require.NoError(t, e.f.Link(e.f.Ctx, ds, base))
	require.NoError(t, e.f.Link(e.f.Ctx, base, tuned))

	graph := func(typ, id string) artifacts.LineageGraph {
		t.Helper()
		r := e.do("GET", "/artifact/"+typ+"/"+id+"/lineage", alice, "")
		require.Equal(t, 200, r.status, r.raw)
		var g artifacts.LineageGraph
		require.NoError(t, json.Unmarshal([]byte(r.raw), &g))
		nodes := map[string]bool{}
		for _, n := range g.Nodes {
			nodes[n.ArtifactID] = true
		}
		for _, ed := range g.Edges {
			assert.True(t, nodes[ed.From] && nodes[ed.To], "edge %v names a node not in the graph", ed)
		}
		return g
	}
	g := graph("model", base)
	assert.Len(t, g.Nodes, 3)
	assert.Equal(t, base, g.Nodes[0].ArtifactID, "the artifact asked for first")
	assert.ElementsMatch(t, []artifacts.LineageEdge{{From: ds, To: base, Relationship: "lineage"}, {From: base, To: tuned, Relationship: "lineage"}}, g.Edges)
	assert.Len(t, graph("dataset", ds).Nodes, 3, "the whole connected lineage, whichever node is asked")

	r := e.do("DELETE", "/artifacts/model/"+base, alice, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.Equal(t, []string{"https://huggingface.co/org/base"}, e.cleanedURIs())

	g = graph("model", tuned)
	require.Len(t, g.Nodes, 1)
	assert.Empty(t, g.Edges)
	assert.Equal(t, map[string]any{"type": "model", "deleted_upstreams": []any{base}}, g.Nodes[0].Metadata)
	g = graph("dataset", ds)
	assert.Len(t, g.Nodes, 1)
	assert.Empty(t, g.Edges)
	assertError(t, e.do("GET", "/artifact/model/"+base+"/lineage", alice, ""), 404)
	assertError(t, e.do("GET", "/artifact/dataset/"+base+"/lineage", alice, ""), 404)
	assertError(t, e.do("GET", "/artifact/model/x_y/lineage", alice, ""), 400)
	assertError(t, e.do("GET", "/artifact/model/"+tuned+"/lineage", "", ""), 403)
	pending, err := e.f.PendingCleanups(e.f.Ctx)
	require.NoError(t, err)
	assert.Empty(t, pending)
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	e.create("model", "https://huggingface.co/org/churn", "")
	e.create("dataset", "https://huggingface.co/datasets/org/churn", "")
	e.create("code", "https://github.com/org/trainer", "")
	for i := range PageSizeForTest + 5 {
		e.create("model", fmt.Sprintf("https://huggingface.co/org/bulk-%03d", i), "")
	}
	names := func(r resp) []string {
		var out []string
		for _, m := range r.body.([]any) {
			mm := m.(map[string]any)
			out = append(out, mm["name"].(string)+"/"+mm["type"].(string))
		}
		return out
	}
	t.Run("byName", func(t *testing.T) {
		r := e.do("GET", "/artifact/byName/churn", alice, "")
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []string{"churn/dataset", "churn/model"}, names(r))
		assertError(t, e.do("GET", "/artifact/byName/nothing", alice, ""), 404)
		assertError(t, e.do("GET", "/artifact/byName/*", alice, ""), 400)
		assertError(t, e.do("GET", "/artifact/byName/churn", "", ""), 403)
	})
	t.Run("byRegEx", func(t *testing.T) {
		r := e.do("POST", "/artifact/byRegEx", alice, `{"regex":"^(churn|train)"}`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []string{"churn/dataset", "churn/model", "trainer/code"}, names(r))
		assertError(t, e.do("POST", "/artifact/byRegEx", alice, `{"regex":"^zzz"}`), 404)
		assertError(t, e.do("POST", "/artifact/byRegEx", alice, `{"regex":"("}`), 400)
		assertError(t, e.do("POST", "/artifact/byRegEx", alice, `{"regex":""}`), 400)
		assertError(t, e.do("POST", "/artifact/byRegEx", alice, `{"regex":"a","x":1}`), 400)
		assertError(t, e.do("POST", "/artifact/byRegEx", alice, `{"regex":"`+strings.Repeat("a", 1001)+`"}`), 400)
	})
	t.Run("query", func(t *testing.T) {
		r := e.do("POST", "/artifacts", alice, `[{"name":"churn"}]`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []string{"churn/dataset", "churn/model"}, names(r))
		assert.Equal(t, "1", r.header.Get("offset"))
		r = e.do("POST", "/artifacts?offset=0", alice, `[{"name":"*","types":["model"]}]`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Len(t, r.body, artifacts.PageSize)
		assert.Equal(t, "1", r.header.Get("offset"))
		r = e.do("POST", "/artifacts?offset=1", alice, `[{"name":"*","types":["model"]}]`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Len(t, r.body, PageSizeForTest+5+1-artifacts.PageSize)
		assert.Equal(t, "2", r.header.Get("offset"))
		r = e.do("POST", "/artifacts?offset=7", alice, `[{"name":"*","types":["model"]}]`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []any{}, r.body)
		r = e.do("POST", "/artifacts", alice, `[{"name":"churn","types":["dataset"]},{"name":"trainer"}]`)
		require.Equal(t, 200, r.status, r.raw)
		assert.Equal(t, []string{"churn/dataset", "trainer/code"}, names(r))
		for _, bad := range []struct{ query, body string }{
			{"", `[]`}, {"", `{}`}, {"", `[{"types":["model"]}]`}, {"", `[{"name":"a","types":["weights"]}]`},
			{"", `[{"name":"a","x":1}]`}, {"", `[{"NAME":"a"}]`}, {"", `[{"name":7}]`}, {"?offset=-1", `[{"name":"*"}]`}, {"?offset=a", `[{"name":"*"}]`}, {"", `[{"name":"a"`},
		} {
			assertError(t, e.do("POST", "/artifacts"+bad.query, alice, bad.body), 400)
		}
		assertError(t, e.do("POST", "/artifacts", "", `[{"name":"*"}]`), 403)
	})
}

// PageSizeForTest is how many bulk artifacts TestSearch makes beyond its
// three: enough for a second page.
const PageSizeForTest = artifacts.PageSize

func TestResetAndHealth(t *testing.T) {
	e := newEnv(t)
	e.create("model", "https://huggingface.co/org/churn", "")
	before := e.dump()
	r := e.do("DELETE", "/reset", alice, "")
	assertError(t, r, 401)
	assertError(t, e.do("DELETE", "/reset", "", ""), 403)
	assertError(t, e.do("DELETE", "/reset", "bad", ""), 403)
	assertError(t, e.do("GET", "/reset", admin, ""), 405)
	assert.Equal(t, before, e.dump())
	r = e.do("DELETE", "/reset", "bearer "+admin, "")
	require.Equal(t, 200, r.status, r.raw)
	assert.Equal(t, []string{"https://huggingface.co/org/churn"}, e.cleanedURIs())
	assertError(t, e.do("GET", "/artifact/byName/churn", alice, ""), 404)

	r = e.do("GET", "/health", "", "")
	assert.Equal(t, 200, r.status)
	assert.JSONEq(t, `{"status":"ok"}`, r.raw)
	assert.NotEmpty(t, r.header.Get("X-Request-Id"))
}

// TestMountedInNewHandler serves the dialect through httpapi.NewHandler.
func TestMountedInNewHandler(t *testing.T) {
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"alice": {Namespaces: []string{artifacts.DefaultNamespace}, Tokens: []string{alice}},
		"admin": {Namespaces: []string{"*"}, Tokens: []string{admin}}})
	require.NoError(t, err)
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()))
	require.NoError(t, err)
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv, cl: &http.Client{Timeout: 10 * time.Second}}
	r := e.do("POST", "/artifact/model", alice, `{"url":"https://huggingface.co/org/churn"}`)
	require.Equal(t, 201, r.status, r.raw)
	id := r.obj()["metadata"].(map[string]any)["id"].(string)
	assert.Equal(t, 200, e.do("GET", "/artifacts/model/"+id, alice, "").status)
	assert.Equal(t, 200, e.do("GET", "/artifact/model/"+id+"/lineage", alice, "").status)
	r = e.do("POST", "/artifacts", alice, `[{"name":"*"}]`)
	assert.Equal(t, 200, r.status, r.raw)
	assert.Len(t, r.body, 1)
	assert.Equal(t, 200, e.do("GET", "/health", "", "").status)
	assert.Equal(t, 401, e.do("DELETE", "/reset", alice, "").status)
	assert.Equal(t, 200, e.do("DELETE", "/artifacts/model/"+id, alice, "").status)
	assert.Equal(t, 200, e.do("DELETE", "/reset", admin, "").status)
	require.NoError(t, reg.Check())
}

// TestPanicIsAnswered: a panic in the handler (here in Authenticate) is
// answered 500 {"detail"}, with the request ID.
func TestPanicIsAnswered(t *testing.T) {
	f := newEnv(t).f
	h, err := artifacts.New(artifacts.Options{Registry: f.Registry,
		Authenticate: func(string) (string, bool) { panic("boom") }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{t: t, srv: srv, cl: &http.Client{Timeout: 10 * time.Second}}
	r := e.do("GET", "/artifact/byName/x", alice, "")
	assertError(t, r, 500)
	assert.Contains(t, r.obj()["detail"], r.header.Get("X-Request-Id"))
}

// TestDeleteWithForeignDependent: a dependent in a namespace the principal
// may not touch refuses the delete (403), and nothing changes.
func TestDeleteWithForeignDependent(t *testing.T) {
	e := newEnv(t)
	up := e.create("model", "https://huggingface.co/org/base", "")
	foreign := e.f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "other", Name: "tuned", Version: "1"})
	require.NoError(t, e.f.Link(e.f.Ctx, up, foreign.ID))
	g := e.do("GET", "/artifact/model/"+up+"/lineage", alice, "")
	require.Equal(t, 200, g.status)
	assert.JSONEq(t, `{"nodes":[{"artifact_id":"`+up+`","name":"base","source":"registry","metadata":{"type":"model"}}],"edges":[]}`, g.raw,
		"another namespace's artifacts and their edges are left out")
	before := e.dump()
	assertError(t, e.do("DELETE", "/artifacts/model/"+up, alice, ""), 403)
	assert.Equal(t, before, e.dump())
	assert.Empty(t, e.cleanedURIs())
}

// TestAnonymous: with Options.Anonymous, a request without X-Authorization
// acts as that principal (and only in its namespaces); an unknown header is
// still 403. Without the option (every other test) it is 403.
func TestAnonymous(t *testing.T) {
	e := newEnv(t)
	h, err := artifacts.New(artifacts.Options{Registry: e.f.Registry, Anonymous: "alice",
		Authenticate: func(tok string) (string, bool) { p, ok := tokens[tok]; return p, ok }})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	anon := &env{t: t, f: e.f, srv: srv, cl: e.cl}

	r := anon.do("POST", "/artifact/model", "", `{"url":"https://huggingface.co/org/churn"}`)
	require.Equal(t, 201, r.status, r.raw)
	id, _ := r.obj()["metadata"].(map[string]any)["id"].(string)
	require.NotEmpty(t, id)
	assert.Equal(t, 200, anon.do("GET", "/artifacts/model/"+id, "", "").status)
	assertError(t, anon.do("GET", "/artifacts/model/"+id, "wrong-token", ""), 403)
	assertError(t, anon.do("DELETE", "/reset", "", ""), 401)
	assertError(t, e.do("GET", "/artifacts/model/"+id, "", ""), 403)
	r = anon.do("DELETE", "/artifacts/model/"+id, "", "")
	assert.Equal(t, 200, r.status, r.raw)
}
