package apitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInput sends malformed paths, parameters, bodies, headers and
// credentials to every kind of native endpoint: each is answered with a
// 4xx problem (validated against the document by the client), never a
// 5xx, and the registry is exactly as it was.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	id := e.f.Code.ID
	batch := `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"code","namespace":"mlflow_svc","name":"x"},`, 1001), ",") + `]}`
	cases := []struct {
		name, method, path, body string
		headers                  []string
		token                    string
		status                   int
	}{
		// Paths.
		{name: "id not a UUID", method: "DELETE", path: "/v1/artifacts/12345", status: 400},
		{name: "id too long", method: "GET", path: "/v1/artifacts/" + strings.Repeat("a", 5000), status: 400},
		{name: "id with a bidi override", method: "DELETE", path: "/v1/artifacts/%E2%80%AE" + id[3:], status: 400},
		// net/http redirects a path that is not clean to its clean form
		// (307 keeps the method); the clean path then answers for itself.
		{name: "empty id", method: "POST", path: "/v1/artifacts//restore", status: 307},
		{name: "FQN unbalanced quote", method: "DELETE", path: `/v1/fqn/mlflow_svc."train.script.1`, status: 400},
		{name: "FQN one part", method: "DELETE", path: "/v1/fqn/mlflow_svc", status: 400},
		{name: "FQN not NFC", method: "GET", path: "/v1/fqn/mlflow_svc.cafe%CC%81.1", status: 400},
		{name: "namespace with a control character", method: "DELETE", path: "/v1/namespaces/ml%01/names/x/versions", status: 400},
		{name: "name with a zero-width space", method: "GET", path: "/v1/namespaces/mlflow_svc/names/x%E2%80%8B/versions", status: 400},
		{name: "dot segments", method: "POST", path: "/v1/operations/../restore", status: 307},
		{name: "operation not a UUID", method: "POST", path: "/v1/operations/x/restore", status: 400},
		{name: "unknown endpoint", method: "DELETE", path: "/v1/artifact/" + id, status: 404},
		{name: "method not served", method: "PATCH", path: "/v1/purge", status: 405},
		// Parameters.
		{name: "hard=2", method: "DELETE", path: "/v1/artifacts/" + id + "?hard=2", status: 400},
		{name: "hard empty", method: "DELETE", path: "/v1/artifacts/" + id + "?hard", status: 400},
		{name: "hard twice", method: "DELETE", path: "/v1/artifacts/" + id + "?hard=true&hard=false", status: 400},
		{name: "cascadeLimit negative", method: "DELETE", path: "/v1/artifacts/" + id + "?cascade=true&cascadeLimit=-1", status: 400},
		{name: "cascadeLimit zero", method: "DELETE", path: "/v1/artifacts/" + id + "?cascade=true&cascadeLimit=0", status: 400},
		{name: "cascadeLimit not a number", method: "DELETE", path: "/v1/artifacts/" + id + "?cascade=true&cascadeLimit=ten", status: 400},
		{name: "cascadeLimit beyond int64", method: "DELETE", path: "/v1/artifacts/" + id + "?cascade=true&cascadeLimit=99999999999999999999", status: 400},
		{name: "lineage in capitals", method: "DELETE", path: "/v1/artifacts/" + id + "?hard=true&lineage=CASCADE", status: 400},
		{name: "reason with NUL", method: "DELETE", path: "/v1/artifacts/" + id + "?reason=a%00b", status: 400},
		{name: "reason too long", method: "DELETE", path: "/v1/artifacts/" + id + "?reason=" + strings.Repeat("r", 1025), status: 400},
		{name: "malformed query", method: "DELETE", path: "/v1/artifacts/" + id + "?hard=%zz", status: 400},
		{name: "include in capitals", method: "GET", path: "/v1/artifacts?include=ALL", status: 400},
		{name: "limit negative", method: "GET", path: "/v1/artifacts?limit=-5", status: 400},
		{name: "depth too deep", method: "GET", path: "/v1/artifacts/" + id + "/lineage?depth=1001", status: 400},
		{name: "namespace filter with a format character", method: "GET", path: "/v1/artifacts?namespace=a%EF%BB%BF", status: 400},
		{name: "restore with delete options", method: "POST", path: "/v1/artifacts/" + id + "/restore?recursive=true", status: 400},
		// Bodies.
		{name: "not JSON", method: "POST", path: "/v1/artifacts", body: `{kind: model}`, status: 400},
		{name: "truncated", method: "POST", path: "/v1/artifacts", body: `{"kind":"model"`, status: 400},
		{name: "trailing data", method: "POST", path: "/v1/artifacts", body: `{"kind":"model","namespace":"a","name":"b"} {}`, status: 400},
		{name: "wrong type", method: "POST", path: "/v1/artifacts", body: `{"kind":5,"namespace":"a","name":"b"}`, status: 400},
		{name: "field in another case", method: "POST", path: "/v1/artifacts", body: `{"Kind":"model","namespace":"mlflow_svc","name":"b"}`, status: 400},
		{name: "read-only field", method: "POST", path: "/v1/artifacts", body: `{"kind":"model","namespace":"mlflow_svc","name":"b","deleted":true}`, status: 400},
		{name: "invalid UTF-8", method: "POST", path: "/v1/artifacts", body: "{\"kind\":\"model\",\"namespace\":\"mlflow_svc\",\"name\":\"b\xff\"}", status: 400},
		{name: "bad kind", method: "POST", path: "/v1/artifacts", body: `{"kind":"weights","namespace":"mlflow_svc","name":"b"}`, status: 400},
		{name: "label value a number", method: "PUT", path: "/v1/artifacts/" + id, body: `{"labels":{"k":1}}`, status: 400},
		{name: "batch too big", method: "POST", path: "/v1/artifacts/batch", body: batch, status: 400},
		{name: "batch unknown field", method: "POST", path: "/v1/artifacts/batch", body: `{"items":[{"kind":"code","namespace":"mlflow_svc","name":"x","size":1}]}`, status: 400},
		{name: "link to itself", method: "POST", path: "/v1/lineage", body: fmt.Sprintf(`{"upstream":%q,"downstream":%q}`, id, id), status: 400},
		{name: "link unknown field", method: "POST", path: "/v1/lineage", body: `{"from":"a","to":"b"}`, status: 400},
		{name: "purge without age", method: "POST", path: "/v1/purge", body: `{}`, status: 400},
		{name: "purge age a number", method: "POST", path: "/v1/purge", body: `{"olderThan":3600}`, status: 400},
		{name: "purge reason too long", method: "POST", path: "/v1/purge", body: `{"olderThan":"0s","reason":"` + strings.Repeat("r", 1025) + `"}`, status: 400},
		{name: "XML", method: "POST", path: "/v1/artifacts", body: `<artifact/>`, headers: []string{"Content-Type", "application/xml"}, status: 415},
		// Headers.
		{name: "Idempotency-Key too long", method: "DELETE", path: "/v1/artifacts/" + id, headers: []string{"Idempotency-Key", strings.Repeat("k", 65)}, status: 400},
		{name: "Idempotency-Key with a space", method: "DELETE", path: "/v1/artifacts/" + id, headers: []string{"Idempotency-Key", "a b"}, status: 400},
		{name: "If-Match unquoted", method: "DELETE", path: "/v1/artifacts/" + id, headers: []string{"If-Match", "1"}, status: 400},
		{name: "If-Match zero", method: "DELETE", path: "/v1/artifacts/" + id, headers: []string{"If-Match", `"0"`}, status: 412},
		{name: "If-Match foreign", method: "PUT", path: "/v1/artifacts/" + id, body: `{}`, headers: []string{"If-Match", `"abc"`}, status: 412},
		{name: "Last-Event-ID negative", method: "GET", path: "/v1/events", headers: []string{"Last-Event-ID", "-1"}, status: 400},
		// Credentials.
		{name: "Bearer alone", method: "DELETE", path: "/v1/artifacts/" + id, token: "-", headers: []string{"Authorization", "Bearer"}, status: 401},
		{name: "Basic", method: "DELETE", path: "/v1/artifacts/" + id, token: "-", headers: []string{"Authorization", "Basic YWRtaW46YWRtaW4="}, status: 401},
		{name: "token of nobody", method: "POST", path: "/v1/reset", token: "admin-token2", status: 401},
		{name: "no credential on reset", method: "POST", path: "/v1/reset", token: "-", status: 401},
		{name: "another's namespace", method: "DELETE", path: "/v1/artifacts/" + id + "?hard=true", token: bobToken, status: 403},
		{name: "reset by a namespaced principal", method: "POST", path: "/v1/reset", token: aliceToken, status: 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.state()
			token := c.token
			switch token {
			case "":
				token = adminToken
			case "-":
				token = ""
			}
			r := e.do(c.method, c.path, token, c.body, c.headers...)
			require.Equal(t, c.status, r.status, "%s", r.body)
			assert.Less(t, r.status, http.StatusInternalServerError)
			if r.status == http.StatusTemporaryRedirect {
				assert.NotEmpty(t, r.header.Get("Location"))
			} else {
				assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "%s", r.body)
			}
			assert.Equal(t, before, e.state(), "a bad request changes nothing")
		})
	}
}
