package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
)

// exampleServer serves a small registry over the whole HTTP layer, as
// registryd does: a model package with two sub-models, one of them
// deployed.
func exampleServer() (*httptest.Server, error) {
	creds := httpapi.DemoCredentials()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()),
		registry.WithClock(registry.ClockFunc(func() time.Time { return at })))
	if err != nil {
		return nil, err
	}
	ctx := registry.WithPrincipal(context.Background(), httpapi.DemoAdmin)
	for _, a := range []registry.Artifact{
		{ID: idPackage, Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble", Version: "1"},
		{ID: idEncoder, Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble_encoder", Version: "1", Parent: idPackage},
		{ID: idDecoder, Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble_decoder", Version: "1", Parent: idPackage},
	} {
		if _, err := reg.Register(ctx, a); err != nil {
			return nil, err
		}
	}
	if err := reg.Deploy(ctx, idDecoder, "endpoint-eu-1"); err != nil {
		return nil, err
	}
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
	if err != nil {
		return nil, err
	}
	return httptest.NewServer(h), nil
}

// A dry run of a recursive hard delete prints the plan as a tree, and
// exits 5 because an item would fail.
func Example_dryRun() {
	srv, err := exampleServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	var out bytes.Buffer
	code := run(context.Background(), []string{"delete", "--fqn", "mlflow_svc.ensemble.1", "--hard", "--recursive", "--dry-run",
		"--server", srv.URL, "--token", httpapi.DemoAdminToken}, streams{in: os.Stdin, out: &out, err: &bytes.Buffer{}})
	fmt.Print(normalize(out.String()))
	fmt.Println("exit code", code)
	// Output:
	// Dry run of a hard delete, operation <operation>: nothing was changed.
	// mlflow_svc.ensemble.1 (model 00000000-0000-4000-8000-000000000006)  FAILED NOT_EMPTY: model is not empty: 00000000-0000-4000-8000-000000000006 (mlflow_svc.ensemble.1) contains an artifact that cannot be deleted: 00000000-0000-4000-8000-000000000008 (mlflow_svc.ensemble_decoder.1): DEPLOYED
	// ├── mlflow_svc.ensemble_encoder.1 (model 00000000-0000-4000-8000-000000000007)  #1 would delete
	// └── mlflow_svc.ensemble_decoder.1 (model 00000000-0000-4000-8000-000000000008)  FAILED DEPLOYED: failed to delete model 00000000-0000-4000-8000-000000000008 (mlflow_svc.ensemble_decoder.1): it is deployed to endpoint-eu-1; undeploy it first (ModelArts.3009)
	// 1 would be deleted, 2 failed, 0 skipped, 0 detached.
	// exit code 5
}

// List as a table; the token comes from the environment here.
func Example_list() {
	srv, err := exampleServer()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	os.Setenv("REGISTRYCTL_TOKEN", httpapi.DemoAdminToken)
	defer os.Unsetenv("REGISTRYCTL_TOKEN")
	var out bytes.Buffer
	code := run(context.Background(), []string{"list", "--namespace", "mlflow_svc", "--server", srv.URL},
		streams{in: os.Stdin, out: &out, err: &bytes.Buffer{}})
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		fmt.Println(strings.TrimRight(line, " "))
	}
	fmt.Println("exit code", code)
	// Output:
	// ID                                    KIND   FQN                            REVISION  STATE  ENDPOINTS      UPDATED
	// 00000000-0000-4000-8000-000000000006  model  mlflow_svc.ensemble.1          1         live   -              2026-01-02T03:04:05Z
	// 00000000-0000-4000-8000-000000000008  model  mlflow_svc.ensemble_decoder.1  2         live   endpoint-eu-1  2026-01-02T03:04:05Z
	// 00000000-0000-4000-8000-000000000007  model  mlflow_svc.ensemble_encoder.1  1         live   -              2026-01-02T03:04:05Z
	// exit code 0
}
