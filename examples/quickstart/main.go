// Quickstart registers a small ML service — a dataset, a model with three
// versions fine-tuned one from the next, a model package with two
// sub-models — links their lineage, deploys one version, and then walks
// through every delete rule of the registry, printing what each call did.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/modelreg/registry"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// tour holds the registry and prints as it goes.
type tour struct {
	reg   *registry.Registry
	ctx   context.Context
	names map[string]string // ID -> FQN, for printing
	step  int
}

func run() error {
	cleaned := []string{}
	reg, err := registry.New(registry.WithCleaner(registry.CleanerFunc(func(_ context.Context, uri string) error {
		cleaned = append(cleaned, uri)
		return nil
	})))
	if err != nil {
		return err
	}
	t := &tour{reg: reg, ctx: registry.WithPrincipal(context.Background(), "admin"), names: map[string]string{}}

	t.section("Register the mlflow_svc service")
	data := t.register(registry.Artifact{Kind: registry.KindDataset, Namespace: "mlflow_svc", Name: "customers", Version: "1",
		StorageURIs: []string{"s3://datasets/customers/1.parquet"}})
	var versions []registry.Artifact
	for _, v := range []string{"1", "2", "3"} {
		versions = append(versions, t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc",
			Name: "customer_segmentation", Version: v, DisplayName: "Customer Segmentation Model", Algorithm: "KMeans",
			StorageURIs: []string{"s3://models/customer_segmentation/" + v + ".zip"}}))
	}
	pkg := t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble", Version: "1"})
	tree := t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble_tree", Version: "1", Parent: pkg.ID})
	t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble_linear", Version: "1", Parent: pkg.ID})

	t.section("Link lineage and deploy")
	for _, v := range versions {
		t.link(data.ID, v.ID) // the dataset trained every version
	}
	t.show("link v3 -> customers (a cycle)", reg.Link(t.ctx, versions[2].ID, data.ID))
	t.show("deploy v3 to endpoint-eu-1", reg.Deploy(t.ctx, versions[2].ID, "endpoint-eu-1"))

	t.section("Soft delete, a second delete, restore")
	t.delete("soft delete ensemble_tree", tree.ID, registry.DeleteOptions{Reason: "retired"})
	t.delete("soft delete it again (rule 1: not found)", tree.ID, registry.DeleteOptions{})
	t.get("read it by default (hidden)", tree.ID)
	t.get("read it with IncludeAll", tree.ID, registry.IncludeAll)
	_, err = reg.Register(t.ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "ensemble_tree", Version: "1"})
	t.show("register its FQN again (name reserved)", err)
	t.restore("restore ensemble_tree", tree.ID)

	t.section("Containment: not empty, recursive, restore of exactly one operation")
	t.delete("delete ensemble without Recursive", pkg.ID, registry.DeleteOptions{})
	t.delete("soft delete ensemble_tree on its own first", tree.ID, registry.DeleteOptions{})
	t.delete("soft delete ensemble recursively", pkg.ID, registry.DeleteOptions{Recursive: true})
	t.restore("restore ensemble (brings back its linear child, not the tree deleted before)", pkg.ID)
	t.get("ensemble_tree after the restore", tree.ID, registry.IncludeAll)

	t.section("Deployed: ModelArts' cascade sample")
	t.delete("hard delete v3 (deployed)", versions[2].ID, registry.DeleteOptions{Hard: true})
	t.delete("cascade all versions, atomically (nothing changes)", versions[0].ID, registry.DeleteOptions{Cascade: true, Hard: true, Atomic: true})
	t.delete("cascade all versions, partially (2 deleted, 1 failed)", versions[0].ID, registry.DeleteOptions{Cascade: true, Hard: true, ClientToken: "cascade-1"})
	t.delete("retry with the same client token", versions[0].ID, registry.DeleteOptions{Cascade: true, Hard: true, ClientToken: "cascade-1"})

	t.section("Lineage dependents: restrict, cascade, detach")
	var churn []registry.Artifact
	for v := 1; v <= 3; v++ {
		churn = append(churn, t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "churn", Version: fmt.Sprint(v)}))
	}
	t.link(data.ID, churn[0].ID)
	t.link(churn[0].ID, churn[1].ID) // fine-tuned
	t.link(churn[1].ID, churn[2].ID)
	t.delete("hard delete churn.1 (churn.2 depends on it: Restrict)", churn[0].ID, registry.DeleteOptions{Hard: true})
	t.delete("dry run: the same with Lineage: LineageCascade", churn[0].ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade, DryRun: true})
	t.delete("hard delete the customers dataset, detaching what it trained", data.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
	t.get("churn.1 remembers its deleted upstream", churn[0].ID)

	t.section("Cascade limit")
	var fraud []registry.Artifact
	for v := 1; v <= 5; v++ {
		fraud = append(fraud, t.register(registry.Artifact{Kind: registry.KindModel, Namespace: "mlflow_svc", Name: "fraud", Version: fmt.Sprint(v)}))
	}
	t.delete("soft cascade of fraud with a limit of 3 (target first, then newest)", fraud[0].ID, registry.DeleteOptions{Cascade: true, CascadeLimit: 3})
	fmt.Printf("   storage the cleaner removed after hard deletes: %s\n", strings.Join(cleaned, ", "))

	t.section("Purge and reset")
	res, err := reg.Purge(t.ctx, 0)
	t.result("purge everything soft deleted", res, err)
	t.show("reset", reg.Reset(t.ctx))
	page, err := reg.List(t.ctx, registry.Filter{Include: registry.IncludeAll})
	if err != nil {
		return err
	}
	fmt.Printf("   %d artifacts left; Check: %v\n", len(page.Items), orOK(reg.Check()))
	return reg.Check()
}

func (t *tour) section(title string) { fmt.Printf("\n== %s\n", title) }

func (t *tour) register(a registry.Artifact) registry.Artifact {
	out, err := t.reg.Register(t.ctx, a)
	if err != nil {
		log.Fatalf("register %s: %v", registry.BuildFQN(a.Namespace, a.Name, a.Version), err)
	}
	t.names[out.ID] = out.FQN()
	fmt.Printf("   registered %-42s %s\n", out.FQN(), out.Kind)
	return out
}

func (t *tour) link(up, down string) {
	if err := t.reg.Link(t.ctx, up, down); err != nil {
		log.Fatalf("link: %v", err)
	}
	fmt.Printf("   linked %s -> %s\n", t.names[up], t.names[down])
}

func (t *tour) show(what string, err error) {
	t.step++
	fmt.Printf("%2d. %s: %s\n", t.step, what, orOK(err))
}

func (t *tour) delete(what, id string, o registry.DeleteOptions) {
	res, err := t.reg.Delete(t.ctx, id, o)
	t.result(what, res, err)
}

func (t *tour) result(what string, res registry.Result, err error) {
	t.step++
	fmt.Printf("%2d. %s\n", t.step, what)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	for _, id := range res.Deleted {
		fmt.Fprintf(w, "      deleted\t%s\t\n", t.names[id])
	}
	for _, f := range res.Failed {
		fmt.Fprintf(w, "      failed\t%s\t%s\n", t.names[f.ID], f.Code)
	}
	for _, id := range res.Skipped {
		fmt.Fprintf(w, "      skipped\t%s\t%s\n", t.names[id], res.SkipReason)
	}
	for _, id := range res.Detached {
		fmt.Fprintf(w, "      detached\t%s\t\n", t.names[id])
	}
	w.Flush()
	switch {
	case res.DryRun:
		fmt.Println("      (dry run: nothing changed)")
	case res.Replayed:
		fmt.Println("      (replayed from the client token: nothing changed)")
	}
	if err != nil {
		fmt.Printf("      error: %v\n", err)
	}
}

func (t *tour) get(what, id string, include ...registry.ReadOption) {
	t.step++
	a, err := t.reg.Get(t.ctx, id, include...)
	if err != nil {
		fmt.Printf("%2d. %s: %s\n", t.step, what, orOK(err))
		return
	}
	fmt.Printf("%2d. %s: %s deleted=%t revision=%d (version %s) updatedBy=%s", t.step, what, a.FQN(), a.Deleted, a.Revision, a.EntityVersion(), a.UpdatedBy)
	if a.HasDeletedUpstream() {
		fmt.Printf(" deletedUpstreams=%d", len(a.DeletedUpstreams))
	}
	fmt.Println()
}

func (t *tour) restore(what, id string) {
	t.step++
	a, err := t.reg.Restore(t.ctx, id)
	if err != nil {
		fmt.Printf("%2d. %s: %s\n", t.step, what, orOK(err))
		return
	}
	fmt.Printf("%2d. %s: %s deleted=%t revision=%d\n", t.step, what, a.FQN(), a.Deleted, a.Revision)
}

// orOK prints an error with its HTTP status, or "ok".
func orOK(err error) string {
	if err == nil {
		return "ok"
	}
	var e *registry.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%d %s: %s", registry.HTTPStatus(err), e.Code, e.Message)
	}
	return err.Error()
}
