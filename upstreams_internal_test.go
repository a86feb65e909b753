package registry

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sortedIDs returns n random canonical IDs, sorted.
func sortedIDs(rng *rand.Rand, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		var u uuid.UUID
		for j := range u {
			u[j] = byte(rng.IntN(256))
		}
		ids[i] = u.String()
	}
	slices.Sort(ids)
	return ids
}

// requireSet checks s against want (sorted): its size, its order, its
// members, and its form (a slice up to maxListedUpstreams, else a tree of at
// least minTreeUpstreams).
func requireSet(t *testing.T, want []string, s upstreamSet, absent []string) {
	t.Helper()
	require.Equal(t, len(want), s.Len())
	got := slices.Collect(s.All())
	if len(want) == 0 {
		require.Empty(t, got)
		require.Nil(t, s.list, "the empty set is the zero value")
		require.Nil(t, s.tree, "the empty set is the zero value")
	} else {
		require.Equal(t, want, got, "in sorted order")
	}
	for _, id := range want {
		require.True(t, s.Contains(id), id)
	}
	for _, id := range absent {
		if !slices.Contains(want, id) {
			require.False(t, s.Contains(id), id)
		}
	}
	if s.tree == nil {
		require.LessOrEqual(t, len(s.list), maxListedUpstreams)
	} else {
		require.Nil(t, s.list)
		require.GreaterOrEqual(t, s.tree.Len(), minTreeUpstreams)
	}
}

// TestUpstreamSetForms walks a set up past the slice bound and back down,
// one ID at a time: a slice up to maxListedUpstreams, a tree beyond, a
// tree down to minTreeUpstreams, a slice again below.
func TestUpstreamSetForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := sortedIDs(rng, 2*maxListedUpstreams)
	order := rng.Perm(len(ids))
	var s upstreamSet
	var want []string
	for k, i := range order {
		s = s.With(ids[i])
		want = append(want, ids[i])
		slices.Sort(want)
		requireSet(t, want, s, ids)
		assert.Equal(t, k+1 > maxListedUpstreams, s.tree != nil, "tree form at %d upstreams", k+1)
	}
	for k, i := range order {
		s = s.Without(ids[i])
		want = slices.DeleteFunc(want, func(id string) bool { return id == ids[i] })
		requireSet(t, want, s, ids)
		left := len(ids) - k - 1
		assert.Equal(t, left >= minTreeUpstreams, s.tree != nil, "tree form at %d upstreams", left)
	}
}

// TestUpstreamSetEdgeCases covers what With and Without do with IDs that
// are there already, IDs that are not, and several at once.
func TestUpstreamSetEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ids := sortedIDs(rng, 100)
	build := func(n int) upstreamSet {
		var s upstreamSet
		for _, id := range ids[:n] {
			s = s.With(id)
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		n       int
		op      func(upstreamSet) upstreamSet
		want    []string
		unequal bool // the result is a new set
	}{
		{"with present, slice", 5, func(s upstreamSet) upstreamSet { return s.With(ids[2]) }, ids[:5], false},
		{"with present, tree", 50, func(s upstreamSet) upstreamSet { return s.With(ids[2]) }, ids[:50], false},
		{"without absent, slice", 5, func(s upstreamSet) upstreamSet { return s.Without(ids[7], ids[8]) }, ids[:5], false},
		{"without nothing", 50, func(s upstreamSet) upstreamSet { return s.Without() }, ids[:50], false},
		{"without from empty", 0, func(s upstreamSet) upstreamSet { return s.Without(ids[0]) }, nil, false},
		{"without repeated", 5, func(s upstreamSet) upstreamSet { return s.Without(ids[1], ids[1], ids[3]) },
			[]string{ids[0], ids[2], ids[4]}, true},
		{"without all, slice", 5, func(s upstreamSet) upstreamSet { return s.Without(ids[:10]...) }, nil, true},
		{"without all, tree", 100, func(s upstreamSet) upstreamSet { return s.Without(ids...) }, nil, true},
		{"tree to slice at once", 100, func(s upstreamSet) upstreamSet { return s.Without(ids[3:]...) }, ids[:3], true},
		{"tree stays a tree", 100, func(s upstreamSet) upstreamSet { return s.Without(ids[minTreeUpstreams:]...) },
			ids[:minTreeUpstreams], true},
		{"non-canonical ID", 50, func(s upstreamSet) upstreamSet { return s.Without("not-an-id") }, ids[:50], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := build(tc.n)
			got := tc.op(s)
			requireSet(t, tc.want, got, ids)
			requireSet(t, ids[:tc.n], s, ids) // the old value is unchanged
			if !tc.unequal {
				assert.Equal(t, s, got)
			}
		})
	}
}

// TestUpstreamSetPersistent applies random changes and checks that every
// earlier value still holds what it held: records share their sets with
// readers of older snapshots.
func TestUpstreamSetPersistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ids := sortedIDs(rng, 300)
	type version struct {
		s    upstreamSet
		want []string
	}
	var history []version
	var s upstreamSet
	var want []string
	for step := range 3000 {
		switch r := rng.IntN(10); {
		case r < 6:
			id := ids[rng.IntN(len(ids))]
			s = s.With(id)
			if !slices.Contains(want, id) {
				want = append(want, id)
				slices.Sort(want)
			}
		default:
			drop := make([]string, 1+rng.IntN(1+len(want)/4))
			for i := range drop {
				drop[i] = ids[rng.IntN(len(ids))]
			}
			s = s.Without(drop...)
			want = slices.DeleteFunc(slices.Clone(want), func(id string) bool { return slices.Contains(drop, id) })
		}
		requireSet(t, want, s, nil)
		if step%100 == 0 {
			history = append(history, version{s, slices.Clone(want)})
		}
	}
	for _, v := range history {
		requireSet(t, v.want, v.s, nil)
	}
}
