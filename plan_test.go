package registry_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// The deletion planner's table: every delete rule (children, cascade,
// deployed, lineage, partial or atomic, dry run) and the combinations in
// which they interact. Each case builds a small world from labels, runs one
// delete, and checks the Result and the whole registry afterwards. Every
// case runs four times: partial and atomic, each as a dry run first and then
// for real on the same world.

// planNS is the namespace of the artifacts the cases build.
const planNS = "svc"

// planEndpoint is where planWorld.deploy deploys.
const planEndpoint = "ep-1"

// planWorld is a registry whose artifacts the test knows by label.
type planWorld struct {
	t      testing.TB
	f      *registrytest.Fixture
	ids    map[string]string // label → ID
	labels map[string]string // ID → label
	fqns   map[string]string // label → FQN
}

func planNewWorld(t testing.TB) *planWorld {
	t.Helper()
	return &planWorld{t: t, f: registrytest.NewEmpty(t), ids: map[string]string{}, labels: map[string]string{}, fqns: map[string]string{}}
}

// add registers a under label; Kind defaults to model and Namespace to planNS.
func (w *planWorld) add(label string, a registry.Artifact) {
	w.t.Helper()
	if _, dup := w.ids[label]; dup {
		w.t.Fatalf("label %q is used twice", label)
	}
	if a.Kind == "" {
		a.Kind = registry.KindModel
	}
	if a.Namespace == "" {
		a.Namespace = planNS
	}
	out := w.f.MustRegister(w.t, a)
	w.ids[label], w.labels[out.ID], w.fqns[label] = out.ID, label, out.FQN()
}

// model registers svc.<label>.1, contained in parent unless parent is "".
func (w *planWorld) model(label, parent string) {
	w.t.Helper()
	a := registry.Artifact{Name: label, Version: "1"}
	if parent != "" {
		a.Parent = w.id(parent)
	}
	w.add(label, a)
}

// versions registers svc.<name>.<v> for each v, labelled name+v.
func (w *planWorld) versions(name string, vs ...string) {
	w.t.Helper()
	for _, v := range vs {
		w.add(name+v, registry.Artifact{Name: name, Version: v})
	}
}

// versionRange registers versions from to to of name.
func (w *planWorld) versionRange(name string, from, to int) {
	w.t.Helper()
	for v := from; v <= to; v++ {
		w.versions(name, fmt.Sprint(v))
	}
}

func (w *planWorld) dataset(label string) {
	w.t.Helper()
	w.add(label, registry.Artifact{Kind: registry.KindDataset, Name: label, Version: "1"})
}

// link records that down was made from up.
func (w *planWorld) link(up, down string) {
	w.t.Helper()
	w.f.MustLink(w.t, w.id(up), w.id(down))
}

func (w *planWorld) deploy(label string) {
	w.t.Helper()
	require.NoError(w.t, w.f.Deploy(w.f.Ctx, w.id(label), planEndpoint))
}

// softDelete soft deletes label and its live subtree in a call of its own.
func (w *planWorld) softDelete(label string) {
	w.t.Helper()
	res, err := w.f.Delete(w.f.Ctx, w.id(label), registry.DeleteOptions{Recursive: true, Reason: "earlier"})
	require.NoError(w.t, err)
	require.Empty(w.t, res.Failed)
}

func (w *planWorld) id(label string) string {
	w.t.Helper()
	id, ok := w.ids[label]
	if !ok {
		w.t.Fatalf("no artifact labelled %q", label)
	}
	return id
}

func (w *planWorld) label(id string) string {
	if l, ok := w.labels[id]; ok {
		return l
	}
	return "unknown:" + id
}

func (w *planWorld) labelsOf(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, w.label(id))
	}
	return out
}

func (w *planWorld) idsOf(labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		out = append(out, w.id(l))
	}
	return out
}

// expand turns "fqn:<label>" into the label's FQN; other text is kept.
func (w *planWorld) expand(s string) string {
	if l, ok := strings.CutPrefix(s, "fqn:"); ok {
		return w.fqns[l]
	}
	return s
}

func (w *planWorld) delete(label string, o registry.DeleteOptions, byFQN bool) (registry.Result, error) {
	if byFQN {
		return w.f.DeleteByFQN(w.f.Ctx, w.fqns[label], o)
	}
	return w.f.Delete(w.f.Ctx, w.id(label), o)
}

// planState is everything a delete may change: every artifact in any state,
// every lineage edge, and the audit log's last sequence number.
type planState struct {
	arts  map[string]registry.Artifact
	edges map[[2]string]bool
	seq   uint64
}

func (w *planWorld) state() planState {
	w.t.Helper()
	s := planState{arts: map[string]registry.Artifact{}, edges: map[[2]string]bool{}}
	cursor := ""
	for {
		page, err := w.f.List(w.f.Ctx, registry.Filter{Include: registry.IncludeAll, Limit: 1000, Cursor: cursor})
		require.NoError(w.t, err)
		for _, a := range page.Items {
			s.arts[a.ID] = a
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	for id := range s.arts {
		g, err := w.f.Lineage(w.f.Ctx, id, registry.Downstream, 1, registry.IncludeAll)
		require.NoError(w.t, err)
		for _, e := range g.Edges {
			s.edges[[2]string{e.Upstream, e.Downstream}] = true
		}
	}
	for _, e := range w.eventsAfter(0) {
		s.seq = e.Seq
	}
	return s
}

func (w *planWorld) eventsAfter(seq uint64) []registry.Event {
	w.t.Helper()
	var out []registry.Event
	for {
		evs, err := w.f.Events(w.f.Ctx, seq, 1000)
		require.NoError(w.t, err)
		if len(evs) == 0 {
			return out
		}
		out = append(out, evs...)
		seq = evs[len(evs)-1].Seq
	}
}

// requireUnchanged fails unless the registry is exactly as before: no
// artifact, revision or edge changed and no event was emitted.
func (w *planWorld) requireUnchanged(t *testing.T, before planState, stage string) {
	t.Helper()
	after := w.state()
	require.Equal(t, before.arts, after.arts, "%s changed artifacts", stage)
	require.Equal(t, before.edges, after.edges, "%s changed lineage edges", stage)
	require.Empty(t, w.eventsAfter(before.seq), "%s emitted events", stage)
}

// checkApplied checks the registry after a delete that returned res and no
// error: every deleted artifact is soft deleted by this operation (revision
// +1, who, when, why) or gone; every artifact that lost an upstream to a
// hard delete is in Detached, marked and bumped; every other artifact is
// untouched; the edges that touched a removed artifact are gone and the
// others are kept; one event per changed artifact, all of this operation.
func (w *planWorld) checkApplied(t *testing.T, before planState, o registry.DeleteOptions, res registry.Result) {
	t.Helper()
	after := w.state()
	now := w.f.Clock.Now()
	deleted := planSet(res.Deleted)
	gone := map[string]bool{}
	if o.Hard {
		gone = deleted
	}
	// lost[d] are the upstreams d loses: removed artifacts it was made from.
	lost := map[string][]string{}
	for e := range before.edges {
		if gone[e[0]] && !gone[e[1]] {
			lost[e[1]] = append(lost[e[1]], e[0])
		}
	}
	var wantDetached []string
	for d := range lost {
		wantDetached = append(wantDetached, d)
	}
	assert.ElementsMatch(t, w.labelsOf(wantDetached), w.labelsOf(res.Detached), "Detached: the survivors that lost an upstream")

	for id, a := range before.arts {
		b, ok := after.arts[id]
		l := w.label(id)
		switch {
		case gone[id]:
			assert.False(t, ok, "%s was hard deleted but is still stored", l)
			_, err := w.f.Get(w.f.Ctx, id, registry.IncludeAll)
			assert.ErrorIs(t, err, registry.ErrNotFound, "%s was hard deleted", l)
		case !ok:
			t.Errorf("%s vanished but is not in Deleted of a hard delete", l)
		case deleted[id]:
			assert.False(t, a.Deleted, "%s was soft deleted already and cannot be soft deleted again", l)
			want := a
			want.Deleted, want.Revision, want.UpdatedAt, want.UpdatedBy = true, a.Revision+1, now, registrytest.Principal
			want.DeletedAt, want.DeletedBy, want.DeleteOperation, want.DeleteReason = now, registrytest.Principal, res.Operation, o.Reason
			assert.Equal(t, want, b, "%s after its soft delete", l)
		case lost[id] != nil:
			kept := min(len(a.DeletedUpstreams), len(b.DeletedUpstreams))
			assert.True(t, slices.Equal(a.DeletedUpstreams, b.DeletedUpstreams[:kept]), "%s keeps its earlier lost upstreams %v, has %v", l, a.DeletedUpstreams, b.DeletedUpstreams)
			assert.ElementsMatch(t, w.labelsOf(lost[id]), w.labelsOf(b.DeletedUpstreams[kept:]),
				"%s.DeletedUpstreams gains exactly the upstreams hard deleted", l)
			assert.True(t, b.HasDeletedUpstream(), "%s.HasDeletedUpstream", l)
			want := a
			want.Revision, want.UpdatedAt, want.UpdatedBy, want.DeletedUpstreams = a.Revision+1, now, registrytest.Principal, b.DeletedUpstreams
			assert.Equal(t, want, b, "%s after losing an upstream", l)
		default:
			assert.Equal(t, a, b, "%s is not deleted and must be untouched", l)
		}
	}
	for id := range after.arts {
		_, ok := before.arts[id]
		assert.True(t, ok, "the delete created %s", w.label(id))
	}
	wantEdges := map[[2]string]bool{}
	for e := range before.edges {
		if !gone[e[0]] && !gone[e[1]] {
			wantEdges[e] = true
		}
	}
	assert.Equal(t, wantEdges, after.edges, "lineage edges: exactly those touching a hard-deleted artifact are dropped")

	evType := registry.EventSoftDeleted
	if o.Hard {
		evType = registry.EventDeleted
	}
	want := map[string]registry.EventType{}
	for _, id := range res.Deleted {
		want[id] = evType
	}
	for _, id := range res.Detached {
		want[id] = registry.EventUpdated
	}
	got := map[string]registry.EventType{}
	evs := w.eventsAfter(before.seq)
	for _, e := range evs {
		assert.Equal(t, res.Operation, e.Operation, "event %s of %s belongs to the delete's operation", e.Type, w.label(e.ArtifactID))
		_, dup := got[e.ArtifactID]
		assert.False(t, dup, "two events for %s", w.label(e.ArtifactID))
		got[e.ArtifactID] = e.Type
	}
	assert.Equal(t, want, got, "one event per changed artifact")
}

func planSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// planCheckOrder checks the order of Deleted: each child before its parent
// and, when lineage orders the plan, each dependent before what it was made
// from. When containment and lineage form a cycle among the deleted (a child
// its parent was made from) no order satisfies both, and only the set is
// checked.
func (w *planWorld) planCheckOrder(t *testing.T, before planState, deleted []string, lineage bool) {
	t.Helper()
	pos := map[string]int{}
	for i, id := range deleted {
		pos[id] = i
	}
	type rule struct{ first, then, why string }
	var rules []rule
	for _, id := range deleted {
		if p := before.arts[id].Parent; p != "" {
			if _, in := pos[p]; in {
				rules = append(rules, rule{id, p, "a child before its parent"})
			}
		}
	}
	if lineage {
		for e := range before.edges {
			_, up := pos[e[0]]
			_, down := pos[e[1]]
			if up && down {
				rules = append(rules, rule{e[1], e[0], "a dependent before what it was made from"})
			}
		}
	}
	// Kahn's algorithm: give up on the order if the rules are cyclic.
	indeg := map[string]int{}
	next := map[string][]string{}
	for _, r := range rules {
		indeg[r.then]++
		next[r.first] = append(next[r.first], r.then)
	}
	var queue []string
	for _, id := range deleted {
		if indeg[id] == 0 {
			queue = append(queue, id)
		}
	}
	seen := 0
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		seen++
		for _, y := range next[x] {
			if indeg[y]--; indeg[y] == 0 {
				queue = append(queue, y)
			}
		}
	}
	if seen < len(deleted) {
		return
	}
	for _, r := range rules {
		assert.Less(t, pos[r.first], pos[r.then], "Deleted %v: %s must come before %s (%s)", w.labelsOf(deleted), w.label(r.first), w.label(r.then), r.why)
	}
}

// planNoDuplicates fails if an ID appears twice in Deleted, Failed and
// Skipped together.
func (w *planWorld) planNoDuplicates(t *testing.T, res registry.Result) {
	t.Helper()
	seen := map[string]string{}
	note := func(id, where string) {
		if prev, dup := seen[id]; dup {
			t.Errorf("%s is reported twice: in %s and in %s", w.label(id), prev, where)
		}
		seen[id] = where
	}
	for _, id := range res.Deleted {
		note(id, "Deleted")
	}
	for _, f := range res.Failed {
		note(f.ID, "Failed")
	}
	for _, id := range res.Skipped {
		note(id, "Skipped")
	}
}

func planComparable(res registry.Result) registry.Result {
	res.Operation, res.DryRun = "", false
	return res
}

// planCase is one delete on one small world.
type planCase struct {
	name   string
	build  func(w *planWorld)
	target string
	opts   registry.DeleteOptions
	byFQN  bool

	// deleted are the labels in Deleted; in exactly that order when
	// ordered, else in any order that puts children before parents and
	// dependents before upstreams.
	deleted []string
	ordered bool
	// failed maps labels to codes; messages lists text each failure's
	// message contains ("fqn:<label>" stands for the label's FQN).
	failed     map[string]string
	messages   map[string][]string
	skipped    []string
	skipReason []string
	// detached maps each dependent that loses upstreams to their labels.
	detached map[string][]string
	// err is the sentinel the call returns, nil for none.
	err error
}

// planExpect is what one run of a case must return.
type planExpect struct {
	planCase
	// errIsFailure: the error must be one of the Failed items (an atomic
	// delete of several whose target did not fail itself).
	errIsFailure bool
}

// expect returns the expectation when the case runs atomically: with any
// failure nothing is deleted and a failure is the error.
func (c planCase) expect(atomic bool) planExpect {
	e := planExpect{planCase: c}
	if atomic && len(c.failed) > 0 {
		e.deleted, e.ordered, e.detached = nil, false, nil
		e.errIsFailure = c.err == nil
	}
	return e
}

func (w *planWorld) checkResult(t *testing.T, stage string, before planState, e planExpect, o registry.DeleteOptions, res registry.Result, err error, dry bool) {
	t.Helper()
	switch {
	case e.err != nil:
		assert.ErrorIs(t, err, e.err, "%s: the error", stage)
	case e.errIsFailure:
		var re *registry.Error
		if assert.ErrorAs(t, err, &re, "%s: an atomic delete with a failure returns it", stage) {
			assert.True(t, slices.ContainsFunc(res.Failed, func(f registry.Failure) bool { return f.ID == re.ID && f.Code == re.Code }),
				"%s: the error %v is not one of the failures %+v", stage, err, res.Failed)
		}
	default:
		assert.NoError(t, err, "%s: the error", stage)
	}
	assert.Equal(t, o.Hard, res.Hard, "%s: Result.Hard", stage)
	assert.Equal(t, dry, res.DryRun, "%s: Result.DryRun", stage)
	assert.NotEmpty(t, res.Operation, "%s: Result.Operation", stage)

	got := w.labelsOf(res.Deleted)
	if e.ordered {
		assert.Equal(t, e.deleted, got, "%s: Deleted, in order", stage)
	} else {
		assert.ElementsMatch(t, e.deleted, got, "%s: Deleted", stage)
	}
	// Lineage orders a delete only where its rules apply: hard or cascade.
	w.planCheckOrder(t, before, res.Deleted, o.Hard || o.Cascade)

	failed := map[string]string{}
	for _, f := range res.Failed {
		failed[w.label(f.ID)] = f.Code
		assert.NotEmpty(t, f.Message, "%s: failure of %s has no message", stage, w.label(f.ID))
		assert.Equal(t, f.Code, registry.ErrorCode(f.Err()), "%s: Failure.Err keeps the code", stage)
	}
	want := e.failed
	if want == nil {
		want = map[string]string{}
	}
	assert.Equal(t, want, failed, "%s: Failed (label → code)", stage)
	for l, subs := range e.messages {
		i := slices.IndexFunc(res.Failed, func(f registry.Failure) bool { return f.ID == w.ids[l] })
		if !assert.GreaterOrEqual(t, i, 0, "%s: %s did not fail", stage, l) {
			continue
		}
		for _, s := range subs {
			assert.Contains(t, res.Failed[i].Message, w.expand(s), "%s: the failure message of %s", stage, l)
		}
	}

	assert.ElementsMatch(t, e.skipped, w.labelsOf(res.Skipped), "%s: Skipped", stage)
	if len(e.skipped) == 0 {
		assert.Empty(t, res.SkipReason, "%s: SkipReason without skips", stage)
	}
	for _, s := range e.skipReason {
		assert.Contains(t, res.SkipReason, w.expand(s), "%s: SkipReason", stage)
	}

	var wantDetached []string
	for l := range e.detached {
		wantDetached = append(wantDetached, l)
	}
	assert.ElementsMatch(t, wantDetached, w.labelsOf(res.Detached), "%s: Detached", stage)
	w.planNoDuplicates(t, res)
}

func TestPlanDelete(t *testing.T) {
	for _, c := range planCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.opts.Atomic {
				planRunCase(t, c, false)
				return
			}
			t.Run("partial", func(t *testing.T) { planRunCase(t, c, false) })
			t.Run("atomic", func(t *testing.T) { planRunCase(t, c, true) })
		})
	}
}

// planRunCase builds the case's world, runs its delete as a dry run and then
// for real, and checks both.
func planRunCase(t *testing.T, c planCase, atomic bool) {
	w := planNewWorld(t)
	c.build(w)
	require.NoError(t, w.f.Check(), "the world the case built")
	w.f.Clock.Advance(time.Hour)
	o := c.opts
	if atomic {
		o.Atomic = true
	}
	e := c.expect(atomic)
	before := w.state()

	dry := o
	dry.DryRun = true
	dres, derr := w.delete(c.target, dry, c.byFQN)
	w.checkResult(t, "dry run", before, e, o, dres, derr, true)
	w.requireUnchanged(t, before, "the dry run")
	require.NoError(t, w.f.Check())

	res, err := w.delete(c.target, o, c.byFQN)
	w.checkResult(t, "delete", before, e, o, res, err, false)
	assert.Equal(t, planComparable(dres), planComparable(res), "the dry run's Result differs from the delete's")
	if derr != nil && err != nil {
		assert.Equal(t, derr.Error(), err.Error(), "the dry run's error differs from the delete's")
	}
	if err != nil {
		w.requireUnchanged(t, before, "a failed delete")
	} else {
		w.checkApplied(t, before, o, res)
		for dep, ups := range e.detached {
			a := w.f.MustGet(t, w.id(dep))
			assert.ElementsMatch(t, w.idsOf(ups), a.DeletedUpstreams, "%s.DeletedUpstreams", dep)
		}
	}
	require.NoError(t, w.f.Check())
}

// Shorthands for the cases.
var (
	planHard    = registry.DeleteOptions{Hard: true}
	planRec     = registry.DeleteOptions{Recursive: true}
	planHardRec = registry.DeleteOptions{Hard: true, Recursive: true}
	planCasc    = registry.DeleteOptions{Cascade: true}
)

func planCases() []planCase {
	const (
		notEmpty = registry.CodeNotEmpty
		deployed = registry.CodeDeployed
		hasDeps  = registry.CodeHasDependents
	)
	// tree: p contains c1 and c2; c1 contains g1.
	tree := func(w *planWorld) {
		w.model("p", "")
		w.model("c1", "p")
		w.model("c2", "p")
		w.model("g1", "c1")
	}
	// sweep: p contains c1, soft deleted earlier with its own dependent x.
	sweep := func(w *planWorld) {
		w.model("p", "")
		w.model("c1", "p")
		w.model("x", "")
		w.link("c1", "x")
		w.softDelete("c1")
	}
	// deployedChild: p contains c1, c2 (deployed) and c3.
	deployedChild := func(w *planWorld) {
		w.model("p", "")
		w.model("c1", "p")
		w.model("c2", "p")
		w.model("c3", "p")
		w.deploy("c2")
	}
	// outsideDependent: p contains c1 and c2; x, outside, was made from c1.
	outsideDependent := func(w *planWorld) {
		w.model("p", "")
		w.model("c1", "p")
		w.model("c2", "p")
		w.model("x", "")
		w.link("c1", "x")
	}
	// modelArts: versions 1, 2, 3 of svc.m, version 2 deployed.
	modelArts := func(w *planWorld) {
		w.versions("m", "1", "2", "3")
		w.deploy("m2")
	}
	// lin: versions 1 and 2 of svc.m; f was made from m2; dataset d trained m1.
	lin := func(w *planWorld) {
		w.versions("m", "1", "2")
		w.model("f", "")
		w.link("m2", "f")
		w.dataset("d")
		w.link("d", "m1")
	}
	linPlus := func(extra func(w *planWorld)) func(w *planWorld) {
		return func(w *planWorld) { lin(w); extra(w) }
	}
	// chain: m1 → m2 → m3 → m4, each version fine-tuned from the one before.
	chain := func(w *planWorld) {
		w.versionRange("m", 1, 4)
		w.link("m1", "m2")
		w.link("m2", "m3")
		w.link("m3", "m4")
	}
	// versionsWithChildren: m1 contains c1a, c1b; m2 contains c2a; m3
	// contains c3a, which contains g3.
	versionsWithChildren := func(w *planWorld) {
		w.versions("m", "1", "2", "3")
		w.model("c1a", "m1")
		w.model("c1b", "m1")
		w.model("c2a", "m2")
		w.model("c3a", "m3")
		w.model("g3", "c3a")
	}
	seq := func(prefix string, from, to int) []string {
		var out []string
		step := 1
		if from > to {
			step = -1
		}
		for v := from; v != to+step; v += step {
			out = append(out, fmt.Sprintf("%s%d", prefix, v))
		}
		return out
	}

	return []planCase{
		// Rule 4: children.
		{name: "children/soft delete of a leaf", build: func(w *planWorld) { w.model("a", "") }, target: "a",
			deleted: []string{"a"}},
		{name: "children/soft delete refuses live children", build: tree, target: "p",
			failed: map[string]string{"p": notEmpty}, messages: map[string][]string{"p": {"model is not empty", "fqn:c1", "fqn:c2"}},
			err: registry.ErrNotEmpty},
		{name: "children/hard delete refuses live children", build: tree, target: "p", opts: planHard,
			failed: map[string]string{"p": notEmpty}, messages: map[string][]string{"p": {"model is not empty"}},
			err: registry.ErrNotEmpty},
		{name: "children/refusal by FQN", build: tree, target: "p", byFQN: true,
			failed: map[string]string{"p": notEmpty}, messages: map[string][]string{"p": {"model is not empty"}},
			err: registry.ErrNotEmpty},
		{name: "children/a soft-deleted child does not block a soft delete",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c1", "p"); w.softDelete("c1") },
			target: "p", deleted: []string{"p"}},
		{name: "children/hard delete sweeps soft-deleted descendants",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c1", "p"); w.model("g1", "c1"); w.softDelete("c1") },
			target: "p", opts: planHard, deleted: []string{"g1", "c1", "p"}, ordered: true},
		{name: "children/hard sweep of a soft-deleted child with a live dependent, restrict", build: sweep, target: "p", opts: planHard,
			failed:   map[string]string{"c1": hasDeps, "p": notEmpty},
			messages: map[string][]string{"c1": {"fqn:x"}, "p": {"is not empty", "fqn:c1"}},
			err:      registry.ErrNotEmpty},
		{name: "children/hard sweep of a soft-deleted child with a live dependent, detach", build: sweep, target: "p",
			opts:    registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach},
			deleted: []string{"c1", "p"}, ordered: true, detached: map[string][]string{"x": {"c1"}}},
		{name: "children/hard sweep of a soft-deleted child with a live dependent, lineage cascade", build: sweep, target: "p",
			opts:    registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted: []string{"x", "c1", "p"}, ordered: true},
		{name: "children/a live child the lineage cascade takes is not left behind",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c", "p"); w.link("p", "c") },
			target: "p", opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted: []string{"c", "p"}, ordered: true},
		{name: "children/a parent and its live child both taken by the lineage cascade",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("p", "")
				w.model("c", "p")
				w.link("d", "p")
				w.link("d", "c")
			},
			target: "d", opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted: []string{"c", "p", "d"}},
		{name: "children/a live child the lineage cascade takes fails its parent when it fails",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("p", "")
				w.model("c", "p")
				w.link("d", "p")
				w.link("d", "c")
				w.deploy("c")
			},
			target: "d", opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			failed:   map[string]string{"c": deployed, "p": notEmpty, "d": hasDeps},
			messages: map[string][]string{"p": {"is not empty", "fqn:c"}}},
		{name: "children/a version contained in another version goes with it in a cascade",
			build: func(w *planWorld) {
				w.versions("m", "1")
				w.add("m2", registry.Artifact{Name: "m", Version: "2", Parent: w.id("m1")})
			},
			target: "m1", opts: planCasc, deleted: []string{"m2", "m1"}, ordered: true},

		// Rule 4: recursive.
		{name: "recursive/soft takes the subtree, children first", build: tree, target: "p", opts: planRec,
			deleted: []string{"g1", "c1", "c2", "p"}},
		{name: "recursive/hard takes the subtree, children first", build: tree, target: "p", opts: planHardRec,
			deleted: []string{"g1", "c1", "c2", "p"}},
		{name: "recursive/by FQN", build: tree, target: "p", opts: planRec, byFQN: true,
			deleted: []string{"g1", "c1", "c2", "p"}},
		{name: "recursive/soft leaves a descendant soft deleted earlier to its own delete",
			build: func(w *planWorld) { tree(w); w.softDelete("g1") }, target: "p", opts: planRec,
			deleted: []string{"c1", "c2", "p"}},
		{name: "recursive/hard takes a descendant soft deleted earlier",
			build: func(w *planWorld) { tree(w); w.softDelete("g1") }, target: "p", opts: planHardRec,
			deleted: []string{"g1", "c1", "c2", "p"}},
		{name: "recursive/soft: a deployed child fails, its parent is not empty, its siblings go", build: deployedChild, target: "p", opts: planRec,
			deleted: []string{"c1", "c3"},
			failed:  map[string]string{"c2": deployed, "p": notEmpty},
			messages: map[string][]string{
				"c2": {"fqn:c2", planEndpoint, "ModelArts.3009"},
				"p":  {"model is not empty", "fqn:c2"},
			}},
		{name: "recursive/hard: a deployed child fails, its parent is not empty, its siblings go", build: deployedChild, target: "p", opts: planHardRec,
			deleted: []string{"c1", "c3"},
			failed:  map[string]string{"c2": deployed, "p": notEmpty}},
		{name: "recursive/a deployed grandchild fails each of its ancestors",
			build: func(w *planWorld) {
				tree(w)
				w.model("g2", "c1")
				w.deploy("g1")
			},
			target: "p", opts: planRec,
			deleted: []string{"g2", "c2"},
			failed:  map[string]string{"g1": deployed, "c1": notEmpty, "p": notEmpty}},
		{name: "recursive/a deployed target fails alone, its children go",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c1", "p"); w.deploy("p") },
			target: "p", opts: planRec,
			deleted: []string{"c1"}, failed: map[string]string{"p": deployed}},
		{name: "recursive/a deployed leaf is reported as an item, not returned",
			build:  func(w *planWorld) { w.model("a", ""); w.deploy("a") },
			target: "a", opts: planRec,
			failed: map[string]string{"a": deployed}},
		{name: "recursive/soft keeps the lineage to an outside dependent", build: outsideDependent, target: "p", opts: planRec,
			deleted: []string{"c1", "c2", "p"}},
		{name: "recursive/hard restrict: a child's outside dependent fails the child and its parent", build: outsideDependent, target: "p", opts: planHardRec,
			deleted:  []string{"c2"},
			failed:   map[string]string{"c1": hasDeps, "p": notEmpty},
			messages: map[string][]string{"c1": {"fqn:x"}, "p": {"is not empty", "fqn:c1"}}},
		{name: "recursive/hard detach: the outside dependent is marked", build: outsideDependent, target: "p",
			opts:    registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageDetach},
			deleted: []string{"c1", "c2", "p"}, detached: map[string][]string{"x": {"c1"}}},
		{name: "recursive/hard lineage cascade: the outside dependent goes first", build: outsideDependent, target: "p",
			opts:    registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageCascade},
			deleted: []string{"x", "c1", "c2", "p"}},
		{name: "recursive/soft: lineage between siblings does not order a plain soft delete",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c1", "p"); w.model("c2", "p"); w.link("c1", "c2") },
			target: "p", opts: planRec, deleted: []string{"c1", "c2", "p"}, ordered: true},
		{name: "recursive/hard: a sibling made from a sibling is deleted first",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c1", "p"); w.model("c2", "p"); w.link("c1", "c2") },
			target: "p", opts: planHardRec, deleted: []string{"c2", "c1", "p"}, ordered: true},
		{name: "mix/hard: a child made from its parent", build: func(w *planWorld) { w.model("p", ""); w.model("c", "p"); w.link("p", "c") },
			target: "p", opts: planHardRec, deleted: []string{"c", "p"}, ordered: true},
		{name: "mix/soft cascade: a version's child made from the version",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.model("c", "m1")
				w.link("m1", "c")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Recursive: true},
			deleted: []string{"c", "m1", "m2"}},
		{name: "mix/hard: a parent made from its own child (no order satisfies both)",
			build:  func(w *planWorld) { w.model("p", ""); w.model("c", "p"); w.link("c", "p") },
			target: "p", opts: planHardRec, deleted: []string{"c", "p"}},
		{name: "mix/hard restrict: a child made from its parent, with an outside dependent of the child",
			build: func(w *planWorld) {
				w.model("p", "")
				w.model("c", "p")
				w.model("x", "")
				w.link("p", "c")
				w.link("c", "x")
			},
			target: "p", opts: planHardRec,
			failed:   map[string]string{"c": hasDeps, "p": notEmpty},
			messages: map[string][]string{"c": {"fqn:x"}}},

		// Rule 5: cascade, with rule 6 (deployed): ModelArts' own sample.
		{name: "cascade/ModelArts sample: one version deployed, two deleted, one failed", build: modelArts, target: "m1", opts: planCasc,
			deleted: []string{"m1", "m3"}, ordered: true,
			failed:   map[string]string{"m2": deployed},
			messages: map[string][]string{"m2": {"ModelArts.3009", "fqn:m2", planEndpoint}}},
		{name: "cascade/ModelArts sample, hard", build: modelArts, target: "m1", opts: registry.DeleteOptions{Cascade: true, Hard: true},
			deleted: []string{"m1", "m3"}, ordered: true, failed: map[string]string{"m2": deployed}},
		{name: "cascade/ModelArts sample by FQN", build: modelArts, target: "m1", opts: planCasc, byFQN: true,
			deleted: []string{"m1", "m3"}, ordered: true, failed: map[string]string{"m2": deployed}},
		{name: "cascade/limit 1 deletes the target only", build: func(w *planWorld) { w.versionRange("m", 1, 3) }, target: "m2",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 1},
			deleted: []string{"m2"}, skipped: []string{"m1", "m3"}, skipReason: []string{"cascade limit of 1", "2 more", "svc.m"}},
		{name: "cascade/limit 2: the target, then the newest", build: func(w *planWorld) { w.versionRange("m", 1, 4) }, target: "m2",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m2", "m4"}, ordered: true, skipped: []string{"m1", "m3"}, skipReason: []string{"cascade limit of 2"}},
		{name: "cascade/the default limit of 20 with 25 versions", build: func(w *planWorld) { w.versionRange("m", 1, 25) }, target: "m1",
			opts:    planCasc,
			deleted: append([]string{"m1"}, seq("m", 25, 7)...), ordered: true,
			skipped: seq("m", 2, 6), skipReason: []string{"cascade limit of 20", "5 more"}},
		{name: "cascade/natural version order: 10 is newer than 9", build: func(w *planWorld) { w.versionRange("m", 1, 12) }, target: "m5",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 3},
			deleted: []string{"m5", "m12", "m11"}, ordered: true,
			skipped: []string{"m1", "m2", "m3", "m4", "m6", "m7", "m8", "m9", "m10"}},
		{name: "cascade/natural version order of dotted versions", build: func(w *planWorld) { w.versions("m", "1.2", "1.9", "1.10") }, target: "m1.2",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m1.2", "m1.10"}, ordered: true, skipped: []string{"m1.9"}},
		{name: "cascade/other names and namespaces are not versions",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.versions("n", "1")
				w.add("om1", registry.Artifact{Namespace: "other", Name: "m", Version: "1"})
			},
			target: "m1", opts: planCasc, deleted: []string{"m1", "m2"}, ordered: true},
		{name: "cascade/a longer name is not a version; the unversioned artifact of the name is the oldest",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.versions("mm", "1")
				w.add("m-", registry.Artifact{Name: "m"})
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m1", "m2"}, ordered: true, skipped: []string{"m-"}},
		{name: "cascade/soft leaves versions soft deleted earlier",
			build:  func(w *planWorld) { w.versionRange("m", 1, 3); w.softDelete("m2") },
			target: "m1", opts: registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m1", "m3"}, ordered: true},
		{name: "cascade/hard takes versions soft deleted earlier",
			build:  func(w *planWorld) { w.versionRange("m", 1, 3); w.softDelete("m2") },
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Hard: true},
			deleted: []string{"m1", "m3", "m2"}, ordered: true},
		{name: "cascade/hard cascade of a soft-deleted target",
			build:  func(w *planWorld) { w.versionRange("m", 1, 3); w.softDelete("m2") },
			target: "m2", opts: registry.DeleteOptions{Cascade: true, Hard: true},
			deleted: []string{"m2", "m3", "m1"}, ordered: true},
		{name: "cascade/a deployed version past the limit is skipped, not failed",
			build:  func(w *planWorld) { w.versionRange("m", 1, 4); w.deploy("m1") },
			target: "m4", opts: registry.DeleteOptions{Cascade: true, CascadeLimit: 3},
			deleted: []string{"m4", "m3", "m2"}, ordered: true, skipped: []string{"m1"}},
		{name: "cascade/a deployed version within the limit fails and takes its slot",
			build:  func(w *planWorld) { w.versionRange("m", 1, 5); w.deploy("m5") },
			target: "m1", opts: registry.DeleteOptions{Cascade: true, CascadeLimit: 3},
			deleted: []string{"m1", "m4"}, ordered: true, failed: map[string]string{"m5": deployed}, skipped: []string{"m2", "m3"}},
		{name: "cascade/a deployed target is reported, the other versions go",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.deploy("m1") },
			target: "m1", opts: planCasc,
			deleted: []string{"m2"}, failed: map[string]string{"m1": deployed}},
		{name: "cascade/without recursive a version with a live child fails",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.model("c", "m1") },
			target: "m2", opts: planCasc,
			deleted: []string{"m2"}, failed: map[string]string{"m1": notEmpty},
			messages: map[string][]string{"m1": {"model is not empty", "fqn:c"}}},

		// Recursive + cascade.
		{name: "recursive+cascade/every version with its subtree", build: versionsWithChildren, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, Recursive: true},
			deleted: []string{"c1a", "c1b", "m1", "c2a", "m2", "g3", "c3a", "m3"}},
		{name: "recursive+cascade/hard, every version with its subtree", build: versionsWithChildren, target: "m2",
			opts:    registry.DeleteOptions{Cascade: true, Recursive: true, Hard: true},
			deleted: []string{"c1a", "c1b", "m1", "c2a", "m2", "g3", "c3a", "m3"}},
		{name: "recursive+cascade/the limit counts versions, not their children", build: versionsWithChildren, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, Recursive: true, CascadeLimit: 2},
			deleted: []string{"c1a", "c1b", "m1", "g3", "c3a", "m3"}, skipped: []string{"m2"}},
		{name: "recursive+cascade/a deployed child fails its own version only",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.model("c1", "m1")
				w.model("c2", "m2")
				w.deploy("c2")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Recursive: true},
			deleted: []string{"c1", "m1"}, failed: map[string]string{"c2": deployed, "m2": notEmpty}},
		{name: "recursive+cascade/hard, a deployed child fails its own version only",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.model("c1", "m1")
				w.model("c2", "m2")
				w.deploy("c2")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Recursive: true, Hard: true},
			deleted: []string{"c1", "m1"}, failed: map[string]string{"c2": deployed, "m2": notEmpty}},
		{name: "recursive+cascade+deployed+limit",
			build: func(w *planWorld) {
				w.versionRange("m", 1, 4)
				w.model("c4", "m4")
				w.model("c3", "m3")
				w.deploy("c4")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Recursive: true, CascadeLimit: 3},
			deleted: []string{"m1", "c3", "m3"}, failed: map[string]string{"c4": deployed, "m4": notEmpty}, skipped: []string{"m2"}},

		{name: "recursive+cascade/a version contained in the target is deleted with it, not skipped",
			build: func(w *planWorld) {
				w.versions("m", "1")
				w.add("m2", registry.Artifact{Name: "m", Version: "2", Parent: w.id("m1")})
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Recursive: true, CascadeLimit: 1},
			deleted: []string{"m2", "m1"}, ordered: true},

		// Rule 7: lineage, in a plain soft delete, a soft cascade and a hard delete.
		{name: "lineage/a plain soft delete leaves dependents alone", build: lin, target: "m2",
			deleted: []string{"m2"}},
		// A plain soft delete under Detach or Cascade is ErrInvalid
		// (TestDeleteRefusesOptionsThatDoNotApply).
		{name: "lineage/soft cascade, restrict: the version with a dependent fails", build: lin, target: "m1", opts: planCasc,
			deleted:  []string{"m1"},
			failed:   map[string]string{"m2": hasDeps},
			messages: map[string][]string{"m2": {"fqn:m2", "fqn:f", "1 live dependent"}}},
		{name: "lineage/soft cascade, detach: deleted, edges kept, nothing marked", build: lin, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, Lineage: registry.LineageDetach},
			deleted: []string{"m1", "m2"}, ordered: true},
		{name: "lineage/soft cascade, cascade: the dependent goes first", build: lin, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, Lineage: registry.LineageCascade},
			deleted: []string{"m1", "f", "m2"}},
		{name: "lineage/hard, restrict refuses and names the dependent", build: lin, target: "m2", opts: planHard,
			failed:   map[string]string{"m2": hasDeps},
			messages: map[string][]string{"m2": {"fqn:f"}},
			err:      registry.ErrHasDependents},
		{name: "lineage/hard by FQN, restrict refuses", build: lin, target: "m2", opts: planHard, byFQN: true,
			failed: map[string]string{"m2": hasDeps}, err: registry.ErrHasDependents},
		{name: "lineage/hard, detach drops the edge and marks the dependent", build: lin, target: "m2",
			opts:    registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach},
			deleted: []string{"m2"}, detached: map[string][]string{"f": {"m2"}}},
		{name: "lineage/hard, cascade deletes the dependent first", build: lin, target: "m2",
			opts:    registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted: []string{"f", "m2"}, ordered: true},
		{name: "lineage/hard cascade of versions, restrict", build: lin, target: "m1",
			opts:    registry.DeleteOptions{Hard: true, Cascade: true},
			deleted: []string{"m1"}, failed: map[string]string{"m2": hasDeps}, messages: map[string][]string{"m2": {"fqn:f"}}},
		{name: "lineage/hard cascade of versions, detach", build: lin, target: "m1",
			opts:    registry.DeleteOptions{Hard: true, Cascade: true, Lineage: registry.LineageDetach},
			deleted: []string{"m1", "m2"}, ordered: true, detached: map[string][]string{"f": {"m2"}}},
		{name: "lineage/hard cascade of versions, cascade", build: lin, target: "m1",
			opts:    registry.DeleteOptions{Hard: true, Cascade: true, Lineage: registry.LineageCascade},
			deleted: []string{"m1", "f", "m2"}},
		{name: "lineage/an upstream is not a dependent", build: lin, target: "m1", opts: planHard,
			deleted: []string{"m1"}},
		{name: "lineage/restrict names every dependent",
			build: linPlus(func(w *planWorld) { w.model("g", ""); w.link("m2", "g") }), target: "m2", opts: planHard,
			failed:   map[string]string{"m2": hasDeps},
			messages: map[string][]string{"m2": {"fqn:f", "fqn:g", "2 live dependent"}},
			err:      registry.ErrHasDependents},
		{name: "lineage/hard, restrict: a soft-deleted dependent does not block, and is marked",
			build: linPlus(func(w *planWorld) { w.softDelete("f") }), target: "m2", opts: planHard,
			deleted: []string{"m2"}, detached: map[string][]string{"f": {"m2"}}},
		{name: "lineage/a dependent inside the cascade does not block",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.link("m1", "m2") },
			target: "m1", opts: planCasc, deleted: []string{"m2", "m1"}, ordered: true},
		{name: "lineage/newest first never strands a fine-tuned version", build: chain, target: "m4",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m4", "m3"}, ordered: true, skipped: []string{"m2", "m1"}},
		{name: "lineage/a limit that cuts a chain fails the version whose successor stays", build: chain, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 2},
			deleted: []string{"m4"}, failed: map[string]string{"m1": hasDeps}, messages: map[string][]string{"m1": {"fqn:m2"}},
			skipped: []string{"m2", "m3"}},
		{name: "lineage/hard cascade of a fine-tuned chain deletes newest first", build: chain, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, Hard: true},
			deleted: []string{"m4", "m3", "m2", "m1"}, ordered: true},
		{name: "lineage/cascade is transitive",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("a", "")
				w.model("b", "")
				w.model("c", "")
				w.link("d", "a")
				w.link("a", "b")
				w.link("b", "c")
			},
			target: "d", opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted: []string{"c", "b", "a", "d"}, ordered: true},
		{name: "lineage/hard cascade: a deployed dependent blocks its upstream chain",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("a", "")
				w.model("b", "")
				w.model("e", "")
				w.link("d", "a")
				w.link("a", "b")
				w.link("d", "e")
				w.deploy("b")
			},
			target: "d", opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			deleted:  []string{"e"},
			failed:   map[string]string{"b": deployed, "a": hasDeps, "d": hasDeps},
			messages: map[string][]string{"a": {"fqn:b", registry.CodeDeployed}, "d": {"fqn:a"}}},
		{name: "lineage/soft cascade, cascade: a deployed dependent blocks its upstream chain",
			build: func(w *planWorld) {
				w.versions("m", "1", "2")
				w.model("a", "")
				w.model("b", "")
				w.link("m1", "a")
				w.link("a", "b")
				w.deploy("b")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Lineage: registry.LineageCascade},
			deleted: []string{"m2"},
			failed:  map[string]string{"b": deployed, "a": hasDeps, "m1": hasDeps}},
		{name: "lineage/soft cascade, cascade: a deployed direct dependent fails its version",
			build: linPlus(func(w *planWorld) { w.deploy("f") }), target: "m1",
			opts:     registry.DeleteOptions{Cascade: true, Lineage: registry.LineageCascade},
			deleted:  []string{"m1"},
			failed:   map[string]string{"f": deployed, "m2": hasDeps},
			messages: map[string][]string{"m2": {"fqn:f", registry.CodeDeployed}}},
		{name: "lineage/cascade: a dependent with a live child needs recursive",
			build: linPlus(func(w *planWorld) { w.model("fc", "f") }), target: "m2",
			opts:     registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade},
			failed:   map[string]string{"f": notEmpty, "m2": hasDeps},
			messages: map[string][]string{"f": {"model is not empty", "fqn:fc"}}},
		{name: "lineage/cascade + recursive: a dependent with its child",
			build: linPlus(func(w *planWorld) { w.model("fc", "f") }), target: "m2",
			opts:    registry.DeleteOptions{Hard: true, Recursive: true, Lineage: registry.LineageCascade},
			deleted: []string{"fc", "f", "m2"}, ordered: true},
		{name: "lineage/detach marks a deployed dependent",
			build: linPlus(func(w *planWorld) { w.deploy("f") }), target: "m2",
			opts:    registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach},
			deleted: []string{"m2"}, detached: map[string][]string{"f": {"m2"}}},
		{name: "lineage/hard cascade, detach: a failed version in the set is marked",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.link("m1", "m2"); w.deploy("m2") },
			target: "m1", opts: registry.DeleteOptions{Hard: true, Cascade: true, Lineage: registry.LineageDetach},
			deleted: []string{"m1"}, failed: map[string]string{"m2": deployed}, detached: map[string][]string{"m2": {"m1"}}},
		{name: "lineage/hard cascade, restrict: a failed version in the set fails what it was made from",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.link("m1", "m2"); w.deploy("m2") },
			target: "m1", opts: registry.DeleteOptions{Hard: true, Cascade: true},
			failed:   map[string]string{"m2": deployed, "m1": hasDeps},
			messages: map[string][]string{"m1": {"fqn:m2", registry.CodeDeployed}}},
		{name: "lineage/lineage cascade takes a version past the cascade limit, which is then not skipped",
			build: func(w *planWorld) {
				w.versionRange("m", 1, 3)
				w.link("m1", "m2")
				w.link("m2", "m3")
			},
			target: "m1", opts: registry.DeleteOptions{Cascade: true, CascadeLimit: 1, Lineage: registry.LineageCascade},
			deleted: []string{"m3", "m2", "m1"}, ordered: true},

		// Rule 8: atomic, beyond the atomic run every case gets.
		{name: "atomic/a deployed child fails the call with its own failure, the cause", build: deployedChild, target: "p",
			opts:     registry.DeleteOptions{Recursive: true, Atomic: true},
			failed:   map[string]string{"c2": deployed, "p": notEmpty},
			messages: map[string][]string{"p": {"is not empty", registry.CodeDeployed}},
			err:      registry.ErrDeployed},
		{name: "atomic/ModelArts sample: the deployed version is the error", build: modelArts, target: "m1",
			opts:   registry.DeleteOptions{Cascade: true, Atomic: true},
			failed: map[string]string{"m2": deployed}, err: registry.ErrDeployed},
		{name: "atomic/a deployed target is the error",
			build:  func(w *planWorld) { w.versions("m", "1", "2"); w.deploy("m1") },
			target: "m1", opts: registry.DeleteOptions{Cascade: true, Atomic: true},
			failed: map[string]string{"m1": deployed}, err: registry.ErrDeployed},
		{name: "atomic/lineage restrict in a hard cascade is the error", build: lin, target: "m1",
			opts:   registry.DeleteOptions{Hard: true, Cascade: true, Atomic: true},
			failed: map[string]string{"m2": hasDeps}, err: registry.ErrHasDependents},
		{name: "atomic/nothing fails, everything goes", build: tree, target: "p",
			opts:    registry.DeleteOptions{Recursive: true, Hard: true, Atomic: true},
			deleted: []string{"g1", "c1", "c2", "p"}},
		{name: "atomic/with skips and no failure, the rest goes", build: func(w *planWorld) { w.versionRange("m", 1, 3) }, target: "m1",
			opts:    registry.DeleteOptions{Cascade: true, CascadeLimit: 2, Atomic: true},
			deleted: []string{"m1", "m3"}, ordered: true, skipped: []string{"m2"}},
	}
}

// The ModelArts sample on the registrytest fixture, whose versions were each
// fine-tuned from the one before (v1 → v2 → v3) and whose v3 is deployed.
// Under Detach it is ModelArts' answer: two deleted, one failed with
// ModelArts.3009. Under Restrict v2 cannot go either, since v3 stays live
// and was made from it, and so v1 cannot go.
func TestPlanModelArtsSampleOnTheFixture(t *testing.T) {
	for _, c := range []struct {
		lineage registry.LineagePolicy
		deleted []int // indexes into Versions, in order
		failed  map[int]string
	}{
		{registry.LineageDetach, []int{1, 0}, map[int]string{2: registry.CodeDeployed}},
		{registry.LineageRestrict, nil, map[int]string{2: registry.CodeDeployed, 1: registry.CodeHasDependents, 0: registry.CodeHasDependents}},
	} {
		t.Run(c.lineage.String(), func(t *testing.T) {
			f := registrytest.New(t)
			res, err := f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{Cascade: true, Lineage: c.lineage})
			require.NoError(t, err)
			var want []string
			for _, i := range c.deleted {
				want = append(want, f.Versions[i].ID)
			}
			if len(want) == 0 {
				assert.Empty(t, res.Deleted)
			} else {
				assert.Equal(t, want, res.Deleted, "Deleted, dependents first")
			}
			got := map[int]string{}
			for _, fl := range res.Failed {
				i := slices.IndexFunc(f.Versions, func(a registry.Artifact) bool { return a.ID == fl.ID })
				require.GreaterOrEqual(t, i, 0, "failed item %s is not a version", fl.ID)
				got[i] = fl.Code
				if fl.Code == registry.CodeDeployed {
					assert.Contains(t, fl.Message, "ModelArts.3009")
					assert.Contains(t, fl.Message, registrytest.Endpoint)
					assert.True(t, errors.Is(fl.Err(), registry.ErrDeployed))
				}
			}
			assert.Equal(t, c.failed, got)
			assert.Empty(t, res.Skipped)
			for i, v := range f.Versions {
				a := f.MustGet(t, v.ID)
				assert.Equal(t, slices.Contains(c.deleted, i), a.Deleted, "version %d deleted", i+1)
			}
			require.NoError(t, f.Check())
		})
	}
}
