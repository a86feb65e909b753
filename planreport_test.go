package registry_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// Failure reporting of the planner: messages stay short however deep the
// plan, failures name their direct and root causes, and Results say what
// each reported item was.

// reportChainSize is the depth of the deep-plan tests: 100,000, or 20,000
// under -short and under the race detector, which is several times slower.
func reportChainSize() int {
	if testing.Short() || modelRaceEnabled {
		return 20_000
	}
	return 100_000
}

// reportLinkedSize is the length of the lineage chains of these tests:
// Link adds one edge per transaction, so a chain is dearer to build than a
// containment chain.
func reportLinkedSize() int {
	if testing.Short() || modelRaceEnabled {
		return 2_000
	}
	return 10_000
}

// reportRegisterChain registers n artifacts svc.<prefix><i>.1, i = 0..n-1,
// in batches; when contained, each one but the first is contained in the one
// before it. It returns their IDs in order.
func reportRegisterChain(t testing.TB, f *registrytest.Fixture, prefix string, n int, contained bool) []string {
	t.Helper()
	const chunk = 5000
	ids := make([]string, 0, n)
	for lo := 0; lo < n; lo += chunk {
		batch := make([]registry.Artifact, 0, chunk)
		for i := lo; i < min(lo+chunk, n); i++ {
			a := registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: fmt.Sprintf("%s%d", prefix, i), Version: "1"}
			if contained && i > 0 {
				if i > lo {
					// The previous one is in this batch: give it an ID now.
					a.Parent = batch[i-lo-1].ID
				} else {
					a.Parent = ids[i-1]
				}
			}
			if contained {
				a.ID = uuid.Must(uuid.NewV7()).String()
			}
			batch = append(batch, a)
		}
		out, err := f.RegisterBatch(f.Ctx, batch)
		require.NoError(t, err)
		for _, a := range out {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// reportLinkChain links ids[i] -> ids[i+1] for every i.
func reportLinkChain(t testing.TB, f *registrytest.Fixture, ids []string) {
	t.Helper()
	for i := 0; i+1 < len(ids); i++ {
		require.NoError(t, f.Link(f.Ctx, ids[i], ids[i+1]))
	}
}

// A Link refused for a cycle names the cycle's length and at most its first
// three and last two steps, whatever its length.
func TestLinkCycleMessageIsShort(t *testing.T) {
	f := registrytest.NewEmpty(t)
	n := reportLinkedSize()
	ids := reportRegisterChain(t, f, "a", n, false)
	reportLinkChain(t, f, ids)
	fqn := func(i int) string { return fmt.Sprintf("svc.a%d.1", i) }

	cases := []struct {
		name     string
		up, down int
		want     string
	}{
		{"self loop", 5, 5, fmt.Sprintf("linking %s to itself would create a cycle", fqn(5))},
		{"2-cycle", 8, 7, fmt.Sprintf("linking %s -> %s would create a cycle of 2 artifacts: %s -> %s -> %s", fqn(8), fqn(7), fqn(8), fqn(7), fqn(8))},
		{"5-cycle, named whole", 14, 10, fmt.Sprintf("a cycle of 5 artifacts: %s -> %s -> %s -> %s -> %s -> %s",
			fqn(14), fqn(10), fqn(11), fqn(12), fqn(13), fqn(14))},
		{"6-cycle, shortened", 15, 10, fmt.Sprintf("a cycle of 6 artifacts: %s -> %s -> %s -> … -> %s -> %s",
			fqn(15), fqn(10), fqn(11), fqn(14), fqn(15))},
		{"the whole chain", n - 1, 0, fmt.Sprintf("a cycle of %s artifacts: %s -> %s -> %s -> … -> %s -> %s",
			reportThousands(n), fqn(n-1), fqn(0), fqn(1), fqn(n-2), fqn(n-1))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := f.Link(f.Ctx, ids[c.up], ids[c.down])
			var e *registry.Error
			require.ErrorAs(t, err, &e)
			assert.ErrorIs(t, err, registry.ErrInvalid)
			assert.Equal(t, "downstream", e.Field)
			assert.Contains(t, e.Message, c.want)
			assert.Less(t, len(e.Message), 512, "the message: %s", e.Message)
		})
	}
	// Nothing was linked: each artifact but the first still has exactly its
	// one upstream.
	for _, i := range []int{0, 5, 7, 10, n - 1} {
		g, err := f.Lineage(f.Ctx, ids[i], registry.Upstream, 1)
		require.NoError(t, err)
		var ups []string
		for _, e := range g.Edges {
			ups = append(ups, e.Upstream)
		}
		if i == 0 {
			assert.Empty(t, ups)
		} else {
			assert.Equal(t, []string{ids[i-1]}, ups)
		}
	}
	require.NoError(t, f.Check())
}

// reportThousands renders n as 200,000.
func reportThousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A parent is judged on the live children the complete plan leaves behind:
// a live child that joins the plan through the Cascade lineage policy (or
// as a version of a cascade), not through Recursive, is deleted with it,
// before it, and fails it only if it fails itself.
func TestPlanParentJudgedOnWhatThePlanLeaves(t *testing.T) {
	hardLineage := registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade}
	cases := []struct {
		name    string
		build   func(w *planWorld)
		target  string
		opts    registry.DeleteOptions
		deleted []string          // in order
		failed  map[string]string // label → code
		causes  map[string]string // label → the label of its direct cause
	}{
		{
			name:    "the child is made from its parent",
			build:   func(w *planWorld) { w.model("p", ""); w.model("c", "p"); w.link("p", "c") },
			target:  "p",
			opts:    hardLineage,
			deleted: []string{"c", "p"},
		},
		{
			name:    "the child is made from its parent, soft cascade of versions",
			build:   func(w *planWorld) { w.versions("m", "1", "2"); w.model("c", "m1"); w.link("m1", "c") },
			target:  "m1",
			opts:    registry.DeleteOptions{Cascade: true, Lineage: registry.LineageCascade},
			deleted: []string{"c", "m1", "m2"},
		},
		{
			name:    "the child is made from another version of its parent",
			build:   func(w *planWorld) { w.versions("m", "1", "2"); w.model("c", "m1"); w.link("m2", "c") },
			target:  "m1",
			opts:    registry.DeleteOptions{Hard: true, Cascade: true, Lineage: registry.LineageCascade},
			deleted: []string{"c", "m1", "m2"},
		},
		{
			name: "parent and child are made from the target",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("p", "")
				w.model("c", "p")
				w.link("d", "c") // c's edge first: it joins the plan before p
				w.link("d", "p")
			},
			target:  "d",
			opts:    hardLineage,
			deleted: []string{"c", "p", "d"},
		},
		{
			name: "the child that joined fails: its parent is not empty",
			build: func(w *planWorld) {
				w.dataset("d")
				w.model("p", "")
				w.model("c", "p")
				w.link("d", "p")
				w.link("d", "c")
				w.deploy("c")
			},
			target: "d",
			opts:   hardLineage,
			failed: map[string]string{"c": registry.CodeDeployed, "p": registry.CodeNotEmpty, "d": registry.CodeHasDependents},
			causes: map[string]string{"p": "c"},
		},
		{
			name: "one child joins, another is left behind",
			build: func(w *planWorld) {
				w.model("p", "")
				w.model("c1", "p")
				w.model("c2", "p")
				w.link("p", "c1")
			},
			target: "p",
			opts:   hardLineage,
			// c1 goes: it is made from p, and nothing keeps it.
			deleted: []string{"c1"},
			failed:  map[string]string{"p": registry.CodeNotEmpty},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := planNewWorld(t)
			c.build(w)
			before := w.state()
			for _, dry := range []bool{true, false} {
				o := c.opts
				o.DryRun = dry
				res, err := w.delete(c.target, o, false)
				require.NoError(t, err, "a multi-item partial delete reports its failures")
				want := c.deleted
				if want == nil {
					want = []string{}
				}
				assert.Equal(t, want, w.labelsOf(res.Deleted), "Deleted, in order (dry run %t)", dry)
				failed := map[string]string{}
				for _, f := range res.Failed {
					failed[w.label(f.ID)] = f.Code
				}
				wantFailed := c.failed
				if wantFailed == nil {
					wantFailed = map[string]string{}
				}
				assert.Equal(t, wantFailed, failed, "Failed (dry run %t)", dry)
				for l, cause := range c.causes {
					for _, f := range res.Failed {
						if f.ID == w.id(l) {
							assert.Contains(t, f.Message, w.fqns[cause], "%s names its cause", l)
						}
					}
				}
				if dry {
					w.requireUnchanged(t, before, "the dry run")
				} else {
					w.checkApplied(t, before, o, res)
				}
				require.NoError(t, w.f.Check())
			}
		})
	}
}

// reportCheckSizes checks that a Result and an error stay linear in the
// number of items: every message is short and all of them together take
// less than 300 bytes an item.
func reportCheckSizes(t *testing.T, res registry.Result, err error, items int) {
	t.Helper()
	total := 0
	for _, f := range res.Failed {
		total += len(f.Message)
		if len(f.Message) >= 512 {
			assert.Less(t, len(f.Message), 512, "the message of %s: %.600s", f.ID, f.Message)
			break
		}
	}
	if err != nil {
		assert.Less(t, len(err.Error()), 512, "the error: %.600s", err.Error())
		total += len(err.Error())
	}
	assert.Less(t, total, 300*items, "all messages together")
}

// reportCheckChainFailures checks the failures of a chain whose last item
// broke a rule (code rootCode) and whose every other item i failed because
// of item i+1 (code code): one failure per item, each naming its direct
// cause and the root cause, in the message too.
func reportCheckChainFailures(t *testing.T, res registry.Result, ids []string, code, rootCode string) {
	t.Helper()
	require.Len(t, res.Failed, len(ids))
	byID := make(map[string]registry.Failure, len(ids))
	for _, f := range res.Failed {
		byID[f.ID] = f
	}
	leaf := ids[len(ids)-1]
	root := byID[leaf]
	assert.Equal(t, rootCode, root.Code, "the root cause")
	assert.Empty(t, root.Cause, "the root cause has no cause")
	assert.Empty(t, root.RootCause)
	assert.Empty(t, root.RootCode)
	bad := 0
	for i, id := range ids[:len(ids)-1] {
		f, ok := byID[id]
		okf := ok && f.Code == code && f.Cause == ids[i+1] && f.RootCause == leaf && f.RootCode == rootCode &&
			strings.Contains(f.Message, ids[i+1]) && strings.Contains(f.Message, leaf) && strings.Contains(f.Message, rootCode)
		if !okf {
			assert.True(t, ok, "item %d did not fail", i)
			assert.Equal(t, code, f.Code, "item %d", i)
			assert.Equal(t, ids[i+1], f.Cause, "item %d: Cause is the next item", i)
			assert.Equal(t, leaf, f.RootCause, "item %d: RootCause is the leaf", i)
			assert.Equal(t, rootCode, f.RootCode, "item %d: RootCode", i)
			assert.Contains(t, f.Message, ids[i+1], "item %d: the message names the direct cause", i)
			assert.Contains(t, f.Message, leaf, "item %d: the message names the root cause", i)
			if bad++; bad == 3 {
				return
			}
		}
	}
}

// A containment chain 100,000 deep (20,000 under -short or -race) with a
// deployed leaf: a recursive delete fails every item, and its Result stays
// linear in size: each ancestor names its child and the leaf, and copies
// neither's message.
func TestPlanDeepContainmentFailuresStayLinear(t *testing.T) {
	f := registrytest.NewEmpty(t)
	n := reportChainSize()
	ids := reportRegisterChain(t, f, "c", n, true)
	require.NoError(t, f.Deploy(f.Ctx, ids[n-1], "ep-1"))
	// Each of soft and hard, dry run and real, partial and atomic once: a
	// plan of this size takes a second or two.
	for _, v := range []struct{ hard, atomic, dry bool }{{false, false, true}, {false, true, false}, {true, false, true}, {true, false, false}} {
		hard, atomic, dry := v.hard, v.atomic, v.dry
		{
			{
				o := registry.DeleteOptions{Recursive: true, Hard: hard, Atomic: atomic, DryRun: dry}
				t.Run(fmt.Sprintf("hard=%t/atomic=%t/dry=%t", hard, atomic, dry), func(t *testing.T) {
					res, err := f.Delete(f.Ctx, ids[0], o)
					if atomic {
						var e *registry.Error
						require.ErrorAs(t, err, &e, "an atomic delete with a failure")
						assert.Equal(t, registry.CodeDeployed, e.Code, "the error is the root cause")
						assert.Equal(t, ids[n-1], e.ID, "the error is the root cause")
					} else {
						require.NoError(t, err)
					}
					assert.Empty(t, res.Deleted)
					reportCheckSizes(t, res, err, n)
					reportCheckChainFailures(t, res, ids, registry.CodeNotEmpty, registry.CodeDeployed)
				})
			}
		}
	}
	require.NoError(t, f.Check())
	a, err := f.Get(f.Ctx, ids[0])
	require.NoError(t, err, "nothing was deleted")
	assert.False(t, a.Deleted)
}

// A lineage chain v1 -> v2 -> ... -> vn of versions of one name, vn
// deployed: a cascade over every version (Restrict) or a hard delete of v1
// under the Cascade lineage policy fails every item with HAS_DEPENDENTS,
// naming the next version and the deployed one, in linear size.
func TestPlanDeepLineageFailuresStayLinear(t *testing.T) {
	f := registrytest.NewEmpty(t)
	n := reportLinkedSize()
	batch := make([]registry.Artifact, n)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: fmt.Sprint(i + 1)}
	}
	var ids []string
	for lo := 0; lo < n; lo += 5000 {
		out, err := f.RegisterBatch(f.Ctx, batch[lo:min(lo+5000, n)])
		require.NoError(t, err)
		for _, a := range out {
			ids = append(ids, a.ID)
		}
	}
	reportLinkChain(t, f, ids)
	require.NoError(t, f.Deploy(f.Ctx, ids[n-1], "ep-1"))
	cases := []struct {
		name string
		o    registry.DeleteOptions
	}{
		{"soft cascade, restrict", registry.DeleteOptions{Cascade: true, CascadeLimit: n}},
		{"hard cascade, restrict", registry.DeleteOptions{Cascade: true, CascadeLimit: n, Hard: true}},
		{"soft cascade, lineage cascade", registry.DeleteOptions{Cascade: true, CascadeLimit: 1, Lineage: registry.LineageCascade}},
		{"hard, lineage cascade", registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade}},
	}
	for _, c := range cases {
		for _, v := range []struct{ atomic, dry bool }{{false, true}, {false, false}, {true, false}} {
			atomic, dry := v.atomic, v.dry
			{
				o := c.o
				o.Atomic, o.DryRun = atomic, dry
				t.Run(fmt.Sprintf("%s/atomic=%t/dry=%t", c.name, atomic, dry), func(t *testing.T) {
					res, err := f.Delete(f.Ctx, ids[0], o)
					if atomic {
						var e *registry.Error
						require.ErrorAs(t, err, &e, "an atomic delete with a failure")
						assert.Equal(t, registry.CodeDeployed, e.Code, "the error is the root cause")
						assert.Equal(t, ids[n-1], e.ID, "the error is the root cause")
					} else {
						require.NoError(t, err)
					}
					assert.Empty(t, res.Deleted)
					assert.Empty(t, res.Skipped)
					reportCheckSizes(t, res, err, n)
					reportCheckChainFailures(t, res, ids, registry.CodeHasDependents, registry.CodeDeployed)
				})
			}
		}
	}
	require.NoError(t, f.Check())
}

// Every artifact a Result reports comes with its FQN and kind: the item
// lists match the ID lists one to one, in order, and Failure carries them
// too, in a recursive, cascading, detaching hard delete with failures,
// skips and detachments; a dry run and a token replay report the same.
func TestResultItemsNameWhatWasReported(t *testing.T) {
	w := planNewWorld(t)
	w.versionRange("m", 1, 4)
	w.add("c3", registry.Artifact{Kind: registry.KindDataset, Name: "c3", Version: "1", Parent: w.id("m3")})
	w.add("c4", registry.Artifact{Kind: registry.KindCode, Name: "c4", Version: "1", Parent: w.id("m4")})
	w.deploy("c3")
	w.dataset("x")
	w.model("y", "")
	w.link("m1", "x")
	w.link("c4", "y")
	kinds := map[string]registry.Kind{"m1": registry.KindModel, "m2": registry.KindModel, "m3": registry.KindModel, "m4": registry.KindModel,
		"c3": registry.KindDataset, "c4": registry.KindCode, "x": registry.KindDataset, "y": registry.KindModel}
	o := registry.DeleteOptions{Hard: true, Recursive: true, Cascade: true, CascadeLimit: 3, Lineage: registry.LineageDetach, ClientToken: "items-1"}

	checkItems := func(t *testing.T, what string, ids []string, items []registry.Item) {
		t.Helper()
		require.Len(t, items, len(ids), "%s: one item per ID", what)
		for i, id := range ids {
			l := w.label(id)
			assert.Equal(t, registry.Item{ID: id, FQN: w.fqns[l], Kind: kinds[l]}, items[i], "%s[%d]", what, i)
		}
	}
	check := func(t *testing.T, res registry.Result) {
		t.Helper()
		assert.Equal(t, []string{"m1", "c4", "m4"}, w.labelsOf(res.Deleted))
		checkItems(t, "DeletedItems", res.Deleted, res.DeletedItems)
		assert.Equal(t, []string{"m2"}, w.labelsOf(res.Skipped))
		checkItems(t, "SkippedItems", res.Skipped, res.SkippedItems)
		assert.ElementsMatch(t, []string{"x", "y"}, w.labelsOf(res.Detached))
		checkItems(t, "DetachedItems", res.Detached, res.DetachedItems)
		require.Len(t, res.Failed, 2)
		for _, f := range res.Failed {
			l := w.label(f.ID)
			assert.Equal(t, w.fqns[l], f.FQN, "the FQN of failed %s", l)
			assert.Equal(t, kinds[l], f.Kind, "the kind of failed %s", l)
		}
		assert.Equal(t, registry.Failure{ID: w.id("c3"), FQN: w.fqns["c3"], Kind: registry.KindDataset, Code: registry.CodeDeployed,
			Message: res.Failed[0].Message}, res.Failed[0], "the deployed child, first")
		assert.Equal(t, registry.Failure{ID: w.id("m3"), FQN: w.fqns["m3"], Kind: registry.KindModel, Code: registry.CodeNotEmpty,
			Message: res.Failed[1].Message, Cause: w.id("c3"), RootCause: w.id("c3"), RootCode: registry.CodeDeployed}, res.Failed[1], "its version")
	}

	dry := o
	dry.DryRun = true
	dres, err := w.delete("m1", dry, false)
	require.NoError(t, err)
	check(t, dres)
	require.NoError(t, w.f.Check())

	res, err := w.delete("m1", o, false)
	require.NoError(t, err)
	check(t, res)
	dres.Operation, dres.DryRun = res.Operation, false
	assert.Equal(t, res, dres, "the dry run reports the same")
	require.NoError(t, w.f.Check())

	// The JSON names.
	raw, err := json.Marshal(res)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	for _, k := range []string{"delete_success_list", "deletedItems", "delete_failed_list", "skipped", "skippedItems", "detached", "detachedItems"} {
		assert.Contains(t, doc, k)
	}
	first := doc["deletedItems"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"id": w.id("m1"), "fullyQualifiedName": w.fqns["m1"], "kind": "model"}, first)
	failed := doc["delete_failed_list"].([]any)
	own, caused := failed[0].(map[string]any), failed[1].(map[string]any)
	for _, k := range []string{"model_id", "fullyQualifiedName", "kind", "error_code", "error_message"} {
		assert.Contains(t, own, k)
	}
	for _, k := range []string{"cause", "rootCause", "rootCode"} {
		assert.NotContains(t, own, k, "a failure that broke a rule itself has no cause")
		assert.Contains(t, caused, k)
	}

	// A replay returns the same items, and a caller's changes to one
	// Result do not reach the next replay.
	rep, err := w.delete("m1", o, false)
	require.NoError(t, err)
	assert.True(t, rep.Replayed)
	rep.Replayed = false
	assert.Equal(t, res, rep)
	rep.DeletedItems[0].FQN = "changed"
	rep.SkippedItems[0].FQN = "changed"
	rep.DetachedItems[0].FQN = "changed"
	rep.Failed[0].FQN = "changed"
	again, err := w.delete("m1", o, false)
	require.NoError(t, err)
	again.Replayed = false
	// res may share what the registry keeps: compare with its JSON, taken
	// before the changes.
	rawAgain, err := json.Marshal(again)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(rawAgain), "a replay is a copy")
	require.NoError(t, w.f.Check())
}
