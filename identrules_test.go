package registry_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// identBad are identifiers that look like another one, or hide part of
// themselves: what each holds, where (the byte offset in the value), what
// the message must name there, and, for one not in NFC, its composed form.
var identBad = []struct {
	desc     string
	v        string
	pos      int
	what     string // code points the message names
	composed string // "" for a format character
}{
	{"right-to-left override U+202E", "gpt\u202Etxt.exe", 3, "U+202E", ""},
	{"zero-width space U+200B", "cust\u200Bomers", 4, "U+200B", ""},
	{"byte order mark U+FEFF", "\uFEFFcustomers", 0, "U+FEFF", ""},
	{"left-to-right isolate U+2066", "churn\u2066v2", 5, "U+2066", ""},
	{"zero-width joiner U+200D", "ab\u200Dc", 2, "U+200D", ""},
	{"soft hyphen U+00AD", "cus\u00ADtomers", 3, "U+00AD", ""},
	{"decomposed e + U+0301", "cafe\u0301", 3, "U+0065 U+0301", "caf\u00e9"},
	{"decomposed after other text", "\u00e9t\u00e9-cafe\u0301s", 9, "U+0065 U+0301", "\u00e9t\u00e9-caf\u00e9s"},
	{"marks out of canonical order", "a\u0301\u0323", 0, "U+0061 U+0301 U+0323", "\u1ea1\u0301"},
	{"conjoining jamo", "\u1100\u1161", 0, "U+1100 U+1161", "\uac00"},
}

// identGood are identifiers the rules accept: composed, and marks that have
// no composed form.
var identGood = []string{"caf\u00e9", "\u00e9t\u00e9", "q\u0307", "\uac00", "モデル", "model🚀"}

// identCheckError checks that err refuses identBad[i] in field, at byte
// pos of the text the message quotes, naming the code points and, for a
// value not in NFC, NFC and the composed form.
func identCheckError(t *testing.T, err error, field string, pos int, what, composed string) {
	t.Helper()
	require.ErrorIs(t, err, registry.ErrInvalid)
	var e *registry.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, registry.CodeInvalid, e.Code)
	assert.Equal(t, field, e.Field)
	assert.Contains(t, e.Message, what, "the message names the code points")
	assert.Contains(t, coreBytePositions(e.Message), pos, "message %q: want the fault at byte %d", e.Message, pos)
	if composed != "" {
		assert.Contains(t, e.Message, "NFC")
		assert.Contains(t, e.Message, fmt.Sprintf("use the composed form %q", composed))
	} else {
		assert.Contains(t, e.Message, "format character")
	}
}

// identState is everything a refused call must leave as it was.
func identState(t *testing.T, f *registrytest.Fixture) []registry.Artifact {
	t.Helper()
	return coreListAll(t, f.Registry, registry.Filter{Include: registry.IncludeAll})
}

// TestIdentifiersRefuseFormatAndUnnormalizedText registers, looks up and
// parses names whose namespace, name or version holds a format character
// or is not in NFC: each is ErrInvalid on its field, at the fault's byte,
// and changes nothing.
func TestIdentifiersRefuseFormatAndUnnormalizedText(t *testing.T) {
	f := registrytest.New(t)
	before := identState(t, f)
	for _, b := range identBad {
		parts := []struct{ field, ns, name, version string }{
			{"namespace", b.v, "m", "1"},
			{"name", "svc", b.v, "1"},
			{"version", "svc", "m", b.v},
		}
		for _, p := range parts {
			t.Run(p.field+"/"+b.desc, func(t *testing.T) {
				_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: p.ns, Name: p.name, Version: p.version})
				identCheckError(t, err, p.field, b.pos, b.what, b.composed)
				_, err = f.GetVersion(f.Ctx, p.ns, p.name, p.version, registry.IncludeAll)
				identCheckError(t, err, p.field, b.pos, b.what, b.composed)

				fqn := registry.BuildFQN(p.ns, p.name, p.version)
				at := strings.Index(fqn, b.v) + b.pos // the part may be quoted
				_, _, _, err = registry.ParseFQN(fqn)
				composedFQN := ""
				if b.composed != "" {
					composedFQN = strings.Replace(fqn, b.v, b.composed, 1)
				}
				identCheckError(t, err, "fqn", at, b.what, composedFQN)
				_, err = f.GetByFQN(f.Ctx, fqn, registry.IncludeAll)
				identCheckError(t, err, "fqn", at, b.what, composedFQN)
				_, err = f.DeleteByFQN(f.Ctx, fqn, registry.DeleteOptions{Hard: true})
				identCheckError(t, err, "fqn", at, b.what, composedFQN)
			})
		}
	}
	assert.Equal(t, before, identState(t, f), "refused calls change nothing")
	require.NoError(t, f.Check())
}

// TestIdentifiersLookAlikeAreOneName registers the composed café and checks
// that every other way of writing it is refused, not registered as a second
// artifact or looked up as a missing one.
func TestIdentifiersLookAlikeAreOneName(t *testing.T) {
	f := registrytest.NewEmpty(t)
	for _, good := range identGood {
		a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: good, Name: good, Version: good})
		got, err := f.GetByFQN(f.Ctx, a.FQN())
		require.NoError(t, err)
		assert.Equal(t, a, got)
	}
	_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "caf\u00e9", Name: "cafe\u0301", Version: "caf\u00e9"})
	identCheckError(t, err, "name", 3, "U+0065 U+0301", "caf\u00e9")
	_, err = f.GetByFQN(f.Ctx, "caf\u00e9.cafe\u0301.caf\u00e9")
	identCheckError(t, err, "fqn", len("caf\u00e9.")+3, "U+0065 U+0301", "caf\u00e9.caf\u00e9.caf\u00e9")
	assert.Len(t, identState(t, f), len(identGood))
	require.NoError(t, f.Check())
}

// TestIdentifierLikeTextRefusesFormatAndUnnormalizedText covers the rest of
// the text that names something: tags, owners and label keys (Register and
// Update), endpoints (Deploy, Undeploy) and the principal. Free text (the
// display name, the description, label values) keeps its own rules and may
// hold both.
func TestIdentifierLikeTextRefusesFormatAndUnnormalizedText(t *testing.T) {
	f := registrytest.New(t)
	target := f.Versions[1]
	for _, b := range identBad {
		cases := []struct {
			field string
			call  func(v string) error
		}{
			{"tags", func(v string) error {
				_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "svc", Name: "t", Tags: []string{"ok", v}})
				return err
			}},
			{"owners", func(v string) error {
				a := target
				a.Owners = []string{v}
				_, err := f.Update(f.Ctx, a)
				return err
			}},
			{"labels", func(v string) error {
				a := target
				a.Labels = map[string]string{v: "x"}
				_, err := f.Update(f.Ctx, a)
				return err
			}},
			{"endpoint", func(v string) error { return f.Deploy(f.Ctx, target.ID, v) }},
			{"endpoint", func(v string) error { return f.Undeploy(f.Ctx, f.Versions[2].ID, v) }},
			{"principal", func(v string) error {
				_, err := f.Register(registry.WithPrincipal(context.Background(), v), registry.Artifact{Kind: registry.KindCode, Namespace: "svc", Name: "p"})
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.field+"/"+b.desc, func(t *testing.T) {
				before := identState(t, f)
				identCheckError(t, c.call(b.v), c.field, b.pos, b.what, b.composed)
				assert.Equal(t, before, identState(t, f), "a refused call changes nothing")
			})
		}
	}
	// Free text is not an identifier.
	a := target
	a.DisplayName, a.Description, a.Labels = "caf\u00e9 \u202Ebidi", "cafe\u0301\u200B", map[string]string{"k": "cafe\u0301"}
	_, err := f.Update(f.Ctx, a)
	require.NoError(t, err)
	require.NoError(t, f.Check())
}

// TestIdentifierRulesAllocateNothingForNormalNames keeps a lookup by FQN
// free of allocations to parse it: the NFC check settles names in NFC with
// a quick check that allocates nothing (a full check allocates).
func TestIdentifierRulesAllocateNothingForNormalNames(t *testing.T) {
	if modelRaceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, fqn := range []string{"mlflow_svc.customer_segmentation.3", "caf\u00e9.\u00e9t\u00e9.\uac00", `svc."churn.v2".モデル`} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, _, err := registry.ParseFQN(fqn); err != nil {
				t.Fatal(err)
			}
		})
		assert.Zero(t, allocs, "ParseFQN(%q)", fqn)
	}
}
