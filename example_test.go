package registry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// exampleVersions registers n versions of mlflow_svc.customer_segmentation.
func exampleVersions(reg *registry.Registry, ctx context.Context, n int) []registry.Artifact {
	var out []registry.Artifact
	for v := 1; v <= n; v++ {
		m, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel,
			Namespace: "mlflow_svc", Name: "customer_segmentation", Version: fmt.Sprint(v)})
		if err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}

func ExampleRegistry_Register() {
	reg, _ := registry.New()
	ctx := registry.WithPrincipal(context.Background(), "admin")

	m, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel,
		Namespace: "mlflow_svc", Name: "customer_segmentation", Version: "3", Algorithm: "KMeans"})
	fmt.Println(m.FQN(), m.Revision, m.UpdatedBy, err)

	got, _ := reg.GetByFQN(ctx, "mlflow_svc.customer_segmentation.3")
	fmt.Println(got.ID == m.ID, got.Algorithm)

	_, err = reg.Register(ctx, registry.Artifact{Kind: registry.KindModel,
		Namespace: "mlflow_svc", Name: "customer_segmentation", Version: "3"})
	fmt.Println(errors.Is(err, registry.ErrAlreadyExists))
	// Output:
	// mlflow_svc.customer_segmentation.3 1 admin <nil>
	// true KMeans
	// true
}

func ExampleRegistry_Delete() {
	reg, _ := registry.New()
	ctx := context.Background()
	v := exampleVersions(reg, ctx, 3)
	_ = reg.Deploy(ctx, v[2].ID, "endpoint-eu-1")

	// ModelArts' sample: a cascade where one version is deployed.
	res, err := reg.Delete(ctx, v[0].ID, registry.DeleteOptions{Hard: true, Cascade: true})
	fmt.Println("error:", err)
	fmt.Println("deleted:", len(res.Deleted))
	for _, f := range res.Failed {
		fmt.Println("failed:", f.ID == v[2].ID, f.Code)
	}

	// A single delete returns its failure as the error.
	_, err = reg.Delete(ctx, v[2].ID, registry.DeleteOptions{})
	fmt.Println(errors.Is(err, registry.ErrDeployed), registry.HTTPStatus(err))
	// Output:
	// error: <nil>
	// deleted: 2
	// failed: true DEPLOYED
	// true 409
}

func ExampleRegistry_Restore() {
	reg, _ := registry.New()
	ctx := context.Background()
	pkg, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "ensemble"})
	tree, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "tree", Parent: pkg.ID})
	linear, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "linear", Parent: pkg.ID})

	_, _ = reg.Delete(ctx, tree.ID, registry.DeleteOptions{})               // on its own, first
	_, _ = reg.Delete(ctx, pkg.ID, registry.DeleteOptions{Recursive: true}) // takes linear with it
	restored, _ := reg.Restore(ctx, pkg.ID)                                 // brings back what that delete took
	for _, id := range []string{pkg.ID, linear.ID, tree.ID} {
		a, _ := reg.Get(ctx, id, registry.IncludeAll)
		fmt.Println(a.FQN(), "deleted:", a.Deleted)
	}
	fmt.Println("revision:", restored.Revision)
	// Output:
	// svc.ensemble deleted: false
	// svc.linear deleted: false
	// svc.tree deleted: true
	// revision: 3
}

// A client token makes a delete happen once: a retry gets the first result
// back, even after the artifact is gone.
func ExampleDeleteOptions_clientToken() {
	reg, _ := registry.New()
	ctx := context.Background()
	v := exampleVersions(reg, ctx, 1)

	first, _ := reg.Delete(ctx, v[0].ID, registry.DeleteOptions{Hard: true, ClientToken: "retire-1"})
	retry, err := reg.Delete(ctx, v[0].ID, registry.DeleteOptions{Hard: true, ClientToken: "retire-1"})
	fmt.Println(err, retry.Replayed, retry.Operation == first.Operation)

	_, err = reg.Delete(ctx, v[0].ID, registry.DeleteOptions{ClientToken: "retire-1"}) // not the same request
	fmt.Println(errors.Is(err, registry.ErrIdempotencyMismatch))
	// Output:
	// <nil> true true
	// true
}

// A cleaner that fails keeps the URI pending until a retry succeeds; the
// delete itself is never undone.
func ExampleWithCleaner() {
	down := true
	cleaner := registry.CleanerFunc(func(_ context.Context, uri string) error {
		if down {
			return errors.New("storage unavailable")
		}
		return nil
	})
	reg, _ := registry.New(registry.WithCleaner(cleaner))
	ctx := context.Background()
	m, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn",
		StorageURIs: []string{"s3://models/churn.zip"}})

	_, err := reg.Delete(ctx, m.ID, registry.DeleteOptions{Hard: true})
	pending, _ := reg.PendingCleanups(ctx)
	fmt.Println(err, pending[0].URI, pending[0].Attempts, pending[0].LastError)

	down = false
	rep, _ := reg.RetryCleanups(ctx)
	pending, _ = reg.PendingCleanups(ctx)
	fmt.Println(rep.Cleaned, len(pending))
	// Output:
	// <nil> s3://models/churn.zip 1 storage unavailable
	// [s3://models/churn.zip] 0
}

// NamespaceAuthorizer scopes principals to namespaces; in a cascade, the
// artifacts a principal may not touch become FORBIDDEN items.
func ExampleNamespaceAuthorizer() {
	reg, _ := registry.New(registry.WithAuthorizer(registry.NamespaceAuthorizer{
		"admin": {"*"},
		"alice": {"team_a"},
	}))
	admin := registry.WithPrincipal(context.Background(), "admin")
	alice := registry.WithPrincipal(context.Background(), "alice")
	m, _ := reg.Register(admin, registry.Artifact{Kind: registry.KindModel, Namespace: "team_b", Name: "fraud"})

	_, err := reg.Delete(alice, m.ID, registry.DeleteOptions{})
	fmt.Println(errors.Is(err, registry.ErrForbidden), registry.HTTPStatus(err))
	// Output:
	// true 403
}

// Purge hard deletes what was soft deleted longer ago than an age; purge
// protection refuses to make a recent soft delete permanent.
func ExampleRegistry_Purge() {
	clock := registrytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	reg, _ := registry.New(registry.WithClock(clock), registry.WithPurgeProtection(7*24*time.Hour))
	ctx := context.Background()
	v := exampleVersions(reg, ctx, 2)
	_, _ = reg.Delete(ctx, v[0].ID, registry.DeleteOptions{})
	clock.Advance(10 * 24 * time.Hour)
	_, _ = reg.Delete(ctx, v[1].ID, registry.DeleteOptions{})

	_, err := reg.Delete(ctx, v[1].ID, registry.DeleteOptions{Hard: true})
	fmt.Println(errors.Is(err, registry.ErrPurgeProtected))

	res, _ := reg.Purge(ctx, 30*24*time.Hour)
	fmt.Println("older than 30 days:", len(res.Deleted))
	res, _ = reg.Purge(ctx, 24*time.Hour)
	fmt.Println("older than a day:", len(res.Deleted), len(res.Failed))
	// Output:
	// true
	// older than 30 days: 0
	// older than a day: 1 0
}

// Subscribers follow committed changes in commit order.
func ExampleRegistry_Subscribe() {
	reg, _ := registry.New()
	ctx := registry.WithPrincipal(context.Background(), "admin")
	sub, _ := reg.Subscribe(16)
	defer sub.Close()

	m, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "churn"})
	_, _ = reg.Delete(ctx, m.ID, registry.DeleteOptions{Reason: "superseded"})
	_, _ = reg.Restore(ctx, m.ID)
	for i := 0; i < 3; i++ {
		e := <-sub.C
		fmt.Printf("%d %s %s revision=%d by=%s reason=%q\n", e.Seq, e.Type, e.FQN, e.Revision, e.Principal, e.Reason)
	}
	// Output:
	// 1 created svc.churn revision=1 by=admin reason=""
	// 2 soft-deleted svc.churn revision=2 by=admin reason="superseded"
	// 3 restored svc.churn revision=3 by=admin reason=""
}

func ExampleParseFQN() {
	fqn := registry.BuildFQN("mlflow_svc", "churn.v2", "3")
	ns, name, version, err := registry.ParseFQN(fqn)
	fmt.Println(fqn)
	fmt.Println(ns, name, version, err)

	_, _, _, err = registry.ParseFQN("mlflow_svc..3")
	fmt.Println(err)
	// Output:
	// mlflow_svc."churn.v2".3
	// mlflow_svc churn.v2 3 <nil>
	// registry: FQN "mlflow_svc..3" has an empty part (at byte 11)
}

func ExampleRegistry_RestoreOperation() {
	reg, _ := registry.New()
	ctx := context.Background()
	v := exampleVersions(reg, ctx, 3)

	// A cascade soft deletes every version in one operation; Restore of one
	// version would bring back that one only.
	res, _ := reg.Delete(ctx, v[2].ID, registry.DeleteOptions{Cascade: true})
	fmt.Println("deleted:", len(res.Deleted))

	back, err := reg.RestoreOperation(ctx, res.Operation)
	fmt.Println("restored:", len(back), err)
	// Output:
	// deleted: 3
	// restored: 3 <nil>
}

func ExampleDeleteOptions_ifRevision() {
	reg, _ := registry.New()
	ctx := context.Background()
	m, _ := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "churn"})

	// Someone else changes the model after we read it at revision 1.
	_, _ = reg.Update(ctx, registry.Artifact{ID: m.ID, Description: "retrained"})

	_, err := reg.Delete(ctx, m.ID, registry.DeleteOptions{Hard: true, IfRevision: m.Revision})
	fmt.Println(errors.Is(err, registry.ErrPreconditionFailed), registry.HTTPStatus(err))
	// Output:
	// true 412
}
