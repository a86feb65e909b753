package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dominikbraun/graph"
	"github.com/hashicorp/go-memdb"
)

// Edge is one lineage edge: Upstream produced or trained Downstream.
type Edge struct {
	Upstream   string    `json:"upstream"`
	Downstream string    `json:"downstream"`
	CreatedAt  time.Time `json:"createdAt"`
	CreatedBy  string    `json:"createdBy"`
}

// Direction selects which way Lineage walks.
type Direction string

// Lineage directions.
const (
	Upstream   Direction = "upstream"   // what the artifact was made from
	Downstream Direction = "downstream" // what was made from the artifact
	Both       Direction = "both"
)

// MaxLineageDepth bounds the depth a Lineage read may ask for.
const MaxLineageDepth = 1000

// Link records that downstream was made from upstream. Both must be live; an
// edge that exists already is ErrAlreadyExists and an edge that would close
// a cycle is ErrInvalid naming the cycle: its length and its artifacts in
// order, or for a cycle of more than five its first three and last two
// around "…", so that the message stays short. The check walks only what
// is reachable from downstream, never the whole registry.
func (r *Registry) Link(ctx context.Context, upstream, downstream string) error {
	up, down, err := checkEdgeIDs(upstream, downstream)
	if err != nil {
		return err
	}
	_, err = r.write(ctx, "", func(w *writeTxn) error {
		s := &lineageStore{w: w}
		if err := s.authorizeEnds(up, down); err != nil {
			return err
		}
		g := graph.NewWithStore(graph.StringHash, graph.Store[string, string](s), graph.Directed(), graph.PreventCycles())
		if err := g.AddEdge(up, down); err != nil {
			return s.explain(up, down, err)
		}
		return nil
	})
	return err
}

// Unlink removes the lineage edge from upstream to downstream; a missing
// edge is ErrNotFound. It works whatever state the two artifacts are in.
func (r *Registry) Unlink(ctx context.Context, upstream, downstream string) error {
	up, down, err := checkEdgeIDs(upstream, downstream)
	if err != nil {
		return err
	}
	_, err = r.write(ctx, "", func(w *writeTxn) error {
		s := &lineageStore{w: w, anyState: true}
		if err := s.authorizeEnds(up, down); err != nil {
			return err
		}
		g := graph.NewWithStore(graph.StringHash, graph.Store[string, string](s), graph.Directed())
		if err := g.RemoveEdge(up, down); err != nil {
			return s.explain(up, down, err)
		}
		return nil
	})
	return err
}

func checkEdgeIDs(upstream, downstream string) (string, string, error) {
	up, err := checkID("upstream", upstream)
	if err != nil {
		return "", "", err
	}
	down, err := checkID("downstream", downstream)
	if err != nil {
		return "", "", err
	}
	return up, down, nil
}

// lineageStore is the graph.Store the lineage graph is kept in: the edges
// table of the current write transaction, with artifacts as vertices. It
// answers every question through an index, and its CreatesCycle walks only
// the edges reachable from the new edge's target, so that dominikbraun/graph
// never rebuilds the whole graph (its generic algorithms are O(V+E), see
// DEPENDENCIES.md). Writes happen inside the registry's write transaction,
// which serializes them.
type lineageStore struct {
	w     *writeTxn
	cycle []string // the path CreatesCycle found, target to source
	// anyState makes soft-deleted artifacts vertices too: an edge may be
	// removed whatever its ends' state, but added between live ones only.
	anyState bool
}

var errVertexFixed = errors.New("registry: lineage vertices are artifacts; Register and Delete them")

func (s *lineageStore) AddVertex(string, string, graph.VertexProperties) error { return errVertexFixed }

func (s *lineageStore) RemoveVertex(string) error { return errVertexFixed }

func (s *lineageStore) UpdateEdge(up, down string, _ graph.Edge[string]) error {
	if _, err := s.Edge(up, down); err != nil {
		return err
	}
	return nil // edges carry no properties
}

// Vertex finds a live artifact (any artifact, for Unlink).
func (s *lineageStore) Vertex(id string) (string, graph.VertexProperties, error) {
	a := row(s.w.Txn, id)
	if a == nil || (a.isDeleted() && !s.anyState) || s.w.hidden(a) {
		return "", graph.VertexProperties{}, graph.ErrVertexNotFound
	}
	return id, graph.VertexProperties{}, nil
}

// Edge finds an edge; an edge to an artifact the principal may not read is
// not found, as if that artifact did not exist.
func (s *lineageStore) Edge(up, down string) (graph.Edge[string], error) {
	o, err := s.w.First(tableEdges, indexID, edgeKey(up, down))
	if err != nil {
		return graph.Edge[string]{}, err
	}
	if o == nil || s.hidden(up) || s.hidden(down) {
		return graph.Edge[string]{}, graph.ErrEdgeNotFound
	}
	return graph.Edge[string]{Source: up, Target: down}, nil
}

// AddEdge stores the edge and lists up among down's upstreams. Lineage is
// not metadata: the downstream's revision does not change.
func (s *lineageStore) AddEdge(up, down string, _ graph.Edge[string]) error {
	d := row(s.w.Txn, down)
	if d == nil {
		return graph.ErrVertexNotFound
	}
	e := &Edge{Upstream: up, Downstream: d.ID, CreatedAt: s.w.now, CreatedBy: s.w.principal}
	if u := row(s.w.Txn, up); u != nil {
		e.Upstream = u.ID // share the stored string
	}
	if err := s.w.Insert(tableEdges, e); err != nil {
		return fmt.Errorf("registry: insert edge: %w", err)
	}
	c := copyRecord(d)
	c.setUpstreams(d.upstreams().With(e.Upstream))
	if err := s.w.replace(d, c); err != nil {
		return err
	}
	s.w.emitEdge(EventLinked, e)
	return nil
}

func (s *lineageStore) RemoveEdge(up, down string) error {
	o, err := s.w.First(tableEdges, indexID, edgeKey(up, down))
	if err != nil {
		return err
	}
	if o == nil {
		return graph.ErrEdgeNotFound
	}
	if err := s.w.Delete(tableEdges, o); err != nil {
		return fmt.Errorf("registry: delete edge: %w", err)
	}
	if d := row(s.w.Txn, down); d != nil {
		c := copyRecord(d)
		c.setUpstreams(d.upstreams().Without(up))
		if err := s.w.replace(d, c); err != nil {
			return err
		}
	}
	s.w.emitEdge(EventUnlinked, o.(*Edge))
	return nil
}

// ListVertices and the two counts below scan a table; the graph library
// calls them only from whole-graph algorithms, which the registry does not
// use on its write paths.
func (s *lineageStore) ListVertices() ([]string, error) {
	var ids []string
	err := scan(s.w.Txn, tableArtifacts, func(o any) {
		if a := o.(*record); !a.isDeleted() {
			ids = append(ids, a.ID)
		}
	})
	return ids, err
}

func (s *lineageStore) VertexCount() (int, error) {
	ids, err := s.ListVertices()
	return len(ids), err
}

func (s *lineageStore) ListEdges() ([]graph.Edge[string], error) {
	var edges []graph.Edge[string]
	err := scan(s.w.Txn, tableEdges, func(o any) {
		e := o.(*Edge)
		edges = append(edges, graph.Edge[string]{Source: e.Upstream, Target: e.Downstream})
	})
	return edges, err
}

// CreatesCycle reports whether an edge source→target would close a cycle,
// that is whether source is reachable from target. It walks downstream edges
// breadth first from target, through soft-deleted artifacts too (a restore
// would bring their edges back), and remembers the path for the error.
func (s *lineageStore) CreatesCycle(source, target string) (bool, error) {
	if source == target {
		s.cycle = []string{source}
		return true, nil
	}
	from := map[string]string{target: ""}
	queue := []string{target}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		downs, err := downstreamIDs(s.w.Txn, cur)
		if err != nil {
			return false, err
		}
		for _, d := range downs {
			if _, seen := from[d]; seen {
				continue
			}
			from[d] = cur
			if d == source {
				for n := d; n != ""; n = from[n] {
					s.cycle = append(s.cycle, n)
				}
				return true, nil
			}
			queue = append(queue, d)
		}
	}
	return false, nil
}

// authorizeEnds asks ActionLink for both ends, whatever their state. An end
// that does not exist, or that the principal may not read, is left to the
// graph, which does not find it.
func (s *lineageStore) authorizeEnds(up, down string) error {
	for _, id := range []string{up, down} {
		if a := row(s.w.Txn, id); a != nil && !s.w.hidden(a) {
			if err := s.w.authorize(ActionLink, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// explain turns the graph library's errors into the registry's.
func (s *lineageStore) explain(up, down string, err error) error {
	switch {
	case errors.Is(err, graph.ErrVertexNotFound):
		for _, id := range []string{up, down} {
			if a := row(s.w.Txn, id); a == nil || s.w.hidden(a) {
				return newError(CodeNotFound, id, "artifact %s does not exist", id)
			} else if a.isDeleted() {
				return newError(CodeNotFound, id, "artifact %s (%s) is soft deleted; lineage links live artifacts only", id, a.FQN())
			}
		}
	case errors.Is(err, graph.ErrEdgeAlreadyExists):
		return newError(CodeAlreadyExists, down, "lineage edge %s -> %s already exists", s.name(up), s.name(down))
	case errors.Is(err, graph.ErrEdgeCreatesCycle):
		if len(s.cycle) == 1 {
			return invalid("downstream", "linking %s to itself would create a cycle", s.name(up))
		}
		return invalid("downstream", "linking %s -> %s would create a cycle of %s artifacts: %s",
			s.name(up), s.name(down), thousands(len(s.cycle)), s.cyclePath())
	case errors.Is(err, graph.ErrEdgeNotFound):
		return newError(CodeNotFound, down, "no lineage edge %s -> %s", s.name(up), s.name(down))
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return err
}

// cycleShown is how many artifacts of a cycle an error names at most: a
// cycle longer than that is named by its first three and last two steps,
// so that the message stays short however long the cycle is.
const cycleShown = 5

// cyclePath renders the cycle CreatesCycle found forwards, from the new
// edge's source back to it: the whole path for a short cycle, else the
// first three and the last two artifacts around "…". Only the artifacts
// shown are looked up.
func (s *lineageStore) cyclePath() string {
	// s.cycle runs from source back to target; the path is source, then
	// s.cycle backwards, which ends at source again.
	n := len(s.cycle)
	named := func(id string) string {
		if s.hidden(id) {
			return "(an artifact you may not read)"
		}
		return s.name(id)
	}
	step := func(i int) string { // i-th artifact of the path, 0 ≤ i ≤ n
		if i == 0 {
			return named(s.cycle[0])
		}
		return named(s.cycle[n-i])
	}
	var steps []string
	if n <= cycleShown {
		for i := 0; i <= n; i++ {
			steps = append(steps, step(i))
		}
	} else {
		steps = []string{step(0), step(1), step(2), "…", step(n - 1), step(n)}
	}
	return strings.Join(steps, " -> ")
}

// thousands renders n with a comma between groups of three digits.
func thousands(n int) string {
	if n < 0 {
		return "-" + thousands(-n)
	}
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// name names an artifact by FQN, or by ID when it does not exist or the
// principal may not read it.
func (s *lineageStore) name(id string) string {
	if a := row(s.w.Txn, id); a != nil && !s.w.hidden(a) {
		return a.FQN()
	}
	return id
}

func (s *lineageStore) hidden(id string) bool { return s.w.hidden(row(s.w.Txn, id)) }

func (w *writeTxn) emitEdge(t EventType, e *Edge) {
	w.events = append(w.events, change{kind: t, new: row(w.Txn, e.Downstream), edge: e})
}

// downstreamIDs lists the artifacts made from id, in key order.
func downstreamIDs(txn *memdb.Txn, id string) ([]string, error) {
	return edgeEnds(txn, indexID, id, func(e *Edge) string { return e.Downstream })
}

// inEdges lists the edges into a, in the order of its upstreams (sorted).
func inEdges(txn *memdb.Txn, a *record) ([]*Edge, error) {
	ups := a.upstreams()
	out := make([]*Edge, 0, ups.Len())
	for u := range ups.All() {
		o, err := txn.First(tableEdges, indexID, edgeKey(u, a.ID))
		if err != nil {
			return nil, fmt.Errorf("registry: edge %s -> %s: %w", u, a.ID, err)
		}
		if o == nil {
			return nil, fmt.Errorf("registry: %s lists upstream %s, but no such edge is stored", a.ID, u)
		}
		out = append(out, o.(*Edge))
	}
	return out, nil
}

func edgeEnds(txn *memdb.Txn, index, id string, end func(*Edge) string) ([]string, error) {
	edges, err := edgesOf(txn, index, id)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(edges))
	for i, e := range edges {
		ids[i] = end(e)
	}
	return ids, nil
}

// edgesOf lists the edges out of id (index id).
func edgesOf(txn *memdb.Txn, index, id string) ([]*Edge, error) {
	it, err := txn.Get(tableEdges, index+prefix, idKey(id))
	if err != nil {
		return nil, fmt.Errorf("registry: edges of %s: %w", id, err)
	}
	var out []*Edge
	for o := it.Next(); o != nil; o = it.Next() {
		out = append(out, o.(*Edge))
	}
	return out, nil
}

func scan(txn *memdb.Txn, table string, fn func(any)) error {
	it, err := txn.Get(table, indexID)
	if err != nil {
		return fmt.Errorf("registry: scan %s: %w", table, err)
	}
	for o := it.Next(); o != nil; o = it.Next() {
		fn(o)
	}
	return nil
}

// LineageGraph is the part of the lineage graph around one artifact.
type LineageGraph struct {
	Root Artifact `json:"entity"`
	// Nodes are the other artifacts reached, nearest first.
	Nodes []Artifact `json:"nodes"`
	// Edges are the edges walked, each once, between visible artifacts.
	Edges []Edge `json:"edges"`
}

// Lineage walks the lineage graph from id up to depth edges away (1 to
// MaxLineageDepth) in the given direction. The include applies to the root
// and to every node: by default soft-deleted neighbours are hidden and the
// walk does not pass through them; IncludeAll shows them.
func (r *Registry) Lineage(ctx context.Context, id string, dir Direction, depth int, opts ...ReadOption) (LineageGraph, error) {
	inc, err := beginRead(ctx, opts)
	if err != nil {
		return LineageGraph{}, err
	}
	cid, err := checkID("id", id)
	if err != nil {
		return LineageGraph{}, err
	}
	if dir != Upstream && dir != Downstream && dir != Both {
		return LineageGraph{}, invalid("direction", "direction %q is not one of upstream, downstream, both", clip(string(dir)))
	}
	if depth < 1 || depth > MaxLineageDepth {
		return LineageGraph{}, invalid("depth", "depth %d is out of range; want 1 to %d", depth, MaxLineageDepth)
	}
	txn := r.snapshot()
	a := row(txn, cid)
	if a == nil || r.hidden(ctx, PrincipalFrom(ctx), a) {
		return LineageGraph{}, newError(CodeNotFound, cid, "artifact %s does not exist", cid)
	}
	root, err := r.found(ctx, cid, a, inc)
	if err != nil {
		return LineageGraph{}, err
	}
	out := LineageGraph{Root: root, Nodes: []Artifact{}, Edges: []Edge{}}
	w := &walker{r: r, ctx: ctx, txn: txn, inc: inc, seen: map[string]bool{cid: true}, walked: map[[2]string]bool{}, out: &out}
	// Both directions advance one level at a time, so that nodes come out
	// nearest first; each direction follows its own kind of edge only.
	up, down := []string{cid}, []string{cid}
	for d := 0; d < depth && (len(up) > 0 || len(down) > 0); d++ {
		if dir != Downstream {
			if up, err = w.level(up, false); err != nil {
				return LineageGraph{}, err
			}
		}
		if dir != Upstream {
			if down, err = w.level(down, true); err != nil {
				return LineageGraph{}, err
			}
		}
	}
	return out, nil
}

// walker walks lineage breadth first.
type walker struct {
	r      *Registry
	ctx    context.Context
	txn    *memdb.Txn
	inc    Include
	seen   map[string]bool
	walked map[[2]string]bool
	out    *LineageGraph
}

// level expands one level from frontier, downstream or upstream, and
// returns the next frontier.
func (w *walker) level(frontier []string, downstream bool) ([]string, error) {
	var next []string
	for _, cur := range frontier {
		var edges []*Edge
		var err error
		if downstream {
			edges, err = edgesOf(w.txn, indexID, cur)
		} else if a := row(w.txn, cur); a != nil {
			edges, err = inEdges(w.txn, a)
		}
		if err != nil {
			return nil, err
		}
		for _, e := range edges {
			other := e.Downstream
			if !downstream {
				other = e.Upstream
			}
			a := row(w.txn, other)
			if a == nil || !a.visible(w.inc) || (w.r.authorizeReads && w.r.authorizeRead(w.ctx, a) != nil) {
				continue
			}
			if k := [2]string{e.Upstream, e.Downstream}; !w.walked[k] {
				w.walked[k] = true
				w.out.Edges = append(w.out.Edges, *e)
			}
			if !w.seen[other] {
				w.seen[other] = true
				w.out.Nodes = append(w.out.Nodes, w.r.view(w.ctx, PrincipalFrom(w.ctx), w.txn, a))
				next = append(next, other)
			}
		}
	}
	return next, nil
}
