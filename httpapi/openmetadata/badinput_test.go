package openmetadata_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInput sends malformed paths, parameters, bodies and credentials
// to every endpoint: each is answered by the right 4xx in OpenMetadata's
// shape, and the registry is unchanged (a dump and Check before and after).
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	svcID := e.service("mlflow_svc", "Mlflow")["id"].(string)
	e.service("other_svc", "Mlflow")
	id := e.model("mlflow_svc", "churn")["id"].(string)
	e.model("mlflow_svc", "gone")
	require.Equal(t, 200, e.do("DELETE", "/api/v1/mlmodels/name/mlflow_svc.gone", adminToken, "").status)

	long := strings.Repeat("n", 300)
	huge := `{"name":"x","service":"mlflow_svc","algorithm":"a","description":"` + strings.Repeat("d", 70<<10) + `"}`
	tooManyTags := make([]string, 65)
	for i := range tooManyTags {
		tooManyTags[i] = fmt.Sprintf(`{"tagFQN":"t.%d"}`, i)
	}
	model := func(extra string) string {
		return `{"name":"new","service":"mlflow_svc","algorithm":"a"` + extra + `}`
	}
	modelBodies := []struct {
		desc, body string
		status     int
		msg        string
	}{
		{"empty", "", 400, "empty"},
		{"truncated", `{"name":"x","service":"mlf`, 400, "truncated"},
		{"just an open brace", "{", 400, ""},
		{"an array", `[]`, 400, ""},
		{"a string", `"model"`, 400, ""},
		{"null", `null`, 400, "name must not be null"},
		{"two values", model("") + model(""), 400, "after its JSON value"},
		{"not JSON", `name=x`, 400, "not valid JSON"},
		{"huge", huge, 413, "larger than"},
		{"name a number", `{"name":1,"service":"mlflow_svc","algorithm":"a"}`, 400, "name"},
		{"algorithm an object", `{"name":"x","service":"mlflow_svc","algorithm":{}}`, 400, "algorithm"},
		{"service a list", `{"name":"x","service":["mlflow_svc"],"algorithm":"a"}`, 400, "service"},
		{"unknown field", model(`,"colour":"red"`), 400, `unknown field "colour"`},
		{"unknown field, case", model(`,"Name":"x"`), 400, "unknown field"},
		{"missing name", `{"service":"mlflow_svc","algorithm":"a"}`, 400, "[name must not be null]"},
		{"missing algorithm", `{"name":"x","service":"mlflow_svc"}`, 400, "[algorithm must not be null]"},
		{"missing service", `{"name":"x","algorithm":"a"}`, 400, "[service must not be null]"},
		{"null name", `{"name":null,"service":"mlflow_svc","algorithm":"a"}`, 400, "[name must not be null]"},
		{"empty name", `{"name":"","service":"mlflow_svc","algorithm":"a"}`, 400, "name size must be between 1 and 256"},
		{"long name", `{"name":"` + long + `","service":"mlflow_svc","algorithm":"a"}`, 400, "name size must be between 1 and 256"},
		{"name with ::", `{"name":"a::b","service":"mlflow_svc","algorithm":"a"}`, 400, "name must match"},
		{"name with a control character", `{"name":"a\u0001b","service":"mlflow_svc","algorithm":"a"}`, 400, "control character"},
		{"name with a quote", `{"name":"a\"b","service":"mlflow_svc","algorithm":"a"}`, 400, "double quote"},
		{"invalid UTF-8", "{\"name\":\"a\xffb\",\"service\":\"mlflow_svc\",\"algorithm\":\"a\"}", 400, ""},
		{"long algorithm", `{"name":"x","service":"mlflow_svc","algorithm":"` + long + `"}`, 400, "algorithm"},
		{"tags a string", model(`,"tags":"PII"`), 400, "tags"},
		{"a tag without tagFQN", model(`,"tags":[{"source":"Classification"}]`), 400, "tagFQN must not be null"},
		{"too many tags", model(`,"tags":[` + strings.Join(tooManyTags, ",") + `]`), 400, "tags"},
		{"an owner without id", model(`,"owners":[{"type":"user"}]`), 400, "owners[0]"},
		{"owners an object", model(`,"owners":{"id":"x"}`), 400, "owners"},
		{"mlStore.storage not a URI", model(`,"mlStore":{"storage":"not a uri"}`), 400, "storageUris"},
		{"mlStore with an unknown field", model(`,"mlStore":{"bucket":"b"}`), 400, "unknown field"},
		{"mlFeatures an object", model(`,"mlFeatures":{}`), 400, "mlFeatures"},
		{"domains numbers", model(`,"domains":[1]`), 400, "domains"},
		{"unknown service", `{"name":"x","service":"nope","algorithm":"a"}`, 404, "mlmodelService instance for nope not found"},
		{"soft-deleted service's sibling name", `{"name":"x","service":"mlflow_svc.x","algorithm":"a"}`, 404, ""},
		{"another principal's service", `{"name":"x","service":"other_svc","algorithm":"a"}`, 403, ""},
	}
	serviceBodies := []struct {
		desc, body string
		status     int
		msg        string
	}{
		{"empty", "", 400, ""},
		{"truncated", `{"name":"s`, 400, "truncated"},
		{"an array", `[1]`, 400, ""},
		{"unknown field", `{"name":"s","serviceType":"Mlflow","pipelines":[]}`, 400, "unknown field"},
		{"serviceType a number", `{"name":"s","serviceType":5}`, 400, "serviceType"},
		{"unknown serviceType", `{"name":"s","serviceType":"mlflow"}`, 400, "serviceType must be one of"},
		{"missing serviceType", `{"name":"s"}`, 400, "[serviceType must not be null]"},
		{"name with ::", `{"name":"a::b","serviceType":"Mlflow"}`, 400, "name must match"},
		{"name with a control character", `{"name":"a\u0000","serviceType":"Mlflow"}`, 400, ""},
		{"taken", `{"name":"mlflow_svc","serviceType":"Mlflow"}`, 409, "Entity already exists"},
		{"huge", `{"name":"s","serviceType":"Mlflow","description":"` + strings.Repeat("d", 70<<10) + `"}`, 413, ""},
		{"another principal's namespace", `{"name":"bobs","serviceType":"Mlflow"}`, 403, ""},
	}
	restoreBodies := []struct {
		desc, body string
		status     int
		msg        string
	}{
		{"empty", "", 400, ""},
		{"no id", `{}`, 400, "[id must not be null]"},
		{"id a number", `{"id":5}`, 400, "id"},
		{"unknown field", `{"id":"` + id + `","hardDelete":true}`, 400, "unknown field"},
		{"malformed id", `{"id":"nope"}`, 404, "instance for nope not found"},
		{"unknown id", `{"id":"00000000-0000-4000-8000-000000000009"}`, 404, "not found"},
		{"truncated", `{"id":"` + id, 400, ""},
	}
	type req struct {
		desc, method, path, token, body string
		status                          int
		msg                             string
	}
	var reqs []req
	for _, b := range modelBodies {
		tok := adminToken
		if b.status == 403 {
			tok = aliceToken
		}
		reqs = append(reqs, req{"POST model: " + b.desc, "POST", "/api/v1/mlmodels", tok, b.body, b.status, b.msg})
		reqs = append(reqs, req{"PUT model: " + b.desc, "PUT", "/api/v1/mlmodels", tok, b.body, b.status, b.msg})
	}
	// A PUT over a soft-deleted model restores it only if the update is
	// valid too.
	for _, b := range []struct{ desc, extra, msg string }{
		{"bad storage", `,"mlStore":{"storage":"not a uri"}`, "storageUris"},
		{"too many tags", `,"tags":[` + strings.Join(tooManyTags, ",") + `]`, "tags"},
		{"a control character", `,"displayName":"a\u0007"`, "control character"},
		{"long display name", `,"displayName":"` + long + `"`, "displayName"},
	} {
		reqs = append(reqs, req{"PUT over a soft-deleted model: " + b.desc, "PUT", "/api/v1/mlmodels", adminToken,
			`{"name":"gone","service":"mlflow_svc","algorithm":"a"` + b.extra + `}`, 400, b.msg})
	}
	for _, b := range serviceBodies {
		tok := adminToken
		if b.status == 403 {
			tok = aliceToken
		}
		reqs = append(reqs, req{"POST service: " + b.desc, "POST", "/api/v1/services/mlmodelServices", tok, b.body, b.status, b.msg})
		if b.status != 409 {
			reqs = append(reqs, req{"PUT service: " + b.desc, "PUT", "/api/v1/services/mlmodelServices", tok, b.body, b.status, b.msg})
		}
	}
	for _, b := range restoreBodies {
		reqs = append(reqs, req{"restore model: " + b.desc, "PUT", "/api/v1/mlmodels/restore", adminToken, b.body, b.status, b.msg})
		reqs = append(reqs, req{"restore service: " + b.desc, "PUT", "/api/v1/services/mlmodelServices/restore", adminToken, b.body, b.status, b.msg})
	}
	m, s := "/api/v1/mlmodels/", "/api/v1/services/mlmodelServices/"
	for _, p := range []struct {
		desc, method, path string
		status             int
		msg                string
	}{
		{"malformed id", "GET", m + "not-a-uuid", 404, "mlmodel instance for not-a-uuid not found"},
		{"id with a bad character", "GET", m + strings.Replace(id, "-", "g", 1), 404, ""},
		{"id too long", "GET", m + id + "0", 404, ""},
		{"FQN with an unbalanced quote", "GET", m + "name/mlflow_svc.%22churn", 404, ""},
		{"FQN of four parts", "GET", m + "name/a.b.c.d", 404, ""},
		{"FQN of one part", "GET", m + "name/mlflow_svc", 404, ""},
		{"FQN with a version", "GET", m + "name/mlflow_svc.churn.1", 404, ""},
		{"FQN of the service artifact", "GET", m + "name/mlflow_svc.::service", 404, ""},
		{"FQN with a control character", "GET", m + "name/mlflow_svc.%01", 404, ""},
		{"bad include", "GET", m + id + "?include=some", 400, "include must be one of"},
		{"bad fields", "GET", m + id + "?fields=owners,,secret", 400, "Invalid field name secret"},
		{"bad include by name", "GET", m + "name/mlflow_svc.churn?include=1", 400, ""},
		{"hardDelete=yes", "DELETE", m + id + "?hardDelete=yes", 400, "hardDelete must be true or false"},
		{"recursive=1", "DELETE", m + id + "?recursive=1", 400, "recursive must be true or false"},
		{"hardDelete empty-ish", "DELETE", m + "name/mlflow_svc.churn?hardDelete=%20", 400, ""},
		{"delete malformed id", "DELETE", m + "12345", 404, ""},
		{"delete unknown FQN", "DELETE", m + "name/mlflow_svc.nope?hardDelete=true", 404, "mlmodel instance for mlflow_svc.nope not found"},
		{"delete bad FQN", "DELETE", m + "name/%22", 404, ""},
		{"versions of a malformed id", "GET", m + "x/versions", 404, ""},
		{"version not a number", "GET", m + id + "/versions/abc", 400, "version"},
		{"version negative", "GET", m + id + "/versions/-0.1", 400, ""},
		{"version two decimals", "GET", m + id + "/versions/0.15", 400, ""},
		{"version unknown", "GET", m + id + "/versions/7.0", 404, "and version 7.0 not found"},
		{"service malformed id", "GET", s + "nope", 404, "mlmodelService instance for nope not found"},
		{"service name with ::", "GET", s + "name/a::b", 404, ""},
		{"service bad include", "GET", s + svcID + "?include=none", 400, ""},
		{"service delete hardDelete=on", "DELETE", s + svcID + "?hardDelete=on", 400, ""},
		{"service delete recursive=yes", "DELETE", s + "name/mlflow_svc?recursive=yes", 400, ""},
		{"service delete not empty", "DELETE", s + "name/mlflow_svc", 400, "mlmodelService is not empty"},
		{"service delete unknown", "DELETE", s + "00000000-0000-4000-8000-000000000009", 404, ""},
		{"a model's id as a service", "DELETE", s + id, 404, ""},
		{"a service's id as a model", "DELETE", m + svcID, 404, ""},
		{"bob's delete", "DELETE", m + id + "?hardDelete=true", 403, ""},
		{"bob's service delete", "DELETE", s + svcID + "?recursive=true&hardDelete=true", 403, ""},
	} {
		tok := adminToken
		if strings.HasPrefix(p.desc, "bob") {
			tok = bobToken
		}
		reqs = append(reqs, req{p.desc, p.method, p.path, tok, "", p.status, p.msg})
	}
	for _, c := range []struct{ desc, header string }{
		{"no header", ""}, {"empty bearer", "Bearer "}, {"bearer only", "Bearer"}, {"basic", "Basic YWRtaW46eA=="},
		{"unknown token", "Bearer admin"}, {"token with a suffix", "Bearer admin-token2"}, {"two tokens", "Bearer admin-token admin-token"},
	} {
		reqs = append(reqs, req{"credentials: " + c.desc, "DELETE", m + id + "?hardDelete=true", "header:" + c.header, "", 401, "Not Authorized"})
	}

	before := e.dump()
	for _, r := range reqs {
		t.Run(r.desc, func(t *testing.T) {
			var got resp
			if h, ok := strings.CutPrefix(r.token, "header:"); ok {
				got = e.doHeader(r.method, r.path, h)
			} else {
				got = e.do(r.method, r.path, r.token, r.body)
			}
			assertError(t, got, r.status, r.msg)
		})
	}
	assert.Equal(t, before, e.dump(), "bad input changed the registry")
	require.NoError(t, e.f.Check())
	t.Logf("%d bad requests, each a 4xx, none changed anything", len(reqs))
}

// doHeader sends a request with a raw Authorization header.
func (e *env) doHeader(method, path, auth string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	require.NoError(e.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.c.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	var b strings.Builder
	_, err = fmt.Fprint(&b, readAll(e.t, res))
	require.NoError(e.t, err)
	return resp{res.StatusCode, res.Header, []byte(b.String())}
}

func readAll(t testing.TB, res *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestMutatedRequestsNeverFail5xx sends a bounded number of mutated
// requests (bodies truncated or with bytes changed, paths and parameters
// garbled) to every endpoint: none may answer 5xx, and the registry's
// invariants hold after them.
func TestMutatedRequestsNeverFail5xx(t *testing.T) {
	e := newEnv(t)
	e.service("mlflow_svc", "Mlflow")
	id := e.model("mlflow_svc", "churn")["id"].(string)
	rng := rand.New(rand.NewPCG(11, 12))
	bodies := []string{
		`{"name":"m","service":"mlflow_svc","algorithm":"a","tags":[{"tagFQN":"t.x"}],"owners":[{"id":"` + id + `","type":"user"}],"mlStore":{"storage":"s3://b/k"}}`,
		`{"name":"s2","serviceType":"Mlflow","connection":{"config":{}}}`,
		`{"id":"` + id + `"}`,
	}
	targets := []struct{ method, path string }{
		{"POST", "/api/v1/mlmodels"}, {"PUT", "/api/v1/mlmodels"}, {"PUT", "/api/v1/mlmodels/restore"},
		{"POST", "/api/v1/services/mlmodelServices"}, {"PUT", "/api/v1/services/mlmodelServices"},
		{"PUT", "/api/v1/services/mlmodelServices/restore"},
		{"GET", "/api/v1/mlmodels/" + id}, {"GET", "/api/v1/mlmodels/name/mlflow_svc.churn"},
		{"GET", "/api/v1/mlmodels?service=mlflow_svc&limit=2"}, {"DELETE", "/api/v1/mlmodels/" + id + "?hardDelete=false"},
		{"GET", "/api/v1/mlmodels/" + id + "/versions/0.1"}, {"GET", "/api/v1/services/mlmodelServices?limit=1"},
	}
	mutate := func(s string) string {
		b := []byte(s)
		switch rng.IntN(4) {
		case 0:
			return string(b[:rng.IntN(len(b)+1)])
		case 1:
			b[rng.IntN(len(b))] = byte(rng.IntN(256))
		case 2:
			i := rng.IntN(len(b) + 1)
			ins := []string{`"`, `{`, `]`, `,`, `null`, `%`, `::`, `.`, `\u0000`, `%00`, `..`, `?`, `&`, `=`}[rng.IntN(14)]
			b = append(b[:i], append([]byte(ins), b[i:]...)...)
		case 3:
			b[rng.IntN(len(b))] = "0123456789abcdef-\"./%"[rng.IntN(21)]
		}
		return string(b)
	}
	const rounds = 1500
	statuses := map[int]int{}
	for range rounds {
		tg := targets[rng.IntN(len(targets))]
		path, body := tg.path, ""
		if tg.method != "GET" && tg.method != "DELETE" {
			body = mutate(bodies[rng.IntN(len(bodies))])
		} else {
			path = mutate(path)
		}
		if strings.ContainsAny(path, " \x00\n\r\t") || !strings.HasPrefix(path, "/") {
			continue
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			continue
		}
		r := e.do(tg.method, path, adminToken, body)
		statuses[r.status]++
		require.Less(t, r.status, 500, "%s %s %q: %s", tg.method, path, body, r.body)
	}
	require.NoError(t, e.f.Check())
	t.Logf("%d mutated requests, statuses %v", rounds, statuses)
}
