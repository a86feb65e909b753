// Package registrytest provides fixtures for tests of code that uses the
// registry, in the manner of net/http/httptest: New gives a registry seeded
// with a small, realistic set of artifacts, a manual clock and a context
// carrying a principal, and checks every invariant of the registry when the
// test ends. NewServer serves a fixture over HTTP in every dialect of
// package httpapi, and hands back what each dialect's client needs.
package registrytest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/modelreg/registry"
)

// Epoch is where every fixture's clock starts.
var Epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Principal is the principal of a fixture's context.
const Principal = "admin"

// Clock is a clock that moves only when told. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Fixture is a registry for one test, with what New seeded into it.
type Fixture struct {
	*registry.Registry
	Clock *Clock
	// Ctx carries Principal.
	Ctx context.Context

	// Dataset is mlflow_svc.customers.1, upstream of Versions[0].
	Dataset registry.Artifact
	// Versions are mlflow_svc.customer_segmentation versions 1, 2 and 3;
	// each was fine-tuned from the one before (lineage v1 -> v2 -> v3), and
	// version 3 is deployed to Endpoint.
	Versions []registry.Artifact
	// Package is mlflow_svc.ensemble.1, which contains Children.
	Package  registry.Artifact
	Children []registry.Artifact
	// Code is mlflow_svc.train_script.1, unrelated to the rest.
	Code registry.Artifact
}

// Endpoint is where the fixture's newest version is deployed.
const Endpoint = "endpoint-eu-1"

// Namespace is the fixture's namespace.
const Namespace = "mlflow_svc"

// New returns a seeded fixture. The registry is built with a manual clock
// at Epoch and the given options (options after the clock may replace it).
// When the test ends, New's cleanup fails the test if Check reports a broken
// invariant.
func New(t testing.TB, opts ...registry.Option) *Fixture {
	t.Helper()
	f := NewEmpty(t, opts...)
	f.seed(t)
	return f
}

// NewEmpty is New without the seeded artifacts.
func NewEmpty(t testing.TB, opts ...registry.Option) *Fixture {
	t.Helper()
	clock := NewClock(Epoch)
	reg, err := registry.New(append([]registry.Option{registry.WithClock(clock)}, opts...)...)
	if err != nil {
		t.Fatalf("registrytest: new registry: %v", err)
	}
	t.Cleanup(func() {
		if err := reg.Check(); err != nil {
			t.Errorf("registrytest: registry invariants broken at the end of the test:\n%v", err)
		}
	})
	return &Fixture{Registry: reg, Clock: clock, Ctx: registry.WithPrincipal(context.Background(), Principal)}
}

func (f *Fixture) seed(t testing.TB) {
	t.Helper()
	f.Dataset = f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: Namespace, Name: "customers", Version: "1",
		DisplayName: "Customers", StorageURIs: []string{"s3://datasets/customers/1.parquet"}})
	var prev string
	for _, v := range []string{"1", "2", "3"} {
		m := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: Namespace, Name: "customer_segmentation", Version: v,
			DisplayName: "Customer Segmentation Model", Algorithm: "KMeans", Owners: []string{"alice"},
			StorageURIs: []string{"s3://models/customer_segmentation/" + v + ".zip"}})
		up := prev
		if up == "" {
			up = f.Dataset.ID
		}
		f.MustLink(t, up, m.ID)
		prev = m.ID
		f.Versions = append(f.Versions, m)
	}
	if err := f.Deploy(f.Ctx, f.Versions[2].ID, Endpoint); err != nil {
		t.Fatalf("registrytest: deploy: %v", err)
	}
	f.Versions[2] = f.MustGet(t, f.Versions[2].ID)
	f.Package = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: Namespace, Name: "ensemble", Version: "1"})
	for _, name := range []string{"ensemble_tree", "ensemble_linear"} {
		f.Children = append(f.Children, f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: Namespace, Name: name, Version: "1",
			Parent: f.Package.ID, StorageURIs: []string{"s3://models/" + name + "/1.zip"}}))
	}
	f.Code = f.MustRegister(t, registry.Artifact{Kind: registry.KindCode, Namespace: Namespace, Name: "train_script", Version: "1"})
}

// MustRegister registers a or fails the test.
func (f *Fixture) MustRegister(t testing.TB, a registry.Artifact) registry.Artifact {
	t.Helper()
	out, err := f.Register(f.Ctx, a)
	if err != nil {
		t.Fatalf("registrytest: register %s: %v", registry.BuildFQN(a.Namespace, a.Name, a.Version), err)
	}
	return out
}

// MustLink links upstream to downstream or fails the test.
func (f *Fixture) MustLink(t testing.TB, upstream, downstream string) {
	t.Helper()
	if err := f.Link(f.Ctx, upstream, downstream); err != nil {
		t.Fatalf("registrytest: link: %v", err)
	}
}

// MustGet returns the artifact in any state or fails the test.
func (f *Fixture) MustGet(t testing.TB, id string) registry.Artifact {
	t.Helper()
	a, err := f.Get(f.Ctx, id, registry.IncludeAll)
	if err != nil {
		t.Fatalf("registrytest: get %s: %v", id, err)
	}
	return a
}
