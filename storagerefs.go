package registry

import (
	"fmt"
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

// bucketKey returns the key of bucket b, shared and capped (go-memdb and
// go-immutable-radix never modify a key, and an append copies): a bucket
// write builds its key three times, and a hard delete of 10k artifacts
// writes about as many buckets.
func bucketKey(b uint16) []byte {
	i := 4 * int(b)
	return bucketKeys[i : i+4 : i+4]
}

// bucketKeys holds every bucket's key back to back (256 KiB).
var bucketKeys = func() []byte {
	k := make([]byte, 0, 4*uriBucketCount)
	for b := range uriBucketCount {
		k = append(k, byte(b>>12), byte(b>>8&0xf), byte(b>>4&0xf), byte(b&0xf))
	}
	return k
}()

func loadBucket(txn *memdb.Txn, b uint16) *uriBucket {
	o, err := txn.First(tableURIs, indexID, bucketKey(b))
	if err != nil || o == nil {
		return nil
	}
	return o.(*uriBucket)
}

// loadBuckets reads the buckets bs (ascending), nil for one not stored;
// when they are dense, with one iterator walking through neighbours and
// seeking afresh only past a gap of more than maxScanSkip stored buckets: a hard delete of 10k
// artifacts touches about as many of the 65,536 buckets, and a lookup
// each costs a read transaction and a walk from the root.
func loadBuckets(txn *memdb.Txn, bs []uint16) ([]*uriBucket, error) {
	out := make([]*uriBucket, len(bs))
	// Sparse buckets (a few URIs) are cheaper to look up one by one: a
	// seek allocates more than a lookup.
	if len(bs) < 4 || int(bs[len(bs)-1])-int(bs[0]) > maxScanSkip*len(bs) {
		for i, b := range bs {
			out[i] = loadBucket(txn, b)
		}
		return out, nil
	}
	var it memdb.ResultIterator
	var cur *uriBucket
	seek := func(b uint16) error {
		var err error
		if it, err = txn.LowerBound(tableURIs, indexID, bucketKey(b)); err != nil {
			return fmt.Errorf("registry: storage URI buckets from %d: %w", b, err)
		}
		cur, _ = it.Next().(*uriBucket)
		return nil
	}
	for i, b := range bs {
		if it == nil {
			if err := seek(b); err != nil {
				return nil, err
			}
		}
		for skipped := 0; cur != nil && cur.Bucket < b; {
			if skipped++; skipped > maxScanSkip {
				if err := seek(b); err != nil {
					return nil, err
				}
				break
			}
			cur, _ = it.Next().(*uriBucket)
		}
		if cur != nil && cur.Bucket == b {
			out[i] = cur
		}
	}
	return out, nil
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
	// One list sorted by bucket, each bucket's removals before its
	// additions (in their given order): no map or list per bucket.
	type delta struct {
		bucket uint16
		add    bool
		i      int // index into add or remove
	}
	deltas := make([]delta, 0, len(add)+len(remove))
	for i, r := range remove {
		deltas = append(deltas, delta{uriBucketOf(r.URI), false, i})
	}
	for i, r := range add {
		deltas = append(deltas, delta{uriBucketOf(r.URI), true, i})
	}
	slices.SortFunc(deltas, func(a, b delta) int {
		if a.bucket != b.bucket {
			return int(a.bucket) - int(b.bucket)
		}
		if a.add != b.add {
			if a.add {
				return 1
			}
			return -1
		}
		return a.i - b.i
	})
	type span struct {
		bucket       uint16
		from, to, at int // deltas[from:to], additions from at
	}
	var spans []span
	for i := 0; i < len(deltas); {
		j, at := i, -1
		for ; j < len(deltas) && deltas[j].bucket == deltas[i].bucket; j++ {
			if deltas[j].add && at < 0 {
				at = j
			}
		}
		if at < 0 {
			at = j
		}
		spans = append(spans, span{deltas[i].bucket, i, j, at})
		i = j
	}
	buckets := make([]uint16, len(spans))
	for i, sp := range spans {
		buckets[i] = sp.bucket
	}
	olds, err := loadBuckets(w.Txn, buckets)
	if err != nil {
		return err
	}
	var adds, removes []uriRef // reused per bucket
	for i, sp := range spans {
		removes, adds = removes[:0], adds[:0]
		for _, d := range deltas[sp.from:sp.at] {
			removes = append(removes, remove[d.i])
		}
		for _, d := range deltas[sp.at:sp.to] {
			adds = append(adds, add[d.i])
		}
		next, err := w.changeBucket(sp.bucket, olds[i], adds, removes)
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
			return fmt.Errorf("registry: storage URI bucket %d: %w", sp.bucket, err)
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
		refs = make([]uriRef, len(old.Refs), len(old.Refs)+len(add))
		copy(refs, old.Refs)
		pending = old.Pending // copied before its first change
	} else if len(add) > 0 {
		refs = make([]uriRef, 0, len(add))
	}
	copied := false
	changePending := func() {
		if !copied {
			pending = append(make([]*Cleanup, 0, len(pending)+len(remove)), pending...)
			copied = true
		}
	}
	// URI -> the owner that dropped it last, in the order of the first
	// drop: a bucket holds few URIs, so a list beats a map.
	type loss struct{ uri, owner string }
	var lostBuf [4]loss // most buckets lose one URI or two: no allocation
	lost := lostBuf[:0]
	for _, r := range remove {
		j, found := slices.BinarySearchFunc(refs, r, compareRefs)
		if !found {
			return nil, fmt.Errorf("registry: %s does not reference %s", r.Owner, r.URI)
		}
		refs = slices.Delete(refs, j, j+1)
		if k := slices.IndexFunc(lost, func(l loss) bool { return l.uri == r.URI }); k >= 0 {
			lost[k].owner = r.Owner
		} else {
			lost = append(lost, loss{r.URI, r.Owner})
		}
	}
	for _, r := range add {
		j, found := slices.BinarySearchFunc(refs, r, compareRefs)
		if found {
			return nil, fmt.Errorf("registry: %s references %s already", r.Owner, r.URI)
		}
		refs = slices.Insert(refs, j, r)
		if k, queued := findPending(pending, r.URI); queued && pending[k].ReclaimedBy == "" {
			changePending()
			pending = slices.Delete(pending, k, k+1) // owned again
		}
	}
	for _, l := range lost {
		if i, _ := slices.BinarySearchFunc(refs, uriRef{URI: l.uri}, compareRefs); i < len(refs) && refs[i].URI == l.uri {
			continue // still referenced
		}
		k, queued := findPending(pending, l.uri)
		c := &Cleanup{URI: l.uri, ArtifactID: l.owner, Operation: w.op, QueuedAt: w.now}
		switch {
		case !queued:
			changePending()
			pending = slices.Insert(pending, k, c)
		case pending[k].ReclaimedBy != "":
			changePending()
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
	if len(refs) == 0 {
		refs = nil
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
