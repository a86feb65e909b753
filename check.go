package registry

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"
)

// ErrInconsistent is matched by every problem Check reports.
var ErrInconsistent = errors.New("registry: inconsistent")

// Check walks the whole registry, on one consistent snapshot, and reports
// every broken invariant it finds, joined in one error (nil when there is
// none); each problem matches ErrInconsistent. The invariants:
//
//   - every index entry leads to a stored row with that key, and every row
//     is in every index and side table it belongs to, no more, no fewer;
//   - no two rows share an ID, an FQN or a (namespace, name, version);
//   - every row is valid as Register would accept it, with a revision of at
//     least 1;
//   - a parent exists, and a live artifact's parent is live;
//   - a soft-deleted artifact records when, by whom and by which operation
//     it was deleted, is in the trash at that time, and is not deployed; a
//     live one records no delete;
//   - every lineage edge joins two stored artifacts, and the edges form no
//     cycle;
//   - every idempotency token is indexed by its principal and token and by
//     its expiry, and remembers a well-formed request and its outcome; its
//     target may be gone (a token outlives a hard delete of its target);
//   - no pending cleanup names a URI an artifact still references, except a
//     reclaim warning (Cleanup.ReclaimedBy: referenced again while it was
//     being cleaned), and a reclaim warning names a referenced URI.
//
// Check costs time linear in the size of the registry. Tests call it after
// every randomized step; an application may call it in a health check.
func (r *Registry) Check() error {
	st := r.state.Load()
	c := &checker{txn: st.read}
	c.artifacts()
	c.sideTables()
	c.edges()
	c.tokens(st.tokens)
	c.cleanups()
	return errors.Join(c.problems...)
}

type checker struct {
	txn      *memdb.Txn
	problems []error
	rows     map[string]*record
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Errorf("%w: %s", ErrInconsistent, fmt.Sprintf(format, args...)))
}

// entries lists the rows of an index in key order, one per entry.
func (c *checker) entries(table, index string) []any {
	it, err := c.txn.Get(table, index)
	if err != nil {
		c.fail("index %s.%s cannot be read: %v", table, index, err)
		return nil
	}
	var objs []any
	for o := it.Next(); o != nil; o = it.Next() {
		objs = append(objs, o)
	}
	return objs
}

// indexed checks that key leads to exactly obj in a unique index.
func (c *checker) indexed(table, index string, key []byte, obj any) {
	got, err := c.txn.First(table, index, key)
	if err != nil {
		c.fail("index %s.%s cannot be read: %v", table, index, err)
		return
	}
	if got != obj {
		c.fail("%s.%s entry %x does not lead to its row", table, index, key)
	}
}

// count checks that an index holds exactly want entries.
func (c *checker) count(table, index string, want int) {
	if n := len(c.entries(table, index)); n != want {
		c.fail("index %s.%s has %d entries, want %d", table, index, n, want)
	}
}

func (c *checker) artifacts() {
	objs := c.entries(tableArtifacts, indexID)
	c.rows = make(map[string]*record, len(objs))
	for _, o := range objs {
		a := o.(*record)
		if _, dup := c.rows[a.ID]; dup {
			c.fail("ID %s is stored twice", a.ID)
		}
		c.rows[a.ID] = a
		c.row(a)
	}
	fqns := map[string]string{}
	for _, a := range c.rows {
		if other, dup := fqns[a.FQN()]; dup {
			c.fail("FQN %s is held by %s and %s", a.FQN(), other, a.ID)
		}
		fqns[a.FQN()] = a.ID
		if a.Parent == "" {
			continue
		}
		p, ok := c.rows[a.Parent]
		switch {
		case !ok:
			c.fail("artifact %s (%s) has parent %s, which does not exist", a.ID, a.FQN(), a.Parent)
		case !a.isDeleted() && p.isDeleted():
			c.fail("live artifact %s (%s) sits under soft-deleted parent %s (%s)", a.ID, a.FQN(), p.ID, p.FQN())
		}
	}
	c.count(tableArtifacts, indexName, len(c.rows))
}

// row checks one artifact and its name index entry.
func (c *checker) row(a *record) {
	if checkRow(a, c.fail) {
		c.indexed(tableArtifacts, indexName, keyBytes(a.key), a)
	}
}

// checkRow checks one artifact's own fields, reporting each problem to
// fail; it returns false when the ID is not canonical (nothing else is
// checked then). Check and ReadSnapshot share it.
func checkRow(a *record, fail func(format string, args ...any)) bool {
	if cid, err := checkID("id", a.ID); err != nil || cid != a.ID {
		fail("artifact ID %q is not a canonical UUID", a.ID)
		return false
	}
	in := a.artifact()
	if _, err := prepareNew(&in); err != nil {
		fail("artifact %s is not valid: %v", a.ID, err)
	}
	if a.Revision < 1 {
		fail("artifact %s has revision %d", a.ID, a.Revision)
	}
	if d := a.del; d != nil {
		if d.Operation == "" || d.At.IsZero() || d.By == "" {
			fail("soft-deleted artifact %s (%s) does not record the operation that deleted it", a.ID, a.FQN())
		}
		if a.isDeployed() {
			fail("soft-deleted artifact %s (%s) is deployed to %v", a.ID, a.FQN(), a.endpoints())
		}
	}
	return true
}

// sideTables checks containment, storage URIs and trash against the rows,
// both ways.
func (c *checker) sideTables() {
	want := map[string]int{}
	for _, a := range c.rows {
		if a.Parent != "" {
			want[tableContains]++
			o, _ := c.txn.First(tableContains, indexID, containsKey(a.Parent, a.ID))
			if o == nil {
				c.fail("artifact %s is missing from its parent %s's children", a.ID, a.Parent)
			}
		}
		for _, u := range a.uris() {
			want[tableURIs]++
			if !slices.Contains(owners(c.txn, u), a.ID) {
				c.fail("storage URI %s of %s is not indexed", u, a.ID)
			}
		}
		if a.del != nil {
			want[tableTrash]++
			if o, _ := c.txn.First(tableTrash, indexID, append(timeKey(a.del.At), idKey(a.ID)...)); o == nil {
				c.fail("soft-deleted artifact %s is not in the trash", a.ID)
			}
		}
	}
	for _, o := range c.entries(tableContains, indexID) {
		r := o.(*containsRow)
		if a, ok := c.rows[r.Child]; !ok || a.Parent != r.Parent {
			c.fail("containment entry %s > %s matches no artifact", r.Parent, r.Child)
		}
	}
	refs := 0
	for _, o := range c.entries(tableURIs, indexID) {
		bk := o.(*uriBucket)
		if len(bk.Refs) == 0 && len(bk.Pending) == 0 || !slices.IsSortedFunc(bk.Refs, compareRefs) {
			c.fail("storage URI bucket %d is empty or out of order", bk.Bucket)
		}
		for i, r := range bk.Refs {
			refs++
			if uriBucketOf(r.URI) != bk.Bucket {
				c.fail("storage URI %s sits in bucket %d, not its own", r.URI, bk.Bucket)
			}
			if i > 0 && compareRefs(bk.Refs[i-1], r) == 0 {
				c.fail("storage URI %s of %s is listed twice", r.URI, r.Owner)
			}
			if a, ok := c.rows[r.Owner]; !ok || !slices.Contains(a.uris(), r.URI) {
				c.fail("storage URI entry %s of %s matches no artifact", r.URI, r.Owner)
			}
		}
	}
	if refs != want[tableURIs] {
		c.fail("artifacts reference %d storage URIs, the URI table lists %d", want[tableURIs], refs)
	}
	for _, o := range c.entries(tableTrash, indexID) {
		r := o.(*trashRow)
		if a, ok := c.rows[r.ID]; !ok || a.del == nil || !a.del.At.Equal(r.At) {
			c.fail("trash entry %s at %s matches no soft-deleted artifact", r.ID, r.At)
		}
	}
	for _, t := range []string{tableContains, tableTrash} {
		c.count(t, indexID, want[t])
	}
}

func (c *checker) edges() {
	objs := c.entries(tableEdges, indexID)
	out := map[string][]string{}
	indeg := map[string]int{}
	for _, o := range objs {
		e := o.(*Edge)
		for _, id := range []string{e.Upstream, e.Downstream} {
			if _, ok := c.rows[id]; !ok {
				c.fail("lineage edge %s -> %s touches missing artifact %s", e.Upstream, e.Downstream, id)
			}
		}
		if d, ok := c.rows[e.Downstream]; ok && !d.upstreams().Contains(e.Upstream) {
			c.fail("lineage edge %s -> %s is missing from its downstream's upstreams", e.Upstream, e.Downstream)
		}
		out[e.Upstream] = append(out[e.Upstream], e.Downstream)
		indeg[e.Downstream]++
		if _, ok := indeg[e.Upstream]; !ok {
			indeg[e.Upstream] = 0
		}
	}
	listed := 0
	for _, a := range c.rows {
		ups := a.upstreams()
		listed += ups.Len()
		c.upstreamForm(a)
		prev := ""
		for u := range ups.All() {
			if u <= prev {
				c.fail("artifact %s lists its upstreams out of order or twice (%s after %s)", a.ID, u, prev)
			}
			prev = u
			if o, _ := c.txn.First(tableEdges, indexID, edgeKey(u, a.ID)); o == nil {
				c.fail("artifact %s lists upstream %s, but no such edge is stored", a.ID, u)
			}
		}
	}
	if listed != len(objs) {
		c.fail("artifacts list %d upstreams, but %d lineage edges are stored", listed, len(objs))
	}
	// Kahn's algorithm: whatever is never freed sits on a cycle.
	var ready []string
	for id, n := range indeg {
		if n == 0 {
			ready = append(ready, id)
		}
	}
	freed := 0
	for len(ready) > 0 {
		id := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		freed++
		for _, d := range out[id] {
			if indeg[d]--; indeg[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	if freed != len(indeg) {
		var stuck []string
		for id, n := range indeg {
			if n > 0 {
				stuck = append(stuck, id)
			}
		}
		slices.Sort(stuck)
		c.fail("lineage has a cycle through %d artifacts: %v", len(stuck), stuck)
	}
}

// upstreamForm checks how an artifact's upstream set is stored: a slice
// of at most maxListedUpstreams, or else a tree of at least
// minTreeUpstreams whose every key is its ID's key.
func (c *checker) upstreamForm(a *record) {
	if a.ext == nil || a.ext.upstreamTree == nil {
		if len(a.upstreamList) > maxListedUpstreams {
			c.fail("artifact %s lists %d upstreams in a slice, more than %d", a.ID, len(a.upstreamList), maxListedUpstreams)
		}
		return
	}
	t := a.ext.upstreamTree
	if a.upstreamList != nil || t.Len() < minTreeUpstreams {
		c.fail("artifact %s keeps %d upstreams in a tree and %d in a slice; want a tree of at least %d or a slice only",
			a.ID, t.Len(), len(a.upstreamList), minTreeUpstreams)
	}
	it := t.Root().Iterator()
	for k, v, ok := it.Next(); ok; k, v, ok = it.Next() {
		if id, isID := v.(string); !isID || !bytes.Equal(k, idKey(id)) {
			c.fail("artifact %s keeps upstream %v under key %x, not its own", a.ID, v, k)
		}
	}
}

func (c *checker) tokens(counted int) {
	objs := c.entries(tableTokens, indexID)
	if len(objs) != counted {
		c.fail("the registry counts %d idempotency tokens but stores %d", counted, len(objs))
	}
	for _, o := range objs {
		t := o.(*tokenRow)
		key := tokenKey(t.Request.Principal, t.Token)
		c.indexed(tableTokens, indexID, key, t)
		c.indexedMulti(tableTokens, indexExpires, append(timeKey(t.Expires), key...), t)
		checkTokenRow(t, c.fail)
	}
	c.count(tableTokens, indexExpires, len(objs))
}

// indexedMulti checks an entry of a non-unique index, whose keys go-memdb
// extends with the row's id key.
func (c *checker) indexedMulti(table, index string, key []byte, obj any) {
	it, err := c.txn.Get(table, index+prefix, key)
	if err != nil {
		c.fail("index %s.%s cannot be read: %v", table, index, err)
		return
	}
	if it.Next() != obj {
		c.fail("%s.%s entry %x does not lead to its row", table, index, key)
	}
}

func (c *checker) cleanups() {
	for _, o := range c.entries(tableURIs, indexID) {
		bk := o.(*uriBucket)
		if !slices.IsSortedFunc(bk.Pending, comparePending) {
			c.fail("pending cleanups of bucket %d are out of order", bk.Bucket)
		}
		for i, cl := range bk.Pending {
			if uriBucketOf(cl.URI) != bk.Bucket {
				c.fail("pending cleanup of %s sits in bucket %d, not its own", cl.URI, bk.Bucket)
			}
			if i > 0 && bk.Pending[i-1].URI == cl.URI {
				c.fail("cleanup of %s is pending twice", cl.URI)
			}
			if ref := referenced(c.txn, cl.URI); ref && cl.ReclaimedBy == "" {
				c.fail("pending cleanup of %s would remove an object an artifact still references", cl.URI)
			} else if !ref && cl.ReclaimedBy != "" {
				c.fail("pending cleanup of %s says %s reclaimed it, but no artifact references it", cl.URI, cl.ReclaimedBy)
			}
			if cl.URI == "" || cl.QueuedAt.IsZero() || cl.Operation == "" {
				c.fail("pending cleanup %q does not record what queued it", cl.URI)
			}
		}
	}
}

// checkTokenRow checks one idempotency token's own fields, reporting each
// problem to fail. Check and ReadSnapshot share it.
func checkTokenRow(t *tokenRow, fail func(format string, args ...any)) {
	q := &t.Request
	if t.Token == "" || checkToken(t.Token) != nil {
		fail("token %q is malformed", t.Token)
	}
	if q.Principal == "" || checkText("principal", q.Principal, MaxNameLength, false) != nil {
		fail("token %q belongs to a malformed principal %q", t.Token, q.Principal)
	}
	if !t.Expires.After(t.Created) {
		fail("token %q of %s expires at %v, not after it was stored at %v", t.Token, q.Principal, t.Expires, t.Created)
	}
	// The target may be gone since: a token outlives a hard delete of
	// its target.
	if cid, err := checkID("target", t.Target); err != nil || cid != t.Target {
		fail("token %q of %s targets %q, not a canonical ID", t.Token, q.Principal, t.Target)
	}
	switch {
	case q.Call == callDelete && (t.Result == nil || t.Restored != nil || t.RestoredAll != nil || len(t.Result.Deleted) == 0 || t.Result.Replayed):
		fail("token %q of %s remembers a delete without the result of a delete that deleted something", t.Token, q.Principal)
	case q.Call == callRestore && (t.Restored == nil || t.Result != nil || t.RestoredAll != nil || t.Restored.ID != t.Target):
		fail("token %q of %s remembers a restore without the artifact it restored", t.Token, q.Principal)
	case q.Call == callRestoreOperation && (len(t.RestoredAll) == 0 || t.Result != nil || t.Restored != nil || t.RestoredAll[0].ID != t.Target):
		fail("token %q of %s remembers a restore of an operation without the artifacts it restored", t.Token, q.Principal)
	case q.Call != callDelete && q.Call != callRestore && q.Call != callRestoreOperation:
		fail("token %q of %s remembers an unknown call %v", t.Token, q.Principal, q.Call)
	}
	if q.Call != callDelete && (q.Hard || q.Recursive || q.Cascade || q.Atomic || q.Limit != 0 || q.Lineage != LineageRestrict) {
		fail("token %q of %s remembers a restore with delete options: %+v", t.Token, q.Principal, *q)
	}
	if (q.Limit != 0) != q.Cascade || q.Limit < 0 {
		fail("token %q of %s remembers cascade %t with limit %d", t.Token, q.Principal, q.Cascade, q.Limit)
	}
}
