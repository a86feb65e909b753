package native_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/native"
)

func ExampleNew() {
	reg, _ := registry.New()
	h, _ := native.New(native.Options{Registry: reg,
		Authenticate: func(token string) (string, bool) { return "alice", token == "alice-token" }})
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(method, path, body string, header ...string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer alice-token")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	created := send("POST", "/v1/artifacts", `{"kind":"model","namespace":"mlflow_svc","name":"churn","version":"1"}`)
	fmt.Println(created.StatusCode, created.Header.Get("ETag"))
	at := created.Header.Get("Location")

	updated := send("PUT", at, `{"description":"retrained"}`, "If-Match", created.Header.Get("ETag"))
	fmt.Println(updated.StatusCode, updated.Header.Get("ETag"))

	// A delete made on what was read before the update is refused.
	stale := send("DELETE", at+"?hard=true", "", "If-Match", created.Header.Get("ETag"))
	fmt.Println(stale.StatusCode, stale.Header.Get("Content-Type"))

	deleted := send("DELETE", at+"?hard=true", "", "If-Match", updated.Header.Get("ETag"), "Idempotency-Key", "retire-churn")
	fmt.Println(deleted.StatusCode)
	// Output:
	// 201 "1"
	// 200 "2"
	// 412 application/problem+json
	// 200
}
