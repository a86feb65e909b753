package registry

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/go-memdb"
)

// The storage-URI table answers one question: which artifacts reference a
// URI (so that a hard delete cleans only objects nobody else uses). A row per
// reference would cost a radix leaf each, about 380 bytes with go-memdb's
// per-node channels, for every URI of every artifact. Instead the URIs are
// hashed into 65,536 buckets, one row each, holding their references in
// order; a lookup reads one small row, and a million URIs cost about 32
// bytes each plus 30 MB of buckets. Bucket keys are four nibbles, so that no
// radix node on their paths is wider than 16 edges (a write copies every
// node on its path, edges included).

const uriBucketCount = 1 << 16

// uriBucket is one row of the URI table: every reference to the URIs that
// hash to the bucket, and those of its URIs that no artifact references any
// more and whose objects wait for the cleaner. A URI is referenced or
// pending, never both, except for a reclaim warning: a URI referenced again
// while the cleaner was working on it stays pending with ReclaimedBy set for
// as long as it is referenced, and is never handed to the cleaner meanwhile.
type uriBucket struct {
	Bucket  uint16
	Refs    []uriRef   // sorted by URI, then Owner
	Pending []*Cleanup // sorted by URI
}

func comparePending(a, b *Cleanup) int { return compareCleanups(*a, *b) }

// compareCleanups orders cleanups by URI, as every list of them is.
func compareCleanups(a, b Cleanup) int { return strings.Compare(a.URI, b.URI) }

// findPending finds uri in a bucket's pending list, without allocating a
// search key.
func findPending(pending []*Cleanup, uri string) (int, bool) {
	return slices.BinarySearchFunc(pending, uri, func(c *Cleanup, uri string) int { return strings.Compare(c.URI, uri) })
}

// uriRef says that Owner references the storage object URI.
type uriRef struct{ URI, Owner string }

func compareRefs(a, b uriRef) int {
	if c := strings.Compare(a.URI, b.URI); c != 0 {
		return c
	}
	return strings.Compare(a.Owner, b.Owner)
}

// uriBucketOf hashes a URI (FNV-1a, folded to 16 bits).
func uriBucketOf(uri string) uint16 {
	h := uint32(2166136261)
	for i := 0; i < len(uri); i++ {
		h ^= uint32(uri[i])
		h *= 16777619
	}
	return uint16(h ^ h>>16)
}

func bucketKey(b uint16) []byte {
	return []byte{byte(b >> 12), byte(b >> 8 & 0xf), byte(b >> 4 & 0xf), byte(b & 0xf)}
}

func loadBucket(txn *memdb.Txn, b uint16) *uriBucket {
	o, err := txn.First(tableURIs, indexID, bucketKey(b))
	if err != nil || o == nil {
		return nil
	}
	return o.(*uriBucket)
}

// owners lists the artifacts that reference uri.
func owners(txn *memdb.Txn, uri string) []string {
	bk := loadBucket(txn, uriBucketOf(uri))
	if bk == nil {
		return nil
	}
	return bucketOwners(bk, uri)
}

// bucketOwners lists the artifacts that reference uri, in ID order, from
// uri's bucket.
func bucketOwners(bk *uriBucket, uri string) []string {
	i, _ := slices.BinarySearchFunc(bk.Refs, uriRef{URI: uri}, compareRefs)
	var out []string
	for ; i < len(bk.Refs) && bk.Refs[i].URI == uri; i++ {
		out = append(out, bk.Refs[i].Owner)
	}
	return out
}

// referenced reports whether any artifact references the storage URI.
func referenced(txn *memdb.Txn, uri string) bool { return len(owners(txn, uri)) > 0 }

// changeRefs adds and removes references, one row write per bucket
// touched, in key order; it reads every bucket it needs before it writes
// any (see replaceAll). A URI whose last reference goes becomes pending in
// the same row, and is handed to the cleaner once the transaction commits;
// a pending URI that is referenced again is taken off (its object is owned
// again, no longer an orphan), unless it is a reclaim warning (ReclaimedBy),
// which stays until its last reference goes and is then queued afresh.
func (w *writeTxn) changeRefs(add, remove []uriRef) error {
	if len(add) == 0 && len(remove) == 0 {
		return nil
	}
	type delta struct{ add, remove []uriRef }
	deltas := map[uint16]*delta{}
	at := func(u string) *delta {
		b := uriBucketOf(u)
		d := deltas[b]
		if d == nil {
			d = &delta{}
			deltas[b] = d
		}
		return d
	}
	for _, r := range add {
		d := at(r.URI)
		d.add = append(d.add, r)
	}
	for _, r := range remove {
		d := at(r.URI)
		d.remove = append(d.remove, r)
	}
	buckets := slices.Sorted(maps.Keys(deltas))
	olds := make([]*uriBucket, len(buckets))
	for i, b := range buckets {
		olds[i] = loadBucket(w.Txn, b)
	}
	for i, b := range buckets {
		next, err := w.changeBucket(b, olds[i], deltas[b].add, deltas[b].remove)
		if err != nil {
			return err
		}
		switch {
		case next != nil:
			err = w.Insert(tableURIs, next)
		case olds[i] != nil:
			err = w.Delete(tableURIs, olds[i])
		}
		if err != nil {
			return fmt.Errorf("registry: storage URI bucket %d: %w", b, err)
		}
	}
	return nil
}

// changeBucket returns the next version of a bucket (nil when it is left
// empty), with the references changed and the pending list brought in
// line with them.
func (w *writeTxn) changeBucket(b uint16, old *uriBucket, add, remove []uriRef) (*uriBucket, error) {
	var refs []uriRef
	var pending []*Cleanup
	if old != nil {
		// Room for the additions up front: the row keeps this array for as
		// long as it lives, and growing a clone would leave up to half of
		// it unused (a bucket holds about 16 references at a million URIs).
		if n := len(old.Refs) + len(add); n > 0 {
			refs = append(make([]uriRef, 0, n), old.Refs...)
		}
		pending = slices.Clone(old.Pending)
	} else if len(add) > 0 {
		refs = make([]uriRef, 0, len(add))
	}
	lost := map[string]string{} // URI -> the owner that dropped it last
	for _, r := range remove {
		j, found := slices.BinarySearchFunc(refs, r, compareRefs)
		if !found {
			return nil, fmt.Errorf("registry: %s does not reference %s", r.Owner, r.URI)
		}
		refs = slices.Delete(refs, j, j+1)
		lost[r.URI] = r.Owner
	}
	for _, r := range add {
		j, found := slices.BinarySearchFunc(refs, r, compareRefs)
		if found {
			return nil, fmt.Errorf("registry: %s references %s already", r.Owner, r.URI)
		}
		refs = slices.Insert(refs, j, r)
		if k, queued := findPending(pending, r.URI); queued && pending[k].ReclaimedBy == "" {
			pending = slices.Delete(pending, k, k+1) // owned again
		}
	}
	for uri, owner := range lost {
		if i, _ := slices.BinarySearchFunc(refs, uriRef{URI: uri}, compareRefs); i < len(refs) && refs[i].URI == uri {
			continue // still referenced
		}
		k, queued := findPending(pending, uri)
		c := &Cleanup{URI: uri, ArtifactID: owner, Operation: w.op, QueuedAt: w.now}
		switch {
		case !queued:
			pending = slices.Insert(pending, k, c)
		case pending[k].ReclaimedBy != "":
			pending[k] = c // a reclaim warning whose last reference went: an orphan again
		default:
			continue
		}
		if w.cleaner {
			w.cleanups = append(w.cleanups, *c) // to hand to the cleaner after the commit
		}
	}
	if len(refs) == 0 && len(pending) == 0 {
		return nil, nil
	}
	return &uriBucket{Bucket: b, Refs: slices.Clip(refs), Pending: slices.Clip(pending)}, nil
}

// pendingCleanups lists every pending cleanup, in URI order.
func pendingCleanups(txn *memdb.Txn) ([]Cleanup, error) {
	it, err := txn.Get(tableURIs, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: storage URIs: %w", err)
	}
	var out []Cleanup
	for o := it.Next(); o != nil; o = it.Next() {
		for _, c := range o.(*uriBucket).Pending {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, compareCleanups)
	return out, nil
}

// allRefs lists every reference, bucket by bucket.
func allRefs(txn *memdb.Txn) ([]uriRef, error) {
	it, err := txn.Get(tableURIs, indexID)
	if err != nil {
		return nil, fmt.Errorf("registry: storage URIs: %w", err)
	}
	var out []uriRef
	for o := it.Next(); o != nil; o = it.Next() {
		out = append(out, o.(*uriBucket).Refs...)
	}
	return out, nil
}
