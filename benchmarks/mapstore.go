package benchmarks

import (
	"context"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"
	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/versions"
)

// MapStore is the floor: Go maps under one sync.RWMutex, rows changed in
// place under the write lock, reads copying the row out under the read
// lock. A B-tree keeps names ordered for List. It has no transactions to
// speak of (the lock is the transaction), no events, no tokens, no storage
// bookkeeping, no snapshots: what no real store can do cheaper.
type MapStore struct {
	mu       sync.RWMutex
	byID     map[string]*registry.Artifact
	byName   map[string]*registry.Artifact
	names    *btree.BTreeG[*registry.Artifact] // by (namespace, name, version)
	children map[string]map[string]struct{}
	down     map[string]map[string]struct{} // upstream -> downstreams
	up       map[string]map[string]struct{} // downstream -> upstreams
	ops      atomic.Int64
}

// NewMapStore returns an empty map store.
func NewMapStore() *MapStore {
	less := func(a, b *registry.Artifact) bool {
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	}
	return &MapStore{
		byID:     map[string]*registry.Artifact{},
		byName:   map[string]*registry.Artifact{},
		names:    btree.NewG(32, less),
		children: map[string]map[string]struct{}{},
		down:     map[string]map[string]struct{}{},
		up:       map[string]map[string]struct{}{},
	}
}

// Name implements Store.
func (s *MapStore) Name() string { return "map" }

func copyOut(a *registry.Artifact) registry.Artifact {
	c := *a
	c.Tags = slices.Clone(a.Tags)
	c.Owners = slices.Clone(a.Owners)
	c.StorageURIs = slices.Clone(a.StorageURIs)
	c.Endpoints = slices.Clone(a.Endpoints)
	c.Labels = maps.Clone(a.Labels)
	return c
}

func addTo(m map[string]map[string]struct{}, k, v string) {
	set := m[k]
	if set == nil {
		set = map[string]struct{}{}
		m[k] = set
	}
	set[v] = struct{}{}
}

func removeFrom(m map[string]map[string]struct{}, k, v string) {
	if set := m[k]; set != nil {
		delete(set, v)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// Register implements Store.
func (s *MapStore) Register(ctx context.Context, a registry.Artifact) error {
	return s.RegisterBatch(ctx, []registry.Artifact{a})
}

// RegisterBatch implements Store.
func (s *MapStore) RegisterBatch(_ context.Context, batch []registry.Artifact) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make(map[string]bool, len(batch))
	names := make(map[string]bool, len(batch))
	for i := range batch {
		a := &batch[i]
		key := nameKey(a.Namespace, a.Name, a.Version)
		if _, ok := s.byID[a.ID]; ok || ids[a.ID] {
			return errf(registry.ErrAlreadyExists, "ID %s", a.ID)
		}
		if old, ok := s.byName[key]; ok || names[key] {
			if ok && old.Deleted {
				return errf(registry.ErrAlreadyExists, "%s is taken by soft-deleted %s", a.FQN(), old.ID)
			}
			return errf(registry.ErrAlreadyExists, "%s", a.FQN())
		}
		if a.Parent != "" && !ids[a.Parent] {
			if p, ok := s.byID[a.Parent]; !ok || p.Deleted {
				return errf(registry.ErrInvalid, "parent %s is not live", a.Parent)
			}
		}
		ids[a.ID], names[key] = true, true
	}
	now := time.Now()
	for i := range batch {
		a := copyOut(&batch[i])
		a.Revision, a.CreatedAt, a.UpdatedAt, a.Deleted = 1, now, now, false
		a.Endpoints = nil
		s.byID[a.ID] = &a
		s.byName[nameKey(a.Namespace, a.Name, a.Version)] = &a
		s.names.ReplaceOrInsert(&a)
		if a.Parent != "" {
			addTo(s.children, a.Parent, a.ID)
		}
	}
	return nil
}

// Link implements Store.
func (s *MapStore) Link(_ context.Context, up, down string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.link(up, down)
}

// LinkBatch implements Store, under one lock.
func (s *MapStore) LinkBatch(_ context.Context, edges [][2]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range edges {
		if err := s.link(e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

func (s *MapStore) link(up, down string) error {
	for _, id := range []string{up, down} {
		if a, ok := s.byID[id]; !ok || a.Deleted {
			return errf(registry.ErrNotFound, "%s", id)
		}
	}
	if _, ok := s.down[up][down]; ok {
		return errf(registry.ErrAlreadyExists, "edge %s -> %s", up, down)
	}
	// A cycle: up reachable from down.
	seen := map[string]bool{down: true}
	for queue := []string{down}; len(queue) > 0; queue = queue[1:] {
		if queue[0] == up {
			return errf(registry.ErrInvalid, "edge %s -> %s would close a cycle", up, down)
		}
		for d := range s.down[queue[0]] {
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	addTo(s.down, up, down)
	addTo(s.up, down, up)
	return nil
}

// Deploy implements Store.
func (s *MapStore) Deploy(_ context.Context, id, endpoint string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok || a.Deleted {
		return errf(registry.ErrNotFound, "%s", id)
	}
	if !slices.Contains(a.Endpoints, endpoint) {
		a.Endpoints = append(slices.Clone(a.Endpoints), endpoint)
		a.Revision++
	}
	return nil
}

func (s *MapStore) live(a *registry.Artifact, ok bool, key string) (registry.Artifact, error) {
	if !ok || a.Deleted {
		return registry.Artifact{}, errf(registry.ErrNotFound, "%s", key)
	}
	return copyOut(a), nil
}

// Get implements Store.
func (s *MapStore) Get(_ context.Context, id string) (registry.Artifact, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.byID[id]
	return s.live(a, ok, id)
}

// GetByFQN implements Store.
func (s *MapStore) GetByFQN(ctx context.Context, fqn string) (registry.Artifact, error) {
	ns, name, version, err := registry.ParseFQN(fqn)
	if err != nil {
		return registry.Artifact{}, err
	}
	return s.GetVersion(ctx, ns, name, version)
}

// GetVersion implements Store.
func (s *MapStore) GetVersion(_ context.Context, namespace, name, version string) (registry.Artifact, error) {
	key := nameKey(namespace, name, version)
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.byName[key]
	return s.live(a, ok, key)
}

// List implements Store.
func (s *MapStore) List(_ context.Context, namespace string, limit int) ([]registry.Artifact, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]registry.Artifact, 0, limit)
	s.names.AscendGreaterOrEqual(&registry.Artifact{Namespace: namespace}, func(a *registry.Artifact) bool {
		if a.Namespace != namespace || len(out) == limit {
			return false
		}
		if !a.Deleted {
			out = append(out, copyOut(a))
		}
		return true
	})
	return out, nil
}

// mapReader is the planner's view of the maps, under the write lock.
type mapReader struct{ s *MapStore }

func mapNode(a *registry.Artifact) node {
	return node{ID: a.ID, Parent: a.Parent, Deleted: a.Deleted, Deployed: len(a.Endpoints) > 0}
}

func (r mapReader) children(id string) ([]node, error) {
	var out []node
	for c := range r.s.children[id] {
		out = append(out, mapNode(r.s.byID[c]))
	}
	return out, nil
}

func (r mapReader) downstreams(id string) ([]node, error) {
	var out []node
	for d := range r.s.down[id] {
		out = append(out, mapNode(r.s.byID[d]))
	}
	return out, nil
}

func (s *MapStore) opID() string {
	return "op-" + itoa(s.ops.Add(1))
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// SoftDelete implements Store.
func (s *MapStore) SoftDelete(_ context.Context, id string, recursive bool) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok || a.Deleted {
		return Outcome{}, errf(registry.ErrNotFound, "%s", id)
	}
	p, err := newPlan(mapReader{s}, []node{mapNode(a)}, false, recursive, false)
	if err != nil {
		return Outcome{}, err
	}
	if err := p.failure(); err != nil && !recursive {
		return p.outcome(), err
	}
	op, now := s.opID(), time.Now()
	for _, x := range p.items {
		if x.fail == nil {
			a := s.byID[x.n.ID]
			a.Deleted, a.DeleteOperation, a.DeletedAt, a.DeletedBy = true, op, now, "bench"
			a.Revision++
			a.UpdatedAt = now
		}
	}
	return p.outcome(), nil
}

// Restore implements Store.
func (s *MapStore) Restore(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return errf(registry.ErrNotFound, "%s", id)
	}
	if !a.Deleted {
		return errf(registry.ErrNotDeleted, "%s", id)
	}
	if p, ok := s.byID[a.Parent]; ok && p.Deleted {
		return errf(registry.ErrParentDeleted, "%s", id)
	}
	op, now := a.DeleteOperation, time.Now()
	for set := []*registry.Artifact{a}; len(set) > 0; set = set[1:] {
		x := set[0]
		x.Deleted, x.DeleteOperation, x.DeletedAt, x.DeletedBy = false, "", time.Time{}, ""
		x.Revision++
		x.UpdatedAt = now
		for c := range s.children[x.ID] {
			if k := s.byID[c]; k.Deleted && k.DeleteOperation == op {
				set = append(set, k)
			}
		}
	}
	return nil
}

// HardDelete implements Store.
func (s *MapStore) HardDelete(_ context.Context, id string, recursive bool) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return Outcome{}, errf(registry.ErrNotFound, "%s", id)
	}
	p, err := newPlan(mapReader{s}, []node{mapNode(a)}, true, recursive, true)
	if err != nil {
		return Outcome{}, err
	}
	if err := p.failure(); err != nil && !recursive {
		return p.outcome(), err
	}
	s.apply(p)
	return p.outcome(), nil
}

// CascadeDelete implements Store.
func (s *MapStore) CascadeDelete(_ context.Context, id string, limit int) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.byID[id]
	if !ok {
		return Outcome{}, errf(registry.ErrNotFound, "%s", id)
	}
	var others []*registry.Artifact
	s.names.AscendGreaterOrEqual(&registry.Artifact{Namespace: a.Namespace, Name: a.Name}, func(o *registry.Artifact) bool {
		if o.Namespace != a.Namespace || o.Name != a.Name {
			return false
		}
		if o.ID != a.ID {
			others = append(others, o)
		}
		return true
	})
	slices.SortFunc(others, func(x, y *registry.Artifact) int { return versions.Compare(y.Version, x.Version) })
	roots := []node{mapNode(a)}
	skipped := 0
	for i, o := range others {
		if i >= limit-1 {
			skipped++
			continue
		}
		roots = append(roots, mapNode(o))
	}
	p, err := newPlan(mapReader{s}, roots, true, false, true)
	if err != nil {
		return Outcome{}, err
	}
	p.skipped = skipped
	s.apply(p)
	return p.outcome(), nil
}

// apply hard deletes the plan's items that did not fail.
func (s *MapStore) apply(p *plan) {
	for _, x := range p.items {
		if x.fail != nil {
			continue
		}
		a := s.byID[x.n.ID]
		delete(s.byID, a.ID)
		delete(s.byName, nameKey(a.Namespace, a.Name, a.Version))
		s.names.Delete(a)
		if a.Parent != "" {
			removeFrom(s.children, a.Parent, a.ID)
		}
		for d := range s.down[a.ID] {
			removeFrom(s.up, d, a.ID)
		}
		delete(s.down, a.ID)
		for u := range s.up[a.ID] {
			removeFrom(s.down, u, a.ID)
		}
		delete(s.up, a.ID)
	}
}

// Footprint implements Store.
func (s *MapStore) Footprint(context.Context) (int64, error) { return 0, nil }

// Close implements Store.
func (s *MapStore) Close() error { return nil }
