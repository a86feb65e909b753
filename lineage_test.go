package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// coreGraph is a small lineage graph:
//
//	d1 -> m1 -> m2 -> m3
//	      d2 -> m2 -> x
type coreGraph struct {
	*registrytest.Fixture
	byName map[string]registry.Artifact
	names  map[string]string // ID -> short name
}

func coreNewGraph(t *testing.T) *coreGraph {
	f := registrytest.NewEmpty(t)
	g := &coreGraph{Fixture: f, byName: map[string]registry.Artifact{}, names: map[string]string{}}
	for _, a := range []struct {
		short string
		kind  registry.Kind
		name  string
	}{
		{"d1", registry.KindDataset, "d1"},
		{"d2", registry.KindDataset, "d2"},
		{"m1", registry.KindModel, "m1"},
		{"m2", registry.KindModel, "m2"},
		{"m3", registry.KindModel, "m3"},
		{"x", registry.KindCode, "x"},
	} {
		got := f.MustRegister(t, registry.Artifact{Kind: a.kind, Namespace: "lin", Name: a.name, Version: "1"})
		g.byName[a.short] = got
		g.names[got.ID] = a.short
	}
	for _, e := range [][2]string{{"d1", "m1"}, {"m1", "m2"}, {"m2", "m3"}, {"d2", "m2"}, {"m2", "x"}} {
		f.MustLink(t, g.id(e[0]), g.id(e[1]))
	}
	return g
}

func (g *coreGraph) id(short string) string { return g.byName[short].ID }

func (g *coreGraph) fqn(short string) string { return g.byName[short].FQN() }

// short renders a lineage read as short node names and "up->down" edges.
func (g *coreGraph) short(lg registry.LineageGraph) (nodes []string, edges []string) {
	nodes, edges = []string{}, []string{}
	for _, n := range lg.Nodes {
		nodes = append(nodes, g.names[n.ID])
	}
	for _, e := range lg.Edges {
		edges = append(edges, g.names[e.Upstream]+"->"+g.names[e.Downstream])
	}
	return nodes, edges
}

func TestLinkAndUnlink(t *testing.T) {
	f := registrytest.NewEmpty(t)
	ds := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: "svc", Name: "ds", Version: "1"})
	m := f.MustRegister(t, coreModel("svc", "m", "1"))
	at := f.Clock.Advance(time.Minute)
	bob := registry.WithPrincipal(context.Background(), "bob")

	require.NoError(t, f.Link(bob, ds.ID, m.ID))
	lg, err := f.Lineage(f.Ctx, ds.ID, registry.Downstream, 1)
	require.NoError(t, err)
	assert.Equal(t, ds, lg.Root)
	assert.Equal(t, []registry.Artifact{m}, lg.Nodes)
	assert.Equal(t, []registry.Edge{{Upstream: ds.ID, Downstream: m.ID, CreatedAt: at, CreatedBy: "bob"}}, lg.Edges)
	lg, err = f.Lineage(f.Ctx, m.ID, registry.Upstream, 1)
	require.NoError(t, err)
	assert.Equal(t, []registry.Artifact{ds}, lg.Nodes)
	assert.Equal(t, ds, f.MustGet(t, ds.ID), "linking does not change the artifacts")
	assert.Equal(t, m, f.MustGet(t, m.ID))

	t.Run("duplicate", func(t *testing.T) {
		err := f.Link(f.Ctx, ds.ID, m.ID)
		coreErr(t, err, registry.ErrAlreadyExists)
		err = f.Link(f.Ctx, strings.ToUpper(ds.ID), m.ID)
		coreErr(t, err, registry.ErrAlreadyExists)
	})

	require.NoError(t, f.Unlink(f.Ctx, ds.ID, m.ID))
	lg, err = f.Lineage(f.Ctx, ds.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
	require.NoError(t, err)
	assert.Empty(t, lg.Nodes)
	assert.Empty(t, lg.Edges)

	t.Run("unlink a missing edge", func(t *testing.T) {
		err := f.Unlink(f.Ctx, ds.ID, m.ID)
		coreErr(t, err, registry.ErrNotFound)
		err = f.Unlink(f.Ctx, m.ID, ds.ID)
		coreErr(t, err, registry.ErrNotFound)
	})

	// The reverse edge is fine once the first is gone.
	require.NoError(t, f.Link(f.Ctx, m.ID, ds.ID))
}

func TestLinkRejectsBadEnds(t *testing.T) {
	f := registrytest.New(t)
	gone := f.MustRegister(t, coreModel(registrytest.Namespace, "gone", "1"))
	coreSoftDelete(t, f, gone.ID)
	missing := uuid.NewString()

	cases := []struct {
		desc     string
		up, down string
		want     error
		field    string
		id       string
		msg      string
	}{
		{"upstream missing", missing, f.Code.ID, registry.ErrNotFound, "", missing, missing},
		{"downstream missing", f.Code.ID, missing, registry.ErrNotFound, "", missing, missing},
		{"upstream soft deleted", gone.ID, f.Code.ID, registry.ErrNotFound, "", gone.ID, "soft deleted"},
		{"downstream soft deleted", f.Code.ID, gone.ID, registry.ErrNotFound, "", gone.ID, "soft deleted"},
		{"upstream malformed", "x", f.Code.ID, registry.ErrInvalid, "upstream", "", ""},
		{"downstream malformed", f.Code.ID, "", registry.ErrInvalid, "downstream", "", ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			for name, call := range map[string]func(context.Context, string, string) error{"Link": f.Link, "Unlink": f.Unlink} {
				if name == "Unlink" && c.want == registry.ErrNotFound {
					continue // a missing edge; covered elsewhere
				}
				e := coreErr(t, call(f.Ctx, c.up, c.down), c.want)
				if c.field != "" {
					assert.Equal(t, c.field, e.Field, name)
				}
				if c.id != "" {
					assert.Equal(t, c.id, e.ID, name)
				}
				assert.Contains(t, e.Message, c.msg, name)
			}
		})
	}
}

func TestLinkRefusesCycles(t *testing.T) {
	g := coreNewGraph(t)
	cases := []struct {
		desc     string
		up, down string
		// cycle is the path the message must name, first to last.
		cycle []string
	}{
		{"self loop", "m2", "m2", []string{"m2"}},
		{"length 2", "m1", "d1", []string{"m1", "d1", "m1"}},
		{"length 3", "m2", "d1", []string{"m2", "d1", "m1", "m2"}},
		{"length 4", "m3", "d1", []string{"m3", "d1", "m1", "m2", "m3"}},
		{"length 3 from a branch", "x", "m1", []string{"x", "m1", "m2", "x"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			err := g.Link(g.Ctx, g.id(c.up), g.id(c.down))
			e := coreErr(t, err, registry.ErrInvalid)
			assert.Contains(t, e.Message, "cycle")
			if len(c.cycle) == 1 {
				assert.Contains(t, e.Message, g.fqn(c.up), "the self loop names the artifact")
				return
			}
			path := make([]string, len(c.cycle))
			for i, s := range c.cycle {
				path[i] = g.fqn(s)
			}
			assert.Contains(t, e.Message, strings.Join(path, " -> "), "the message names the cycle")
		})
	}
	// Nothing was linked.
	lg, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
	require.NoError(t, err)
	_, edges := g.short(lg)
	assert.ElementsMatch(t, []string{"d1->m1", "m1->m2", "m2->m3", "d2->m2", "m2->x"}, edges)
}

// TestLinkRefusesCyclesThroughSoftDeleted: a soft-deleted artifact keeps its
// edges and a restore brings it back, so a cycle through it is a cycle.
func TestLinkRefusesCyclesThroughSoftDeleted(t *testing.T) {
	g := coreNewGraph(t)
	coreSoftDelete(t, g.Fixture, g.id("m2"))
	err := g.Link(g.Ctx, g.id("m3"), g.id("m1"))
	e := coreErr(t, err, registry.ErrInvalid)
	assert.Contains(t, e.Message, strings.Join([]string{g.fqn("m3"), g.fqn("m1"), g.fqn("m2"), g.fqn("m3")}, " -> "))
	_, err = g.Restore(g.Ctx, g.id("m2"))
	require.NoError(t, err)
}

func TestUnlinkWorksOnSoftDeletedEnds(t *testing.T) {
	g := coreNewGraph(t)
	coreSoftDelete(t, g.Fixture, g.id("m3"))
	require.NoError(t, g.Unlink(g.Ctx, g.id("m2"), g.id("m3")))
	_, err := g.Restore(g.Ctx, g.id("m3"))
	require.NoError(t, err)
	lg, err := g.Lineage(g.Ctx, g.id("m3"), registry.Upstream, 1)
	require.NoError(t, err)
	assert.Empty(t, lg.Nodes)
}

func TestLineageReads(t *testing.T) {
	g := coreNewGraph(t)
	cases := []struct {
		root  string
		dir   registry.Direction
		depth int
		// levels are the nodes by distance; within a level in any order.
		levels [][]string
		edges  []string
	}{
		{"m2", registry.Upstream, 1, [][]string{{"m1", "d2"}}, []string{"m1->m2", "d2->m2"}},
		{"m2", registry.Upstream, 2, [][]string{{"m1", "d2"}, {"d1"}}, []string{"m1->m2", "d2->m2", "d1->m1"}},
		{"m2", registry.Upstream, registry.MaxLineageDepth, [][]string{{"m1", "d2"}, {"d1"}}, []string{"m1->m2", "d2->m2", "d1->m1"}},
		{"m2", registry.Downstream, 1, [][]string{{"m3", "x"}}, []string{"m2->m3", "m2->x"}},
		{"m2", registry.Downstream, 5, [][]string{{"m3", "x"}}, []string{"m2->m3", "m2->x"}},
		{"m2", registry.Both, 1, [][]string{{"m1", "d2", "m3", "x"}}, []string{"m1->m2", "d2->m2", "m2->m3", "m2->x"}},
		{"d1", registry.Downstream, 1, [][]string{{"m1"}}, []string{"d1->m1"}},
		{"d1", registry.Downstream, 2, [][]string{{"m1"}, {"m2"}}, []string{"d1->m1", "m1->m2"}},
		{"d1", registry.Downstream, 3, [][]string{{"m1"}, {"m2"}, {"m3", "x"}}, []string{"d1->m1", "m1->m2", "m2->m3", "m2->x"}},
		{"d1", registry.Upstream, 3, nil, nil},
		{"x", registry.Upstream, registry.MaxLineageDepth, [][]string{{"m2"}, {"m1", "d2"}, {"d1"}}, []string{"m2->x", "m1->m2", "d2->m2", "d1->m1"}},
		{"x", registry.Downstream, 1, nil, nil},
		{"m3", registry.Both, 2, [][]string{{"m2"}, {"m1", "d2"}}, []string{"m2->m3", "m1->m2", "d2->m2"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%d", c.dir, c.root, c.depth), func(t *testing.T) {
			lg, err := g.Lineage(g.Ctx, g.id(c.root), c.dir, c.depth)
			require.NoError(t, err)
			assert.Equal(t, g.byName[c.root], lg.Root)
			nodes, edges := g.short(lg)
			var flat []string
			for _, l := range c.levels {
				flat = append(flat, l...)
			}
			assert.ElementsMatch(t, flat, nodes, "nodes")
			assert.ElementsMatch(t, c.edges, edges, "each edge once")
			// Nearest first, level by level.
			i := 0
			for d, l := range c.levels {
				if i+len(l) > len(nodes) {
					break
				}
				assert.ElementsMatch(t, l, nodes[i:i+len(l)], "level %d", d+1)
				i += len(l)
			}
			for _, n := range lg.Nodes {
				assert.Equal(t, g.byName[g.names[n.ID]], n, "nodes are whole artifacts")
			}
		})
	}
}

func TestLineageDiamondListsEachNodeAndEdgeOnce(t *testing.T) {
	f := registrytest.NewEmpty(t)
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d"} {
		ids[n] = f.MustRegister(t, coreModel("dia", n, "")).ID
	}
	for _, e := range [][2]string{{"a", "b"}, {"a", "c"}, {"b", "d"}, {"c", "d"}} {
		f.MustLink(t, ids[e[0]], ids[e[1]])
	}
	lg, err := f.Lineage(f.Ctx, ids["a"], registry.Downstream, 10)
	require.NoError(t, err)
	assert.Len(t, lg.Nodes, 3)
	assert.Len(t, lg.Edges, 4)
	assert.Equal(t, ids["d"], lg.Nodes[2].ID)
	lg, err = f.Lineage(f.Ctx, ids["b"], registry.Both, 10)
	require.NoError(t, err)
	assert.Len(t, lg.Nodes, 2, "a and d; c is neither up nor down of b")
	assert.Len(t, lg.Edges, 2)
}

func TestLineageIncludeSemantics(t *testing.T) {
	g := coreNewGraph(t)
	before, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, registry.MaxLineageDepth)
	require.NoError(t, err)
	coreSoftDelete(t, g.Fixture, g.id("m1"))

	t.Run("default hides soft-deleted neighbours and does not walk through them", func(t *testing.T) {
		lg, err := g.Lineage(g.Ctx, g.id("m2"), registry.Upstream, 2)
		require.NoError(t, err)
		nodes, edges := g.short(lg)
		assert.ElementsMatch(t, []string{"d2"}, nodes)
		assert.ElementsMatch(t, []string{"d2->m2"}, edges)
		lg, err = g.Lineage(g.Ctx, g.id("d1"), registry.Downstream, 3, registry.IncludeNonDeleted)
		require.NoError(t, err)
		assert.Empty(t, lg.Nodes)
		assert.Empty(t, lg.Edges)
	})
	t.Run("all shows them", func(t *testing.T) {
		lg, err := g.Lineage(g.Ctx, g.id("m2"), registry.Upstream, 2, registry.IncludeAll)
		require.NoError(t, err)
		nodes, edges := g.short(lg)
		assert.ElementsMatch(t, []string{"m1", "d2", "d1"}, nodes)
		assert.ElementsMatch(t, []string{"m1->m2", "d2->m2", "d1->m1"}, edges)
		for _, n := range lg.Nodes {
			assert.Equal(t, n.ID == g.id("m1"), n.Deleted, g.names[n.ID])
		}
	})
	t.Run("a soft-deleted root", func(t *testing.T) {
		_, err := g.Lineage(g.Ctx, g.id("m1"), registry.Both, 1)
		coreErr(t, err, registry.ErrNotFound)
		lg, err := g.Lineage(g.Ctx, g.id("m1"), registry.Both, 1, registry.IncludeAll)
		require.NoError(t, err)
		assert.True(t, lg.Root.Deleted)
		nodes, edges := g.short(lg)
		assert.ElementsMatch(t, []string{"d1", "m2"}, nodes)
		assert.ElementsMatch(t, []string{"d1->m1", "m1->m2"}, edges)
		lg, err = g.Lineage(g.Ctx, g.id("m1"), registry.Both, 1, registry.IncludeDeleted)
		require.NoError(t, err)
		assert.Empty(t, lg.Nodes, "IncludeDeleted shows soft-deleted neighbours only")
	})
	t.Run("deleted include on a live root", func(t *testing.T) {
		_, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, 1, registry.IncludeDeleted)
		coreErr(t, err, registry.ErrNotFound)
	})
	t.Run("restore brings the same edges back", func(t *testing.T) {
		_, err := g.Restore(g.Ctx, g.id("m1"))
		require.NoError(t, err)
		after, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, registry.MaxLineageDepth)
		require.NoError(t, err)
		bn, be := g.short(before)
		an, ae := g.short(after)
		assert.ElementsMatch(t, bn, an)
		assert.ElementsMatch(t, be, ae)
		assert.ElementsMatch(t, before.Edges, after.Edges, "edges keep their creation time and principal")
	})
}

func TestLineageEdgesAndHardDelete(t *testing.T) {
	g := coreNewGraph(t)
	// A soft delete keeps edges.
	coreSoftDelete(t, g.Fixture, g.id("m3"))
	lg, err := g.Lineage(g.Ctx, g.id("m2"), registry.Downstream, 1, registry.IncludeAll)
	require.NoError(t, err)
	_, edges := g.short(lg)
	assert.ElementsMatch(t, []string{"m2->m3", "m2->x"}, edges)

	// A hard delete removes them, from both ends, even under IncludeAll.
	coreHardDelete(t, g.Fixture, g.id("m3"))
	coreHardDelete(t, g.Fixture, g.id("x"))
	lg, err = g.Lineage(g.Ctx, g.id("m2"), registry.Downstream, 1, registry.IncludeAll)
	require.NoError(t, err)
	assert.Empty(t, lg.Nodes)
	assert.Empty(t, lg.Edges)

	// The edges are gone, not hidden: the IDs come back without them.
	for _, s := range []string{"m3", "x"} {
		a := g.byName[s]
		g.MustRegister(t, registry.Artifact{ID: a.ID, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name, Version: a.Version})
		lg, err := g.Lineage(g.Ctx, a.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		assert.Empty(t, lg.Edges, s)
	}
	// With the old m2 -> m3 edge gone, m3 -> m2 closes no cycle.
	require.NoError(t, g.Link(g.Ctx, g.id("m3"), g.id("m2")))
}

func TestLineageRejectsBadArguments(t *testing.T) {
	g := coreNewGraph(t)
	cases := []struct {
		desc  string
		id    string
		dir   registry.Direction
		depth int
		field string
	}{
		{"malformed id", "m2", registry.Both, 1, "id"},
		{"unknown direction", g.id("m2"), "sideways", 1, "direction"},
		{"empty direction", g.id("m2"), "", 1, "direction"},
		{"depth 0", g.id("m2"), registry.Both, 0, "depth"},
		{"negative depth", g.id("m2"), registry.Both, -1, "depth"},
		{"depth too large", g.id("m2"), registry.Both, registry.MaxLineageDepth + 1, "depth"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			lg, err := g.Lineage(g.Ctx, c.id, c.dir, c.depth)
			coreInvalid(t, err, c.field)
			assert.Zero(t, lg.Root)
		})
	}
	_, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, 1, registry.Include("everything"))
	coreInvalid(t, err, "include")
}

// TestLineageBothListsNearestFirst: "Nodes are the other artifacts reached,
// nearest first" holds for a walk in both directions too.
func TestLineageBothListsNearestFirst(t *testing.T) {
	g := coreNewGraph(t)
	lg, err := g.Lineage(g.Ctx, g.id("m2"), registry.Both, 2)
	require.NoError(t, err)
	nodes, _ := g.short(lg)
	require.Len(t, nodes, 5)
	assert.ElementsMatch(t, []string{"m1", "d2", "m3", "x"}, nodes[:4], "distance 1 first: got %v", nodes)
	assert.Equal(t, "d1", nodes[4], "then distance 2: got %v", nodes)
}
