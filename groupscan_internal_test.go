package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// childrenOf and edgesOut read many artifacts' rows in one pass and seek
// past gaps of other artifacts' rows; they must answer exactly as one
// lookup per artifact does, whatever the selection: neighbours, gaps
// shorter and longer than maxScanSkip, artifacts with no rows, duplicates
// of order.
func TestGroupScanMatchesLookups(t *testing.T) {
	ctx := WithPrincipal(context.Background(), "tester")
	r, err := New()
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var parents []string
	for i := range 120 {
		a, err := r.Register(ctx, Artifact{Kind: KindModel, Namespace: "n", Name: fmt.Sprintf("p%d", i)})
		require.NoError(t, err)
		parents = append(parents, a.ID)
	}
	// Children in random parents, edges between random artifacts, in
	// random order, so that rows of neighbours interleave.
	all := append([]string(nil), parents...)
	for i := range 600 {
		p := parents[rng.IntN(len(parents))]
		if rng.IntN(4) == 0 {
			p = ""
		}
		a, err := r.Register(ctx, Artifact{Kind: KindModel, Namespace: "n", Name: fmt.Sprintf("c%d", i), Parent: p})
		require.NoError(t, err)
		all = append(all, a.ID)
	}
	for range 900 {
		u, d := all[rng.IntN(len(all))], all[rng.IntN(len(all))]
		_ = r.Link(ctx, u, d) // cycles and duplicates are refused; fine
	}
	require.NoError(t, r.Check())
	txn := r.snapshot()
	for round := range 200 {
		// A selection: a run of neighbours in ID order, or a random pick.
		n := 2 + rng.IntN(100)
		var ids []string
		if round%2 == 0 {
			_, sorted := sortIDs(all)
			from := rng.IntN(len(sorted) - n)
			step := 1 + rng.IntN(80)
			for i := from; i < len(sorted) && len(ids) < n; i += step {
				ids = append(ids, sorted[i])
			}
		} else {
			for _, k := range rng.Perm(len(all))[:n] {
				ids = append(ids, all[k])
			}
		}
		if len(ids) < 2 {
			continue
		}
		kids, err := childrenOf(txn, ids)
		require.NoError(t, err)
		items := make([]*item, len(ids))
		for i, id := range ids {
			items[i] = &item{a: row(txn, id)}
		}
		outs, err := edgesOut(txn, items)
		require.NoError(t, err)
		for i, id := range ids {
			want, err := children(txn, id)
			require.NoError(t, err)
			require.Equal(t, want, kids[i], "children of %s", id)
			wantOut, err := edgesOf(txn, indexID, id)
			require.NoError(t, err)
			require.Equal(t, wantOut, outs[i], "edges out of %s", id)
		}
	}
}

// loadBuckets reads a sorted list of buckets in one pass, seeking past
// gaps; it must answer as one lookup per bucket does.
func TestLoadBucketsMatchesLookups(t *testing.T) {
	ctx := WithPrincipal(context.Background(), "tester")
	r, err := New()
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	var batch []Artifact
	for i := range 3000 {
		batch = append(batch, Artifact{Kind: KindModel, Namespace: "n", Name: fmt.Sprintf("m%d", i),
			StorageURIs: []string{fmt.Sprintf("s3://b/%d", i)}})
	}
	_, err = r.RegisterBatch(ctx, batch)
	require.NoError(t, err)
	txn := r.snapshot()
	for round := range 300 {
		var bs []uint16
		b := rng.IntN(uriBucketCount)
		for n := 1 + rng.IntN(200); n > 0 && b < uriBucketCount; n-- {
			bs = append(bs, uint16(b))
			switch round % 3 {
			case 0:
				b++
			case 1:
				b += 1 + rng.IntN(40)
			default:
				b += 1 + rng.IntN(2000)
			}
			if round%5 == 0 {
				b += rng.IntN(2) * 33 // gaps past the skip limit, but dense on average
			}
		}
		got, err := loadBuckets(txn, bs)
		require.NoError(t, err)
		for i, b := range bs {
			require.Same(t, loadBucket(txn, b), got[i], "bucket %d", b)
		}
	}
}
