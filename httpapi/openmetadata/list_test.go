package openmetadata_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// listBody is a ResultList of entities, reduced to what paging tests read.
type listBody struct {
	Data []struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Deleted            bool   `json:"deleted"`
	} `json:"data"`
	Paging struct {
		Before *string `json:"before"`
		After  *string `json:"after"`
		Total  *int    `json:"total"`
	} `json:"paging"`
}

func (e *env) list(t *testing.T, path string) listBody {
	t.Helper()
	r := e.do("GET", path, adminToken, "")
	require.Equal(t, 200, r.status, "%s: %s", path, r.body)
	var b listBody
	require.NoError(t, json.Unmarshal(r.body, &b))
	require.NotNil(t, b.Paging.Total, "paging.total is required")
	require.NotNil(t, b.Data, "data is a list, never null")
	return b
}

func fqns(b listBody) []string {
	out := []string{}
	for _, d := range b.Data {
		out = append(out, d.FullyQualifiedName)
	}
	return out
}

// registerModels registers models m000..m<n-1> of the service through the
// library, every third soft deleted when softEvery3.
func registerModels(t testing.TB, e *env, service string, n int, softEvery3 bool) []registry.Artifact {
	svc, err := e.f.GetVersion(e.f.Ctx, service, "::service", "")
	require.NoError(t, err)
	batch := make([]registry.Artifact, n)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: service, Name: fmt.Sprintf("m%03d", i), Parent: svc.ID, Algorithm: "a"}
	}
	out, err := e.f.RegisterBatch(e.f.Ctx, batch)
	require.NoError(t, err)
	if softEvery3 {
		for i := 0; i < n; i += 3 {
			_, err := e.f.Delete(e.f.Ctx, out[i].ID)
			require.NoError(t, err)
		}
	}
	return out
}

// walk pages through a list forward by after, then back by before, and
// checks the paging rules: no before on the first page, no after on the
// last, the same pages both ways, total equal to what was seen.
func (e *env) walk(t *testing.T, path string) []string {
	t.Helper()
	path = strings.TrimSuffix(path, "?")
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var pages [][]string
	var lists []listBody
	b := e.list(t, path)
	for {
		pages = append(pages, fqns(b))
		lists = append(lists, b)
		if b.Paging.After == nil {
			break
		}
		require.Less(t, len(pages), 1000)
		b = e.list(t, path+sep+"after="+url.QueryEscape(*b.Paging.After))
	}
	assert.Nil(t, lists[0].Paging.Before, "no before on the first page")
	var all []string
	for i, l := range lists {
		all = append(all, fqns(l)...)
		assert.Equal(t, *lists[0].Paging.Total, *l.Paging.Total)
		if i > 0 {
			assert.NotNil(t, l.Paging.Before, "page %d has a before", i)
		}
	}
	assert.Equal(t, *lists[0].Paging.Total, len(all))
	back := [][]string{pages[len(pages)-1]}
	b = lists[len(lists)-1]
	for b.Paging.Before != nil {
		b = e.list(t, path+sep+"before="+url.QueryEscape(*b.Paging.Before))
		assert.NotNil(t, b.Paging.After, "a page reached backward has an after")
		back = append([][]string{fqns(b)}, back...)
		require.Less(t, len(back), 1000)
	}
	assert.Equal(t, pages, back)
	return all
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	e.service("other_svc", "Sklearn")
	e.service("empty_svc", "VertexAI")
	registerModels(t, e, "mlflow_svc", 25, true)
	registerModels(t, e, "other_svc", 4, false)
	// Artifacts in the namespace that are not ML models of the service.
	e.f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "mlflow_svc", Name: "m005x"})
	e.f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "m010", Version: "2"})

	for _, c := range []struct {
		query string
		want  int
	}{
		{"service=mlflow_svc", 16}, {"service=mlflow_svc&include=deleted", 9}, {"service=mlflow_svc&include=all", 25},
		{"", 20}, {"include=all", 29}, {"include=deleted", 9}, {"service=empty_svc", 0}, {"service=nope", 0},
	} {
		for _, limit := range []string{"", "&limit=1", "&limit=3", "&limit=7", "&limit=100"} {
			t.Run(c.query+limit, func(t *testing.T) {
				all := e.walk(t, "/api/v1/mlmodels?"+c.query+limit)
				assert.Len(t, all, c.want)
				for _, f := range all {
					assert.NotContains(t, f, "m005x")
				}
			})
		}
	}
	t.Run("services", func(t *testing.T) {
		for _, limit := range []string{"", "?limit=1", "?limit=2"} {
			assert.Equal(t, []string{"empty_svc", "mlflow_svc", "other_svc"}, e.walk(t, "/api/v1/services/mlmodelServices"+limit))
		}
	})
	t.Run("a quoted service name", func(t *testing.T) {
		e.service("a.b", "Mlflow")
		e.model(`\"a.b\"`, "x")
		b := e.list(t, "/api/v1/mlmodels?service="+url.QueryEscape(`"a.b"`))
		assert.Equal(t, []string{`"a.b".x`}, fqns(b))
		b = e.list(t, "/api/v1/mlmodels?service=a.b")
		assert.Equal(t, []string{`"a.b".x`}, fqns(b))
		require.Equal(t, 200, e.do("DELETE", "/api/v1/services/mlmodelServices/name/a.b?recursive=true&hardDelete=true", adminToken, "").status)
	})
	t.Run("limit=0 gives the total only", func(t *testing.T) {
		b := e.list(t, "/api/v1/mlmodels?service=mlflow_svc&limit=0")
		assert.Empty(t, b.Data)
		assert.Equal(t, 16, *b.Paging.Total)
		assert.Nil(t, b.Paging.After)
	})
	t.Run("cursor is the Base64 FQN", func(t *testing.T) {
		b := e.list(t, "/api/v1/mlmodels?service=other_svc&limit=1")
		require.NotNil(t, b.Paging.After)
		assert.Equal(t, "b3RoZXJfc3ZjLm0wMDA=", *b.Paging.After) // other_svc.m000
	})
	bad := []struct{ query, msg string }{
		{"after=b3RoZXJfc3ZjLm0wMDA=&before=b3RoZXJfc3ZjLm0wMDA=", "Only one of before or after query parameter allowed"},
		{"limit=-1", "[query param limit must be greater than or equal to 0]"},
		{"limit=1000001", "[query param limit must be less than or equal to 1000000]"},
		{"limit=99999999999999999999999", "[query param limit must be less than or equal to 1000000]"},
		{"limit=-99999999999999999999999", "[query param limit must be greater than or equal to 0]"},
		{"limit=-", "limit must be an integer"},
		{"limit=ten", "limit must be an integer"},
		{"limit=1.5", "limit must be an integer"},
		{"include=everything", "include must be one of"},
		{"fields=nope", "Invalid field name nope"},
		{"after=!!!", "cursor"},
		{"before=" + url.QueryEscape("bm9wZQ=="), "cursor"}, // "nope": not an FQN
		{"service=mlflow_svc&after=b3RoZXJfc3ZjLm0wMDA=", "cursor"},
	}
	before := e.dump()
	for _, c := range bad {
		for _, p := range []string{"/api/v1/mlmodels?", "/api/v1/services/mlmodelServices?"} {
			if p != "/api/v1/mlmodels?" && (c.query == "service=mlflow_svc&after=b3RoZXJfc3ZjLm0wMDA=" || c.query == "before=bm9wZQ%3D%3D") {
				continue
			}
			t.Run(p+c.query, func(t *testing.T) {
				assertError(t, e.do("GET", p+c.query, adminToken, ""), 400, c.msg)
			})
		}
	}
	assert.Equal(t, before, e.dump())
}

// TestListAboveTheRegistryPage reads pages larger than the registry's
// 1,000 in several registry pages.
func TestListAboveTheRegistryPage(t *testing.T) {
	e := newEnv(t)
	e.service("big_svc", "Mlflow")
	registerModels(t, e, "big_svc", 2500, false)
	b := e.list(t, "/api/v1/mlmodels?service=big_svc&limit=1200")
	assert.Len(t, b.Data, 1200)
	assert.Equal(t, 2500, *b.Paging.Total)
	assert.Nil(t, b.Paging.Before)
	require.NotNil(t, b.Paging.After)
	b2 := e.list(t, "/api/v1/mlmodels?service=big_svc&limit=1200&after="+url.QueryEscape(*b.Paging.After))
	assert.Len(t, b2.Data, 1200)
	b3 := e.list(t, "/api/v1/mlmodels?service=big_svc&limit=1200&after="+url.QueryEscape(*b2.Paging.After))
	assert.Len(t, b3.Data, 100)
	assert.Nil(t, b3.Paging.After)
	back := e.list(t, "/api/v1/mlmodels?service=big_svc&limit=1200&before="+url.QueryEscape(*b3.Paging.Before))
	assert.Equal(t, fqns(b2), fqns(back))
	all := e.list(t, "/api/v1/mlmodels?limit=1000000")
	assert.Len(t, all.Data, 2500)
	assert.Nil(t, all.Paging.After)
}
