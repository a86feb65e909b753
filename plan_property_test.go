package registry_test

import (
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// planPropertyIterations is how many random worlds the property test tries;
// each seed is its own subtest, so a failure names the seed that found it.
const planPropertyIterations = 300

// For random small worlds (containment, versions, lineage, deployments,
// earlier soft and hard deletes) and random delete options: the dry run
// changes nothing and reports exactly what the delete then does; no item is
// reported twice; the registry's invariants hold; and the delete keeps the
// rules (nothing deployed is deleted, no live dependent is left under
// Restrict or Cascade, every version a cascade could take is deleted,
// failed or skipped, newest first).
func TestPlanPropertyDryRunMatchesDelete(t *testing.T) {
	for seed := int64(1); seed <= planPropertyIterations; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			planProperty(t, seed)
		})
	}
}

func planProperty(t *testing.T, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	w := planNewWorld(t)
	var story []string
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d; the world and the delete:\n  %s", seed, strings.Join(story, "\n  "))
		}
	})
	say := func(format string, args ...any) { story = append(story, fmt.Sprintf(format, args...)) }

	// Artifacts: names a, b, c with increasing, gapped versions (so that 10
	// follows 9), some contained in an earlier one.
	names := []string{"a", "b", "c"}
	last := map[string]int{}
	var labels []string
	for i, n := 0, 3+rng.Intn(8); i < n; i++ {
		name := names[rng.Intn(len(names))]
		last[name] += 1 + rng.Intn(4)
		label := fmt.Sprintf("%s%d", name, last[name])
		a := registry.Artifact{Name: name, Version: strconv.Itoa(last[name])}
		if len(labels) > 0 && rng.Intn(3) == 0 {
			parent := labels[rng.Intn(len(labels))]
			a.Parent = w.id(parent)
			say("%s in %s", label, parent)
		} else {
			say("%s", label)
		}
		w.add(label, a)
		labels = append(labels, label)
	}
	for _, up := range labels {
		for _, down := range labels {
			if up == down || rng.Intn(6) != 0 {
				continue
			}
			err := w.f.Link(w.f.Ctx, w.id(up), w.id(down))
			if err == nil {
				say("link %s -> %s", up, down)
				continue
			}
			require.ErrorIs(t, err, registry.ErrInvalid, "link %s -> %s: only a cycle is refused", up, down)
		}
	}
	for _, l := range labels {
		if rng.Intn(5) == 0 {
			w.deploy(l)
			say("deploy %s", l)
		}
	}
	for _, l := range labels {
		var o registry.DeleteOptions
		switch rng.Intn(12) {
		case 0, 1:
			o = registry.DeleteOptions{Recursive: rng.Intn(2) == 0}
		case 2:
			o = registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach}
		default:
			continue
		}
		res, err := w.f.Delete(w.f.Ctx, w.id(l), o)
		say("earlier delete %s %+v: deleted %v failed %d, %v", l, o, w.labelsOf(res.Deleted), len(res.Failed), err)
		if err != nil {
			require.True(t, errors.Is(err, registry.ErrNotEmpty) || errors.Is(err, registry.ErrDeployed) ||
				errors.Is(err, registry.ErrNotFound) || errors.Is(err, registry.ErrHasDependents), "earlier delete: %v", err)
		}
	}
	require.NoError(t, w.f.Check())

	before := w.state()
	var existing []string
	for _, l := range labels {
		if _, ok := before.arts[w.ids[l]]; ok {
			existing = append(existing, l)
		}
	}
	target := existing[rng.Intn(len(existing))]
	o := registry.DeleteOptions{
		Hard:         rng.Intn(2) == 0,
		Recursive:    rng.Intn(2) == 0,
		Cascade:      rng.Intn(2) == 0,
		CascadeLimit: rng.Intn(4),
		Lineage:      registry.LineagePolicy(rng.Intn(3)),
		Atomic:       rng.Intn(3) == 0,
		Reason:       "property",
	}
	o = applicable(o)
	byFQN := rng.Intn(2) == 0
	say("DELETE %s (deleted before: %t) %+v byFQN=%t", target, before.arts[w.ids[target]].Deleted, o, byFQN)
	w.f.Clock.Advance(time.Hour)

	dry := o
	dry.DryRun = true
	dres, derr := w.delete(target, dry, byFQN)
	w.requireUnchanged(t, before, "the dry run")
	require.NoError(t, w.f.Check())
	res, err := w.delete(target, o, byFQN)
	say("result: deleted %v failed %v skipped %v detached %v err %v", w.labelsOf(res.Deleted), planFailedLabels(w, res), w.labelsOf(res.Skipped), w.labelsOf(res.Detached), err)

	assert.Equal(t, registry.ErrorCode(derr), registry.ErrorCode(err), "the dry run's error %v, the delete's %v", derr, err)
	if derr != nil && err != nil {
		assert.Equal(t, derr.Error(), err.Error())
	}
	if derr == nil {
		assert.True(t, dres.DryRun, "Result.DryRun of the dry run")
	}
	assert.False(t, res.DryRun)
	assert.Equal(t, planComparable(dres), planComparable(res), "the dry run's Result differs from the delete's")
	w.planNoDuplicates(t, res)
	if err != nil {
		w.requireUnchanged(t, before, "a delete that returned an error")
	} else {
		w.checkApplied(t, before, o, res)
	}
	w.planCheckOrder(t, before, res.Deleted, o.Hard || o.Cascade)
	planCheckRules(t, w, before, target, o, res, err)
	require.NoError(t, w.f.Check())
}

func planFailedLabels(w *planWorld, res registry.Result) []string {
	var out []string
	for _, f := range res.Failed {
		out = append(out, w.label(f.ID)+":"+f.Code)
	}
	return out
}

// planCheckRules checks what the delete rules say of one delete's Result.
func planCheckRules(t *testing.T, w *planWorld, before planState, target string, o registry.DeleteOptions, res registry.Result, err error) {
	t.Helper()
	tid := w.id(target)
	ta := before.arts[tid]
	deleted := planSet(res.Deleted)
	failed := map[string]string{}
	for _, f := range res.Failed {
		failed[f.ID] = f.Code
	}
	multi := o.Recursive || o.Cascade || (o.Hard && o.Lineage == registry.LineageCascade)

	// The error: not found, or one of the failures, the target's own when
	// it failed; none for a multi-item partial delete.
	switch {
	case ta.Deleted && !o.Hard:
		assert.ErrorIs(t, err, registry.ErrNotFound, "a soft delete of a soft-deleted artifact")
		return
	case err != nil:
		var re *registry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, failed[re.ID], re.Code, "the error %v is one of the failures", err)
		assert.True(t, o.Atomic || !multi, "a partial delete of several returned %v", err)
		// A single-target delete returns its target's failure; an atomic
		// multi-item one returns the cause, which may be another item's.
		if _, own := failed[tid]; own && !multi {
			assert.Equal(t, tid, re.ID, "the target failed: its failure is the error")
		}
		assert.Empty(t, res.Deleted, "a delete that returned an error deleted nothing")
	default:
		if o.Atomic || !multi {
			assert.Empty(t, res.Failed, "a failure without an error")
		}
	}

	for id := range deleted {
		a := before.arts[id]
		assert.False(t, a.IsDeployed(), "deployed %s was deleted", w.label(id))
		assert.True(t, o.Hard || !a.Deleted, "soft-deleted %s was soft deleted again", w.label(id))
	}

	// Lineage: under Restrict and Cascade no live dependent outside the
	// set is left behind by a hard or cascade delete.
	if (o.Hard || o.Cascade) && o.Lineage != registry.LineageDetach {
		for e := range before.edges {
			if deleted[e[0]] && !before.arts[e[1]].Deleted {
				assert.True(t, deleted[e[1]], "%s was deleted and its live dependent %s was not (%s)", w.label(e[0]), w.label(e[1]), o.Lineage)
			}
		}
	}

	// Cascade: every version the cascade could take is deleted, failed or
	// skipped; the skipped ones are older than every version taken.
	if !o.Cascade {
		assert.Empty(t, res.Skipped, "skips without a cascade")
		return
	}
	var eligible []string
	for id, a := range before.arts {
		if id != tid && a.Namespace == ta.Namespace && a.Name == ta.Name && (o.Hard || !a.Deleted) {
			eligible = append(eligible, id)
		}
	}
	skipped := planSet(res.Skipped)
	for _, id := range eligible {
		_, f := failed[id]
		// An atomic delete that failed lists only its failures.
		assert.True(t, deleted[id] || f || skipped[id] || err != nil, "version %s was silently dropped", w.label(id))
	}
	for id := range skipped {
		assert.Contains(t, eligible, id, "%s is skipped but is not a version the cascade could take", w.label(id))
	}
	if len(skipped) > 0 {
		assert.Contains(t, res.SkipReason, "cascade limit")
	}
	// The limit and newest-first apply to the versions the cascade chose:
	// a version can also come in as a descendant of an item or, under the
	// Cascade lineage policy, as a dependent.
	inPlan := func(id string) bool {
		_, f := failed[id]
		return deleted[id] || f
	}
	if o.Lineage == registry.LineageCascade || slices.ContainsFunc(eligible, func(id string) bool { return planHasAncestorIn(before, id, inPlan) }) {
		return
	}
	version := func(id string) int {
		v, _ := strconv.Atoi(before.arts[id].Version)
		return v
	}
	for _, id := range eligible {
		if skipped[id] {
			continue
		}
		for s := range skipped {
			assert.Less(t, version(s), version(id), "skipped %s is newer than %s, which was taken", w.label(s), w.label(id))
		}
	}
	limit := o.CascadeLimit
	if limit == 0 {
		limit = registry.DefaultCascadeLimit
	}
	taken := len(eligible) - len(skipped)
	assert.LessOrEqual(t, 1+taken, limit, "the cascade took more versions than its limit")
	assert.Equal(t, max(0, len(eligible)-(limit-1)), len(skipped), "skipped versions")
}

// planHasAncestorIn reports whether an ancestor of id satisfies in.
func planHasAncestorIn(s planState, id string, in func(string) bool) bool {
	for p := s.arts[id].Parent; p != ""; p = s.arts[p].Parent {
		if in(p) {
			return true
		}
	}
	return false
}

// applicable clears the options that do not apply to the delete o
// describes, which the registry refuses (TestDeleteRefusesOptionsThatDoNotApply):
// a cascade limit without Cascade, a lineage policy on a plain soft delete.
func applicable(o registry.DeleteOptions) registry.DeleteOptions {
	if !o.Cascade {
		o.CascadeLimit = 0
	}
	if !o.Hard && !o.Cascade {
		o.Lineage = registry.LineageRestrict
	}
	return o
}
