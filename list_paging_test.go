package registry_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// pagingFixture registers a parent "svc.::p" with 25 children m00..m24 in
// namespace svc, every third one soft deleted, plus unrelated artifacts in
// the same namespace and elsewhere that the Parent filter must skip.
func pagingFixture(t *testing.T) (*registrytest.Fixture, registry.Artifact) {
	f := registrytest.NewEmpty(t)
	p := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "::p"})
	f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m05x"})
	f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "other", Name: "m01"})
	for i := range 25 {
		a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: fmt.Sprintf("m%02d", i), Parent: p.ID})
		if i%3 == 0 {
			_, err := f.Delete(f.Ctx, a.ID)
			require.NoError(t, err)
		}
	}
	return f, p
}

func names(items []registry.Artifact) []string {
	out := []string{}
	for _, a := range items {
		out = append(out, a.Name)
	}
	return out
}

// TestListPagesBothWays walks every page forward by Next and back by Prev
// and checks that the pages are the same, that the first page has no Prev
// and the last no Next, and that Count agrees with the items seen.
func TestListPagesBothWays(t *testing.T) {
	f, p := pagingFixture(t)
	for _, inc := range []registry.Include{registry.IncludeNonDeleted, registry.IncludeDeleted, registry.IncludeAll} {
		for _, limit := range []int{1, 3, 7, 100} {
			t.Run(fmt.Sprintf("%s/%d", inc, limit), func(t *testing.T) {
				filter := registry.Filter{Namespace: "svc", Parent: p.ID, Include: inc, Limit: limit}
				var forward [][]string
				var pages []registry.Page
				fl := filter
				for {
					page, err := f.List(f.Ctx, fl)
					require.NoError(t, err)
					forward = append(forward, names(page.Items))
					pages = append(pages, page)
					if page.Next == "" {
						break
					}
					fl.Cursor = page.Next
					require.Less(t, len(pages), 100)
				}
				assert.Empty(t, pages[0].Prev, "no Prev on the first page")
				var seen []string
				for i, pg := range pages {
					seen = append(seen, names(pg.Items)...)
					if i > 0 {
						assert.NotEmpty(t, pg.Prev, "page %d has a Prev", i)
					}
				}
				n, err := f.Count(f.Ctx, filter)
				require.NoError(t, err)
				assert.Equal(t, len(seen), n)
				for _, name := range seen {
					assert.NotEqual(t, "m05x", name)
				}
				// Back from the last page.
				var backward [][]string
				bl := filter
				page := pages[len(pages)-1]
				backward = append(backward, names(page.Items))
				for page.Prev != "" {
					bl.Before, bl.Cursor = page.Prev, ""
					var err error
					page, err = f.List(f.Ctx, bl)
					require.NoError(t, err)
					assert.NotEmpty(t, page.Next, "a page reached backward has a Next")
					backward = append([][]string{names(page.Items)}, backward...)
					require.Less(t, len(backward), 100)
				}
				assert.Equal(t, forward, backward)
			})
		}
	}
}

func TestListCursorAtAndBefore(t *testing.T) {
	f, p := pagingFixture(t)
	filter := registry.Filter{Namespace: "svc", Parent: p.ID, Limit: 3}

	filter.Before = registry.CursorAt("svc", "m10", "")
	page, err := f.List(f.Ctx, filter)
	require.NoError(t, err)
	assert.Equal(t, []string{"m05", "m07", "m08"}, names(page.Items))
	assert.NotEmpty(t, page.Prev)
	assert.NotEmpty(t, page.Next)

	filter.Before, filter.Cursor = "", registry.CursorAt("svc", "m10", "")
	page, err = f.List(f.Ctx, filter)
	require.NoError(t, err)
	assert.Equal(t, []string{"m11", "m13", "m14"}, names(page.Items))

	filter.Before, filter.Cursor = registry.CursorAt("svc", "m02", ""), ""
	page, err = f.List(f.Ctx, filter)
	require.NoError(t, err)
	assert.Equal(t, []string{"m01"}, names(page.Items))
	assert.Empty(t, page.Prev, "nothing before the first match")

	n, err := f.Count(f.Ctx, registry.Filter{Namespace: "svc", Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Equal(t, 27, n)
	n, err = f.Count(f.Ctx, registry.Filter{Name: "m01", Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Equal(t, 2, n, "a name across namespaces")
}

func TestListRejectsBadPaging(t *testing.T) {
	f, p := pagingFixture(t)
	cases := []struct {
		filter registry.Filter
		field  string
	}{
		{registry.Filter{Cursor: registry.CursorAt("svc", "a", ""), Before: registry.CursorAt("svc", "b", "")}, "cursor"},
		{registry.Filter{Before: "!!"}, "cursor"},
		{registry.Filter{Namespace: "svc", Before: registry.CursorAt("other", "a", "")}, "cursor"},
		{registry.Filter{Parent: "not-a-uuid"}, "parent"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c.filter), func(t *testing.T) {
			_, err := f.List(f.Ctx, c.filter)
			coreInvalid(t, err, c.field)
			_, err = f.Count(f.Ctx, c.filter)
			if c.field != "cursor" {
				coreInvalid(t, err, c.field)
			}
		})
	}
	_ = p
}
