package registry

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-memdb"
)

// The go-memdb schema: one function per table, index names as constants.
//
// go-memdb stores a pointer to the row in every index of its table, so
// every change to a row rewrites every one of the table's index trees. The
// artifacts table therefore has only the two indexes every read needs (by
// ID, and by namespace, name and version, which FQN lookups use), and what
// else must be found by key lives in tables of its own, which a change of
// metadata or of deletion state never touches: containment (parent, child),
// storage URIs (uri, owner) and the trash of soft-deleted artifacts
// (deletion time, ID), all keyed by their id index alone.
//
// Keys are short binary strings, so that radix paths stay short and share
// prefixes: IDs are the 16 bytes of the UUID (registry-assigned IDs are
// time-ordered, so new rows land on the right edge of the tree), names are
// namespace\x00name\x00version (names cannot hold control characters, so the
// separator is unambiguous), times are big-endian nanoseconds.
//
// go-memdb enforces uniqueness only on "id" indexes (DEPENDENCIES.md): every
// insert that could collide on "name" is checked with First inside the write
// transaction first.
const (
	tableArtifacts = "artifacts"
	tableContains  = "contains" // parent, child
	tableURIs      = "uris"     // storage URI references and pending cleanups, hashed into buckets (storagerefs.go)
	tableTrash     = "trash"    // soft-deleted artifacts by deletion time
	tableEdges     = "edges"    // lineage, upstream to downstream
	tableTokens    = "tokens"

	indexID         = "id"
	indexName       = "name"    // artifacts: namespace, name, version (unique)
	indexExpires    = "expires" // tokens: expiry time
	prefix          = "_prefix" // go-memdb's suffix for a prefix scan
	nameSep         = byte(0)   // separates the parts of a name key
	defaultPageSize = 100       // page size when a limit is 0
	maxPageSize     = 1000      // largest page
)

// containsRow says that Parent contains Child.
type containsRow struct{ Parent, Child string }

// trashRow lists a soft-deleted artifact by the time it was deleted.
type trashRow struct {
	At time.Time
	ID string
}

func newSchema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableArtifacts: {Name: tableArtifacts, Indexes: map[string]*memdb.IndexSchema{
			indexID:   unique(indexID, func(o any) []byte { return idKey(o.(*record).ID) }),
			indexName: unique(indexName, func(o any) []byte { return keyBytes(o.(*record).key) }),
		}},
		tableContains: {Name: tableContains, Indexes: map[string]*memdb.IndexSchema{
			indexID: unique(indexID, func(o any) []byte {
				c := o.(*containsRow)
				return containsKey(c.Parent, c.Child)
			}),
		}},
		tableURIs: {Name: tableURIs, Indexes: map[string]*memdb.IndexSchema{
			indexID: unique(indexID, func(o any) []byte { return bucketKey(o.(*uriBucket).Bucket) }),
		}},
		tableTrash: {Name: tableTrash, Indexes: map[string]*memdb.IndexSchema{
			indexID: unique(indexID, func(o any) []byte {
				t := o.(*trashRow)
				return appendIDKey(timeKey(t.At), t.ID)
			}),
		}},
		// upstream+downstream: a prefix scan by upstream lists downstreams.
		// The edges into an artifact are listed on its record (upstreamSet),
		// so that an edge costs one index entry, not two.
		tableEdges: {Name: tableEdges, Indexes: map[string]*memdb.IndexSchema{
			indexID: unique(indexID, func(o any) []byte {
				e := o.(*Edge)
				return edgeKey(e.Upstream, e.Downstream)
			}),
		}},
		tableTokens: {Name: tableTokens, Indexes: map[string]*memdb.IndexSchema{
			// principal, token: a token is its principal's.
			indexID: unique(indexID, func(o any) []byte {
				t := o.(*tokenRow)
				return tokenKey(t.Request.Principal, t.Token)
			}),
			indexExpires: multiple(indexExpires, func(o any) []byte { return timeKey(o.(*tokenRow).Expires) }),
		}},
	}}
}

func unique(name string, key func(any) []byte) *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: name, Unique: true, Indexer: keyIndexer{key}}
}

// multiple is a non-unique index; go-memdb appends the row's id key to make
// each entry unique.
func multiple(name string, key func(any) []byte) *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: name, Indexer: keyIndexer{key}}
}

// keyIndexer indexes a row by the key its function builds. Lookups pass the
// key bytes themselves, so a read builds its key once and go-memdb converts
// nothing.
type keyIndexer struct{ key func(any) []byte }

func (k keyIndexer) FromObject(o any) (bool, []byte, error) { return true, k.key(o), nil }

func (keyIndexer) FromArgs(args ...any) ([]byte, error) { return keyArg(args) }

func (keyIndexer) PrefixFromArgs(args ...any) ([]byte, error) { return keyArg(args) }

func keyArg(args []any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one key argument, got %d", len(args))
	}
	switch key := args[0].(type) {
	case []byte:
		return key, nil
	case string:
		// Txn.DeletePrefix passes its prefix as a string.
		return []byte(key), nil
	}
	return nil, fmt.Errorf("want a []byte key, got %T", args[0])
}

// idKey returns the 16 bytes of a canonical UUID. IDs are validated before
// they reach an index, so a parse failure is a bug; it yields a key no row
// has rather than a panic.
func idKey(id string) []byte { return appendIDKey(make([]byte, 0, 16), id) }

// appendIDKey appends the key of id to k.
func appendIDKey(k []byte, id string) []byte {
	u, err := uuid.Parse(id)
	if err != nil {
		return append(append(k, "\xffinvalid:"...), id...)
	}
	return append(k, u[:]...)
}

func nameKey(namespace, name, version string) []byte {
	k := make([]byte, 0, len(namespace)+len(name)+len(version)+2)
	k = append(k, namespace...)
	k = append(k, nameSep)
	k = append(k, name...)
	k = append(k, nameSep)
	return append(k, version...)
}

// nameKeyPrefix is the prefix shared by every version of (namespace, name),
// or by every artifact of namespace when name is empty.
func nameKeyPrefix(namespace, name string) []byte {
	k := append([]byte(namespace), nameSep)
	if name != "" {
		k = append(k, name...)
		k = append(k, nameSep)
	}
	return k
}

// timeKey orders times as bytes: big-endian nanoseconds with the sign bit
// flipped, so times before 1970 sort first too.
func timeKey(t time.Time) []byte {
	k := make([]byte, 8, 8+16)
	binary.BigEndian.PutUint64(k, uint64(t.UnixNano())^(1<<63))
	return k
}

func edgeKey(a, b string) []byte { return appendIDKey(appendIDKey(make([]byte, 0, 32), a), b) }

// containsKey is the key of the contains row (parent, child), built in one
// allocation.
func containsKey(parent, child string) []byte {
	return appendIDKey(appendIDKey(make([]byte, 0, 32), parent), child)
}
