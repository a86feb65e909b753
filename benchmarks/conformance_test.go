package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// TestConformance runs one scenario on every store, the durable ones
// included, and checks that each gives the registry's answers: the
// comparison is only fair if the stores do the same work.
func TestConformance(t *testing.T) {
	want := transcript(t, "registry")
	for _, name := range append(slices.Clone(StoreNames[1:]), DurableStoreNames...) {
		t.Run(name, func(t *testing.T) {
			got := transcript(t, name)
			for i := 0; i < max(len(got), len(want)); i++ {
				var g, w string
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				if g != w {
					t.Errorf("step %d:\n  %s: %s\n  registry: %s", i, name, g, w)
				}
			}
		})
	}
}

var sentinels = []error{registry.ErrNotFound, registry.ErrInvalid, registry.ErrAlreadyExists, registry.ErrNotEmpty,
	registry.ErrDeployed, registry.ErrHasDependents, registry.ErrNotDeleted, registry.ErrParentDeleted}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other: " + err.Error()
}

func summary(a registry.Artifact) string {
	labels := make([]string, 0, len(a.Labels))
	for k, v := range a.Labels {
		labels = append(labels, k+"="+v)
	}
	slices.Sort(labels)
	return fmt.Sprintf("%s %s %s parent=%s %q %q %q tags=%v owners=%v labels=%v uris=%v endpoints=%v deleted=%t",
		a.ID, a.Kind, a.FQN(), a.Parent, a.DisplayName, a.Description, a.Algorithm, a.Tags, a.Owners, labels, a.StorageURIs, a.Endpoints, a.Deleted)
}

// scenarioWorld is shared by every store's run, so that IDs agree.
var scenarioWorld = benchworld.New(410, benchworld.Chain)

// scenarioFixtures are generated once, for the same reason.
var scenarioFixtures = struct {
	subtree, subtree2 benchworld.Fixture
	cascade           benchworld.Fixture
	extra             []registry.Artifact
}{}

func init() {
	w := scenarioWorld
	scenarioFixtures.subtree = w.NewSubtree(250)
	scenarioFixtures.subtree2 = w.NewSubtree(120)
	scenarioFixtures.cascade = w.NewCascade()
	for range 3 {
		scenarioFixtures.extra = append(scenarioFixtures.extra, w.NewVersion())
	}
}

func transcript(t *testing.T, name string) []string {
	ctx := context.Background()
	var s Store
	var err error
	if slices.Contains(DurableStoreNames, name) {
		s, err = OpenDurable(name, t.TempDir())
	} else {
		s, err = OpenStore(name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := scenarioWorld
	if err := w.Load(loader{ctx, s}); err != nil {
		t.Fatal(err)
	}
	var out []string
	log := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	get := func(id string) string {
		a, err := s.Get(ctx, id)
		if err != nil {
			return errName(err)
		}
		return summary(a)
	}
	load := func(f benchworld.Fixture) {
		if err := s.RegisterBatch(ctx, f.Artifacts); err != nil {
			t.Fatal(err)
		}
		if err := s.LinkBatch(ctx, f.Edges); err != nil {
			t.Fatal(err)
		}
	}

	// Reads.
	for _, k := range w.Sample[:20] {
		log("get %s", get(k.ID))
		a, err := s.GetByFQN(ctx, k.FQN)
		log("fqn %s %s", a.ID, errName(err))
		a, err = s.GetVersion(ctx, k.Namespace, k.Name, k.Version)
		log("version %s %s", a.ID, errName(err))
	}
	page, err := s.List(ctx, benchworld.Namespace(3), 100)
	ids := make([]string, len(page))
	for i, a := range page {
		ids[i] = a.ID
	}
	log("list %s %d %s", errName(err), len(page), strings.Join(ids, ","))
	log("get unknown %s", get("00000000-0000-7000-8000-000000000000"))

	// Names stay reserved; soft delete and restore.
	dup := w.Artifact(5)
	dup.ID = "00000000-0000-7000-8000-000000000001"
	log("register taken name %s", errName(s.Register(ctx, dup)))
	v10 := w.ID(benchworld.ModelVersion(0, 10))
	o, err := s.SoftDelete(ctx, v10, false)
	log("soft delete %v %s", o, errName(err))
	log("get soft-deleted %s", get(v10))
	_, err = s.SoftDelete(ctx, v10, false)
	log("soft delete again %s", errName(err))
	dup = w.Artifact(benchworld.ModelVersion(0, 10))
	dup.ID = "00000000-0000-7000-8000-000000000002"
	log("register soft-deleted name %s", errName(s.Register(ctx, dup)))
	log("restore %s", errName(s.Restore(ctx, v10)))
	log("restore live %s", errName(s.Restore(ctx, v10)))
	log("get restored %s", get(v10))

	// Hard delete with the lineage check.
	v5, v9, v10b := w.ID(benchworld.ModelVersion(1, 5)), w.ID(benchworld.ModelVersion(1, 9)), w.ID(benchworld.ModelVersion(1, 10))
	_, err = s.HardDelete(ctx, v5, false)
	log("hard delete with dependent %s", errName(err))
	o, err = s.HardDelete(ctx, v10b, false)
	log("hard delete leaf %v %s", o, errName(err))
	o, err = s.HardDelete(ctx, v9, false)
	log("hard delete new leaf %v %s", o, errName(err))
	log("get hard-deleted %s %s", get(v10b), get(v9))
	_, err = s.HardDelete(ctx, v9, false)
	log("hard delete again %s", errName(err))
	// A soft-deleted dependent does not block; hard deleting a soft-deleted
	// artifact makes it permanent.
	v8 := w.ID(benchworld.ModelVersion(1, 8))
	v7 := w.ID(benchworld.ModelVersion(1, 7))
	_, err = s.SoftDelete(ctx, v8, false)
	log("soft delete v8 %s", errName(err))
	o, err = s.HardDelete(ctx, v7, false)
	log("hard delete under soft-deleted dependent %v %s", o, errName(err))
	o, err = s.HardDelete(ctx, v8, false)
	log("hard delete soft-deleted %v %s", o, errName(err))

	// Deployed artifacts stay.
	d := w.ID(benchworld.ModelVersion(2, 10))
	log("deploy %s", errName(s.Deploy(ctx, d, "endpoint-eu-1")))
	_, err = s.HardDelete(ctx, d, false)
	log("hard delete deployed %s", errName(err))
	_, err = s.SoftDelete(ctx, d, false)
	log("soft delete deployed %s", errName(err))
	log("get deployed %s", get(d))

	// Lineage cycles are refused.
	log("link cycle %s", errName(s.Link(ctx, w.ID(benchworld.ModelVersion(3, 5)), w.ID(benchworld.ModelVersion(3, 2)))))
	log("link existing %s", errName(s.Link(ctx, w.ID(benchworld.ModelVersion(3, 1)), w.ID(benchworld.ModelVersion(3, 2)))))

	// Subtrees: not empty, recursive with failures, soft delete and restore.
	st := scenarioFixtures.subtree
	load(st)
	_, err = s.HardDelete(ctx, st.Root, false)
	log("hard delete non-empty %s", errName(err))
	_, err = s.SoftDelete(ctx, st.Root, false)
	log("soft delete non-empty %s", errName(err))
	group := st.Artifacts[1].ID
	leaf := st.Artifacts[2].ID
	o, err = s.SoftDelete(ctx, leaf, false)
	log("soft delete leaf %v %s", o, errName(err))
	o, err = s.SoftDelete(ctx, st.Root, true)
	log("soft delete subtree %v %s", o, errName(err))
	log("get soft-deleted group %s", get(group))
	log("restore leaf under deleted parent %s", errName(s.Restore(ctx, leaf)))
	log("restore group under deleted root %s", errName(s.Restore(ctx, group)))
	log("restore subtree %s", errName(s.Restore(ctx, st.Root)))
	log("get restored group %s", get(group))
	log("get leaf deleted on its own %s", get(leaf))
	for _, a := range st.Artifacts[3:8] {
		log("get restored %s", get(a.ID))
	}
	// A deployed leaf and a live dependent outside the tree: both fail,
	// and so do their ancestors and the upstreams in the tree.
	deployed := st.Artifacts[len(st.Artifacts)-1].ID
	log("deploy leaf %s", errName(s.Deploy(ctx, deployed, "endpoint-us-1")))
	outside := w.ID(benchworld.ModelVersion(4, 3))
	inTree := st.Artifacts[len(st.Artifacts)/2].ID
	log("link out of tree %s", errName(s.Link(ctx, inTree, outside)))
	o, err = s.HardDelete(ctx, st.Root, true)
	log("recursive hard delete with failures %v %s", o, errName(err))
	log("get root %s", get(st.Root))
	st2 := scenarioFixtures.subtree2
	load(st2)
	o, err = s.SoftDelete(ctx, st2.Root, true)
	log("soft delete subtree2 %v %s", o, errName(err))
	o, err = s.HardDelete(ctx, st2.Root, true)
	log("recursive hard delete of a soft-deleted tree %v %s", o, errName(err))
	log("get subtree2 leaf %s", get(st2.Artifacts[5].ID))

	// Cascades: the limit, skipped versions, a blocked version.
	c := scenarioFixtures.cascade
	load(c)
	for i, a := range scenarioFixtures.extra {
		a.Namespace, a.Name, a.Version = c.Artifacts[0].Namespace, c.Artifacts[0].Name, fmt.Sprint(21+i)
		if err := s.Register(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	o, err = s.CascadeDelete(ctx, c.Root, 20)
	log("cascade from v20 %v %s", o, errName(err))
	for _, a := range c.Artifacts[:3] {
		log("after cascade %s", get(a.ID))
	}
	m := 5
	vs := []string{w.ID(benchworld.ModelVersion(m, 1)), w.ID(benchworld.ModelVersion(m, 6))}
	log("link out %s", errName(s.Link(ctx, vs[1], w.ID(benchworld.ModelVersion(6, 10)))))
	o, err = s.CascadeDelete(ctx, vs[0], 20)
	log("cascade with a dependent outside %v %s", o, errName(err))
	for v := 1; v <= 10; v++ {
		log("after cascade v%d %s", v, get(w.ID(benchworld.ModelVersion(m, v))))
	}
	page, err = s.List(ctx, benchworld.Namespace(1), 100)
	log("list after %s %d", errName(err), len(page))
	return out
}
