package benchmarks

import (
	"context"

	"github.com/modelreg/registry"
)

// RegistryStore is the registry behind the Store interface: every method
// is one call of its public API. Reads go to R; writes go to W, which is R
// itself or a durable node that logs each write before applying it to R.
type RegistryStore struct {
	R *registry.Registry
	W registryWriter

	name  string
	close func() error
}

// registryWriter is the registry's write API, which *registry.Registry
// and the durable node (replicated.Node) both have.
type registryWriter interface {
	Register(ctx context.Context, a registry.Artifact) (registry.Artifact, error)
	RegisterBatch(ctx context.Context, batch []registry.Artifact) ([]registry.Artifact, error)
	Link(ctx context.Context, upstream, downstream string) error
	Deploy(ctx context.Context, id, endpoint string) error
	Delete(ctx context.Context, id string, opts ...registry.DeleteOption) (registry.Result, error)
	Restore(ctx context.Context, id string, opts ...registry.RestoreOption) (registry.Artifact, error)
}

// NewRegistryStore returns an empty registry with default options.
func NewRegistryStore() (*RegistryStore, error) {
	r, err := registry.New()
	if err != nil {
		return nil, err
	}
	return &RegistryStore{R: r, W: r, name: "registry"}, nil
}

// Name implements Store.
func (s *RegistryStore) Name() string { return s.name }

// Register implements Store.
func (s *RegistryStore) Register(ctx context.Context, a registry.Artifact) error {
	_, err := s.W.Register(ctx, a)
	return err
}

// RegisterBatch implements Store.
func (s *RegistryStore) RegisterBatch(ctx context.Context, batch []registry.Artifact) error {
	_, err := s.W.RegisterBatch(ctx, batch)
	return err
}

// Link implements Store.
func (s *RegistryStore) Link(ctx context.Context, up, down string) error {
	return s.W.Link(ctx, up, down)
}

// LinkBatch implements Store: the registry links one edge per call.
func (s *RegistryStore) LinkBatch(ctx context.Context, edges [][2]string) error {
	for _, e := range edges {
		if err := s.W.Link(ctx, e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// Deploy implements Store.
func (s *RegistryStore) Deploy(ctx context.Context, id, endpoint string) error {
	return s.W.Deploy(ctx, id, endpoint)
}

// Get implements Store.
func (s *RegistryStore) Get(ctx context.Context, id string) (registry.Artifact, error) {
	return s.R.Get(ctx, id)
}

// GetByFQN implements Store.
func (s *RegistryStore) GetByFQN(ctx context.Context, fqn string) (registry.Artifact, error) {
	return s.R.GetByFQN(ctx, fqn)
}

// GetVersion implements Store.
func (s *RegistryStore) GetVersion(ctx context.Context, namespace, name, version string) (registry.Artifact, error) {
	return s.R.GetVersion(ctx, namespace, name, version)
}

// List implements Store.
func (s *RegistryStore) List(ctx context.Context, namespace string, limit int) ([]registry.Artifact, error) {
	p, err := s.R.List(ctx, registry.Filter{Namespace: namespace, Limit: limit})
	return p.Items, err
}

func outcome(res registry.Result) Outcome {
	return Outcome{Deleted: len(res.Deleted), Failed: len(res.Failed), Skipped: len(res.Skipped)}
}

// SoftDelete implements Store.
func (s *RegistryStore) SoftDelete(ctx context.Context, id string, recursive bool) (Outcome, error) {
	res, err := s.W.Delete(ctx, id, registry.DeleteOptions{Recursive: recursive})
	return outcome(res), err
}

// Restore implements Store.
func (s *RegistryStore) Restore(ctx context.Context, id string) error {
	_, err := s.W.Restore(ctx, id)
	return err
}

// HardDelete implements Store.
func (s *RegistryStore) HardDelete(ctx context.Context, id string, recursive bool) (Outcome, error) {
	res, err := s.W.Delete(ctx, id, registry.DeleteOptions{Hard: true, Recursive: recursive, Lineage: registry.LineageRestrict})
	return outcome(res), err
}

// CascadeDelete implements Store.
func (s *RegistryStore) CascadeDelete(ctx context.Context, id string, limit int) (Outcome, error) {
	res, err := s.W.Delete(ctx, id, registry.DeleteOptions{Hard: true, Cascade: true, CascadeLimit: limit, Lineage: registry.LineageRestrict})
	return outcome(res), err
}

// Footprint implements Store: the registry lives on the Go heap.
func (s *RegistryStore) Footprint(context.Context) (int64, error) { return 0, nil }

// Close implements Store.
func (s *RegistryStore) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}
