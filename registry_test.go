package registry_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// coreErr checks that err matches sentinel with errors.Is and is an
// *registry.Error whose code matches it too, and returns that error.
func coreErr(t *testing.T, err error, sentinel error) *registry.Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel, "error: %v", err)
	var e *registry.Error
	require.ErrorAs(t, err, &e, "error: %v", err)
	assert.Equal(t, registry.ErrorCode(sentinel), e.Code)
	assert.NotEmpty(t, e.Message)
	return e
}

// coreInvalid checks that err is ErrInvalid about field.
func coreInvalid(t *testing.T, err error, field string) *registry.Error {
	t.Helper()
	e := coreErr(t, err, registry.ErrInvalid)
	assert.Equal(t, field, e.Field, "message: %s", e.Message)
	assert.Equal(t, http.StatusBadRequest, registry.HTTPStatus(err))
	return e
}

func coreModel(namespace, name, version string) registry.Artifact {
	return registry.Artifact{Kind: registry.KindModel, Namespace: namespace, Name: name, Version: version}
}

// coreListAll walks every page of a List and returns the items.
func coreListAll(t *testing.T, reg *registry.Registry, f registry.Filter) []registry.Artifact {
	t.Helper()
	var out []registry.Artifact
	for range 100000 {
		page, err := reg.List(context.Background(), f)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		f.Cursor = page.Next
	}
	t.Fatal("List never returned a last page")
	return nil
}

func coreIDs(as []registry.Artifact) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func coreFQNs(as []registry.Artifact) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.FQN()
	}
	return out
}

// coreEventCount counts the events in the audit log.
func coreEventCount(t *testing.T, reg *registry.Registry) int {
	t.Helper()
	n := 0
	var after uint64
	for {
		evs, err := reg.Events(context.Background(), after, 1000)
		require.NoError(t, err)
		if len(evs) == 0 {
			return n
		}
		n += len(evs)
		after = evs[len(evs)-1].Seq
	}
}

func coreSoftDelete(t *testing.T, f *registrytest.Fixture, id string) {
	t.Helper()
	_, err := f.Delete(f.Ctx, id, registry.DeleteOptions{})
	require.NoError(t, err)
}

func coreHardDelete(t *testing.T, f *registrytest.Fixture, id string) {
	t.Helper()
	_, err := f.Delete(f.Ctx, id, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
}

// ---- Register ----

func TestRegisterAssignsTimeOrderedUUIDs(t *testing.T) {
	f := registrytest.NewEmpty(t)
	var ids []string
	for i := range 20 {
		a := f.MustRegister(t, coreModel("svc", "m", fmt.Sprint(i)))
		u, err := uuid.Parse(a.ID)
		require.NoError(t, err)
		assert.Equal(t, u.String(), a.ID, "assigned IDs are canonical")
		assert.Equal(t, uuid.Version(7), u.Version(), "assigned IDs are time-ordered (version 7)")
		ids = append(ids, a.ID)
	}
	assert.True(t, slices.IsSorted(ids), "IDs assigned one after another sort in order: %v", ids)
	assert.Len(t, slices.Compact(slices.Clone(ids)), len(ids))
}

func TestRegisterSetsBookkeeping(t *testing.T) {
	f := registrytest.NewEmpty(t)
	in := registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1",
		// Bookkeeping and deployment fields are the registry's: ignored.
		Deleted: true, Revision: 42, CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(2, 0), UpdatedBy: "mallory",
		Endpoints: []string{"ep"}, DeletedUpstreams: []string{uuid.NewString()},
		DeletedAt: time.Unix(3, 0), DeletedBy: "mallory", DeleteOperation: "op", DeleteReason: "why"}
	a, err := f.Register(f.Ctx, in)
	require.NoError(t, err)
	want := registry.Artifact{ID: a.ID, Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1",
		Revision: 1, CreatedAt: registrytest.Epoch, UpdatedAt: registrytest.Epoch, UpdatedBy: registrytest.Principal}
	assert.Equal(t, want, a)
	assert.Equal(t, "0.1", a.EntityVersion().String())
	got := f.MustGet(t, a.ID)
	assert.Equal(t, want, got)

	b, err := f.Register(context.Background(), coreModel("svc", "anon", ""))
	require.NoError(t, err)
	assert.Equal(t, registry.Anonymous, b.UpdatedBy, "a context without a principal is anonymous")
}

func TestRegisterKeepsAGivenUUID(t *testing.T) {
	f := registrytest.NewEmpty(t)
	const id = "6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2"
	in := coreModel("svc", "m", "1")
	in.ID = id
	a := f.MustRegister(t, in)
	assert.Equal(t, id, a.ID)
	got, err := f.Get(f.Ctx, id)
	require.NoError(t, err)
	assert.Equal(t, a, got)
}

func TestRegisterCanonicalizesUppercaseUUIDs(t *testing.T) {
	f := registrytest.NewEmpty(t)
	const lower = "6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2"
	upper := strings.ToUpper(lower)
	in := coreModel("svc", "pkg", "1")
	in.ID = upper
	pkg := f.MustRegister(t, in)
	assert.Equal(t, lower, pkg.ID)

	for _, id := range []string{lower, upper, "6B04E1D8-b66d-4f78-AB21-beb5be2cf4f2"} {
		got, err := f.Get(f.Ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, lower, got.ID)
	}

	dup := coreModel("svc", "other", "1")
	dup.ID = lower
	_, err := f.Register(f.Ctx, dup)
	e := coreErr(t, err, registry.ErrAlreadyExists)
	assert.Equal(t, lower, e.ID)

	child := coreModel("svc", "child", "1")
	child.Parent = upper
	c := f.MustRegister(t, child)
	assert.Equal(t, lower, c.Parent, "a parent ID is canonicalized too")
}

func TestRegisterDuplicateID(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, coreModel("svc", "m", "1"))
	dup := coreModel("svc", "m", "2")
	dup.ID = a.ID
	_, err := f.Register(f.Ctx, dup)
	e := coreErr(t, err, registry.ErrAlreadyExists)
	assert.Equal(t, a.ID, e.ID)
	assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
	_, err = f.GetVersion(f.Ctx, "svc", "m", "2", registry.IncludeAll)
	assert.ErrorIs(t, err, registry.ErrNotFound)
}

func TestRegisterDuplicateFQN(t *testing.T) {
	t.Run("live", func(t *testing.T) {
		f := registrytest.NewEmpty(t)
		a := f.MustRegister(t, coreModel("svc", "churn.v2", "3"))
		_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindDataset, Namespace: "svc", Name: "churn.v2", Version: "3"})
		e := coreErr(t, err, registry.ErrAlreadyExists)
		assert.Equal(t, a.ID, e.ID, "the error names the artifact holding the name")
		assert.Contains(t, e.Message, `svc."churn.v2".3`)
		assert.Equal(t, http.StatusConflict, registry.HTTPStatus(err))
	})
	t.Run("soft deleted", func(t *testing.T) {
		f := registrytest.NewEmpty(t)
		a := f.MustRegister(t, coreModel("svc", "m", "1"))
		coreSoftDelete(t, f, a.ID)
		_, err := f.Register(f.Ctx, coreModel("svc", "m", "1"))
		e := coreErr(t, err, registry.ErrAlreadyExists)
		assert.Equal(t, a.ID, e.ID)
		msg := strings.ToLower(e.Message)
		assert.Contains(t, msg, "svc.m.1")
		assert.Regexp(t, `soft[- ]deleted`, msg, "the message says the name is held by a soft-deleted artifact")
		assert.Contains(t, msg, "restore", "the message says it can be restored")
		assert.Contains(t, msg, "hard", "the message says it can be hard deleted")

		// Hard deleting frees the name; the new artifact is a new one.
		coreHardDelete(t, f, a.ID)
		b := f.MustRegister(t, coreModel("svc", "m", "1"))
		assert.NotEqual(t, a.ID, b.ID)
		assert.Equal(t, int64(1), b.Revision)
	})
	t.Run("unversioned and versioned are different names", func(t *testing.T) {
		f := registrytest.NewEmpty(t)
		f.MustRegister(t, coreModel("svc", "m", ""))
		f.MustRegister(t, coreModel("svc", "m", "1"))
		_, err := f.Register(f.Ctx, coreModel("svc", "m", ""))
		coreErr(t, err, registry.ErrAlreadyExists)
	})
}

func TestRegisterParent(t *testing.T) {
	f := registrytest.NewEmpty(t)
	pkg := f.MustRegister(t, coreModel("svc", "pkg", "1"))
	child := coreModel("svc", "child", "1")
	child.Parent = pkg.ID
	c := f.MustRegister(t, child)
	assert.Equal(t, pkg.ID, c.Parent)

	gone := f.MustRegister(t, coreModel("svc", "gone", "1"))
	coreSoftDelete(t, f, gone.ID)
	selfID := uuid.NewString()

	cases := []struct {
		desc   string
		id     string
		parent string
	}{
		{"missing", "", uuid.NewString()},
		{"soft deleted", "", gone.ID},
		{"itself", selfID, selfID},
		{"malformed", "", "not-a-uuid"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			a := coreModel("svc", "orphan", "1")
			a.ID, a.Parent = c.id, c.parent
			_, err := f.Register(f.Ctx, a)
			coreInvalid(t, err, "parent")
			_, err = f.GetVersion(f.Ctx, "svc", "orphan", "1", registry.IncludeAll)
			assert.ErrorIs(t, err, registry.ErrNotFound)
		})
	}
}

func TestRegisterBatch(t *testing.T) {
	t.Run("parents earlier in the batch", func(t *testing.T) {
		f := registrytest.NewEmpty(t)
		pkgID, subID := uuid.NewString(), uuid.NewString()
		batch := []registry.Artifact{
			{ID: pkgID, Kind: registry.KindModel, Namespace: "svc", Name: "pkg", Version: "1"},
			{ID: subID, Kind: registry.KindModel, Namespace: "svc", Name: "sub", Version: "1", Parent: pkgID},
			{Kind: registry.KindModel, Namespace: "svc", Name: "leaf", Version: "1", Parent: subID},
		}
		out, err := f.RegisterBatch(f.Ctx, batch)
		require.NoError(t, err)
		require.Len(t, out, 3)
		assert.Equal(t, []string{"svc.pkg.1", "svc.sub.1", "svc.leaf.1"}, coreFQNs(out), "results in batch order")
		assert.Equal(t, pkgID, out[1].Parent)
		assert.Equal(t, subID, out[2].Parent)
		for _, a := range out {
			assert.Equal(t, a, f.MustGet(t, a.ID))
		}
		_, err = f.Delete(f.Ctx, pkgID, registry.DeleteOptions{})
		coreErr(t, err, registry.ErrNotEmpty)
	})

	pre := func(t *testing.T) *registrytest.Fixture {
		f := registrytest.NewEmpty(t)
		f.MustRegister(t, coreModel("svc", "taken", "1"))
		return f
	}
	dupID := uuid.NewString()
	cases := []struct {
		desc  string
		batch []registry.Artifact
		want  error
		field string
		msg   string
	}{
		{"empty", nil, registry.ErrInvalid, "artifacts", ""},
		{"last one taken", []registry.Artifact{coreModel("svc", "a", "1"), coreModel("svc", "b", "1"), coreModel("svc", "taken", "1")},
			registry.ErrAlreadyExists, "", "svc.taken.1"},
		{"last one invalid", []registry.Artifact{coreModel("svc", "a", "1"), coreModel("svc", "b", "1"), coreModel("svc", "bad\x01", "1")},
			registry.ErrInvalid, "name", "artifact 2 of the batch"},
		{"same name twice", []registry.Artifact{coreModel("svc", "a", "1"), coreModel("svc", "b", "1"), coreModel("svc", "a", "1")},
			registry.ErrAlreadyExists, "", "svc.a.1"},
		{"same ID twice", []registry.Artifact{{ID: dupID, Kind: registry.KindModel, Namespace: "svc", Name: "a"}, {ID: dupID, Kind: registry.KindModel, Namespace: "svc", Name: "b"}},
			registry.ErrAlreadyExists, "", dupID},
		{"parent missing", []registry.Artifact{coreModel("svc", "a", "1"), {Kind: registry.KindModel, Namespace: "svc", Name: "b", Parent: uuid.NewString()}},
			registry.ErrInvalid, "parent", ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			f := pre(t)
			events := coreEventCount(t, f.Registry)
			out, err := f.RegisterBatch(f.Ctx, c.batch)
			assert.Nil(t, out)
			e := coreErr(t, err, c.want)
			if c.field != "" {
				assert.Equal(t, c.field, e.Field)
			}
			assert.Contains(t, e.Message, c.msg)
			all := coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll})
			assert.Equal(t, []string{"svc.taken.1"}, coreFQNs(all), "nothing of the batch is registered")
			assert.Equal(t, events, coreEventCount(t, f.Registry), "a failed batch emits no event")
		})
	}
}

// TestRegisterValidation gives one bad field at a time: each is ErrInvalid
// naming the field, and nothing is registered.
func TestRegisterValidation(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tooManyTags := make([]string, registry.MaxListEntries+1)
	for i := range tooManyTags {
		tooManyTags[i] = fmt.Sprint("t", i)
	}
	cases := []struct {
		desc  string
		edit  func(a *registry.Artifact)
		field string
	}{
		{"id not a UUID", func(a *registry.Artifact) { a.ID = "not-a-uuid" }, "id"},
		{"id of 36 characters, not hex", func(a *registry.Artifact) { a.ID = "6b04e1d8-b66d-4f78-ab21-beb5be2cf4fz" }, "id"},
		{"id in braces", func(a *registry.Artifact) { a.ID = "{6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2}" }, "id"},
		{"id as URN", func(a *registry.Artifact) { a.ID = "urn:uuid:6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2" }, "id"},
		{"id without dashes", func(a *registry.Artifact) { a.ID = "6b04e1d8b66d4f78ab21beb5be2cf4f2" }, "id"},
		{"kind empty", func(a *registry.Artifact) { a.Kind = "" }, "kind"},
		{"kind unknown", func(a *registry.Artifact) { a.Kind = "pipeline" }, "kind"},
		{"kind in upper case", func(a *registry.Artifact) { a.Kind = "Model" }, "kind"},
		{"namespace empty", func(a *registry.Artifact) { a.Namespace = "" }, "namespace"},
		{"namespace of 257 characters", func(a *registry.Artifact) { a.Namespace = long(257) }, "namespace"},
		{"namespace of 257 multibyte characters", func(a *registry.Artifact) { a.Namespace = strings.Repeat("é", 257) }, "namespace"},
		{"namespace with NUL", func(a *registry.Artifact) { a.Namespace = "a\x00b" }, "namespace"},
		{"namespace with DEL", func(a *registry.Artifact) { a.Namespace = "a\x7f" }, "namespace"},
		{"namespace with C1 control", func(a *registry.Artifact) { a.Namespace = "a\u0085" }, "namespace"},
		{"namespace with quote", func(a *registry.Artifact) { a.Namespace = `a"b` }, "namespace"},
		{"namespace not UTF-8", func(a *registry.Artifact) { a.Namespace = "a\xff" }, "namespace"},
		{"name empty", func(a *registry.Artifact) { a.Name = "" }, "name"},
		{"name of 257 characters", func(a *registry.Artifact) { a.Name = long(257) }, "name"},
		{"name with newline", func(a *registry.Artifact) { a.Name = "a\nb" }, "name"},
		{"name with tab", func(a *registry.Artifact) { a.Name = "a\tb" }, "name"},
		{"name with quote", func(a *registry.Artifact) { a.Name = `"churn.v2"` }, "name"},
		{"name not UTF-8", func(a *registry.Artifact) { a.Name = "\xc3" }, "name"},
		{"version of 65 characters", func(a *registry.Artifact) { a.Version = long(65) }, "version"},
		{"version with control", func(a *registry.Artifact) { a.Version = "1\r" }, "version"},
		{"version with quote", func(a *registry.Artifact) { a.Version = `1"` }, "version"},
		{"version not UTF-8", func(a *registry.Artifact) { a.Version = "\xff" }, "version"},
		{"display name with control", func(a *registry.Artifact) { a.DisplayName = "a\x01" }, "displayName"},
		{"description too long", func(a *registry.Artifact) { a.Description = long(registry.MaxDescriptionLength + 1) }, "description"},
		{"description with NUL", func(a *registry.Artifact) { a.Description = "a\x00" }, "description"},
		{"algorithm too long", func(a *registry.Artifact) { a.Algorithm = long(257) }, "algorithm"},
		{"empty tag", func(a *registry.Artifact) { a.Tags = []string{"ok", ""} }, "tags"},
		{"too many tags", func(a *registry.Artifact) { a.Tags = tooManyTags }, "tags"},
		{"empty owner", func(a *registry.Artifact) { a.Owners = []string{""} }, "owners"},
		{"empty label key", func(a *registry.Artifact) { a.Labels = map[string]string{"": "v"} }, "labels"},
		{"label value too long", func(a *registry.Artifact) { a.Labels = map[string]string{"k": long(registry.MaxLabelValueLength + 1)} }, "labels"},
		{"storage URI without scheme", func(a *registry.Artifact) { a.StorageURIs = []string{"bucket/key"} }, "storageUris"},
		{"storage URI twice", func(a *registry.Artifact) { a.StorageURIs = []string{"s3://b/k", "s3://b/k"} }, "storageUris"},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			f := registrytest.NewEmpty(t)
			a := coreModel("svc", "m", "1")
			c.edit(&a)
			out, err := f.Register(f.Ctx, a)
			coreInvalid(t, err, c.field)
			assert.Zero(t, out)
			assert.Empty(t, coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll}))
		})
	}

	valid := []struct {
		desc string
		edit func(a *registry.Artifact)
	}{
		{"name of 256 characters", func(a *registry.Artifact) { a.Name = long(256) }},
		{"name of 256 multibyte characters", func(a *registry.Artifact) { a.Name = strings.Repeat("模", 256) }},
		{"namespace of 1 character", func(a *registry.Artifact) { a.Namespace = "s" }},
		{"version of 64 characters", func(a *registry.Artifact) { a.Version = long(64) }},
		{"version of 64 multibyte characters", func(a *registry.Artifact) { a.Version = strings.Repeat("é", 64) }},
		{"unversioned", func(a *registry.Artifact) { a.Version = "" }},
		{"dots everywhere", func(a *registry.Artifact) { a.Namespace, a.Name, a.Version = "a.b", "c.d", "1.0" }},
		{"dataset", func(a *registry.Artifact) { a.Kind = registry.KindDataset }},
		{"code", func(a *registry.Artifact) { a.Kind = registry.KindCode }},
		{"multiline description", func(a *registry.Artifact) { a.Description = "line 1\nline 2\ttabbed\r\n" }},
		{"full metadata", func(a *registry.Artifact) {
			a.DisplayName, a.Algorithm = "Churn", "XGBoost"
			a.Tags, a.Owners = []string{"a", "b"}, []string{"alice"}
			a.Labels = map[string]string{"team": "growth", "empty": ""}
			a.StorageURIs = []string{"s3://b/k", "gs://b/k"}
		}},
	}
	for _, c := range valid {
		t.Run("valid: "+c.desc, func(t *testing.T) {
			f := registrytest.NewEmpty(t)
			a := coreModel("svc", "m", "1")
			c.edit(&a)
			out, err := f.Register(f.Ctx, a)
			require.NoError(t, err)
			got, err := f.GetByFQN(f.Ctx, a.FQN())
			require.NoError(t, err)
			assert.Equal(t, out, got)
			assert.Equal(t, a.Name, got.Name)
			assert.Equal(t, a.Labels, got.Labels)
		})
	}
}

// ---- Update ----

func TestUpdateReplacesMetadata(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1",
		DisplayName: "Old", Description: "old", Algorithm: "KMeans", Tags: []string{"t"}, Owners: []string{"alice"},
		Labels: map[string]string{"k": "v"}, StorageURIs: []string{"s3://b/old"}})
	at := f.Clock.Advance(time.Hour)
	bob := registry.WithPrincipal(context.Background(), "bob")

	got, err := f.Update(bob, registry.Artifact{ID: a.ID, DisplayName: "New", Labels: map[string]string{"team": "x"}})
	require.NoError(t, err)
	want := a
	want.DisplayName, want.Description, want.Algorithm = "New", "", ""
	want.Tags, want.Owners, want.StorageURIs = nil, nil, nil
	want.Labels = map[string]string{"team": "x"}
	want.Revision, want.UpdatedAt, want.UpdatedBy = 2, at, "bob"
	assert.Equal(t, want, got, "metadata is replaced as a whole")
	assert.Equal(t, registrytest.Epoch, got.CreatedAt)
	assert.Equal(t, "0.2", got.EntityVersion().String())
	assert.Equal(t, want, f.MustGet(t, a.ID))

	at = f.Clock.Advance(time.Minute)
	got, err = f.Update(f.Ctx, registry.Artifact{ID: a.ID, Tags: []string{"x", "y"}})
	require.NoError(t, err)
	assert.Equal(t, int64(3), got.Revision)
	assert.Equal(t, at, got.UpdatedAt)
	assert.Equal(t, registrytest.Principal, got.UpdatedBy)
	assert.Equal(t, []string{"x", "y"}, got.Tags)
	assert.Empty(t, got.DisplayName)
}

func TestUpdateIdentityIsImmutable(t *testing.T) {
	f := registrytest.NewEmpty(t)
	pkg := f.MustRegister(t, coreModel("svc", "pkg", "1"))
	other := f.MustRegister(t, coreModel("svc", "other", "1"))
	in := coreModel("svc", "m", "1")
	in.Parent = pkg.ID
	a := f.MustRegister(t, in)

	cases := []struct {
		field string
		edit  func(u *registry.Artifact)
	}{
		{"kind", func(u *registry.Artifact) { u.Kind = registry.KindDataset }},
		{"namespace", func(u *registry.Artifact) { u.Namespace = "svc2" }},
		{"name", func(u *registry.Artifact) { u.Name = "m2" }},
		{"version", func(u *registry.Artifact) { u.Version = "2" }},
		{"parent", func(u *registry.Artifact) { u.Parent = other.ID }},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			u := registry.Artifact{ID: a.ID, DisplayName: "changed"}
			c.edit(&u)
			_, err := f.Update(f.Ctx, u)
			e := coreInvalid(t, err, c.field)
			assert.Contains(t, e.Message, "immutable")
			assert.Equal(t, a, f.MustGet(t, a.ID), "nothing changed")
		})
	}

	t.Run("same identity is accepted", func(t *testing.T) {
		u := f.MustGet(t, a.ID)
		u.DisplayName = "changed"
		got, err := f.Update(f.Ctx, u)
		require.NoError(t, err)
		assert.Equal(t, "changed", got.DisplayName)
		assert.Equal(t, pkg.ID, got.Parent)
	})
	t.Run("same identity with IDs in upper case", func(t *testing.T) {
		u := f.MustGet(t, a.ID)
		u.ID, u.Parent = strings.ToUpper(u.ID), strings.ToUpper(u.Parent)
		u.DisplayName = "upper"
		got, err := f.Update(f.Ctx, u)
		require.NoError(t, err, "IDs are case-insensitive everywhere else; the parent is the same artifact")
		assert.Equal(t, "upper", got.DisplayName)
		assert.Equal(t, a.ID, got.ID)
	})
}

func TestUpdateIgnoresBookkeepingAndDeployment(t *testing.T) {
	f := registrytest.New(t)
	v3 := f.Versions[2]
	u := v3
	u.Description = "new"
	u.Endpoints = []string{"elsewhere"}
	u.Deleted, u.Revision, u.UpdatedBy, u.CreatedAt = true, 99, "mallory", time.Unix(0, 0)
	u.DeletedUpstreams = []string{f.Dataset.ID}
	got, err := f.Update(f.Ctx, u)
	require.NoError(t, err)
	assert.Equal(t, []string{registrytest.Endpoint}, got.Endpoints)
	assert.False(t, got.Deleted)
	assert.Empty(t, got.DeletedUpstreams)
	assert.Equal(t, v3.Revision+1, got.Revision)
	assert.Equal(t, registrytest.Principal, got.UpdatedBy)
	assert.Equal(t, v3.CreatedAt, got.CreatedAt)
	assert.Equal(t, got, f.MustGet(t, v3.ID))
}

func TestUpdateThatChangesNothingKeepsTheRevision(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1",
		DisplayName: "D", Tags: []string{"a", "b"}, Labels: map[string]string{"k": "v"}, StorageURIs: []string{"s3://b/k"}})
	events := coreEventCount(t, f.Registry)
	f.Clock.Advance(time.Hour)
	bob := registry.WithPrincipal(context.Background(), "bob")

	got, err := f.Update(bob, a)
	require.NoError(t, err)
	assert.Equal(t, a, got)
	got, err = f.Update(bob, registry.Artifact{ID: a.ID, DisplayName: "D", Tags: []string{"a", "b"},
		Labels: map[string]string{"k": "v"}, StorageURIs: []string{"s3://b/k"}})
	require.NoError(t, err)
	assert.Equal(t, a, got, "revision, UpdatedAt and UpdatedBy stay")
	assert.Equal(t, a, f.MustGet(t, a.ID))
	assert.Equal(t, events, coreEventCount(t, f.Registry), "a no-op update emits no event")
}

func TestUpdateOfMissingOrDeletedArtifact(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	missing := uuid.NewString()

	_, err := f.Update(f.Ctx, registry.Artifact{ID: f.Code.ID, Description: "x"})
	e := coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, f.Code.ID, e.ID)
	assert.True(t, f.MustGet(t, f.Code.ID).Deleted)
	assert.Empty(t, f.MustGet(t, f.Code.ID).Description)

	_, err = f.Update(f.Ctx, registry.Artifact{ID: missing, Description: "x"})
	e = coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, missing, e.ID)

	_, err = f.Update(f.Ctx, registry.Artifact{Description: "x"})
	coreInvalid(t, err, "id")
	_, err = f.Update(f.Ctx, registry.Artifact{ID: f.Dataset.ID, Tags: []string{""}})
	coreInvalid(t, err, "tags")
	assert.Equal(t, f.Dataset, f.MustGet(t, f.Dataset.ID))
}

// ---- Get, GetByFQN, GetVersion ----

func TestGetWithEachInclude(t *testing.T) {
	f := registrytest.NewEmpty(t)
	live := f.MustRegister(t, coreModel("svc", "live.model", "1"))
	gone := f.MustRegister(t, coreModel("svc", "gone", ""))
	coreSoftDelete(t, f, gone.ID)
	gone = f.MustGet(t, gone.ID)
	hard := f.MustRegister(t, coreModel("svc", "hard", "1"))
	coreHardDelete(t, f, hard.ID)

	getters := map[string]func(a registry.Artifact, inc ...registry.ReadOption) (registry.Artifact, error){
		"Get": func(a registry.Artifact, inc ...registry.ReadOption) (registry.Artifact, error) {
			return f.Get(f.Ctx, a.ID, inc...)
		},
		"GetByFQN": func(a registry.Artifact, inc ...registry.ReadOption) (registry.Artifact, error) {
			return f.GetByFQN(f.Ctx, a.FQN(), inc...)
		},
		"GetVersion": func(a registry.Artifact, inc ...registry.ReadOption) (registry.Artifact, error) {
			return f.GetVersion(f.Ctx, a.Namespace, a.Name, a.Version, inc...)
		},
	}
	includes := []struct {
		desc string
		inc  []registry.ReadOption
		// found says whether a live and a soft-deleted artifact are found.
		live, deleted bool
	}{
		{"default", nil, true, false},
		{"zero value", []registry.ReadOption{registry.Include("")}, true, false},
		{"non-deleted", []registry.ReadOption{registry.IncludeNonDeleted}, true, false},
		{"deleted", []registry.ReadOption{registry.IncludeDeleted}, false, true},
		{"all", []registry.ReadOption{registry.IncludeAll}, true, true},
	}
	for name, get := range getters {
		for _, inc := range includes {
			t.Run(name+"/"+inc.desc, func(t *testing.T) {
				for _, c := range []struct {
					a     registry.Artifact
					found bool
				}{{live, inc.live}, {gone, inc.deleted}, {hard, false}} {
					got, err := get(c.a, inc.inc...)
					if c.found {
						require.NoError(t, err, c.a.FQN())
						assert.Equal(t, c.a, got)
						continue
					}
					coreErr(t, err, registry.ErrNotFound)
					assert.Equal(t, http.StatusNotFound, registry.HTTPStatus(err))
					assert.Zero(t, got)
				}
			})
		}
		t.Run(name+"/bad include", func(t *testing.T) {
			_, err := get(live, registry.Include("everything"))
			coreInvalid(t, err, "include")
			_, err = get(live, nil)
			coreInvalid(t, err, "options")
		})
		t.Run(name+"/the last include wins", func(t *testing.T) {
			_, err := get(gone, registry.IncludeAll, registry.IncludeNonDeleted)
			coreErr(t, err, registry.ErrNotFound)
			got, err := get(gone, registry.IncludeNonDeleted, registry.IncludeDeleted)
			require.NoError(t, err)
			assert.Equal(t, gone, got)
		})
	}
}

func TestGetNotFoundMessageSaysWhy(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	_, err := f.Get(f.Ctx, f.Code.ID)
	e := coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, f.Code.ID, e.ID)
	assert.Contains(t, e.Message, "soft deleted")
	_, err = f.Get(f.Ctx, f.Dataset.ID, registry.IncludeDeleted)
	e = coreErr(t, err, registry.ErrNotFound)
	assert.Equal(t, f.Dataset.ID, e.ID)
}

// TestNotFoundErrorsNameTheArtifact: every call on an unknown ID returns an
// *Error whose ID is the one asked for, as Delete and Restore do.
func TestNotFoundErrorsNameTheArtifact(t *testing.T) {
	f := registrytest.New(t)
	missing := uuid.NewString()
	calls := map[string]func() error{
		"Get":      func() error { _, err := f.Get(f.Ctx, missing); return err },
		"Update":   func() error { _, err := f.Update(f.Ctx, registry.Artifact{ID: missing}); return err },
		"Delete":   func() error { _, err := f.Delete(f.Ctx, missing, registry.DeleteOptions{}); return err },
		"Restore":  func() error { _, err := f.Restore(f.Ctx, missing); return err },
		"Deploy":   func() error { return f.Deploy(f.Ctx, missing, "ep") },
		"Undeploy": func() error { return f.Undeploy(f.Ctx, missing, "ep") },
		"Lineage": func() error {
			_, err := f.Lineage(f.Ctx, missing, registry.Both, 1)
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			e := coreErr(t, call(), registry.ErrNotFound)
			assert.Equal(t, missing, e.ID)
			assert.Contains(t, e.Message, missing)
		})
	}
}

func TestGetRejectsMalformedInput(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Get(f.Ctx, "")
	coreInvalid(t, err, "id")
	_, err = f.Get(f.Ctx, "12345")
	coreInvalid(t, err, "id")
	_, err = f.GetByFQN(f.Ctx, "mlflow_svc")
	coreInvalid(t, err, "fqn")
	_, err = f.GetByFQN(f.Ctx, `mlflow_svc."customers".1`)
	coreInvalid(t, err, "fqn")
	_, err = f.GetVersion(f.Ctx, "", "customers", "1")
	coreInvalid(t, err, "namespace")
	_, err = f.GetVersion(f.Ctx, "mlflow_svc", "", "1")
	coreInvalid(t, err, "name")
	_, err = f.GetVersion(f.Ctx, "mlflow_svc", "customers", strings.Repeat("1", 65))
	coreInvalid(t, err, "version")
	// A nil context is bad input, not a panic.
	_, err = f.Get(nil, f.Dataset.ID) //nolint:staticcheck

	coreInvalid(t, err, "ctx")
	ctx, cancel := context.WithCancel(f.Ctx)
	cancel()
	_, err = f.Get(ctx, f.Dataset.ID)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestGetByFQNAndGetVersionAgree(t *testing.T) {
	f := registrytest.NewEmpty(t)
	for _, c := range coreFQNCases {
		a := registry.Artifact{Kind: registry.KindModel, Namespace: c.namespace, Name: c.name, Version: c.version}
		a = f.MustRegister(t, a)
		byFQN, err := f.GetByFQN(f.Ctx, c.fqn)
		require.NoError(t, err, c.fqn)
		byVersion, err := f.GetVersion(f.Ctx, c.namespace, c.name, c.version)
		require.NoError(t, err, c.fqn)
		assert.Equal(t, a, byFQN, c.fqn)
		assert.Equal(t, a, byVersion, c.fqn)
		assert.Equal(t, c.fqn, a.FQN())
	}
}

// ---- List ----

// coreListFixture registers a spread of artifacts whose names are prefixes
// of one another, in several namespaces, some soft deleted, and returns
// them all as stored.
func coreListFixture(t *testing.T) (*registrytest.Fixture, []registry.Artifact) {
	f := registrytest.NewEmpty(t)
	kinds := []registry.Kind{registry.KindModel, registry.KindDataset, registry.KindCode}
	var all []registry.Artifact
	i := 0
	for _, ns := range []string{"ns", "ns2", "ns.x", "a"} {
		for _, name := range []string{"m", "m2", "m.x", "d"} {
			for _, v := range []string{"", "1", "10", "9"} {
				a := f.MustRegister(t, registry.Artifact{Kind: kinds[i%3], Namespace: ns, Name: name, Version: v})
				i++
				if i%5 == 0 {
					coreSoftDelete(t, f, a.ID)
					a = f.MustGet(t, a.ID)
				}
				all = append(all, a)
			}
		}
	}
	return f, all
}

// coreExpected filters and orders artifacts as List promises: namespace,
// then name, then version, byte-wise.
func coreExpected(all []registry.Artifact, keep func(a registry.Artifact) bool) []registry.Artifact {
	out := []registry.Artifact{}
	for _, a := range all {
		if keep(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b registry.Artifact) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
	})
	return out
}

func TestListFilters(t *testing.T) {
	f, all := coreListFixture(t)
	visible := func(inc registry.Include, a registry.Artifact) bool {
		switch inc {
		case registry.IncludeDeleted:
			return a.Deleted
		case registry.IncludeAll:
			return true
		}
		return !a.Deleted
	}
	cases := []struct {
		desc   string
		filter registry.Filter
	}{
		{"everything live", registry.Filter{}},
		{"namespace, not its prefixes", registry.Filter{Namespace: "ns"}},
		{"namespace with a dot", registry.Filter{Namespace: "ns.x"}},
		{"namespace and name, not name prefixes", registry.Filter{Namespace: "ns", Name: "m"}},
		{"name across namespaces", registry.Filter{Name: "m"}},
		{"kind", registry.Filter{Kind: registry.KindDataset}},
		{"namespace and kind", registry.Filter{Namespace: "ns2", Kind: registry.KindCode}},
		{"deleted only", registry.Filter{Include: registry.IncludeDeleted}},
		{"all", registry.Filter{Include: registry.IncludeAll}},
		{"all of a name", registry.Filter{Namespace: "a", Name: "m.x", Include: registry.IncludeAll}},
		{"deleted models of a namespace", registry.Filter{Namespace: "ns", Kind: registry.KindModel, Include: registry.IncludeDeleted}},
		{"unknown namespace", registry.Filter{Namespace: "nope"}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			want := coreExpected(all, func(a registry.Artifact) bool {
				return (c.filter.Namespace == "" || a.Namespace == c.filter.Namespace) &&
					(c.filter.Name == "" || a.Name == c.filter.Name) &&
					(c.filter.Kind == "" || a.Kind == c.filter.Kind) &&
					visible(c.filter.Include, a)
			})
			page, err := f.List(f.Ctx, c.filter)
			require.NoError(t, err)
			assert.Empty(t, page.Next, "everything fits in one page")
			assert.NotNil(t, page.Items)
			assert.Equal(t, coreFQNs(want), coreFQNs(page.Items))
			assert.Equal(t, want, page.Items)
		})
	}
}

func TestListRejectsBadFilters(t *testing.T) {
	f := registrytest.New(t)
	cases := []struct {
		filter registry.Filter
		field  string
	}{
		{registry.Filter{Limit: -1}, "limit"},
		{registry.Filter{Limit: 1001}, "limit"},
		{registry.Filter{Kind: "pipeline"}, "kind"},
		{registry.Filter{Include: "everything"}, "include"},
		{registry.Filter{Namespace: "a\x00"}, "namespace"},
		{registry.Filter{Name: `"x"`}, "name"},
		{registry.Filter{Cursor: "!!not base64!!"}, "cursor"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c.filter), func(t *testing.T) {
			page, err := f.List(f.Ctx, c.filter)
			coreInvalid(t, err, c.field)
			assert.Empty(t, page.Items)
		})
	}
}

func TestListLimit(t *testing.T) {
	f := registrytest.NewEmpty(t)
	batch := make([]registry.Artifact, 1001)
	for i := range batch {
		batch[i] = coreModel("svc", "m", fmt.Sprintf("%04d", i))
	}
	_, err := f.RegisterBatch(f.Ctx, batch)
	require.NoError(t, err)
	for _, c := range []struct{ limit, want int }{{0, 100}, {1, 1}, {999, 999}, {1000, 1000}} {
		page, err := f.List(f.Ctx, registry.Filter{Limit: c.limit})
		require.NoError(t, err)
		assert.Len(t, page.Items, c.want, "limit %d", c.limit)
		assert.NotEmpty(t, page.Next, "limit %d", c.limit)
	}
	all := coreListAll(t, f.Registry, registry.Filter{Limit: 1000})
	assert.Len(t, all, 1001)
}

// TestListPagination walks every page under many page sizes and filters:
// together the pages hold each item once, in the one stable order, no page
// is longer than the limit or empty, and only the last has no cursor.
func TestListPagination(t *testing.T) {
	f, all := coreListFixture(t)
	filters := []registry.Filter{
		{},
		{Include: registry.IncludeAll},
		{Include: registry.IncludeDeleted},
		{Namespace: "ns"},
		{Namespace: "ns", Name: "m", Include: registry.IncludeAll},
		{Name: "m2"},
		{Kind: registry.KindModel, Include: registry.IncludeAll},
	}
	for _, filter := range filters {
		want, err := f.List(f.Ctx, filter)
		require.NoError(t, err)
		require.Empty(t, want.Next)
		for _, limit := range []int{1, 2, 3, 7, len(want.Items) - 1, len(want.Items), len(want.Items) + 1} {
			if limit < 1 {
				continue
			}
			t.Run(fmt.Sprintf("%+v/limit=%d", filter, limit), func(t *testing.T) {
				fl := filter
				fl.Limit = limit
				var got []registry.Artifact
				for pages := 0; ; pages++ {
					require.Less(t, pages, len(all)+2, "too many pages")
					page, err := f.List(f.Ctx, fl)
					require.NoError(t, err)
					assert.LessOrEqual(t, len(page.Items), limit)
					if len(want.Items) > 0 {
						assert.NotEmpty(t, page.Items, "no empty page")
					}
					got = append(got, page.Items...)
					if page.Next == "" {
						break
					}
					assert.Len(t, page.Items, limit, "only the last page is short")
					fl.Cursor = page.Next
				}
				assert.Equal(t, coreFQNs(want.Items), coreFQNs(got), "every item once, in order")
			})
		}
	}
}

// TestListPaginationUnderWrites changes the registry between pages: a walk
// never repeats an item, never loses one that stayed, sees new items ahead
// of its cursor and not those behind it.
func TestListPaginationUnderWrites(t *testing.T) {
	f := registrytest.NewEmpty(t)
	for _, n := range []string{"b", "d", "f", "h", "j", "l"} {
		f.MustRegister(t, coreModel("svc", n, ""))
	}
	page, err := f.List(f.Ctx, registry.Filter{Namespace: "svc", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"svc.b", "svc.d"}, coreFQNs(page.Items))
	seen := coreFQNs(page.Items)

	f.MustRegister(t, coreModel("svc", "a", "")) // behind the cursor
	f.MustRegister(t, coreModel("svc", "c", "")) // behind the cursor
	f.MustRegister(t, coreModel("svc", "e", "")) // ahead
	h, err := f.GetByFQN(f.Ctx, "svc.h")         // ahead, then hard deleted
	require.NoError(t, err)
	coreHardDelete(t, f, h.ID)
	d, err := f.GetByFQN(f.Ctx, "svc.d") // the cursor's own item goes
	require.NoError(t, err)
	coreHardDelete(t, f, d.ID)

	rest := coreListAll(t, f.Registry, registry.Filter{Namespace: "svc", Limit: 2, Cursor: page.Next})
	seen = append(seen, coreFQNs(rest)...)
	assert.Equal(t, []string{"svc.b", "svc.d", "svc.e", "svc.f", "svc.j", "svc.l"}, seen)
}

func TestListCursorFromAnotherFilter(t *testing.T) {
	f, _ := coreListFixture(t)
	page, err := f.List(f.Ctx, registry.Filter{Namespace: "ns", Limit: 2})
	require.NoError(t, err)
	require.NotEmpty(t, page.Next)

	for _, other := range []registry.Filter{
		{Namespace: "ns2", Cursor: page.Next},
		{Namespace: "a", Cursor: page.Next},
		{Namespace: "ns", Name: "m2", Cursor: page.Next},
	} {
		_, err := f.List(f.Ctx, other)
		coreInvalid(t, err, "cursor")
	}

	byName, err := f.List(f.Ctx, registry.Filter{Namespace: "ns", Name: "m", Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, byName.Next)
	_, err = f.List(f.Ctx, registry.Filter{Namespace: "ns", Name: "m2", Cursor: byName.Next})
	coreInvalid(t, err, "cursor")
	// A narrower filter's cursor is a position inside a wider one.
	_, err = f.List(f.Ctx, registry.Filter{Namespace: "ns", Cursor: byName.Next})
	assert.NoError(t, err)
}

// ---- Returned values are copies ----

func TestReturnedValuesAreCopies(t *testing.T) {
	f := registrytest.New(t)
	in := registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1",
		Tags: []string{"t1", "t2"}, Owners: []string{"alice"}, Labels: map[string]string{"k": "v"},
		StorageURIs: []string{"s3://b/k"}}
	reg, err := f.Register(f.Ctx, in)
	require.NoError(t, err)
	f.MustLink(t, f.Dataset.ID, reg.ID)
	require.NoError(t, f.Deploy(f.Ctx, reg.ID, "ep-1"))
	want := f.MustGet(t, reg.ID)

	scribble := func(a registry.Artifact) {
		if len(a.Tags) > 0 {
			a.Tags[0] = "scribbled"
		}
		if len(a.Owners) > 0 {
			a.Owners[0] = "scribbled"
			_ = append(a.Owners, "appended") // must not reach a neighbour in a shared array
		}
		if len(a.StorageURIs) > 0 {
			a.StorageURIs[0] = "s3://scribbled"
		}
		if len(a.Endpoints) > 0 {
			a.Endpoints[0] = "scribbled"
		}
		if a.Labels != nil {
			a.Labels["k"] = "scribbled"
			a.Labels["new"] = "x"
		}
	}
	check := func(what string) {
		t.Helper()
		assert.Equal(t, want, f.MustGet(t, reg.ID), "after scribbling on %s", what)
	}

	scribble(in)
	check("the input of Register")
	scribble(reg)
	check("the result of Register")
	got, err := f.Get(f.Ctx, reg.ID)
	require.NoError(t, err)
	scribble(got)
	check("the result of Get")
	got, err = f.GetByFQN(f.Ctx, "svc.m.1")
	require.NoError(t, err)
	scribble(got)
	check("the result of GetByFQN")
	page, err := f.List(f.Ctx, registry.Filter{Namespace: "svc"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	scribble(page.Items[0])
	check("the result of List")
	lg, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Downstream, 1)
	require.NoError(t, err)
	for _, n := range lg.Nodes {
		if n.ID == reg.ID {
			scribble(n)
		}
	}
	check("the result of Lineage")
	lg, err = f.Lineage(f.Ctx, reg.ID, registry.Upstream, 1)
	require.NoError(t, err)
	scribble(lg.Root)
	check("the root of Lineage")

	upd := want
	upd.Tags = []string{"u1", "u2"}
	upd.Labels = map[string]string{"k": "u"}
	out, err := f.Update(f.Ctx, upd)
	require.NoError(t, err)
	want = f.MustGet(t, reg.ID)
	require.Equal(t, want, out)
	scribble(upd)
	check("the input of Update")
	scribble(out)
	check("the result of Update")
}

// ---- Reset ----

func TestResetEmptiesEverything(t *testing.T) {
	f := registrytest.New(t)
	coreSoftDelete(t, f, f.Code.ID)
	before := coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll})
	require.NotEmpty(t, before)
	at := f.Clock.Advance(time.Hour)

	require.NoError(t, f.Reset(f.Ctx))
	require.NoError(t, f.Check())

	assert.Empty(t, coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll}))
	for _, a := range before {
		_, err := f.Get(f.Ctx, a.ID, registry.IncludeAll)
		assert.ErrorIs(t, err, registry.ErrNotFound, a.FQN())
		_, err = f.GetByFQN(f.Ctx, a.FQN(), registry.IncludeAll)
		assert.ErrorIs(t, err, registry.ErrNotFound, a.FQN())
		_, err = f.Lineage(f.Ctx, a.ID, registry.Both, 1, registry.IncludeAll)
		assert.ErrorIs(t, err, registry.ErrNotFound, a.FQN())
	}
	evs, err := f.Events(f.Ctx, 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	last := evs[len(evs)-1]
	assert.Equal(t, registry.EventReset, last.Type)
	assert.Equal(t, at, last.Time)

	// Every name and ID is free again, and old edges do not come back.
	for _, a := range before {
		again := registry.Artifact{ID: a.ID, Kind: a.Kind, Namespace: a.Namespace, Name: a.Name, Version: a.Version}
		got := f.MustRegister(t, again)
		assert.Equal(t, a.ID, got.ID)
		assert.Equal(t, int64(1), got.Revision)
		assert.False(t, got.Deleted)
		assert.Empty(t, got.Endpoints)
	}
	lg, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Both, registry.MaxLineageDepth)
	require.NoError(t, err)
	assert.Empty(t, lg.Nodes)
	assert.Empty(t, lg.Edges)
	f.MustLink(t, f.Dataset.ID, f.Versions[0].ID)
	f.MustLink(t, f.Versions[2].ID, f.Dataset.ID) // no cycle through forgotten edges
	_, err = f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{})
	assert.NoError(t, err, "children were forgotten too")
}

func TestResetOfAnEmptyRegistry(t *testing.T) {
	f := registrytest.NewEmpty(t)
	require.NoError(t, f.Reset(f.Ctx))
	require.NoError(t, f.Reset(f.Ctx))
	assert.Empty(t, coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll}))
	f.MustRegister(t, coreModel("svc", "m", "1"))
}

// ---- Errors ----

func TestErrorsCarryCodeIDAndMessage(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{})
	require.Error(t, err)
	wrapped := fmt.Errorf("handler: %w", err)
	var e *registry.Error
	require.True(t, errors.As(wrapped, &e))
	assert.Equal(t, registry.CodeDeployed, e.Code)
	assert.Equal(t, f.Versions[2].ID, e.ID)
	assert.Equal(t, "registry: "+e.Message, err.Error())
	assert.True(t, errors.Is(wrapped, registry.ErrDeployed))
	assert.False(t, errors.Is(wrapped, registry.ErrNotFound))
	assert.Equal(t, http.StatusConflict, registry.HTTPStatus(wrapped))
}
