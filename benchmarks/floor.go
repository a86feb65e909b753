package benchmarks

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/hashicorp/go-memdb"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// Floor is the least a store of artifacts built on go-memdb pays for a
// registration: a bare go-memdb table of the world's artifacts with the two
// indexes the registry's artifacts table has (the 16 bytes of the ID, and
// namespace\x00name\x00version), a write transaction per registration (or per
// group of registrations), and nothing else: no validation, no checks, no
// storage URI references, containment, events or results. What the registry
// pays above it is its own; what the floor pays is go-memdb's and
// go-immutable-radix's, which the registry cannot change.
type Floor struct {
	db *memdb.MemDB
}

type floorRow struct {
	id  [16]byte
	key []byte
	a   registry.Artifact
}

type floorIndexer struct{ key func(*floorRow) []byte }

func (f floorIndexer) FromObject(o any) (bool, []byte, error) { return true, f.key(o.(*floorRow)), nil }

func (floorIndexer) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one key")
	}
	return args[0].([]byte), nil
}

// NewFloor returns a floor store loaded with the world's artifacts.
func NewFloor(w *benchworld.World) (*Floor, error) {
	db, err := memdb.NewMemDB(&memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		"artifacts": {Name: "artifacts", Indexes: map[string]*memdb.IndexSchema{
			"id":   {Name: "id", Unique: true, Indexer: floorIndexer{func(r *floorRow) []byte { return r.id[:] }}},
			"name": {Name: "name", Unique: true, Indexer: floorIndexer{func(r *floorRow) []byte { return r.key }}},
		}},
	}})
	if err != nil {
		return nil, err
	}
	// A snapshot does not track mutations for watchers: the registry's
	// database is one too.
	f := &Floor{db: db.Snapshot()}
	const batch = 1000
	for i := 0; i < w.N; i += batch {
		as := make([]registry.Artifact, 0, batch)
		for j := i; j < min(i+batch, w.N); j++ {
			as = append(as, w.Artifact(j))
		}
		if err := f.RegisterBatch(as); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func floorRowOf(a registry.Artifact) (*floorRow, error) {
	u, err := uuid.Parse(a.ID)
	if err != nil {
		return nil, err
	}
	return &floorRow{id: u, key: []byte(a.Namespace + "\x00" + a.Name + "\x00" + a.Version), a: a}, nil
}

// RegisterBatch inserts the artifacts in one write transaction.
func (f *Floor) RegisterBatch(as []registry.Artifact) error {
	txn := f.db.Txn(true)
	defer txn.Abort()
	for _, a := range as {
		r, err := floorRowOf(a)
		if err != nil {
			return err
		}
		if err := txn.Insert("artifacts", r); err != nil {
			return err
		}
	}
	txn.Commit()
	return nil
}

// Delete removes the artifact with the ID in one write transaction.
func (f *Floor) Delete(id string) error {
	u, err := uuid.Parse(id)
	if err != nil {
		return err
	}
	txn := f.db.Txn(true)
	defer txn.Abort()
	o, err := txn.First("artifacts", "id", u[:])
	if err != nil || o == nil {
		return fmt.Errorf("floor: %s: not found (%v)", id, err)
	}
	if err := txn.Delete("artifacts", o); err != nil {
		return err
	}
	txn.Commit()
	return nil
}

// FloorOps are the floor's benchmarks: a registration per transaction, as
// Register, and 8 or 64 per transaction, as a group commit of that many
// concurrent Register calls at best; ns/op is per registration.
var FloorOps = []struct {
	Name  string
	Group int
}{{"Register", 1}, {"Group8", 8}, {"Group64", 64}}

// BenchFloor registers group new versions per transaction, b.N in all,
// deleting them again untimed.
func BenchFloor(b *testing.B, f *Floor, w *benchworld.World, group int) {
	per := max(Chunk, group)
	arts := make([]registry.Artifact, per)
	t := StartTimer(b)
	for done := 0; done < b.N; {
		n := min(per, b.N-done)
		t.Stop()
		for j := range n {
			arts[j] = w.NewVersion()
		}
		t.Start()
		for j := 0; j < n; j += group {
			must(b, f.RegisterBatch(arts[j:min(j+group, n)]))
		}
		t.Stop()
		for _, a := range arts[:n] {
			must(b, f.Delete(a.ID))
		}
		t.Start()
		done += n
	}
	t.Done()
}
