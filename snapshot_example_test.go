package registry_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/modelreg/registry"
)

func ExampleRegistry_WriteSnapshot() {
	reg, _ := registry.New()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	m, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "churn", Version: "1"})
	_, _ = reg.Delete(ctx, m.ID, registry.DeleteOptions{ClientToken: "retire-churn"})

	var buf bytes.Buffer
	info, err := reg.WriteSnapshot(&buf)
	fmt.Println(info.Artifacts, info.Deleted, info.Tokens, info.NextEventSeq, err)

	loaded, err := registry.Load(&buf)
	fmt.Println(err)
	got, _ := loaded.Get(ctx, m.ID, registry.IncludeDeleted)
	fmt.Println(got.FQN(), got.Deleted, got.Revision)
	res, _ := loaded.Delete(ctx, m.ID, registry.DeleteOptions{ClientToken: "retire-churn"})
	fmt.Println(res.Replayed)

	_, err = registry.Load(bytes.NewReader([]byte("not a snapshot")))
	fmt.Println(errors.Is(err, registry.ErrCorruptSnapshot))
	// Output:
	// 1 1 1 3 <nil>
	// <nil>
	// mlflow_svc.churn.1 true 2
	// true
	// true
}

func ExampleRegistry_SaveSnapshot() {
	reg, _ := registry.New()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	_, _ = reg.Register(ctx, registry.Artifact{Kind: registry.KindDataset, Namespace: "mlflow_svc", Name: "customers"})

	dir, _ := os.MkdirTemp("", "snapshot")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "registry.snap")
	info, err := reg.SaveSnapshot(path) // atomic: temporary file, fsync, rename
	fmt.Println(info.Artifacts, err)

	loaded, err := registry.LoadFile(path)
	fmt.Println(err)
	d, err := loaded.GetByFQN(ctx, "mlflow_svc.customers")
	fmt.Println(d.Kind, err)
	// Output:
	// 1 <nil>
	// <nil>
	// dataset <nil>
}
