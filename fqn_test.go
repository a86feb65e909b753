package registry_test

import (
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

// coreFQNCases are (namespace, name, version) triples with the FQN that
// BuildFQN must give for them, chosen for the quoting rule: a part that
// contains '.' is quoted, every other part is not.
var coreFQNCases = []struct {
	desc                     string
	namespace, name, version string
	fqn                      string
}{
	{"plain", "mlflow_svc", "customer_segmentation", "3", "mlflow_svc.customer_segmentation.3"},
	{"unversioned", "mlflow_svc", "customers", "", "mlflow_svc.customers"},
	{"dot in name", "svc", "churn.v2", "3", `svc."churn.v2".3`},
	{"dot in namespace", "svc.eu", "m", "1", `"svc.eu".m.1`},
	{"dot in version", "svc", "m", "1.0", `svc.m."1.0"`},
	{"dot in every part", "a.b", "c.d", "e.f", `"a.b"."c.d"."e.f"`},
	{"dot in namespace, unversioned", "svc.eu", "m", "", `"svc.eu".m`},
	{"dot in name, unversioned", "svc", "m.x", "", `svc."m.x"`},
	{"part that is a dot", "svc", ".", ".", `svc."."."."`},
	{"leading and trailing dots", ".svc", "m.", "..", `".svc"."m.".".."`},
	{"unicode", "サービス", "モデル.v2", "版1", `サービス."モデル.v2".版1`},
	{"emoji", "🙂", "model🚀", "v🙂.1", `🙂.model🚀."v🙂.1"`},
	{"spaces", "my svc", "my model", "v 1", "my svc.my model.v 1"},
	{"punctuation", `a\b`, "it's/ok", "-_+", `a\b.it's/ok.-_+`},
	{"composed (NFC) accent", "svc", "caf\u00e9", "\u00e9t\u00e9", "svc.caf\u00e9.\u00e9t\u00e9"},
	{"combining mark with no composed form", "svc", "q\u0307", "", "svc.q\u0307"},
	{"longest name with dots", "svc", strings.Repeat("a.", 128), "1", `svc."` + strings.Repeat("a.", 128) + `".1`},
	{"longest version", "svc", "m", strings.Repeat("9", 64), "svc.m." + strings.Repeat("9", 64)},
	{"longest multibyte name", strings.Repeat("é", 256), "m", "", strings.Repeat("é", 256) + ".m"},
}

func TestBuildFQN(t *testing.T) {
	for _, c := range coreFQNCases {
		t.Run(c.desc, func(t *testing.T) {
			assert.Equal(t, c.fqn, registry.BuildFQN(c.namespace, c.name, c.version))
			a := registry.Artifact{Namespace: c.namespace, Name: c.name, Version: c.version}
			assert.Equal(t, c.fqn, a.FQN())
		})
	}
}

func TestParseFQNInvertsBuild(t *testing.T) {
	for _, c := range coreFQNCases {
		t.Run(c.desc, func(t *testing.T) {
			ns, name, version, err := registry.ParseFQN(c.fqn)
			require.NoError(t, err)
			assert.Equal(t, []string{c.namespace, c.name, c.version}, []string{ns, name, version})
			assert.Equal(t, c.fqn, registry.BuildFQN(ns, name, version))
		})
	}
}

// TestParseFQNMalformed checks that every malformed FQN is ErrInvalid on the
// fqn field with the byte position of the fault in the message.
func TestParseFQNMalformed(t *testing.T) {
	cases := []struct {
		desc string
		fqn  string
		// pos lists the acceptable byte positions of the fault; the first
		// is the precise one.
		pos []int
	}{
		{"one part", "abc", []int{3}},
		{"leading dot", ".a.b", []int{0}},
		{"empty middle part", "a..b", []int{2}},
		{"empty namespace before quoted name", `."a.b"`, []int{0}},
		{"trailing dot", "a.b.", []int{3}},
		{"trailing dot after quoted part", `a."b.c".`, []int{7}},
		{"four parts", "a.b.c.d", []int{5}},
		{"four parts with quotes", `"a.b".c.d.e`, []int{9}},
		{"unclosed quote", `a."b.c`, []int{2}},
		{"unclosed quote at start", `"a.b`, []int{0}},
		{"empty quoted part", `a."".c`, []int{2}},
		{"quoted part without a dot", `a."bc".d`, []int{2}},
		{"quoted namespace without a dot", `"a".b`, []int{0}},
		{"text after closing quote", `a."b.c"d`, []int{7}},
		{"quote inside a part", `a.b"c.d`, []int{3}},
		{"quote at end of a part", `a.bc"`, []int{4}},
		{"quote after unicode", `ns.é"x`, []int{5}},
		{"control character in name", "a.b\x01c", []int{3}},
		{"control character after multibyte text", "ns.é\x01", []int{5}},
		{"newline in version", "a.b.1\n", []int{5}},
		{"invalid UTF-8 in name", "a.b\xffc", []int{3}},
		{"version longer than 64 characters", "a.b." + strings.Repeat("1", 65), []int{4, 4 + 64}},
		{"name longer than 256 characters", "a." + strings.Repeat("n", 257), []int{2, 2 + 256}},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			ns, name, version, err := registry.ParseFQN(c.fqn)
			e := coreInvalid(t, err, "fqn")
			assert.Empty(t, ns+name+version, "no part is returned with an error")
			got := coreBytePositions(e.Message)
			require.NotEmpty(t, got, "message %q gives no byte position; want %d", e.Message, c.pos[0])
			assert.Subset(t, c.pos, got[:1], "message %q: first byte position %d, want one of %v", e.Message, got[0], c.pos)
		})
	}
	t.Run("empty", func(t *testing.T) {
		_, _, _, err := registry.ParseFQN("")
		coreInvalid(t, err, "fqn")
	})
}

var coreAtByte = regexp.MustCompile(`at byte (\d+)`)

// coreBytePositions returns every "at byte N" position a message gives.
func coreBytePositions(msg string) []int {
	var out []int
	for _, m := range coreAtByte.FindAllStringSubmatch(msg, -1) {
		n, err := strconv.Atoi(m[1])
		if err == nil {
			out = append(out, n)
		}
	}
	return out
}

// coreFQNAlphabet is what the generated parts are made of: plain letters,
// the separator, spaces, punctuation, multibyte and astral runes.
var coreFQNAlphabet = []rune("abcXYZ019._- '/\\éü模型🙂")

func coreRandomPart(rng *rand.Rand, minLen, maxLen int) string {
	n := minLen + rng.IntN(maxLen-minLen+1)
	var b strings.Builder
	for range n {
		b.WriteRune(coreFQNAlphabet[rng.IntN(len(coreFQNAlphabet))])
	}
	return b.String()
}

// TestFQNRoundTripProperty builds and parses many generated valid triples:
// parse must give back exactly the parts, and building the parsed parts
// must give back exactly the string.
func TestFQNRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 1))
	for i := range 5000 {
		ns, name := coreRandomPart(rng, 1, 12), coreRandomPart(rng, 1, 12)
		version := ""
		if rng.IntN(4) > 0 {
			version = coreRandomPart(rng, 1, 8)
		}
		fqn := registry.BuildFQN(ns, name, version)
		gotNS, gotName, gotVersion, err := registry.ParseFQN(fqn)
		if !assert.NoError(t, err, "case %d: ParseFQN(%q) of (%q, %q, %q)", i, fqn, ns, name, version) {
			return
		}
		if !assert.Equal(t, []string{ns, name, version}, []string{gotNS, gotName, gotVersion}, "case %d: ParseFQN(%q)", i, fqn) {
			return
		}
		if !assert.Equal(t, fqn, registry.BuildFQN(gotNS, gotName, gotVersion), "case %d", i) {
			return
		}
	}
}

// TestParseFQNAcceptsOnlyWhatBuildReturns feeds ParseFQN arbitrary strings
// of separators, quotes and letters: whatever it accepts must build back to
// the very same string (the inverse holds in that direction too), and
// whatever it refuses must be ErrInvalid with a byte position inside the
// string.
func TestParseFQNAcceptsOnlyWhatBuildReturns(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []byte(`ab."`)
	accepted, refused := 0, 0
	for i := range 20000 {
		b := make([]byte, 1+rng.IntN(12))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		ns, name, version, err := registry.ParseFQN(s)
		if err == nil {
			accepted++
			if !assert.Equal(t, s, registry.BuildFQN(ns, name, version), "case %d: ParseFQN(%q) = (%q, %q, %q)", i, s, ns, name, version) {
				return
			}
			continue
		}
		refused++
		var e *registry.Error
		if !assert.ErrorAs(t, err, &e, "case %d: ParseFQN(%q)", i, s) || !assert.ErrorIs(t, err, registry.ErrInvalid, "case %d: %q", i, s) {
			return
		}
		pos := coreBytePositions(e.Message)
		if !assert.NotEmpty(t, pos, "case %d: ParseFQN(%q): message %q gives no byte position", i, s, e.Message) {
			return
		}
		if !assert.True(t, pos[0] >= 0 && pos[0] <= len(s), "case %d: ParseFQN(%q): position %d outside the string", i, s, pos[0]) {
			return
		}
	}
	// The generator must exercise both outcomes, or the test proves nothing.
	assert.Greater(t, accepted, 100)
	assert.Greater(t, refused, 100)
}
