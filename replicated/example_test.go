package replicated_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/replicated"
)

// A durable registry: writes go through the node's log, reads to its
// registry, and a restart on the same directory finds everything.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "registry-node")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := registry.WithPrincipal(context.Background(), "alice")
	cfg := replicated.Config{DataDir: dir, ElectionTimeout: 50 * time.Millisecond, LogOutput: io.Discard}

	n, err := replicated.Open(ctx, cfg)
	if err != nil {
		panic(err)
	}
	m, err := n.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "churn", Version: "1"})
	if err != nil {
		panic(err)
	}
	if _, err := n.Delete(ctx, m.ID, registry.DeleteOptions{Reason: "superseded"}); err != nil {
		panic(err)
	}
	n.Close()

	n, err = replicated.Open(ctx, cfg) // a restart replays the log
	if err != nil {
		panic(err)
	}
	defer n.Close()
	got, err := n.Registry().GetByFQN(ctx, "mlflow_svc.churn.1", registry.IncludeDeleted)
	if err != nil {
		panic(err)
	}
	fmt.Println(got.FQN(), "deleted:", got.Deleted, "revision:", got.Revision, "reason:", got.DeleteReason)
	// Output: mlflow_svc.churn.1 deleted: true revision: 2 reason: superseded
}
