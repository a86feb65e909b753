package registry

import (
	"iter"
	"slices"

	iradix "github.com/hashicorp/go-immutable-radix"
)

// The upstreams of an artifact (the lineage edges into it) are an immutable
// set of IDs, since records are shared with readers of older snapshots: a
// change makes a new set. Most artifacts have none or a few, kept as a
// sorted slice on the record, which costs no more than the IDs. Linking one
// more upstream would copy that slice, so an artifact with many (a model
// trained on thousands of datasets) would make every Link cost its fan-in;
// past maxListedUpstreams the set is a persistent radix tree instead, keyed
// by the 16-byte UUID key (so that key order is the IDs' sorted string
// order), where a change copies O(log n) nodes. It goes back to a slice when
// it shrinks to half that, so that a fan-in that hovers around the bound
// does not convert at every change.
const (
	maxListedUpstreams = 32
	minTreeUpstreams   = maxListedUpstreams/2 + 1
)

// upstreamSet is a set of upstream IDs, iterated in sorted order. The zero
// value is the empty set. Exactly one of list and tree holds the IDs: list
// (sorted, at most maxListedUpstreams) while tree is nil, else tree (idKey
// to the ID string, at least minTreeUpstreams entries). A value is never
// modified: With and Without return new sets, sharing what they can.
type upstreamSet struct {
	list []string
	tree *iradix.Tree
}

// Len is the number of upstreams.
func (s upstreamSet) Len() int {
	if s.tree != nil {
		return s.tree.Len()
	}
	return len(s.list)
}

// Contains reports whether id is in the set.
func (s upstreamSet) Contains(id string) bool {
	if s.tree != nil {
		_, ok := s.tree.Get(idKey(id))
		return ok
	}
	_, ok := slices.BinarySearch(s.list, id)
	return ok
}

// All yields the upstream IDs in sorted order.
func (s upstreamSet) All() iter.Seq[string] {
	return func(yield func(string) bool) {
		if s.tree == nil {
			for _, id := range s.list {
				if !yield(id) {
					return
				}
			}
			return
		}
		it := s.tree.Root().Iterator()
		for _, v, ok := it.Next(); ok; _, v, ok = it.Next() {
			if !yield(v.(string)) {
				return
			}
		}
	}
}

// With returns the set with id added (s itself when id is in it already).
// The ID string is kept as given: pass the stored one, so that it is shared.
func (s upstreamSet) With(id string) upstreamSet {
	if s.tree != nil {
		k := idKey(id)
		if _, found := s.tree.Get(k); found {
			return s
		}
		t, _, _ := s.tree.Insert(k, id)
		return upstreamSet{tree: t}
	}
	i, found := slices.BinarySearch(s.list, id)
	if found {
		return s
	}
	if len(s.list) < maxListedUpstreams {
		return upstreamSet{list: slices.Insert(slices.Clip(s.list), i, id)}
	}
	txn := iradix.New().Txn()
	for _, u := range s.list {
		txn.Insert(idKey(u), u)
	}
	txn.Insert(idKey(id), id)
	return upstreamSet{tree: txn.CommitOnly()}
}

// Without returns the set less ids (s itself when none of them is in it),
// in time linear in len(ids), whatever the size of the set.
func (s upstreamSet) Without(ids ...string) upstreamSet {
	if len(ids) == 0 || s.Len() == 0 {
		return s
	}
	if s.tree != nil {
		txn := s.tree.Txn()
		for _, id := range ids {
			txn.Delete(idKey(id))
		}
		t := txn.CommitOnly()
		if t.Len() >= minTreeUpstreams {
			return upstreamSet{tree: t}
		}
		return upstreamSet{list: slices.AppendSeq(make([]string, 0, t.Len()), upstreamSet{tree: t}.All())}.orEmpty()
	}
	drop := make([]bool, len(s.list))
	n := 0
	for _, id := range ids {
		if i, ok := slices.BinarySearch(s.list, id); ok && !drop[i] {
			drop[i] = true
			n++
		}
	}
	if n == 0 {
		return s
	}
	list := make([]string, 0, len(s.list)-n)
	for i, id := range s.list {
		if !drop[i] {
			list = append(list, id)
		}
	}
	return upstreamSet{list: list}.orEmpty()
}

// orEmpty makes an empty set the zero value, whose list is nil.
func (s upstreamSet) orEmpty() upstreamSet {
	if s.Len() == 0 {
		return upstreamSet{}
	}
	return s
}

// upstreams returns the artifact's upstream set.
func (r *record) upstreams() upstreamSet {
	if r.ext != nil && r.ext.upstreamTree != nil {
		return upstreamSet{tree: r.ext.upstreamTree}
	}
	return upstreamSet{list: r.upstreamList}
}

// setUpstreams replaces the artifact's upstream set. r must be a copy that
// is not stored yet; its out-of-line block is replaced, never changed.
func (r *record) setUpstreams(s upstreamSet) {
	r.upstreamList = s.list
	r.ext = newExtra(r.endpoints(), r.deletedUpstreams(), s.tree)
}
