package registry_test

// Fuzz targets, after SQLite's habit of fuzzing every input it parses:
//
//	go test -run='^$' -fuzz='^FuzzFQN$' -fuzztime=10s .
//	go test -run='^$' -fuzz='^FuzzRegister$' -fuzztime=10s -fuzzminimizetime=5s .
//	go test -run='^$' -fuzz='^FuzzOperations$' -fuzztime=10s -fuzzminimizetime=5s .
//
// An input of FuzzOperations runs up to 150 steps, each checked against the
// model, so it is slow; the default minimization budget (60s per new
// interesting input) would leave no time to fuzz. Their seed corpora are in
// testdata/fuzz/<FuzzName>/ and run with every go test.

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// fuzzText is the documented rule for free text: valid UTF-8, at most max
// characters, no control characters (but newlines and tabs in multi-line
// text).
func fuzzText(s string, max int, multiline bool) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return false
		}
	}
	return true
}

// fuzzIdent is the documented rule for identifiers (names, tags, owners,
// label keys): text with no format character (Unicode category Cf), in
// Unicode normalization form NFC.
func fuzzIdent(s string, max int) bool {
	if !fuzzText(s, max, false) || !norm.NFC.IsNormalString(s) {
		return false
	}
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// fuzzName is the rule for a namespace or name (and, up to 64 characters,
// a version): 1–max characters of identifier without a double quote, which
// FQN quoting reserves.
func fuzzName(s string, max int) bool {
	return s != "" && fuzzIdent(s, max) && !strings.Contains(s, `"`)
}

func fuzzVersion(s string) bool { return s == "" || fuzzName(s, registry.MaxVersionLength) }

// FuzzFQN checks that BuildFQN and ParseFQN are exact inverses: valid parts
// build a name that parses back to them, and any string that parses is
// exactly the name its parts build (so ParseFQN accepts nothing else).
// BuildFQN is defined for valid parts only: what it builds from invalid
// ones (`0."."` from 0, ", ") may be the name of other, valid parts.
func FuzzFQN(f *testing.F) {
	f.Add(`svc."churn.v2".3`, "svc", "churn.v2", "3")
	f.Add("mlflow_svc.customer_segmentation", "mlflow_svc", "customer_segmentation", "")
	f.Fuzz(func(t *testing.T, fqn, ns, name, version string) {
		built := registry.BuildFQN(ns, name, version)
		if fuzzName(ns, registry.MaxNameLength) && fuzzName(name, registry.MaxNameLength) && fuzzVersion(version) {
			gotNS, gotName, gotVersion, err := registry.ParseFQN(built)
			require.NoError(t, err, "ParseFQN(BuildFQN(%q, %q, %q)) = ParseFQN(%q)", ns, name, version, built)
			assert.Equal(t, []string{ns, name, version}, []string{gotNS, gotName, gotVersion}, "round trip of %q", built)
			assert.Equal(t, modelFQN(ns, name, version), built, "BuildFQN quotes exactly the parts with a '.'")
		}
		fuzzParse(t, built)
		fuzzParse(t, fqn)
	})
}

// fuzzParse checks that ParseFQN(fqn) either refuses it as invalid, naming
// the fqn field, or returns valid parts that build exactly fqn.
func fuzzParse(t *testing.T, fqn string) {
	ns, name, version, err := registry.ParseFQN(fqn)
	if err != nil {
		assert.Equal(t, registry.CodeInvalid, registry.ErrorCode(err), "ParseFQN(%q): %v", fqn, err)
		var e *registry.Error
		if assert.True(t, errors.As(err, &e)) {
			assert.Equal(t, "fqn", e.Field)
		}
		return
	}
	assert.True(t, fuzzName(ns, registry.MaxNameLength) && fuzzName(name, registry.MaxNameLength) && fuzzVersion(version),
		"ParseFQN(%q) accepted invalid parts %q %q %q", fqn, ns, name, version)
	assert.Equal(t, fqn, registry.BuildFQN(ns, name, version), "ParseFQN(%q) is not the inverse of BuildFQN", fqn)
}

// fuzzUUID is the form of an artifact ID: 8-4-4-4-12 hex digits.
func fuzzUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// fuzzValidInput is the documented input rule of Register, apart from the
// checks against what is stored.
func fuzzValidInput(a *registry.Artifact) bool {
	ok := (a.Kind == registry.KindModel || a.Kind == registry.KindDataset || a.Kind == registry.KindCode) &&
		fuzzName(a.Namespace, registry.MaxNameLength) && fuzzName(a.Name, registry.MaxNameLength) && fuzzVersion(a.Version) &&
		(a.ID == "" || fuzzUUID(a.ID)) &&
		(a.Parent == "" || fuzzUUID(a.Parent) && !strings.EqualFold(a.Parent, a.ID)) &&
		fuzzText(a.DisplayName, registry.MaxNameLength, false) && fuzzText(a.Algorithm, registry.MaxNameLength, false) &&
		len(a.Description) <= registry.MaxDescriptionLength && fuzzText(a.Description, registry.MaxDescriptionLength, true)
	list := func(l []string, max int, ident bool) bool {
		if len(l) > registry.MaxListEntries {
			return false
		}
		for _, s := range l {
			if s == "" || !fuzzText(s, max, false) || ident && !fuzzIdent(s, max) {
				return false
			}
		}
		return true
	}
	ok = ok && list(a.Tags, registry.MaxNameLength, true) && list(a.Owners, registry.MaxNameLength, true) &&
		list(a.StorageURIs, registry.MaxURILength, false)
	for k, v := range a.Labels {
		ok = ok && k != "" && fuzzIdent(k, registry.MaxNameLength) && fuzzText(v, registry.MaxLabelValueLength, false)
	}
	for i, s := range a.StorageURIs {
		u, err := url.Parse(s)
		ok = ok && err == nil && u.Scheme != "" && !slices.Contains(a.StorageURIs[:i], s)
	}
	return ok
}

// fuzzSnapshot is everything a failed Register must leave as it was.
func fuzzSnapshot(t *testing.T, f *registrytest.Fixture) ([]registry.Artifact, []registry.Cleanup) {
	page, err := f.List(f.Ctx, registry.Filter{Include: registry.IncludeAll, Limit: 1000})
	require.NoError(t, err)
	pending, err := f.PendingCleanups(f.Ctx)
	require.NoError(t, err)
	return page.Items, pending
}

// FuzzRegister registers fuzzed artifacts into a seeded registry. Register
// never panics; it succeeds, storing exactly the artifact given, when the
// input is valid and its ID and FQN are free and its parent live, and
// otherwise returns ErrInvalid or ErrAlreadyExists and changes nothing.
// The selectors pick an ID and a parent that exist (live, soft deleted),
// the artifact itself, or the fuzzed strings.
func FuzzRegister(f *testing.F) {
	f.Add("model", "mlflow_svc", "churn", "1", uint8(1), "", uint8(2), "", "Churn", "line\nline", "prod,exp", "team", "ml", "s3://b/k")
	f.Add("dataset", "mlflow_svc", "customers", "1", uint8(1), "", uint8(0), "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, kind, ns, name, version string, idSel uint8, id string, parentSel uint8, parent,
		display, description, tags, labelKey, labelValue, uris string) {
		fx := registrytest.New(t)
		_, err := fx.Delete(fx.Ctx, fx.Code.ID, registry.DeleteOptions{})
		require.NoError(t, err)

		a := registry.Artifact{Kind: registry.Kind(kind), Namespace: ns, Name: name, Version: version,
			DisplayName: display, Description: description}
		switch idSel % 4 {
		case 0:
			a.ID = id
		case 2:
			a.ID = fx.Dataset.ID // taken
		case 3:
			a.ID = strings.ToUpper(fx.Dataset.ID[:30]) + "abcdef" // free, upper case
		}
		switch parentSel % 5 {
		case 1:
			a.Parent = parent
		case 2:
			a.Parent = fx.Package.ID // live
		case 3:
			a.Parent = fx.Code.ID // soft deleted
		case 4:
			a.Parent = a.ID // itself
		}
		if tags != "" {
			a.Tags = strings.Split(tags, ",")
		}
		if labelKey != "" || labelValue != "" {
			a.Labels = map[string]string{labelKey: labelValue}
		}
		if uris != "" {
			a.StorageURIs = strings.Split(uris, " ")
		}
		in := modelClone(&a)

		want := ""
		if !fuzzValidInput(&a) {
			want = registry.CodeInvalid
		} else {
			stored := func(id string) *registry.Artifact {
				got, err := fx.Get(fx.Ctx, id, registry.IncludeAll)
				if err != nil {
					return nil
				}
				return &got
			}
			_, fqnErr := fx.GetVersion(fx.Ctx, ns, name, version, registry.IncludeAll)
			switch p := stored(a.Parent); {
			case a.ID != "" && stored(a.ID) != nil, fqnErr == nil:
				want = registry.CodeAlreadyExists
			case a.Parent != "" && (p == nil || p.Deleted):
				want = registry.CodeInvalid
			}
		}

		beforeItems, beforePending := fuzzSnapshot(t, fx)
		got, err := fx.Register(fx.Ctx, a)
		require.Equal(t, want, registry.ErrorCode(err), "Register(%+v): %v", a, err)
		assert.Equal(t, in, a, "Register changed its argument")
		if err != nil {
			afterItems, afterPending := fuzzSnapshot(t, fx)
			assert.Equal(t, beforeItems, afterItems, "a failed Register changed the artifacts")
			assert.Equal(t, beforePending, afterPending, "a failed Register changed the pending cleanups")
			require.NoError(t, fx.Check())
			return
		}

		exp := registry.Artifact{ID: strings.ToLower(a.ID), Kind: a.Kind, Namespace: ns, Name: name, Version: version,
			Parent: strings.ToLower(a.Parent), Revision: 1, CreatedAt: registrytest.Epoch, UpdatedAt: registrytest.Epoch,
			UpdatedBy: registrytest.Principal}
		modelSetMetadata(&exp, &a)
		if a.ID == "" {
			assert.True(t, fuzzUUID(got.ID) && got.ID == strings.ToLower(got.ID), "assigned ID %q", got.ID)
			exp.ID = got.ID
		}
		assert.Equal(t, exp, got, "Register returns the artifact as stored")
		byID, err := fx.Get(fx.Ctx, got.ID)
		require.NoError(t, err)
		assert.Equal(t, got, byID, "Get")
		byFQN, err := fx.GetByFQN(fx.Ctx, got.FQN())
		require.NoError(t, err, "GetByFQN(%q)", got.FQN())
		assert.Equal(t, got, byFQN, "GetByFQN")
		afterItems, _ := fuzzSnapshot(t, fx)
		assert.Len(t, afterItems, len(beforeItems)+1)
		require.NoError(t, fx.Check())
	})
}

// fuzzBytes makes the fuzzer's bytes the generator's choices; when they
// run out the sequence ends.
type fuzzBytes struct {
	data []byte
	done bool
}

func (b *fuzzBytes) intn(n int) int {
	if n <= 1 {
		return 0
	}
	if len(b.data) == 0 {
		b.done = true
		return 0
	}
	v := int(b.data[0])
	b.data = b.data[1:]
	if n > 256 && len(b.data) > 0 {
		v = v<<8 | int(b.data[0])
		b.data = b.data[1:]
	}
	return v % n
}

// FuzzOperations decodes the fuzzer's bytes into a sequence of operations
// (the randomized test's generator, choosing by bytes) and checks every
// step against the reference model, as TestModelRandomized does.
func FuzzOperations(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &fuzzBytes{data: data}
		cfg := modelConfigFor(c)
		ops, err := modelGenerate(cfg, c, 150, func() bool { return !c.done }, nil)
		if err != nil {
			var b strings.Builder
			for i, op := range ops {
				fmt.Fprintf(&b, "  %2d. %s\n", i+1, op)
			}
			t.Fatalf("config: %s\n%d operations:\n%sthe last one fails:\n%v", cfg, len(ops), b.String(), err)
		}
	})
}
