package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/replicated"
)

// A demo server, as registryd -demo runs it, and seed 001's cascade delete
// against it: two versions go, the deployed one is a failed item.
func ExampleSeedDemo() {
	creds := httpapi.DemoCredentials()
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()))
	if err != nil {
		panic(err)
	}
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds, ArtifactsAnonymous: httpapi.DemoGuest})
	if err != nil {
		panic(err)
	}
	demo, err := httpapi.SeedDemo(context.Background(), h, reg)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h) // or httpapi.NewServer("127.0.0.1:8585", h, nil).ListenAndServe()
	defer srv.Close()

	req, _ := http.NewRequest("DELETE", srv.URL+"/v1/"+httpapi.DemoModelArtsProject+"/models/"+demo.ModelArtsModelIDs[0]+"?cascade=true", nil)
	req.Header.Set("X-Auth-Token", httpapi.DemoAdminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var out struct {
		Deleted []string `json:"delete_success_list"`
		Failed  []struct {
			Code string `json:"error_code"`
		} `json:"delete_failed_list"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, len(out.Deleted), "deleted; failed:", out.Failed[0].Code)
	// Output: 200 2 deleted; failed: ModelArts.3009
}

// A durable registry over HTTP, as registryd -data-dir serves it: a
// replicated.Node opened with the credentials' authorizer is served like a
// registry; every write through any dialect is on disk before it is
// answered.
func ExampleNewHandler_durable() {
	dir, err := os.MkdirTemp("", "registry-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	creds := httpapi.DemoCredentials()
	node, err := replicated.Open(context.Background(), replicated.Config{DataDir: dir, Authorizer: creds.Authorizer(), LogOutput: io.Discard})
	if err != nil {
		panic(err)
	}
	defer node.Close()
	h, err := httpapi.NewHandler(httpapi.Config{Registry: node, Credentials: creds})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/v1/artifacts", strings.NewReader(`{"kind":"model","namespace":"svc","name":"churn","version":"1"}`))
	req.Header.Set("Authorization", "Bearer "+httpapi.DemoAdminToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	n, err := node.Count(context.Background(), registry.Filter{Namespace: "svc"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.StatusCode, n, "artifact in the log")
	// Output: 201 1 artifact in the log
}
