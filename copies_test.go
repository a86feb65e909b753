package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// Values the registry returns, and values it is given, never share memory
// with its stored rows: scribbling over every string, slice element and
// map entry of one (and appending into any spare capacity) changes nothing
// a later read returns.

// badScribble overwrites every settable string reachable from v, through
// pointers, structs, slices and maps, adds a map entry, and appends into
// the spare capacity of every slice.
func badScribble(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			badScribble(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				badScribble(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			badScribble(v.Index(i))
		}
		if v.Cap() > v.Len() {
			extra := reflect.New(v.Type().Elem()).Elem()
			badScribble(extra)
			_ = reflect.Append(v, extra) // writes into the spare capacity
		}
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			v.SetMapIndex(k, reflect.ValueOf("scribbled").Convert(v.Type().Elem()))
		}
		v.SetMapIndex(reflect.ValueOf("scribbled-key").Convert(v.Type().Key()), reflect.ValueOf("x").Convert(v.Type().Elem()))
	case reflect.String:
		if v.CanSet() {
			v.SetString("scribbled")
		}
	}
}

func badJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// badCopiesFixture holds an artifact with every list and map filled:
// tags, owners, labels, storage URIs, endpoints and a deleted upstream.
type badCopiesFixture struct {
	*registrytest.Fixture
	// M is live, deployed to two endpoints, downstream of Up2 and upstream
	// of Down, and lost its upstream to a detaching hard delete.
	M, Up2, Down registry.Artifact
}

func badFull(name string, uris ...string) registry.Artifact {
	return registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: name, Version: "1",
		DisplayName: "Full", Description: "every field", Algorithm: "KMeans",
		Tags: []string{"t1", "t2"}, Owners: []string{"alice", "bob"}, Labels: map[string]string{"team": "ml", "tier": "gold"},
		StorageURIs: uris}
}

func badNewCopiesFixture(t *testing.T) *badCopiesFixture {
	t.Helper()
	failing := registry.CleanerFunc(func(context.Context, string) error { return errors.New("storage is down") })
	f := &badCopiesFixture{Fixture: registrytest.New(t, registry.WithCleaner(failing))}
	ctx := f.Ctx
	up := f.MustRegister(t, badFull("up", "s3://b/up"))
	f.Up2 = f.MustRegister(t, badFull("up2", "s3://b/up2"))
	f.M = f.MustRegister(t, badFull("m", "s3://b/m1", "s3://b/m2"))
	f.Down = f.MustRegister(t, badFull("down", "s3://b/down"))
	f.MustLink(t, up.ID, f.M.ID)
	f.MustLink(t, f.Up2.ID, f.M.ID)
	f.MustLink(t, f.M.ID, f.Down.ID)
	require.NoError(t, f.Deploy(ctx, f.M.ID, "ep-1"))
	require.NoError(t, f.Deploy(ctx, f.M.ID, "ep-2"))
	_, err := f.Delete(ctx, up.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
	require.NoError(t, err)
	f.M = f.MustGet(t, f.M.ID)
	require.NotEmpty(t, f.M.DeletedUpstreams)
	require.NotEmpty(t, f.M.Endpoints)
	return f
}

// badCopyCase returns what a call returned (want), the value to scribble
// over (target: want itself, or what the call was given), and a read that
// must still return want afterwards.
type badCopyCase struct {
	name string
	run  func(t *testing.T, f *badCopiesFixture) (want, target any, reread func() any)
}

// badOK returns v after checking that err is nil, for use as
// badOK(t)(call()).
func badOK[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}

func badCopyCases() []badCopyCase {
	get := func(t *testing.T, f *badCopiesFixture, id string) func() any {
		return func() any { return badOK[registry.Artifact](t)(f.Get(f.Ctx, id, registry.IncludeAll)) }
	}
	return []badCopyCase{
		{"Register result", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			a := badOK[registry.Artifact](t)(f.Register(f.Ctx, badFull("new", "s3://b/new")))
			return &a, &a, get(t, f, a.ID)
		}},
		{"Register argument", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			in := badFull("new", "s3://b/new")
			a := badOK[registry.Artifact](t)(f.Register(f.Ctx, in))
			return a, &in, get(t, f, a.ID)
		}},
		{"RegisterBatch result", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			out := badOK[[]registry.Artifact](t)(f.RegisterBatch(f.Ctx, []registry.Artifact{badFull("new_a", "s3://b/a"), badFull("new_b", "s3://b/b")}))
			a, b := get(t, f, out[0].ID), get(t, f, out[1].ID)
			return &out, &out, func() any { return []registry.Artifact{a().(registry.Artifact), b().(registry.Artifact)} }
		}},
		{"RegisterBatch argument", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			in := []registry.Artifact{badFull("new_a", "s3://b/a"), badFull("new_b", "s3://b/b")}
			out := badOK[[]registry.Artifact](t)(f.RegisterBatch(f.Ctx, in))
			a, b := get(t, f, out[0].ID), get(t, f, out[1].ID)
			return out, &in, func() any { return []registry.Artifact{a().(registry.Artifact), b().(registry.Artifact)} }
		}},
		{"Update result", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			in := f.M
			in.Tags = []string{"t3", "t4", "t5"}
			a := badOK[registry.Artifact](t)(f.Update(f.Ctx, in))
			return &a, &a, get(t, f, a.ID)
		}},
		{"Update argument", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			in := f.M
			in.Tags = []string{"t3", "t4", "t5"}
			in.Labels = map[string]string{"k": "v"}
			a := badOK[registry.Artifact](t)(f.Update(f.Ctx, in))
			return a, &in, get(t, f, a.ID)
		}},
		{"Update that changes nothing", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			a := badOK[registry.Artifact](t)(f.Update(f.Ctx, f.M))
			return &a, &a, get(t, f, a.ID)
		}},
		{"Get", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			a := badOK[registry.Artifact](t)(f.Get(f.Ctx, f.M.ID))
			return &a, &a, get(t, f, a.ID)
		}},
		{"GetByFQN", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			a := badOK[registry.Artifact](t)(f.GetByFQN(f.Ctx, f.M.FQN()))
			return &a, &a, get(t, f, a.ID)
		}},
		{"GetVersion", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			a := badOK[registry.Artifact](t)(f.GetVersion(f.Ctx, f.M.Namespace, f.M.Name, f.M.Version))
			return &a, &a, get(t, f, a.ID)
		}},
		{"List", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			list := func() any {
				return badOK[registry.Page](t)(f.List(f.Ctx, registry.Filter{Namespace: registrytest.Namespace, Include: registry.IncludeAll}))
			}
			p := list().(registry.Page)
			return &p, &p, list
		}},
		{"Lineage", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			walk := func() any {
				return badOK[registry.LineageGraph](t)(f.Lineage(f.Ctx, f.M.ID, registry.Both, 5, registry.IncludeAll))
			}
			g := walk().(registry.LineageGraph)
			require.NotEmpty(t, g.Nodes)
			require.NotEmpty(t, g.Edges)
			return &g, &g, walk
		}},
		{"Delete result and its replay", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			// Versions 1 to 4 of cv: 4 is deployed (failed), the limit of 3
			// takes 1, 4, 3 and skips 2, and dep loses its upstream 1.
			var vs []registry.Artifact
			for _, v := range []string{"1", "2", "3", "4"} {
				a := badFull("cv", "s3://b/cv"+v)
				a.Version = v
				vs = append(vs, f.MustRegister(t, a))
			}
			dep := f.MustRegister(t, badFull("dep"))
			f.MustLink(t, vs[0].ID, dep.ID)
			require.NoError(t, f.Deploy(f.Ctx, vs[3].ID, "ep"))
			o := registry.DeleteOptions{Hard: true, Cascade: true, CascadeLimit: 3, Lineage: registry.LineageDetach, ClientToken: "copies"}
			res := badOK[registry.Result](t)(f.Delete(f.Ctx, vs[0].ID, o))
			require.NotEmpty(t, res.Deleted)
			require.NotEmpty(t, res.Failed)
			require.NotEmpty(t, res.Skipped)
			require.NotEmpty(t, res.Detached)
			return &res, &res, func() any {
				again := badOK[registry.Result](t)(f.Delete(f.Ctx, vs[0].ID, o))
				require.True(t, again.Replayed)
				again.Replayed = false
				return again
			}
		}},
		{"Events", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			read := func() any { return badOK[[]registry.Event](t)(f.Events(f.Ctx, 0, 1000)) }
			ev := read().([]registry.Event)
			return &ev, &ev, read
		}},
		{"PendingCleanups", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			read := func() any { return badOK[[]registry.Cleanup](t)(f.PendingCleanups(f.Ctx)) }
			p := read().([]registry.Cleanup)
			require.NotEmpty(t, p)
			return &p, &p, read
		}},
		{"RetryCleanups report", func(t *testing.T, f *badCopiesFixture) (any, any, func() any) {
			rep := badOK[registry.CleanupReport](t)(f.RetryCleanups(f.Ctx))
			require.NotEmpty(t, rep.Failed)
			return &rep.Failed, &rep, func() any { return badOK[[]registry.Cleanup](t)(f.PendingCleanups(f.Ctx)) }
		}},
	}
}

func TestCopiesNeverAliasStoredRows(t *testing.T) {
	for _, c := range badCopyCases() {
		t.Run(c.name, func(t *testing.T) {
			f := badNewCopiesFixture(t)
			want, target, reread := c.run(t, f)
			wantJSON := badJSON(t, want)
			before := badDump(t, f.Registry, f.Ctx)
			badScribble(reflect.ValueOf(target))
			require.NotEqual(t, wantJSON, badJSON(t, target), "the scribbler changed nothing")
			require.Equal(t, wantJSON, badJSON(t, reread()), "a later read sees what was scribbled over the value")
			badRequireSame(t, before, badDump(t, f.Registry, f.Ctx))
		})
	}
}

// TestCopiesOfRestoreAndReplay covers Restore and its replay by client
// token.
func TestCopiesOfRestoreAndReplay(t *testing.T) {
	f := badNewCopiesFixture(t)
	require.NoError(t, f.Undeploy(f.Ctx, f.M.ID, "ep-1"))
	require.NoError(t, f.Undeploy(f.Ctx, f.M.ID, "ep-2"))
	_, err := f.Delete(f.Ctx, f.M.ID, registry.DeleteOptions{})
	require.NoError(t, err)
	o := registry.RestoreOptions{ClientToken: "copies-restore"}
	a, err := f.Restore(f.Ctx, f.M.ID, o)
	require.NoError(t, err)
	want := badJSON(t, a)
	before := badDump(t, f.Registry, f.Ctx)
	badScribble(reflect.ValueOf(&a))
	require.NotEqual(t, want, badJSON(t, a))
	got, err := f.Get(f.Ctx, f.M.ID)
	require.NoError(t, err)
	require.Equal(t, want, badJSON(t, got))

	replay, err := f.Restore(f.Ctx, f.M.ID, o)
	require.NoError(t, err)
	require.Equal(t, want, badJSON(t, replay))
	badScribble(reflect.ValueOf(&replay))
	replay, err = f.Restore(f.Ctx, f.M.ID, o)
	require.NoError(t, err)
	require.Equal(t, want, badJSON(t, replay), "a replay sees what was scribbled over an earlier replay")
	badRequireSame(t, before, badDump(t, f.Registry, f.Ctx))
}
