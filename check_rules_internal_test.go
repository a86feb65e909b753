package registry

import (
	"context"
	"math/rand/v2"
	"testing"

	iradix "github.com/hashicorp/go-immutable-radix"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckReportsRowsBreakingTheRules stores rows that no call would
// store, bypassing validation, and checks that Check reports each: the
// identifier rules (format characters, NFC) and the form of an upstream
// set.
func TestCheckReportsRowsBreakingTheRules(t *testing.T) {
	ids := sortedIDs(rand.New(rand.NewPCG(8, 9)), maxListedUpstreams+1)
	for _, tc := range []struct {
		name    string
		corrupt func(c *record)
		want    string
	}{
		{"format character in a name", func(c *record) { c.setName(c.namespace(), "a\u202eb", c.version()) }, "U+202E"},
		{"zero-width space in a version", func(c *record) { c.setName(c.namespace(), c.name(), "1\u200b") }, "U+200B"},
		{"decomposed namespace", func(c *record) { c.setName("cafe\u0301", c.name(), c.version()) }, "NFC"},
		{"byte order mark in a tag", func(c *record) {
			c.lists, c.nTags, c.nOwners, c.nURIs = []string{"\ufefftag"}, 1, 0, 0
		}, "U+FEFF"},
		{"too many upstreams in a slice", func(c *record) { c.upstreamList = ids }, "more than 32"},
		{"a small tree", func(c *record) {
			tree, _, _ := iradix.New().Insert(idKey(ids[0]), ids[0])
			c.ext = &extra{upstreamTree: tree}
		}, "want a tree of at least"},
		{"a tree entry under another key", func(c *record) {
			txn := iradix.New().Txn()
			for _, id := range ids {
				txn.Insert(idKey(id), id)
			}
			txn.Insert(idKey(ids[0]), ids[1])
			c.ext = &extra{upstreamTree: txn.CommitOnly()}
		}, "not its own"},
		{"upstreams out of order", func(c *record) { c.upstreamList = []string{ids[1], ids[0]} }, "out of order"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := New()
			require.NoError(t, err)
			ctx := context.Background()
			a, err := r.Register(ctx, Artifact{Kind: KindModel, Namespace: "svc", Name: "m", Version: "1", Tags: []string{"tag"}})
			require.NoError(t, err)
			require.NoError(t, r.Check())
			_, err = r.write(ctx, "", func(w *writeTxn) error {
				old := row(w.Txn, a.ID)
				c := copyRecord(old)
				tc.corrupt(c)
				return w.replace(old, c)
			})
			require.NoError(t, err)
			err = r.Check()
			require.ErrorIs(t, err, ErrInconsistent)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
