package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// The bad-input table: every exported function called with every kind of
// invalid argument returns the documented sentinel (ErrInvalid with the
// offending Field, or context.Canceled, ErrNotFound, ...), never panics,
// and leaves the registry byte-for-byte as it was: a dump of every artifact,
// both lineage walks of each, the pending cleanups and the audit log is the
// same JSON before and after the call, Check passes, and no client token the
// call carried has been bound.

// badIntruder is refused every action by the fixture's authorizer.
const badIntruder = "intruder"

// badSeedToken is bound, in every fixture, to the soft delete of Code.
const badSeedToken = "seed-token-1"

// badFixture is a seeded registry with one artifact in every state a bad
// call could disturb.
type badFixture struct {
	*registrytest.Fixture
	// Rich carries every metadata field; it is live and not deployed.
	Rich registry.Artifact
	// Deleted is the fixture's Code, soft deleted with badSeedToken.
	Deleted registry.Artifact
	// Box is live and contains BoxPart, which is live.
	Box, BoxPart registry.Artifact
	// Rack is live and contains RackPart, which is deployed.
	Rack, RackPart registry.Artifact
	// Busy is deployed to MaxListEntries endpoints.
	Busy registry.Artifact
	// Gone is the ID of an artifact hard deleted; its URI is pending cleanup.
	Gone string
}

func badNewFixture(t *testing.T) *badFixture {
	t.Helper()
	refuse := registry.AuthorizerFunc(func(_ context.Context, principal string, action registry.Action, _ registry.Artifact) error {
		if principal == badIntruder && action != registry.ActionRead {
			return errors.New("intruders may do nothing")
		}
		return nil
	})
	failing := registry.CleanerFunc(func(context.Context, string) error { return errors.New("storage is down") })
	f := &badFixture{Fixture: registrytest.New(t,
		registry.WithAuthorizer(refuse), registry.WithCleaner(failing), registry.WithPurgeProtection(time.Hour))}
	ctx := f.Ctx
	f.Clock.Advance(time.Minute)
	f.Rich = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "rich", Version: "1",
		DisplayName: "Rich", Description: "has\nevery field", Algorithm: "XGBoost",
		Tags: []string{"a", "b"}, Owners: []string{"alice", "bob"}, Labels: map[string]string{"team": "ml", "tier": "gold"},
		StorageURIs: []string{"s3://models/rich/1.zip", "s3://models/rich/1.json"}})
	f.Clock.Advance(time.Minute)
	_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{ClientToken: badSeedToken, Reason: "seed"})
	require.NoError(t, err)
	f.Deleted = f.MustGet(t, f.Code.ID)
	f.Clock.Advance(time.Minute)
	_, err = f.Delete(ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, Reason: "package"})
	require.NoError(t, err)
	f.Box = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "box", Version: "1"})
	f.BoxPart = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "box_part", Version: "1", Parent: f.Box.ID})
	f.Rack = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "rack", Version: "1"})
	f.RackPart = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "rack_part", Version: "1", Parent: f.Rack.ID})
	require.NoError(t, f.Deploy(ctx, f.RackPart.ID, "ep-rack"))
	f.Busy = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: "busy", Version: "1"})
	for i := 0; i < registry.MaxListEntries; i++ {
		require.NoError(t, f.Deploy(ctx, f.Busy.ID, fmt.Sprintf("ep-%d", i)))
	}
	f.Busy = f.MustGet(t, f.Busy.ID)
	gone := f.MustRegister(t, registry.Artifact{Kind: registry.KindDataset, Namespace: registrytest.Namespace, Name: "gone", Version: "1",
		StorageURIs: []string{"s3://datasets/gone/1.csv"}})
	_, err = f.Delete(ctx, gone.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	f.Gone = gone.ID
	f.Clock.Advance(time.Minute)
	return f
}

// badDump renders everything a caller can observe of reg as JSON.
func badDump(t *testing.T, reg *registry.Registry, ctx context.Context) string {
	t.Helper()
	var d struct {
		Artifacts  []registry.Artifact
		Upstream   map[string]registry.LineageGraph
		Downstream map[string]registry.LineageGraph
		Pending    []registry.Cleanup
		Events     []registry.Event
	}
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		page, err := reg.List(ctx, f)
		require.NoError(t, err)
		d.Artifacts = append(d.Artifacts, page.Items...)
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	d.Upstream = map[string]registry.LineageGraph{}
	d.Downstream = map[string]registry.LineageGraph{}
	for _, a := range d.Artifacts {
		up, err := reg.Lineage(ctx, a.ID, registry.Upstream, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		d.Upstream[a.ID] = up
		down, err := reg.Lineage(ctx, a.ID, registry.Downstream, registry.MaxLineageDepth, registry.IncludeAll)
		require.NoError(t, err)
		d.Downstream[a.ID] = down
	}
	var err error
	d.Pending, err = reg.PendingCleanups(ctx)
	require.NoError(t, err)
	d.Events, err = reg.Events(ctx, 0, 1000)
	require.NoError(t, err)
	out, err := json.Marshal(d)
	require.NoError(t, err)
	return string(out)
}

// badRequireSame fails unless two dumps are byte-for-byte equal, showing
// the difference indented.
func badRequireSame(t *testing.T, before, after string) {
	t.Helper()
	if before == after {
		return
	}
	var b, a bytes.Buffer
	require.NoError(t, json.Indent(&b, []byte(before), "", " "))
	require.NoError(t, json.Indent(&a, []byte(after), "", " "))
	require.Equal(t, b.String(), a.String(), "the call changed the registry")
	require.Equal(t, before, after, "the call changed the registry")
}

// badCall runs fn and turns a panic into a test failure.
func badCall(t *testing.T, fn func() error) (err error, panicked bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v\n%s", t.Name(), p, debug.Stack())
			panicked = true
		}
	}()
	return fn(), false
}

// badRequireErr checks err against the sentinel a case wants (nil: no
// error). An ErrInvalid must be an *Error naming the field.
func badRequireErr(t *testing.T, err, want error, field string) {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	require.ErrorIs(t, err, want, "got %v", err)
	var e *registry.Error
	switch {
	case errors.Is(want, context.Canceled), errors.Is(want, context.DeadlineExceeded):
		return
	case !errors.As(err, &e):
		t.Fatalf("error %v (%T) is not a *registry.Error", err, err)
	}
	require.NotEmpty(t, e.Message)
	if want == registry.ErrInvalid {
		require.Equal(t, registry.CodeInvalid, e.Code)
		require.Equal(t, http.StatusBadRequest, registry.HTTPStatus(err))
		require.NotEmpty(t, e.Field, "an invalid-argument error must name its field: %v", err)
		if field != "" {
			require.Equal(t, field, e.Field, "error: %v", err)
		}
	}
}

// badProbeToken fails the test if token is bound to a request: a delete
// of an unknown artifact with it is ErrNotFound when it is free and
// ErrIdempotencyMismatch when it is bound, and changes nothing either way.
func badProbeToken(t *testing.T, reg *registry.Registry, ctx context.Context, token string) {
	t.Helper()
	_, err := reg.Delete(ctx, uuid.NewString(), registry.DeleteOptions{ClientToken: token})
	require.ErrorIs(t, err, registry.ErrNotFound, "client token %q was bound by a call that failed: %v", token, err)
}

type badCase struct {
	name  string
	call  func(f *badFixture) error
	want  error  // the sentinel; nil means the call must succeed
	field string // the Field an ErrInvalid must name; "" skips the check
	// tokens are well-formed client tokens the call carried, which must
	// stay unbound.
	tokens []string
}

// Bad values, each with a name.
type badValue struct{ name, v string }

const badUUID = "6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2"

func badIDs() []badValue {
	return []badValue{
		{"empty", ""},
		{"not a UUID", "not-a-uuid"},
		{"35 chars", badUUID[:35]},
		{"37 chars", badUUID + "0"},
		{"36 chars not hex", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"},
		{"36 chars dashes misplaced", "6b04e1d8b-66d-4f78-ab21-beb5be2cf4f2"},
		{"braces", "{" + badUUID + "}"},
		{"urn", "urn:uuid:" + badUUID},
		{"32 hex without dashes", strings.ReplaceAll(badUUID, "-", "")},
		{"control character", badUUID[:35] + "\x00"},
		{"invalid UTF-8", badUUID[:34] + "\xff\xfe"},
		{"leading space", " " + badUUID[:35]},
		{"an FQN", "mlflow_svc.customer_segmentation.3"},
	}
}

func badFQNs() []badValue {
	return []badValue{
		{"empty", ""},
		{"one part", "mlflow_svc"},
		{"dot only", "."},
		{"trailing dot", "mlflow_svc.customers."},
		{"leading dot", ".customers.1"},
		{"empty middle part", "mlflow_svc..1"},
		{"four parts", "mlflow_svc.customers.1.2"},
		{"unclosed quote", `mlflow_svc."churn.v2`},
		{"lone quote", `"`},
		{"quoted part without dot", `mlflow_svc."churn".1`},
		{"empty quoted part", `mlflow_svc."".1`},
		{"text after closing quote", `mlflow_svc."churn.v2"x.1`},
		{"quote inside a part", `mlflow_svc.ch"urn.1`},
		{"namespace of 257", strings.Repeat("n", 257) + ".customers.1"},
		{"name of 257", "mlflow_svc." + strings.Repeat("n", 257) + ".1"},
		{"version of 65", "mlflow_svc.customers." + strings.Repeat("9", 65)},
		{"control character", "mlflow_svc.cust\x01omers.1"},
		{"invalid UTF-8", "mlflow_svc.\xff.1"},
		{"right-to-left override", "mlflow_svc.cust\u202eomers.1"},
		{"zero-width space", "mlflow_svc.customers\u200b.1"},
		{"not NFC", "mlflow_svc.cafe\u0301.1"},
	}
}

// badNames are invalid as a namespace or a name.
func badNames() []badValue {
	return []badValue{
		{"empty", ""},
		{"257 chars", strings.Repeat("a", 257)},
		{"257 multibyte chars", strings.Repeat("é", 257)},
		{"control character", "a\x01b"},
		{"NUL", "a\x00b"},
		{"DEL", "a\x7fb"},
		{"C1 control", "a\u0085b"},
		{"newline", "a\nb"},
		{"invalid UTF-8", "a\xffb"},
		{"double quote", `a"b`},
		{"right-to-left override", "a\u202eb"},
		{"zero-width space", "a\u200bb"},
		{"byte order mark", "\ufeffab"},
		{"left-to-right isolate", "a\u2066b"},
		{"not NFC", "cafe\u0301"},
	}
}

func badVersions() []badValue {
	return []badValue{
		{"65 chars", strings.Repeat("9", 65)},
		{"control character", "1\x02"},
		{"tab", "1\t2"},
		{"invalid UTF-8", "1\xff"},
		{"double quote", `1"`},
		{"zero-width space", "1\u200b"},
		{"not NFC", "e\u0301"},
	}
}

func badTokens() []badValue {
	return []badValue{
		{"65 chars", strings.Repeat("t", 65)},
		{"underscore", "retry_1"},
		{"space", "retry 1"},
		{"slash", "retry/1"},
		{"non-ASCII", "rétry"},
		{"NUL", "retry\x00"},
	}
}

func badReasons() []badValue {
	return []badValue{
		{"1025 chars", strings.Repeat("r", registry.MaxReasonLength+1)},
		{"newline", "why\nnot"},
		{"invalid UTF-8", "why\xff"},
	}
}

func badEndpoints() []badValue {
	return []badValue{
		{"empty", ""},
		{"257 chars", strings.Repeat("e", 257)},
		{"control character", "ep\x01"},
		{"invalid UTF-8", "ep\xff"},
		{"right-to-left override", "ep\u202e1"},
		{"not NFC", "e\u0301p"},
	}
}

// badMeta is one invalid metadata change and the field it breaks.
type badMeta struct {
	name, field string
	set         func(a *registry.Artifact)
}

func badN(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func badMetas() []badMeta {
	long := strings.Repeat("x", 257)
	many := badN(registry.MaxListEntries+1, func(i int) string { return fmt.Sprintf("v%d", i) })
	manyLabels := map[string]string{}
	for i := 0; i <= registry.MaxListEntries; i++ {
		manyLabels[fmt.Sprintf("k%d", i)] = "v"
	}
	manyURIs := badN(registry.MaxListEntries+1, func(i int) string { return fmt.Sprintf("s3://b/%d", i) })
	return []badMeta{
		{"displayName of 257", "displayName", func(a *registry.Artifact) { a.DisplayName = long }},
		{"displayName with tab", "displayName", func(a *registry.Artifact) { a.DisplayName = "a\tb" }},
		{"displayName invalid UTF-8", "displayName", func(a *registry.Artifact) { a.DisplayName = "\xff" }},
		{"description too long", "description", func(a *registry.Artifact) { a.Description = strings.Repeat("d", registry.MaxDescriptionLength+1) }},
		{"description with NUL", "description", func(a *registry.Artifact) { a.Description = "a\x00b" }},
		{"description invalid UTF-8", "description", func(a *registry.Artifact) { a.Description = "a\xffb" }},
		{"algorithm of 257", "algorithm", func(a *registry.Artifact) { a.Algorithm = long }},
		{"algorithm with control", "algorithm", func(a *registry.Artifact) { a.Algorithm = "k\x1bmeans" }},
		{"65 tags", "tags", func(a *registry.Artifact) { a.Tags = many }},
		{"empty tag", "tags", func(a *registry.Artifact) { a.Tags = []string{"ok", ""} }},
		{"tag of 257", "tags", func(a *registry.Artifact) { a.Tags = []string{long} }},
		{"tag with control", "tags", func(a *registry.Artifact) { a.Tags = []string{"a\nb"} }},
		{"tag invalid UTF-8", "tags", func(a *registry.Artifact) { a.Tags = []string{"\xff"} }},
		{"65 owners", "owners", func(a *registry.Artifact) { a.Owners = many }},
		{"empty owner", "owners", func(a *registry.Artifact) { a.Owners = []string{""} }},
		{"owner of 257", "owners", func(a *registry.Artifact) { a.Owners = []string{long} }},
		{"owner with zero-width space", "owners", func(a *registry.Artifact) { a.Owners = []string{"al\u200bice"} }},
		{"owner not NFC", "owners", func(a *registry.Artifact) { a.Owners = []string{"Jose\u0301"} }},
		{"tag with right-to-left override", "tags", func(a *registry.Artifact) { a.Tags = []string{"prod\u202e"} }},
		{"65 labels", "labels", func(a *registry.Artifact) { a.Labels = manyLabels }},
		{"empty label key", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{"": "v"} }},
		{"label key of 257", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{long: "v"} }},
		{"label key with control", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{"k\x00": "v"} }},
		{"label key with byte order mark", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{"\ufeffk": "v"} }},
		{"label value of 1025", "labels", func(a *registry.Artifact) {
			a.Labels = map[string]string{"k": strings.Repeat("v", registry.MaxLabelValueLength+1)}
		}},
		{"label value with control", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{"k": "v\r"} }},
		{"label value invalid UTF-8", "labels", func(a *registry.Artifact) { a.Labels = map[string]string{"k": "\xff"} }},
		{"65 storage URIs", "storageUris", func(a *registry.Artifact) { a.StorageURIs = manyURIs }},
		{"empty URI", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{""} }},
		{"URI without scheme", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"bucket/key"} }},
		{"absolute path URI", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"/data/model.zip"} }},
		{"unparsable URI", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"://nothing"} }},
		{"duplicate URI", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"s3://b/k", "s3://b/k"} }},
		{"URI of 2049", "storageUris", func(a *registry.Artifact) {
			a.StorageURIs = []string{"s3://b/" + strings.Repeat("k", registry.MaxURILength-6)}
		}},
		{"URI with control", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"s3://b/k\x7f"} }},
		{"URI invalid UTF-8", "storageUris", func(a *registry.Artifact) { a.StorageURIs = []string{"s3://b/\xff"} }},
	}
}

// badFresh is a valid new artifact that Register would accept.
func badFresh(name string) registry.Artifact {
	return registry.Artifact{Kind: registry.KindModel, Namespace: registrytest.Namespace, Name: name, Version: "1"}
}

// badCtxCall is a call that succeeds with a good context, used to try
// every kind of bad context.
type badCtxCall struct {
	name  string
	write bool // the call records a principal
	call  func(f *badFixture, ctx context.Context) error
	// tokens are the client tokens the call carries.
	tokens []string
}

func badCtxCalls() []badCtxCall {
	return []badCtxCall{
		{"Register", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.Register(ctx, badFresh("fresh"))
			return err
		}, nil},
		{"RegisterBatch", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.RegisterBatch(ctx, []registry.Artifact{badFresh("fresh_a"), badFresh("fresh_b")})
			return err
		}, nil},
		{"Update", true, func(f *badFixture, ctx context.Context) error {
			a := f.Rich
			a.Description = "changed"
			_, err := f.Update(ctx, a)
			return err
		}, nil},
		{"Get", false, func(f *badFixture, ctx context.Context) error { _, err := f.Get(ctx, f.Rich.ID); return err }, nil},
		{"GetByFQN", false, func(f *badFixture, ctx context.Context) error {
			_, err := f.GetByFQN(ctx, f.Rich.FQN())
			return err
		}, nil},
		{"GetVersion", false, func(f *badFixture, ctx context.Context) error {
			_, err := f.GetVersion(ctx, f.Rich.Namespace, f.Rich.Name, f.Rich.Version)
			return err
		}, nil},
		{"List", false, func(f *badFixture, ctx context.Context) error {
			_, err := f.List(ctx, registry.Filter{Namespace: registrytest.Namespace})
			return err
		}, nil},
		{"Lineage", false, func(f *badFixture, ctx context.Context) error {
			_, err := f.Lineage(ctx, f.Versions[1].ID, registry.Both, 3)
			return err
		}, nil},
		{"Link", true, func(f *badFixture, ctx context.Context) error { return f.Link(ctx, f.Dataset.ID, f.Rich.ID) }, nil},
		{"Unlink", true, func(f *badFixture, ctx context.Context) error {
			return f.Unlink(ctx, f.Versions[0].ID, f.Versions[1].ID)
		}, nil},
		{"Deploy", true, func(f *badFixture, ctx context.Context) error { return f.Deploy(ctx, f.Rich.ID, "ep-new") }, nil},
		{"Undeploy", true, func(f *badFixture, ctx context.Context) error {
			return f.Undeploy(ctx, f.Versions[2].ID, registrytest.Endpoint)
		}, nil},
		{"Delete", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.Delete(ctx, f.Rich.ID, registry.DeleteOptions{ClientToken: "ctx-delete", Reason: "r"})
			return err
		}, []string{"ctx-delete"}},
		{"DeleteByFQN", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.DeleteByFQN(ctx, f.Rich.FQN(), registry.DeleteOptions{Hard: true, ClientToken: "ctx-delete-fqn"})
			return err
		}, []string{"ctx-delete-fqn"}},
		{"Restore", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.Restore(ctx, f.Deleted.ID, registry.RestoreOptions{ClientToken: "ctx-restore"})
			return err
		}, []string{"ctx-restore"}},
		{"RestoreByFQN", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.RestoreByFQN(ctx, f.Deleted.FQN())
			return err
		}, nil},
		{"Purge", true, func(f *badFixture, ctx context.Context) error {
			_, err := f.Purge(ctx, 0)
			return err
		}, nil},
		{"Events", false, func(f *badFixture, ctx context.Context) error { _, err := f.Events(ctx, 0, 10); return err }, nil},
		{"PendingCleanups", false, func(f *badFixture, ctx context.Context) error { _, err := f.PendingCleanups(ctx); return err }, nil},
		{"RetryCleanups", true, func(f *badFixture, ctx context.Context) error { _, err := f.RetryCleanups(ctx); return err }, nil},
		{"Reset", true, func(f *badFixture, ctx context.Context) error { return f.Reset(ctx) }, nil},
	}
}

// badCtxCases crosses every call that takes a context with every kind of
// bad context.
func badCtxCases() []badCase {
	type badCtx struct {
		name  string
		make  func(f *badFixture) context.Context
		want  error
		field string
		write bool // applies to calls that record a principal only
	}
	ctxs := []badCtx{
		{"nil context", func(*badFixture) context.Context {
			var nilCtx context.Context
			return nilCtx
		}, registry.ErrInvalid, "ctx", false},
		{"canceled context", func(f *badFixture) context.Context {
			ctx, cancel := context.WithCancel(f.Ctx)
			cancel()
			return ctx
		}, context.Canceled, "", false},
		{"expired context", func(f *badFixture) context.Context {
			ctx, cancel := context.WithDeadline(f.Ctx, time.Unix(0, 0))
			cancel() // expired already: the error stays DeadlineExceeded
			return ctx
		}, context.DeadlineExceeded, "", false},
		{"principal with control character", func(f *badFixture) context.Context {
			return registry.WithPrincipal(f.Ctx, "ad\x00min")
		}, registry.ErrInvalid, "principal", true},
		{"principal of 257", func(f *badFixture) context.Context {
			return registry.WithPrincipal(f.Ctx, strings.Repeat("p", 257))
		}, registry.ErrInvalid, "principal", true},
		{"principal invalid UTF-8", func(f *badFixture) context.Context {
			return registry.WithPrincipal(f.Ctx, "\xffadmin")
		}, registry.ErrInvalid, "principal", true},
		{"principal with zero-width space", func(f *badFixture) context.Context {
			return registry.WithPrincipal(f.Ctx, "ad\u200bmin")
		}, registry.ErrInvalid, "principal", true},
		{"principal not NFC", func(f *badFixture) context.Context {
			return registry.WithPrincipal(f.Ctx, "Jose\u0301")
		}, registry.ErrInvalid, "principal", true},
	}
	var cases []badCase
	for _, c := range badCtxCalls() {
		for _, x := range ctxs {
			if x.write && !c.write {
				continue
			}
			call, mk := c.call, x.make
			cases = append(cases, badCase{name: c.name + "/" + x.name, want: x.want, field: x.field, tokens: c.tokens,
				call: func(f *badFixture) error { return call(f, mk(f)) }})
		}
	}
	return cases
}

func badIDCases() []badCase {
	var cases []badCase
	for _, b := range badIDs() {
		id := b.v
		add := func(fn, field string, call func(f *badFixture) error) {
			cases = append(cases, badCase{name: fn + "/" + field + " " + b.name, call: call, want: registry.ErrInvalid, field: field})
		}
		add("Get", "id", func(f *badFixture) error { _, err := f.Get(f.Ctx, id, registry.IncludeAll); return err })
		add("Lineage", "id", func(f *badFixture) error { _, err := f.Lineage(f.Ctx, id, registry.Both, 1); return err })
		add("Update", "id", func(f *badFixture) error {
			a := f.Rich
			a.ID = id
			_, err := f.Update(f.Ctx, a)
			return err
		})
		add("Deploy", "id", func(f *badFixture) error { return f.Deploy(f.Ctx, id, "ep") })
		add("Undeploy", "id", func(f *badFixture) error { return f.Undeploy(f.Ctx, id, registrytest.Endpoint) })
		add("Delete", "id", func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, id, registry.DeleteOptions{Hard: true})
			return err
		})
		add("Restore", "id", func(f *badFixture) error { _, err := f.Restore(f.Ctx, id); return err })
		add("Link", "upstream", func(f *badFixture) error { return f.Link(f.Ctx, id, f.Rich.ID) })
		add("Link", "downstream", func(f *badFixture) error { return f.Link(f.Ctx, f.Dataset.ID, id) })
		add("Unlink", "upstream", func(f *badFixture) error { return f.Unlink(f.Ctx, id, f.Versions[1].ID) })
		add("Unlink", "downstream", func(f *badFixture) error { return f.Unlink(f.Ctx, f.Versions[0].ID, id) })
		if id == "" {
			continue // an empty ID is assigned, an empty parent is none
		}
		add("Register", "id", func(f *badFixture) error {
			a := badFresh("fresh")
			a.ID = id
			_, err := f.Register(f.Ctx, a)
			return err
		})
		add("Register", "parent", func(f *badFixture) error {
			a := badFresh("fresh")
			a.Parent = id
			_, err := f.Register(f.Ctx, a)
			return err
		})
	}
	return cases
}

func badFQNCases() []badCase {
	var cases []badCase
	for _, b := range badFQNs() {
		fqn := b.v
		add := func(fn string, call func(f *badFixture) error) {
			cases = append(cases, badCase{name: fn + "/" + b.name, call: call, want: registry.ErrInvalid, field: "fqn"})
		}
		add("ParseFQN", func(*badFixture) error {
			ns, name, version, err := registry.ParseFQN(fqn)
			if err == nil {
				return fmt.Errorf("ParseFQN(%q) accepted it as %q %q %q", fqn, ns, name, version)
			}
			if ns != "" || name != "" || version != "" {
				return fmt.Errorf("ParseFQN(%q) failed but returned parts %q %q %q", fqn, ns, name, version)
			}
			return err
		})
		add("GetByFQN", func(f *badFixture) error { _, err := f.GetByFQN(f.Ctx, fqn, registry.IncludeAll); return err })
		add("DeleteByFQN", func(f *badFixture) error {
			_, err := f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{Hard: true, Recursive: true})
			return err
		})
		add("RestoreByFQN", func(f *badFixture) error { _, err := f.RestoreByFQN(f.Ctx, fqn); return err })
	}
	return cases
}

func badNameCases() []badCase {
	var cases []badCase
	add := func(name, field string, call func(f *badFixture) error) {
		cases = append(cases, badCase{name: name, call: call, want: registry.ErrInvalid, field: field})
	}
	for _, b := range badNames() {
		v := b.v
		add("Register/namespace "+b.name, "namespace", func(f *badFixture) error {
			a := badFresh("fresh")
			a.Namespace = v
			_, err := f.Register(f.Ctx, a)
			return err
		})
		add("Register/name "+b.name, "name", func(f *badFixture) error {
			a := badFresh(v)
			_, err := f.Register(f.Ctx, a)
			return err
		})
		add("GetVersion/namespace "+b.name, "namespace", func(f *badFixture) error {
			_, err := f.GetVersion(f.Ctx, v, "customers", "1")
			return err
		})
		add("GetVersion/name "+b.name, "name", func(f *badFixture) error {
			_, err := f.GetVersion(f.Ctx, registrytest.Namespace, v, "1")
			return err
		})
		if v == "" {
			continue // an empty filter field matches everything
		}
		add("List/namespace "+b.name, "namespace", func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Namespace: v})
			return err
		})
		add("List/name "+b.name, "name", func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Namespace: registrytest.Namespace, Name: v})
			return err
		})
		add("List/name without namespace "+b.name, "name", func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Name: v})
			return err
		})
	}
	for _, b := range badVersions() {
		v := b.v
		add("Register/version "+b.name, "version", func(f *badFixture) error {
			a := badFresh("fresh")
			a.Version = v
			_, err := f.Register(f.Ctx, a)
			return err
		})
		add("GetVersion/version "+b.name, "version", func(f *badFixture) error {
			_, err := f.GetVersion(f.Ctx, registrytest.Namespace, "customers", v)
			return err
		})
	}
	for _, k := range []registry.Kind{"", "Model", "bogus", "model ", "\xff"} {
		k := k
		add(fmt.Sprintf("Register/kind %q", string(k)), "kind", func(f *badFixture) error {
			a := badFresh("fresh")
			a.Kind = k
			_, err := f.Register(f.Ctx, a)
			return err
		})
		if k == "" {
			continue
		}
		add(fmt.Sprintf("List/kind %q", string(k)), "kind", func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Kind: k})
			return err
		})
	}
	return cases
}

func badMetaCases() []badCase {
	var cases []badCase
	for _, m := range badMetas() {
		set := m.set
		cases = append(cases,
			badCase{name: "Register/" + m.name, want: registry.ErrInvalid, field: m.field, call: func(f *badFixture) error {
				a := badFresh("fresh")
				set(&a)
				_, err := f.Register(f.Ctx, a)
				return err
			}},
			badCase{name: "RegisterBatch/second has " + m.name, want: registry.ErrInvalid, field: m.field, call: func(f *badFixture) error {
				b := badFresh("fresh_b")
				set(&b)
				_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{badFresh("fresh_a"), b})
				return err
			}},
			badCase{name: "Update/" + m.name, want: registry.ErrInvalid, field: m.field, call: func(f *badFixture) error {
				a := f.Rich
				set(&a)
				_, err := f.Update(f.Ctx, a)
				return err
			}},
		)
	}
	return cases
}

func badIncludeCases() []badCase {
	includes := []struct {
		name string
		inc  []registry.ReadOption
	}{
		{"unknown include", []registry.ReadOption{registry.Include("bogus")}},
		{"upper-case include", []registry.ReadOption{registry.Include("ALL")}},
		{"include with space", []registry.ReadOption{registry.Include("all ")}},
		{"unknown include after a good one", []registry.ReadOption{registry.IncludeAll, registry.Include("bogus")}},
	}
	var cases []badCase
	for _, x := range includes {
		inc := x.inc
		add := func(fn string, call func(f *badFixture) error) {
			cases = append(cases, badCase{name: fn + "/" + x.name, call: call, want: registry.ErrInvalid, field: "include"})
		}
		add("Get", func(f *badFixture) error { _, err := f.Get(f.Ctx, f.Rich.ID, inc...); return err })
		add("GetByFQN", func(f *badFixture) error { _, err := f.GetByFQN(f.Ctx, f.Rich.FQN(), inc...); return err })
		add("GetVersion", func(f *badFixture) error {
			_, err := f.GetVersion(f.Ctx, f.Rich.Namespace, f.Rich.Name, f.Rich.Version, inc...)
			return err
		})
		add("Lineage", func(f *badFixture) error { _, err := f.Lineage(f.Ctx, f.Rich.ID, registry.Both, 1, inc...); return err })
		if len(inc) == 1 {
			add("List", func(f *badFixture) error {
				_, err := f.List(f.Ctx, registry.Filter{Include: inc[0].(registry.Include)})
				return err
			})
		}
	}
	return cases
}

// badOtherCases are the arguments particular to one function, and the
// calls that break a rule and must fail with its sentinel, changing
// nothing.
func badOtherCases() []badCase {
	inv := registry.ErrInvalid
	cases := []badCase{
		// Register and RegisterBatch.
		{name: "Register/parent is itself", want: inv, field: "parent", call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.ID, a.Parent = badUUID, strings.ToUpper(badUUID)
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/parent unknown", want: inv, field: "parent", call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.Parent = badUUID
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/parent soft deleted", want: inv, field: "parent", call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.Parent = f.Deleted.ID
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/parent hard deleted", want: inv, field: "parent", call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.Parent = f.Gone
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/FQN taken", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			_, err := f.Register(f.Ctx, badFresh(f.Rich.Name))
			return err
		}},
		{name: "Register/FQN taken by a soft-deleted artifact", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			a := f.Deleted
			a.ID = ""
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/ID taken", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.ID = f.Rich.ID
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/ID taken in upper case", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			a := badFresh("fresh")
			a.ID = strings.ToUpper(f.Rich.ID)
			_, err := f.Register(f.Ctx, a)
			return err
		}},
		{name: "Register/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			_, err := f.Register(registry.WithPrincipal(f.Ctx, badIntruder), badFresh("fresh"))
			return err
		}},
		{name: "RegisterBatch/nil", want: inv, field: "artifacts", call: func(f *badFixture) error {
			_, err := f.RegisterBatch(f.Ctx, nil)
			return err
		}},
		{name: "RegisterBatch/empty", want: inv, field: "artifacts", call: func(f *badFixture) error {
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{})
			return err
		}},
		{name: "RegisterBatch/FQN twice", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{badFresh("twice"), badFresh("twice")})
			return err
		}},
		{name: "RegisterBatch/ID twice", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			a, b := badFresh("fresh_a"), badFresh("fresh_b")
			a.ID, b.ID = badUUID, badUUID
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{a, b})
			return err
		}},
		{name: "RegisterBatch/parent later in the batch", want: inv, field: "parent", call: func(f *badFixture) error {
			child, parent := badFresh("child"), badFresh("parent")
			parent.ID = badUUID
			child.Parent = badUUID
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{child, parent})
			return err
		}},
		{name: "RegisterBatch/second taken", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			_, err := f.RegisterBatch(f.Ctx, []registry.Artifact{badFresh("fresh"), badFresh(f.Rich.Name)})
			return err
		}},
		{name: "RegisterBatch/second forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			_, err := f.RegisterBatch(registry.WithPrincipal(f.Ctx, badIntruder), []registry.Artifact{badFresh("fresh_a"), badFresh("fresh_b")})
			return err
		}},

		// Update.
		{name: "Update/unknown ID", want: registry.ErrNotFound, call: func(f *badFixture) error {
			a := f.Rich
			a.ID = badUUID
			_, err := f.Update(f.Ctx, a)
			return err
		}},
		{name: "Update/soft deleted", want: registry.ErrNotFound, call: func(f *badFixture) error {
			a := f.Deleted
			a.Description = "changed"
			_, err := f.Update(f.Ctx, a)
			return err
		}},
		{name: "Update/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			a := f.Rich
			a.Description = "changed"
			_, err := f.Update(registry.WithPrincipal(f.Ctx, badIntruder), a)
			return err
		}},

		// Link and Unlink.
		{name: "Link/itself", want: inv, field: "downstream", call: func(f *badFixture) error { return f.Link(f.Ctx, f.Rich.ID, f.Rich.ID) }},
		{name: "Link/cycle", want: inv, field: "downstream", call: func(f *badFixture) error {
			return f.Link(f.Ctx, f.Versions[2].ID, f.Dataset.ID)
		}},
		{name: "Link/existing edge", want: registry.ErrAlreadyExists, call: func(f *badFixture) error {
			return f.Link(f.Ctx, f.Dataset.ID, f.Versions[0].ID)
		}},
		{name: "Link/soft-deleted downstream", want: registry.ErrNotFound, call: func(f *badFixture) error {
			return f.Link(f.Ctx, f.Dataset.ID, f.Deleted.ID)
		}},
		{name: "Link/unknown upstream", want: registry.ErrNotFound, call: func(f *badFixture) error { return f.Link(f.Ctx, badUUID, f.Rich.ID) }},
		{name: "Link/hard-deleted upstream", want: registry.ErrNotFound, call: func(f *badFixture) error { return f.Link(f.Ctx, f.Gone, f.Rich.ID) }},
		{name: "Link/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			return f.Link(registry.WithPrincipal(f.Ctx, badIntruder), f.Dataset.ID, f.Rich.ID)
		}},
		{name: "Unlink/missing edge", want: registry.ErrNotFound, call: func(f *badFixture) error { return f.Unlink(f.Ctx, f.Dataset.ID, f.Rich.ID) }},
		{name: "Unlink/reversed edge", want: registry.ErrNotFound, call: func(f *badFixture) error {
			return f.Unlink(f.Ctx, f.Versions[1].ID, f.Versions[0].ID)
		}},

		// Lineage.
		{name: "Lineage/unknown ID", want: registry.ErrNotFound, call: func(f *badFixture) error {
			_, err := f.Lineage(f.Ctx, badUUID, registry.Both, 1)
			return err
		}},

		// Deploy and Undeploy.
		{name: "Deploy/endpoint past the limit", want: inv, field: "endpoint", call: func(f *badFixture) error {
			return f.Deploy(f.Ctx, f.Busy.ID, "one-too-many")
		}},
		{name: "Deploy/soft deleted", want: registry.ErrNotFound, call: func(f *badFixture) error { return f.Deploy(f.Ctx, f.Deleted.ID, "ep") }},
		{name: "Deploy/unknown ID", want: registry.ErrNotFound, call: func(f *badFixture) error { return f.Deploy(f.Ctx, badUUID, "ep") }},
		{name: "Deploy/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			return f.Deploy(registry.WithPrincipal(f.Ctx, badIntruder), f.Rich.ID, "ep")
		}},
		{name: "Undeploy/not deployed there", want: registry.ErrNotFound, call: func(f *badFixture) error {
			return f.Undeploy(f.Ctx, f.Versions[2].ID, "elsewhere")
		}},
		{name: "Undeploy/soft deleted", want: registry.ErrNotFound, call: func(f *badFixture) error {
			return f.Undeploy(f.Ctx, f.Deleted.ID, registrytest.Endpoint)
		}},

		// Delete: the rules, each refused, changing nothing.
		{name: "Delete/unknown ID", want: registry.ErrNotFound, tokens: []string{"t-unknown"}, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, badUUID, registry.DeleteOptions{ClientToken: "t-unknown"})
			return err
		}},
		{name: "Delete/hard-deleted ID", want: registry.ErrNotFound, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Gone, registry.DeleteOptions{Hard: true})
			return err
		}},
		{name: "Delete/soft delete twice", want: registry.ErrNotFound, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Deleted.ID, registry.DeleteOptions{})
			return err
		}},
		{name: "Delete/deployed", want: registry.ErrDeployed, tokens: []string{"t-deployed"}, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{ClientToken: "t-deployed"})
			return err
		}},
		{name: "Delete/atomic cascade from a deployed version", want: registry.ErrDeployed, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{Cascade: true, Atomic: true, Hard: true})
			return err
		}},
		// An atomic multi-item delete returns the cause: the deployed
		// version's DEPLOYED, not its upstreams' HAS_DEPENDENTS.
		{name: "Delete/atomic cascade with a deployed version", want: registry.ErrDeployed, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{Cascade: true, Atomic: true})
			return err
		}},
		{name: "Delete/not empty", want: registry.ErrNotEmpty, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Box.ID, registry.DeleteOptions{Hard: true})
			return err
		}},
		{name: "Delete/has dependents", want: registry.ErrHasDependents, tokens: []string{"t-dependents"}, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, ClientToken: "t-dependents"})
			return err
		}},
		{name: "Delete/atomic lineage cascade into a deployed dependent", want: registry.ErrDeployed, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade, Atomic: true})
			return err
		}},
		{name: "Delete/purge protected", want: registry.ErrPurgeProtected, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Deleted.ID, registry.DeleteOptions{Hard: true})
			return err
		}},
		{name: "Delete/forbidden", want: registry.ErrForbidden, tokens: []string{"t-forbidden"}, call: func(f *badFixture) error {
			_, err := f.Delete(registry.WithPrincipal(f.Ctx, badIntruder), f.Rich.ID, registry.DeleteOptions{ClientToken: "t-forbidden"})
			return err
		}},
		{name: "Delete/atomic recursive with a deployed child", want: registry.ErrDeployed, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Rack.ID, registry.DeleteOptions{Recursive: true, Atomic: true, Hard: true})
			return err
		}},
		{name: "Delete/recursive that takes nothing", tokens: []string{"t-nothing"}, call: func(f *badFixture) error {
			res, err := f.Delete(f.Ctx, f.Rack.ID, registry.DeleteOptions{Recursive: true, ClientToken: "t-nothing"})
			if err == nil && (len(res.Deleted) > 0 || len(res.Failed) != 2) {
				return fmt.Errorf("want both items failed, got %+v", res)
			}
			return err
		}},
		{name: "Delete/atomic recursive forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			_, err := f.Delete(registry.WithPrincipal(f.Ctx, badIntruder), f.Box.ID, registry.DeleteOptions{Recursive: true, Atomic: true})
			return err
		}},
		{name: "Delete/token reused for another request", want: registry.ErrIdempotencyMismatch, call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Rich.ID, registry.DeleteOptions{ClientToken: badSeedToken, Reason: "seed"})
			return err
		}},
		{name: "DeleteByFQN/unknown FQN", want: registry.ErrNotFound, call: func(f *badFixture) error {
			_, err := f.DeleteByFQN(f.Ctx, "mlflow_svc.nothing.1", registry.DeleteOptions{})
			return err
		}},
		{name: "DeleteByFQN/unversioned FQN of a versioned artifact", want: registry.ErrNotFound, call: func(f *badFixture) error {
			_, err := f.DeleteByFQN(f.Ctx, "mlflow_svc.rich", registry.DeleteOptions{})
			return err
		}},

		// Restore.
		{name: "Restore/live", want: registry.ErrNotDeleted, tokens: []string{"t-live"}, call: func(f *badFixture) error {
			_, err := f.Restore(f.Ctx, f.Rich.ID, registry.RestoreOptions{ClientToken: "t-live"})
			return err
		}},
		{name: "Restore/unknown", want: registry.ErrNotFound, call: func(f *badFixture) error { _, err := f.Restore(f.Ctx, badUUID); return err }},
		{name: "Restore/hard deleted", want: registry.ErrNotFound, call: func(f *badFixture) error { _, err := f.Restore(f.Ctx, f.Gone); return err }},
		{name: "Restore/parent still deleted", want: registry.ErrParentDeleted, call: func(f *badFixture) error {
			_, err := f.Restore(f.Ctx, f.Children[0].ID)
			return err
		}},
		{name: "Restore/nil option", want: inv, field: "options", call: func(f *badFixture) error {
			_, err := f.Restore(f.Ctx, f.Deleted.ID, registry.RestoreOptions{}, nil)
			return err
		}},
		{name: "Restore/token reused for another request", want: registry.ErrIdempotencyMismatch, call: func(f *badFixture) error {
			_, err := f.Restore(f.Ctx, f.Deleted.ID, registry.RestoreOptions{ClientToken: badSeedToken, Reason: "seed"})
			return err
		}},
		{name: "Restore/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			_, err := f.Restore(registry.WithPrincipal(f.Ctx, badIntruder), f.Deleted.ID)
			return err
		}},
		{name: "RestoreByFQN/live", want: registry.ErrNotDeleted, call: func(f *badFixture) error {
			_, err := f.RestoreByFQN(f.Ctx, f.Rich.FQN())
			return err
		}},
		{name: "RestoreByFQN/nil option", want: inv, field: "options", call: func(f *badFixture) error {
			_, err := f.RestoreByFQN(f.Ctx, f.Deleted.FQN(), nil)
			return err
		}},

		// Purge.
		{name: "Purge/negative age", want: inv, field: "olderThan", call: func(f *badFixture) error { _, err := f.Purge(f.Ctx, -1); return err }},
		{name: "Purge/most negative age", want: inv, field: "olderThan", call: func(f *badFixture) error {
			_, err := f.Purge(f.Ctx, math.MinInt64)
			return err
		}},
		{name: "Purge/nil option", want: inv, field: "options", call: func(f *badFixture) error {
			_, err := f.Purge(f.Ctx, 0, nil)
			return err
		}},
		{name: "Purge/unknown lineage policy", want: inv, field: "lineage", call: func(f *badFixture) error {
			_, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{Lineage: registry.LineagePolicy(9)})
			return err
		}},
		{name: "Purge/negative lineage policy", want: inv, field: "lineage", call: func(f *badFixture) error {
			_, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{Lineage: registry.LineagePolicy(-1)})
			return err
		}},

		// Events, Subscribe, cleanups, Reset.
		{name: "Events/after the last", call: func(f *badFixture) error {
			ev, err := f.Events(f.Ctx, math.MaxUint64, 10)
			if err == nil && len(ev) > 0 {
				return fmt.Errorf("Events after seq %d returned %d events, the first with seq %d", uint64(math.MaxUint64), len(ev), ev[0].Seq)
			}
			return err
		}},
		{name: "RetryCleanups/no cleaner", want: inv, field: "cleaner", call: func(f *badFixture) error {
			plain, err := registry.New()
			if err != nil {
				return err
			}
			_, err = plain.RetryCleanups(f.Ctx)
			return err
		}},
		{name: "Reset/forbidden", want: registry.ErrForbidden, call: func(f *badFixture) error {
			return f.Reset(registry.WithPrincipal(f.Ctx, badIntruder))
		}},

		// Extremes that are valid: no overflow, no panic, and (dry runs,
		// reads) no change.
		{name: "Delete/dry cascade with the largest limit", call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{Cascade: true, CascadeLimit: math.MaxInt, Hard: true, DryRun: true})
			return err
		}},
		{name: "Purge/dry with the largest age", call: func(f *badFixture) error {
			_, err := f.Purge(f.Ctx, math.MaxInt64, registry.PurgeOptions{DryRun: true, Lineage: registry.LineageCascade})
			return err
		}},
		{name: "Lineage/largest depth", call: func(f *badFixture) error {
			_, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Both, registry.MaxLineageDepth, registry.IncludeAll)
			return err
		}},
		{name: "List/largest page", call: func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Limit: 1000, Include: registry.IncludeAll})
			return err
		}},
		{name: "Events/largest page", call: func(f *badFixture) error { _, err := f.Events(f.Ctx, 0, 1000); return err }},
		{name: "Deploy/already deployed there", call: func(f *badFixture) error {
			return f.Deploy(f.Ctx, f.Versions[2].ID, registrytest.Endpoint)
		}},
		{name: "Update/unchanged", call: func(f *badFixture) error { _, err := f.Update(f.Ctx, f.Rich); return err }},
	}
	for _, n := range []int{-1, math.MinInt} {
		cases = append(cases, badCase{name: fmt.Sprintf("Delete/cascade limit %d", n), want: inv, field: "cascadeLimit", call: func(f *badFixture) error {
			_, err := f.Delete(f.Ctx, f.Rich.ID, registry.DeleteOptions{Cascade: true, CascadeLimit: n})
			return err
		}})
	}
	for _, p := range []registry.LineagePolicy{-1, 3, 9, math.MaxInt} {
		cases = append(cases,
			badCase{name: fmt.Sprintf("Delete/lineage policy %d", int(p)), want: inv, field: "lineage", call: func(f *badFixture) error {
				_, err := f.Delete(f.Ctx, f.Rich.ID, registry.DeleteOptions{Hard: true, Lineage: p})
				return err
			}},
			badCase{name: fmt.Sprintf("DeleteByFQN/lineage policy %d", int(p)), want: inv, field: "lineage", call: func(f *badFixture) error {
				_, err := f.DeleteByFQN(f.Ctx, f.Rich.FQN(), registry.DeleteOptions{Lineage: p})
				return err
			}})
	}
	for _, b := range badTokens() {
		tok := b.v
		cases = append(cases,
			badCase{name: "Delete/token " + b.name, want: inv, field: "clientToken", call: func(f *badFixture) error {
				_, err := f.Delete(f.Ctx, f.Rich.ID, registry.DeleteOptions{ClientToken: tok})
				return err
			}},
			badCase{name: "DeleteByFQN/token " + b.name, want: inv, field: "clientToken", call: func(f *badFixture) error {
				_, err := f.DeleteByFQN(f.Ctx, f.Rich.FQN(), registry.DeleteOptions{Hard: true, ClientToken: tok})
				return err
			}},
			badCase{name: "Restore/token " + b.name, want: inv, field: "clientToken", call: func(f *badFixture) error {
				_, err := f.Restore(f.Ctx, f.Deleted.ID, registry.RestoreOptions{ClientToken: tok})
				return err
			}},
			badCase{name: "RestoreByFQN/token " + b.name, want: inv, field: "clientToken", call: func(f *badFixture) error {
				_, err := f.RestoreByFQN(f.Ctx, f.Deleted.FQN(), registry.RestoreOptions{ClientToken: tok})
				return err
			}})
	}
	for _, b := range badReasons() {
		reason := b.v
		cases = append(cases,
			badCase{name: "Delete/reason " + b.name, want: inv, field: "reason", tokens: []string{"t-reason"}, call: func(f *badFixture) error {
				_, err := f.Delete(f.Ctx, f.Rich.ID, registry.DeleteOptions{Reason: reason, ClientToken: "t-reason"})
				return err
			}},
			badCase{name: "DeleteByFQN/reason " + b.name, want: inv, field: "reason", call: func(f *badFixture) error {
				_, err := f.DeleteByFQN(f.Ctx, f.Rich.FQN(), registry.DeleteOptions{Hard: true, Reason: reason})
				return err
			}},
			badCase{name: "Restore/reason " + b.name, want: inv, field: "reason", tokens: []string{"t-reason"}, call: func(f *badFixture) error {
				_, err := f.Restore(f.Ctx, f.Deleted.ID, registry.RestoreOptions{Reason: reason, ClientToken: "t-reason"})
				return err
			}},
			badCase{name: "Purge/reason " + b.name, want: inv, field: "reason", call: func(f *badFixture) error {
				_, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{Reason: reason})
				return err
			}})
	}
	for _, b := range badEndpoints() {
		ep := b.v
		cases = append(cases,
			badCase{name: "Deploy/endpoint " + b.name, want: inv, field: "endpoint", call: func(f *badFixture) error { return f.Deploy(f.Ctx, f.Rich.ID, ep) }},
			badCase{name: "Undeploy/endpoint " + b.name, want: inv, field: "endpoint", call: func(f *badFixture) error {
				return f.Undeploy(f.Ctx, f.Versions[2].ID, ep)
			}})
	}
	for _, d := range []registry.Direction{"", "up", "UPSTREAM", "both ", "sideways"} {
		cases = append(cases, badCase{name: fmt.Sprintf("Lineage/direction %q", string(d)), want: inv, field: "direction", call: func(f *badFixture) error {
			_, err := f.Lineage(f.Ctx, f.Dataset.ID, d, 1)
			return err
		}})
	}
	for _, n := range []int{0, -1, registry.MaxLineageDepth + 1, math.MaxInt, math.MinInt} {
		cases = append(cases, badCase{name: fmt.Sprintf("Lineage/depth %d", n), want: inv, field: "depth", call: func(f *badFixture) error {
			_, err := f.Lineage(f.Ctx, f.Dataset.ID, registry.Both, n)
			return err
		}})
	}
	for _, n := range []int{-1, 1001, math.MaxInt, math.MinInt} {
		cases = append(cases,
			badCase{name: fmt.Sprintf("List/limit %d", n), want: inv, field: "limit", call: func(f *badFixture) error {
				_, err := f.List(f.Ctx, registry.Filter{Limit: n})
				return err
			}},
			badCase{name: fmt.Sprintf("Events/limit %d", n), want: inv, field: "limit", call: func(f *badFixture) error {
				_, err := f.Events(f.Ctx, 0, n)
				return err
			}})
	}
	for _, n := range []int{0, -1, math.MinInt, registry.MaxSubscriptionBuffer + 1, math.MaxInt} {
		cases = append(cases, badCase{name: fmt.Sprintf("Subscribe/buffer %d", n), want: inv, field: "buffer", call: func(f *badFixture) error {
			s, err := f.Subscribe(n)
			if s != nil {
				s.Close()
			}
			return err
		}})
	}
	for _, c := range []struct{ name, cursor string }{
		{"not base64", "!!!"},
		{"one byte of another namespace", "AA"},
		{"another namespace's cursor", base64.RawURLEncoding.EncodeToString([]byte("other\x00name\x001"))},
	} {
		cursor := c.cursor
		cases = append(cases, badCase{name: "List/cursor " + c.name, want: inv, field: "cursor", call: func(f *badFixture) error {
			_, err := f.List(f.Ctx, registry.Filter{Namespace: registrytest.Namespace, Cursor: cursor})
			return err
		}})
	}
	cases = append(cases, badCase{name: "List/cursor of another filter", want: inv, field: "cursor", call: func(f *badFixture) error {
		page, err := f.List(f.Ctx, registry.Filter{Namespace: registrytest.Namespace, Limit: 1})
		if err != nil || page.Next == "" {
			return fmt.Errorf("no cursor to misuse: %v", err)
		}
		_, err = f.List(f.Ctx, registry.Filter{Namespace: registrytest.Namespace, Name: "rich", Cursor: page.Next})
		return err
	}})
	for _, c := range []struct{ name, field, fn string }{
		{"kind", "kind", "Update/immutable "},
		{"namespace", "namespace", "Update/immutable "},
		{"name", "name", "Update/immutable "},
		{"version", "version", "Update/immutable "},
		{"parent", "parent", "Update/immutable "},
	} {
		field := c.field
		cases = append(cases, badCase{name: c.fn + c.name, want: inv, field: field, call: func(f *badFixture) error {
			a := f.Rich
			switch field {
			case "kind":
				a.Kind = registry.KindDataset
			case "namespace":
				a.Namespace = "other"
			case "name":
				a.Name = "other"
			case "version":
				a.Version = "2"
			case "parent":
				a.Parent = f.Box.ID
			}
			_, err := f.Update(f.Ctx, a)
			return err
		}})
	}
	return cases
}

func badAllCases() []badCase {
	var all []badCase
	for _, part := range [][]badCase{badCtxCases(), badIDCases(), badFQNCases(), badNameCases(), badMetaCases(), badIncludeCases(), badOtherCases()} {
		all = append(all, part...)
	}
	return all
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	cases := badAllCases()
	seen := map[string]bool{}
	for _, c := range cases {
		require.False(t, seen[c.name], "case name %q is used twice", c.name)
		seen[c.name] = true
	}
	t.Logf("%d cases", len(cases))
	// The cases share one fixture, since none may change it; a case that
	// fails may have, and the next one gets a fresh fixture.
	f := badNewFixture(t)
	before := badDump(t, f.Registry, f.Ctx)
	for _, c := range cases {
		ok := t.Run(c.name, func(t *testing.T) {
			err, panicked := badCall(t, func() error { return c.call(f) })
			if panicked {
				return
			}
			badRequireErr(t, err, c.want, c.field)
			badRequireSame(t, before, badDump(t, f.Registry, f.Ctx))
			require.NoError(t, f.Check())
			for _, tok := range c.tokens {
				badProbeToken(t, f.Registry, f.Ctx, tok)
			}
		})
		if !ok {
			f = badNewFixture(t)
			before = badDump(t, f.Registry, f.Ctx)
		}
	}
}

// TestBadInputControls proves that the bad-context cases fail because of
// the context: with a good one every call succeeds. It also proves that
// the token probe sees a bound token.
func TestBadInputControls(t *testing.T) {
	for _, c := range badCtxCalls() {
		t.Run(c.name, func(t *testing.T) {
			f := badNewFixture(t)
			require.NoError(t, c.call(f, f.Ctx))
		})
	}
	t.Run("probe sees a bound token", func(t *testing.T) {
		f := badNewFixture(t)
		_, err := f.Delete(f.Ctx, uuid.NewString(), registry.DeleteOptions{ClientToken: badSeedToken})
		require.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
	})
	t.Run("limits are inclusive", func(t *testing.T) {
		f := badNewFixture(t)
		a := badFresh(strings.Repeat("é", registry.MaxNameLength))
		a.Namespace = strings.Repeat("n", registry.MaxNameLength)
		a.Version = strings.Repeat("9", registry.MaxVersionLength)
		a.Labels = map[string]string{strings.Repeat("k", registry.MaxNameLength): strings.Repeat("v", registry.MaxLabelValueLength)}
		a.StorageURIs = []string{"s3://b/" + strings.Repeat("k", registry.MaxURILength-7)}
		a.Tags = badN(registry.MaxListEntries, func(i int) string { return fmt.Sprint(i) })
		a.Description = strings.Repeat("d", registry.MaxDescriptionLength)
		got, err := f.Register(f.Ctx, a)
		require.NoError(t, err)
		_, err = f.GetByFQN(f.Ctx, got.FQN())
		require.NoError(t, err)
		_, err = f.Delete(f.Ctx, got.ID, registry.DeleteOptions{ClientToken: strings.Repeat("t", registry.MaxTokenLength),
			Reason: strings.Repeat("r", registry.MaxReasonLength)})
		require.NoError(t, err)
	})
}

func TestBadInputNewOptions(t *testing.T) {
	cases := []struct {
		name  string
		opts  []registry.Option
		field string
	}{
		{"nil option", []registry.Option{nil}, "option"},
		{"nil option after a good one", []registry.Option{registry.WithTokenTTL(time.Hour), nil}, "option"},
		{"nil clock", []registry.Option{registry.WithClock(nil)}, "clock"},
		{"nil ClockFunc", []registry.Option{registry.WithClock(registry.ClockFunc(nil))}, "clock"},
		{"nil authorizer", []registry.Option{registry.WithAuthorizer(nil)}, "authorizer"},
		{"nil AuthorizerFunc", []registry.Option{registry.WithAuthorizer(registry.AuthorizerFunc(nil))}, "authorizer"},
		{"nil cleaner", []registry.Option{registry.WithCleaner(nil)}, "cleaner"},
		{"nil CleanerFunc", []registry.Option{registry.WithCleaner(registry.CleanerFunc(nil))}, "cleaner"},
		{"zero token TTL", []registry.Option{registry.WithTokenTTL(0)}, "tokenTTL"},
		{"negative token TTL", []registry.Option{registry.WithTokenTTL(-time.Hour)}, "tokenTTL"},
		{"most negative token TTL", []registry.Option{registry.WithTokenTTL(math.MinInt64)}, "tokenTTL"},
		{"negative purge protection", []registry.Option{registry.WithPurgeProtection(-time.Nanosecond)}, "purgeProtection"},
		{"audit log size 0", []registry.Option{registry.WithAuditLogSize(0)}, "auditLogSize"},
		{"negative audit log size", []registry.Option{registry.WithAuditLogSize(-1)}, "auditLogSize"},
		{"audit log size past the maximum", []registry.Option{registry.WithAuditLogSize(registry.MaxAuditLogSize + 1)}, "auditLogSize"},
		{"audit log size MaxInt", []registry.Option{registry.WithAuditLogSize(math.MaxInt)}, "auditLogSize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var reg *registry.Registry
			err, panicked := badCall(t, func() error {
				var err error
				reg, err = registry.New(c.opts...)
				return err
			})
			if panicked {
				return
			}
			badRequireErr(t, err, registry.ErrInvalid, c.field)
			require.Nil(t, reg)
		})
	}
}

// TestBadInputPureFunctions calls the functions that take no registry with
// arguments they cannot refuse by error: they must not panic.
func TestBadInputPureFunctions(t *testing.T) {
	var nilErr *registry.Error
	var nilCtx context.Context
	cases := []struct {
		name string
		call func(t *testing.T)
	}{
		{"PrincipalFrom nil context", func(t *testing.T) { assert.Equal(t, registry.Anonymous, registry.PrincipalFrom(nilCtx)) }},
		{"PrincipalFrom empty principal", func(t *testing.T) {
			assert.Equal(t, registry.Anonymous, registry.PrincipalFrom(registry.WithPrincipal(context.Background(), "")))
		}},
		{"WithPrincipal nil context", func(t *testing.T) {
			ctx := registry.WithPrincipal(nilCtx, "admin")
			assert.Equal(t, "admin", registry.PrincipalFrom(ctx))
		}},
		{"HTTPStatus typed nil *Error", func(t *testing.T) { _ = registry.HTTPStatus(nilErr) }},
		{"ErrorCode typed nil *Error", func(t *testing.T) { _ = registry.ErrorCode(nilErr) }},
		{"HTTPStatus unknown code", func(t *testing.T) {
			assert.Equal(t, http.StatusInternalServerError, registry.HTTPStatus(&registry.Error{Code: "BOGUS"}))
		}},
		{"Failure with unknown code", func(t *testing.T) {
			err := registry.Failure{Code: "BOGUS"}.Err()
			assert.False(t, errors.Is(err, registry.ErrInvalid))
			assert.Equal(t, "BOGUS", registry.ErrorCode(err))
		}},
		{"BuildFQN of bad parts", func(t *testing.T) {
			for _, p := range []string{"", `"`, `a"."b`, "\xff", "\x00"} {
				_ = registry.BuildFQN(p, p, p)
			}
		}},
		{"LineagePolicy String out of range", func(t *testing.T) {
			assert.Equal(t, "LineagePolicy(9)", registry.LineagePolicy(9).String())
		}},
		{"zero Artifact methods", func(t *testing.T) {
			var a registry.Artifact
			_ = a.FQN()
			assert.False(t, a.IsDeployed())
			assert.False(t, a.HasDeletedUpstream())
			assert.Zero(t, a.EntityVersion())
		}},
		{"NamespaceAuthorizer nil map", func(t *testing.T) {
			err := registry.NamespaceAuthorizer(nil).Authorize(nilCtx, "", registry.ActionReset, registry.Artifact{})
			assert.Error(t, err)
		}},
		{"Subscription closed twice", func(t *testing.T) {
			reg, err := registry.New()
			require.NoError(t, err)
			s, err := reg.Subscribe(1)
			require.NoError(t, err)
			s.Close()
			s.Close()
			assert.Zero(t, s.Lost())
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _ = badCall(t, func() error { c.call(t); return nil })
		})
	}
}

// A clock that panics in Reset must not leave the registry locked: Reset
// fails with an error that says so, and the write after it completes (it
// would block forever otherwise, which the test binary's timeout reports).
func TestBadInputPanickingClockInResetReleasesTheLock(t *testing.T) {
	calls := 0
	clock := registry.ClockFunc(func() time.Time {
		calls++
		if calls == 1 {
			panic("clock broke")
		}
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	})
	reg, err := registry.New(registry.WithClock(clock))
	require.NoError(t, err)
	assert.NotPanics(t, func() {
		err := reg.Reset(context.Background())
		assert.ErrorContains(t, err, "clock panicked")
	})
	_, err = reg.Register(context.Background(), registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "after"})
	assert.NoError(t, err, "the registry is usable after a panic under its lock")
	assert.NoError(t, reg.Check())
}

func TestBadInputTypedNilPointerOptions(t *testing.T) {
	_, err := registry.New(registry.WithClock((*registrytest.Clock)(nil)))
	assert.ErrorIs(t, err, registry.ErrInvalid)
}
