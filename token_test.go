package registry_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// guardState is everything a call can change that a caller can observe:
// every artifact in every state, the pending cleanups and the audit log's
// newest sequence number.
type guardState struct {
	Artifacts []registry.Artifact
	Pending   []registry.Cleanup
	LastSeq   uint64
}

func guardSnapshot(t *testing.T, f *registrytest.Fixture) guardState {
	t.Helper()
	var s guardState
	filter := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		page, err := f.List(f.Ctx, filter)
		require.NoError(t, err)
		s.Artifacts = append(s.Artifacts, page.Items...)
		if page.Next == "" {
			break
		}
		filter.Cursor = page.Next
	}
	var err error
	s.Pending, err = f.PendingCleanups(f.Ctx)
	require.NoError(t, err)
	s.LastSeq = guardLastSeq(t, f)
	return s
}

// guardRequireCode checks that err is an *registry.Error with the code and
// matches the sentinel.
func guardRequireCode(t *testing.T, err error, sentinel error, code string) *registry.Error {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var e *registry.Error
	require.True(t, errors.As(err, &e), "error %v is not a *registry.Error", err)
	require.Equal(t, code, e.Code)
	return e
}

// guardWithoutReplayed returns res as the first call would have returned it.
func guardWithoutReplayed(res registry.Result) registry.Result {
	res.Replayed = false
	return res
}

func TestClientTokenFormat(t *testing.T) {
	tokens := []struct {
		name  string
		token string
		ok    bool
	}{
		{"one letter", "a", true},
		{"one digit", "7", true},
		{"one hyphen", "-", true},
		{"mixed case digits and hyphens", "Retry-2026-abc-XYZ", true},
		{"64 characters", strings.Repeat("a", registry.MaxTokenLength), true},
		{"65 characters", strings.Repeat("a", registry.MaxTokenLength+1), false},
		{"underscore", "retry_1", false},
		{"space", "retry 1", false},
		{"dot", "retry.1", false},
		{"slash", "retry/1", false},
		{"colon", "retry:1", false},
		{"plus", "retry+1", false},
		{"equals", "cmV0cnk=", false},
		{"non-ASCII letter", "réessai", false},
		{"newline", "retry\n", false},
		{"NUL byte", "retry\x00", false},
	}
	calls := []struct {
		name string
		// soft deletes the target first when the call is a restore
		restore bool
		call    func(f *registrytest.Fixture, token string) error
	}{
		{"Delete", false, func(f *registrytest.Fixture, token string) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: token})
			return err
		}},
		{"Delete hard", false, func(f *registrytest.Fixture, token string) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true, ClientToken: token})
			return err
		}},
		{"DeleteByFQN", false, func(f *registrytest.Fixture, token string) error {
			_, err := f.DeleteByFQN(f.Ctx, f.Code.FQN(), registry.DeleteOptions{ClientToken: token})
			return err
		}},
		{"Delete dry run", false, func(f *registrytest.Fixture, token string) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{DryRun: true, ClientToken: token})
			return err
		}},
		{"Restore", true, func(f *registrytest.Fixture, token string) error {
			_, err := f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: token})
			return err
		}},
		{"RestoreByFQN", true, func(f *registrytest.Fixture, token string) error {
			_, err := f.RestoreByFQN(f.Ctx, f.Code.FQN(), registry.RestoreOptions{ClientToken: token})
			return err
		}},
	}
	for _, c := range calls {
		for _, tok := range tokens {
			t.Run(c.name+"/"+tok.name, func(t *testing.T) {
				f := registrytest.New(t)
				if c.restore {
					_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
					require.NoError(t, err)
				}
				before := guardSnapshot(t, f)
				err := c.call(f, tok.token)
				if tok.ok {
					require.NoError(t, err)
					return
				}
				e := guardRequireCode(t, err, registry.ErrInvalid, registry.CodeInvalid)
				assert.Equal(t, "clientToken", e.Field)
				assert.Equal(t, before, guardSnapshot(t, f), "a call with a malformed token changed the registry")
			})
		}
	}
}

func TestClientTokenRetryReturnsTheFirstResultAndChangesNothing(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, f *registrytest.Fixture)
		target func(f *registrytest.Fixture) string
		opts   registry.DeleteOptions
	}{
		{name: "soft", target: func(f *registrytest.Fixture) string { return f.Code.ID }},
		{name: "hard", target: func(f *registrytest.Fixture) string { return f.Code.ID },
			opts: registry.DeleteOptions{Hard: true}},
		{name: "soft recursive", target: func(f *registrytest.Fixture) string { return f.Package.ID },
			opts: registry.DeleteOptions{Recursive: true}},
		{name: "hard recursive", target: func(f *registrytest.Fixture) string { return f.Package.ID },
			opts: registry.DeleteOptions{Hard: true, Recursive: true}},
		{name: "hard cascade", setup: guardUndeployNewest,
			target: func(f *registrytest.Fixture) string { return f.Versions[0].ID },
			opts:   registry.DeleteOptions{Hard: true, Cascade: true}},
		{name: "soft cascade past its limit", setup: guardUndeployNewest,
			target: func(f *registrytest.Fixture) string { return f.Versions[0].ID },
			opts:   registry.DeleteOptions{Cascade: true, CascadeLimit: 2}},
		{name: "hard detach", target: func(f *registrytest.Fixture) string { return f.Dataset.ID },
			opts: registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach}},
		{name: "partial: one child deployed",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				require.NoError(t, f.Deploy(f.Ctx, f.Children[0].ID, "endpoint-guard"))
			},
			target: func(f *registrytest.Fixture) string { return f.Package.ID },
			opts:   registry.DeleteOptions{Hard: true, Recursive: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			if c.setup != nil {
				c.setup(t, f)
			}
			opts := c.opts
			opts.ClientToken = "guard-retry-1"
			opts.Reason = "superseded"
			first, err := f.Delete(f.Ctx, c.target(f), opts)
			require.NoError(t, err)
			require.False(t, first.Replayed)
			require.NotEmpty(t, first.Deleted, "the first call must change something for this test to mean anything")

			f.Clock.Advance(time.Hour)
			before := guardSnapshot(t, f)
			for range 2 {
				again, err := f.Delete(f.Ctx, c.target(f), opts)
				require.NoError(t, err, "a retry must return the first result, never a 404")
				assert.True(t, again.Replayed)
				assert.Equal(t, first, guardWithoutReplayed(again))
				assert.Equal(t, before, guardSnapshot(t, f), "a retry changed the registry")
			}
		})
	}
}

func guardUndeployNewest(t *testing.T, f *registrytest.Fixture) {
	t.Helper()
	require.NoError(t, f.Undeploy(f.Ctx, f.Versions[2].ID, registrytest.Endpoint))
}

func TestClientTokenReplayIsACopy(t *testing.T) {
	f := registrytest.New(t)
	opts := registry.DeleteOptions{Recursive: true, ClientToken: "guard-copy"}
	first, err := f.Delete(f.Ctx, f.Package.ID, opts)
	require.NoError(t, err)
	want := first.Deleted[0]
	first.Deleted[0] = "scribbled"

	again, err := f.Delete(f.Ctx, f.Package.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, want, again.Deleted[0])
	again.Deleted[0] = "scribbled"

	third, err := f.Delete(f.Ctx, f.Package.ID, opts)
	require.NoError(t, err)
	assert.Equal(t, want, third.Deleted[0])
}

func TestClientTokenSurvivesAHardDeleteOfItsOwnTarget(t *testing.T) {
	f := registrytest.New(t)
	opts := registry.DeleteOptions{Hard: true, ClientToken: "guard-own-target"}
	first, err := f.Delete(f.Ctx, f.Code.ID, opts)
	require.NoError(t, err)
	require.Equal(t, []string{f.Code.ID}, first.Deleted)
	_, err = f.Get(f.Ctx, f.Code.ID, registry.IncludeAll)
	require.ErrorIs(t, err, registry.ErrNotFound)

	f.Clock.Advance(time.Hour)
	again, err := f.Delete(f.Ctx, f.Code.ID, opts)
	require.NoError(t, err, "the retry of a hard delete must return the first result, not a 404")
	assert.True(t, again.Replayed)
	assert.Equal(t, first, guardWithoutReplayed(again))

	byFQN, err := f.DeleteByFQN(f.Ctx, f.Code.FQN(), registry.DeleteOptions{Hard: true})
	require.ErrorIs(t, err, registry.ErrNotFound, "without its token the same request is a 404")
	assert.Empty(t, byFQN.Deleted)
}

// A retry by FQN after a hard delete replays even when a new artifact has
// taken the name since: the retry changes nothing.
func TestClientTokenRetryByFQNLeavesANewHolderOfTheNameAlone(t *testing.T) {
	f := registrytest.New(t)
	opts := registry.DeleteOptions{Hard: true, ClientToken: "guard-by-name"}
	first, err := f.DeleteByFQN(f.Ctx, f.Code.FQN(), opts)
	require.NoError(t, err)
	heir := f.MustRegister(t, registry.Artifact{Kind: registry.KindCode, Namespace: f.Code.Namespace, Name: f.Code.Name, Version: f.Code.Version})
	before := guardSnapshot(t, f)
	again, err := f.DeleteByFQN(f.Ctx, f.Code.FQN(), opts)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, first, guardWithoutReplayed(again))
	assert.Equal(t, before, guardSnapshot(t, f))
	_, err = f.Get(f.Ctx, heir.ID)
	require.NoError(t, err)
}

// A hard delete keeps the tokens of earlier requests on what it deletes:
// each lives its whole TTL, and a retry returns the first result.
func TestHardDeleteKeepsTheTokensOfEarlierRequestsOnItsArtifacts(t *testing.T) {
	f := registrytest.New(t)
	// Requests on the artifacts the hard delete will take.
	softCode := registry.DeleteOptions{ClientToken: "guard-soft-code"}
	codeFirst, err := f.Delete(f.Ctx, f.Code.ID, softCode)
	require.NoError(t, err)
	softChild := registry.DeleteOptions{ClientToken: "guard-soft-child"}
	childFirst, err := f.Delete(f.Ctx, f.Children[0].ID, softChild)
	require.NoError(t, err)
	// A request on an artifact it leaves alone.
	softDataset := registry.DeleteOptions{ClientToken: "guard-soft-dataset"}
	keep, err := f.Delete(f.Ctx, f.Dataset.ID, softDataset)
	require.NoError(t, err)

	_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)
	res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.Contains(t, res.Deleted, f.Children[0].ID, "the recursive hard delete takes the soft-deleted child too")
	require.NoError(t, f.Check())

	for _, c := range []struct {
		name  string
		id    string
		opts  registry.DeleteOptions
		first registry.Result
	}{
		{"the target's own token", f.Code.ID, softCode, codeFirst},
		{"a token of a child taken by a recursive delete", f.Children[0].ID, softChild, childFirst},
		{"a token of an artifact the delete left alone", f.Dataset.ID, softDataset, keep},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := guardSnapshot(t, f)
			again, err := f.Delete(f.Ctx, c.id, c.opts)
			require.NoError(t, err, "the token lives on: the retry returns the first result, not a 404")
			assert.True(t, again.Replayed)
			assert.Equal(t, c.first, guardWithoutReplayed(again))
			// The token is still bound: another request with it is a mismatch.
			_, err = f.Delete(f.Ctx, f.Versions[0].ID, registry.DeleteOptions{ClientToken: c.opts.ClientToken})
			guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
			assert.Equal(t, before, guardSnapshot(t, f))
			require.NoError(t, f.Check())
		})
	}
}

func TestHardDeleteKeepsTheTokenOfAnEarlierRestore(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
	require.NoError(t, err)
	restore := registry.RestoreOptions{ClientToken: "guard-restore"}
	first, err := f.Restore(f.Ctx, f.Code.ID, restore)
	require.NoError(t, err)
	_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
	require.NoError(t, err)

	before := guardSnapshot(t, f)
	again, err := f.Restore(f.Ctx, f.Code.ID, restore)
	require.NoError(t, err, "the restore token outlives its artifact")
	assert.Equal(t, first, again)
	_, err = f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{ClientToken: restore.ClientToken})
	guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
	assert.Equal(t, before, guardSnapshot(t, f))
	require.NoError(t, f.Check())
}

func TestResetForgetsEveryToken(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "guard-reset"})
	require.NoError(t, err)
	require.NoError(t, f.Reset(f.Ctx))
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindCode, Namespace: "guard", Name: "after-reset"})
	res, err := f.Delete(f.Ctx, a.ID, registry.DeleteOptions{ClientToken: "guard-reset"})
	require.NoError(t, err, "the reset removed the token, so another request is no mismatch")
	assert.False(t, res.Replayed)
}

func TestClientTokenWithAnotherRequestIsAMismatch(t *testing.T) {
	const token = "guard-mismatch"
	first := registry.DeleteOptions{ClientToken: token, Reason: "superseded"}
	with := func(edit func(o *registry.DeleteOptions)) registry.DeleteOptions {
		o := first
		edit(&o)
		return o
	}
	cases := []struct {
		name string
		call func(f *registrytest.Fixture) error
	}{
		{"other ID", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, first)
			return err
		}},
		{"same artifact by FQN", func(f *registrytest.Fixture) error {
			_, err := f.DeleteByFQN(f.Ctx, f.Code.FQN(), first)
			return err
		}},
		{"other reason", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Reason = "duplicate" }))
			return err
		}},
		{"no reason", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Reason = "" }))
			return err
		}},
		{"hard", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Hard = true }))
			return err
		}},
		{"recursive", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Recursive = true }))
			return err
		}},
		{"cascade", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Cascade = true }))
			return err
		}},
		{"cascade limit", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Cascade, o.CascadeLimit = true, 3 }))
			return err
		}},
		{"lineage policy", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Hard, o.Lineage = true, registry.LineageDetach }))
			return err
		}},
		{"atomic", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, with(func(o *registry.DeleteOptions) { o.Atomic = true }))
			return err
		}},
		{"restore of the same artifact", func(f *registrytest.Fixture) error {
			_, err := f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: token, Reason: first.Reason})
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			res, err := f.Delete(f.Ctx, f.Code.ID, first)
			require.NoError(t, err)
			f.Clock.Advance(time.Hour)
			before := guardSnapshot(t, f)

			err = c.call(f)
			e := guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
			assert.Equal(t, 409, registry.HTTPStatus(err))
			assert.Contains(t, e.Message, token)
			assert.Equal(t, before, guardSnapshot(t, f), "a mismatched request changed the registry")

			again, err := f.Delete(f.Ctx, f.Code.ID, first)
			require.NoError(t, err, "a mismatch must not unbind the token from its first request")
			assert.Equal(t, res, guardWithoutReplayed(again))
		})
	}
}

func TestClientTokenMismatchAfterTheTargetIsGone(t *testing.T) {
	f := registrytest.New(t)
	opts := registry.DeleteOptions{Hard: true, ClientToken: "guard-gone"}
	_, err := f.Delete(f.Ctx, f.Code.ID, opts)
	require.NoError(t, err)
	before := guardSnapshot(t, f)
	_, err = f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, ClientToken: "guard-gone"})
	guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
	assert.Equal(t, before, guardSnapshot(t, f))
}

// Assumption (the issue is silent): spellings of one request that the
// registry treats as the same request replay rather than mismatch: an ID in
// upper case (IDs are canonicalized) and a cascade limit of 0 against the
// default it stands for.
func TestClientTokenEquivalentSpellingsReplay(t *testing.T) {
	t.Run("upper-case ID", func(t *testing.T) {
		f := registrytest.New(t)
		opts := registry.DeleteOptions{ClientToken: "guard-case"}
		first, err := f.Delete(f.Ctx, f.Code.ID, opts)
		require.NoError(t, err)
		again, err := f.Delete(f.Ctx, strings.ToUpper(f.Code.ID), opts)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first, guardWithoutReplayed(again))
	})
	t.Run("default cascade limit", func(t *testing.T) {
		f := registrytest.New(t)
		guardUndeployNewest(t, f)
		opts := registry.DeleteOptions{Cascade: true, ClientToken: "guard-limit"}
		first, err := f.Delete(f.Ctx, f.Versions[2].ID, opts)
		require.NoError(t, err)
		opts.CascadeLimit = registry.DefaultCascadeLimit
		again, err := f.Delete(f.Ctx, f.Versions[2].ID, opts)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first, guardWithoutReplayed(again))
	})
}

// Tokens live for the TTL from the call that stored them: a retry one
// nanosecond before the TTL has passed replays; at the TTL (assumption: "live
// 8 hours" is the half-open interval [stored, stored+TTL)) and after it the
// token is forgotten.
func TestClientTokenExpiresAfterItsTTL(t *testing.T) {
	ttls := []struct {
		name string
		opts []registry.Option
		ttl  time.Duration
	}{
		{"default 8 hours", nil, 8 * time.Hour},
		{"WithTokenTTL 90 minutes", []registry.Option{registry.WithTokenTTL(90 * time.Minute)}, 90 * time.Minute},
		{"WithTokenTTL 1 nanosecond", []registry.Option{registry.WithTokenTTL(time.Nanosecond)}, time.Nanosecond},
	}
	require.Equal(t, 8*time.Hour, registry.DefaultTokenTTL)
	for _, ttl := range ttls {
		offsets := []struct {
			name  string
			after time.Duration
			alive bool
		}{
			{"just stored", 0, true},
			{"1ns before the TTL", ttl.ttl - time.Nanosecond, true},
			{"at the TTL", ttl.ttl, false},
			{"1ns after the TTL", ttl.ttl + time.Nanosecond, false},
		}
		for _, off := range offsets {
			t.Run(ttl.name+"/"+off.name, func(t *testing.T) {
				t.Run("retry", func(t *testing.T) {
					f := registrytest.New(t, ttl.opts...)
					stored := f.Clock.Advance(time.Minute)
					opts := registry.DeleteOptions{ClientToken: "guard-ttl"}
					first, err := f.Delete(f.Ctx, f.Code.ID, opts)
					require.NoError(t, err)
					f.Clock.Set(stored.Add(off.after))
					before := guardSnapshot(t, f)
					again, err := f.Delete(f.Ctx, f.Code.ID, opts)
					if off.alive {
						require.NoError(t, err)
						assert.True(t, again.Replayed)
						assert.Equal(t, first, guardWithoutReplayed(again))
					} else {
						require.ErrorIs(t, err, registry.ErrNotFound, "an expired token is forgotten: the retry runs again")
						assert.False(t, again.Replayed)
					}
					assert.Equal(t, before, guardSnapshot(t, f))
				})
				t.Run("other request", func(t *testing.T) {
					f := registrytest.New(t, ttl.opts...)
					stored := f.Clock.Advance(time.Minute)
					_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "guard-ttl"})
					require.NoError(t, err)
					f.Clock.Set(stored.Add(off.after))
					res, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{ClientToken: "guard-ttl"})
					if off.alive {
						guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
						return
					}
					require.NoError(t, err, "an expired token may be used for a new request")
					assert.Equal(t, []string{f.Dataset.ID}, res.Deleted)
					// The token is bound to the new request now, for a new TTL.
					f.Clock.Advance(ttl.ttl - time.Nanosecond)
					again, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{ClientToken: "guard-ttl"})
					require.NoError(t, err)
					assert.True(t, again.Replayed)
					_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true, ClientToken: "guard-ttl"})
					require.ErrorIs(t, err, registry.ErrIdempotencyMismatch)
				})
			})
		}
	}
}

func TestRestoreClientTokenExpiresAfterItsTTL(t *testing.T) {
	for _, c := range []struct {
		name  string
		after time.Duration
		alive bool
	}{
		{"1ns before the TTL", registry.DefaultTokenTTL - time.Nanosecond, true},
		{"at the TTL", registry.DefaultTokenTTL, false},
		{"1ns after the TTL", registry.DefaultTokenTTL + time.Nanosecond, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			opts := registry.RestoreOptions{ClientToken: "guard-restore-ttl"}
			first, err := f.Restore(f.Ctx, f.Code.ID, opts)
			require.NoError(t, err)
			f.Clock.Advance(c.after)
			again, err := f.Restore(f.Ctx, f.Code.ID, opts)
			if c.alive {
				require.NoError(t, err)
				assert.Equal(t, first, again)
				return
			}
			require.ErrorIs(t, err, registry.ErrNotDeleted, "an expired token is forgotten: the restore runs again")
		})
	}
}

func TestWithTokenTTLMustBePositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		_, err := registry.New(registry.WithTokenTTL(d))
		assert.ErrorIs(t, err, registry.ErrInvalid, "WithTokenTTL(%v)", d)
	}
}

// A call that fails and changes nothing does not bind its token: the caller
// fixes the cause and retries with the same token, and the retry runs.
func TestFailedCallDoesNotBindItsToken(t *testing.T) {
	const token = "guard-fix-and-retry"
	cases := []struct {
		name     string
		opts     []registry.Option
		target   func(f *registrytest.Fixture) string
		del      registry.DeleteOptions
		sentinel error
		fix      func(t *testing.T, f *registrytest.Fixture)
	}{
		{
			name:     "deployed",
			target:   func(f *registrytest.Fixture) string { return f.Versions[2].ID },
			sentinel: registry.ErrDeployed,
			fix:      guardUndeployNewest,
		},
		{
			name:     "not empty",
			target:   func(f *registrytest.Fixture) string { return f.Package.ID },
			sentinel: registry.ErrNotEmpty,
			fix: func(t *testing.T, f *registrytest.Fixture) {
				for _, c := range f.Children {
					_, err := f.Delete(f.Ctx, c.ID, registry.DeleteOptions{})
					require.NoError(t, err)
				}
			},
		},
		{
			name:     "has dependents",
			target:   func(f *registrytest.Fixture) string { return f.Dataset.ID },
			del:      registry.DeleteOptions{Hard: true},
			sentinel: registry.ErrHasDependents,
			fix: func(t *testing.T, f *registrytest.Fixture) {
				require.NoError(t, f.Unlink(f.Ctx, f.Dataset.ID, f.Versions[0].ID))
			},
		},
		{
			name:   "atomic multi-item delete",
			target: func(f *registrytest.Fixture) string { return f.Package.ID },
			del:    registry.DeleteOptions{Recursive: true, Atomic: true},
			// Which error an atomic call returns is tested in authz_test.go.
			fix: func(t *testing.T, f *registrytest.Fixture) {
				require.NoError(t, f.Undeploy(f.Ctx, f.Children[0].ID, "endpoint-guard"))
			},
		},
		{
			name:     "purge protected",
			opts:     []registry.Option{registry.WithPurgeProtection(time.Hour)},
			target:   func(f *registrytest.Fixture) string { return f.Code.ID },
			del:      registry.DeleteOptions{Hard: true},
			sentinel: registry.ErrPurgeProtected,
			fix:      func(t *testing.T, f *registrytest.Fixture) { f.Clock.Advance(time.Hour) },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t, c.opts...)
			switch c.name {
			case "atomic multi-item delete":
				require.NoError(t, f.Deploy(f.Ctx, f.Children[0].ID, "endpoint-guard"))
			case "purge protected":
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			}
			opts := c.del
			opts.ClientToken = token
			before := guardSnapshot(t, f)
			_, err := f.Delete(f.Ctx, c.target(f), opts)
			require.Error(t, err)
			if c.sentinel != nil {
				require.ErrorIs(t, err, c.sentinel)
			}
			require.Equal(t, before, guardSnapshot(t, f), "the failed call changed something")

			c.fix(t, f)
			res, err := f.Delete(f.Ctx, c.target(f), opts)
			require.NoError(t, err, "the retry after the fix must run, not replay the failure")
			assert.False(t, res.Replayed)
			assert.Contains(t, res.Deleted, c.target(f))
			again, err := f.Delete(f.Ctx, c.target(f), opts)
			require.NoError(t, err)
			assert.True(t, again.Replayed, "the successful call binds the token")
			assert.Equal(t, res, guardWithoutReplayed(again))
		})
	}
}

func TestFailedCallLeavesItsTokenFreeForAnotherRequest(t *testing.T) {
	f := registrytest.New(t)
	unknown := "00000000-0000-7000-8000-000000000001"
	_, err := f.Delete(f.Ctx, unknown, registry.DeleteOptions{ClientToken: "guard-free"})
	require.ErrorIs(t, err, registry.ErrNotFound)
	_, err = f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{ClientToken: "guard-free"})
	require.ErrorIs(t, err, registry.ErrDeployed)
	_, err = f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "guard-free"})
	require.ErrorIs(t, err, registry.ErrNotDeleted)

	res, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "guard-free"})
	require.NoError(t, err, "no failed call bound the token")
	assert.False(t, res.Replayed)
	assert.Equal(t, []string{f.Code.ID}, res.Deleted)
}

// A multi-item delete in which every item fails returns a nil error (it
// reports each item), but it fails and changes nothing all the same: its
// token must stay unbound so that the caller can fix the cause and retry.
func TestMultiItemDeleteThatDeletesNothingDoesNotBindItsToken(t *testing.T) {
	f := registrytest.New(t)
	for _, c := range f.Children {
		require.NoError(t, f.Deploy(f.Ctx, c.ID, "endpoint-guard"))
	}
	opts := registry.DeleteOptions{Recursive: true, ClientToken: "guard-all-failed"}
	before := guardSnapshot(t, f)
	res, err := f.Delete(f.Ctx, f.Package.ID, opts)
	require.NoError(t, err)
	require.Empty(t, res.Deleted)
	require.Len(t, res.Failed, 3)
	require.Equal(t, before, guardSnapshot(t, f), "the call changed nothing")

	for _, c := range f.Children {
		require.NoError(t, f.Undeploy(f.Ctx, c.ID, "endpoint-guard"))
	}
	retry, err := f.Delete(f.Ctx, f.Package.ID, opts)
	require.NoError(t, err)
	assert.False(t, retry.Replayed, "a call that changed nothing must not bind its token")
	assert.Len(t, retry.Deleted, 3)
}

func TestDryRunNeitherConsultsNorStoresTokens(t *testing.T) {
	t.Run("a dry run does not store its token", func(t *testing.T) {
		f := registrytest.New(t)
		dry, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{DryRun: true, ClientToken: "guard-dry"})
		require.NoError(t, err)
		assert.True(t, dry.DryRun)
		assert.False(t, dry.Replayed)
		res, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{ClientToken: "guard-dry"})
		require.NoError(t, err, "the dry run bound nothing, so another request is no mismatch")
		assert.False(t, res.Replayed)
		assert.Equal(t, []string{f.Dataset.ID}, res.Deleted)
		_, err = f.Get(f.Ctx, f.Code.ID)
		require.NoError(t, err, "the dry run deleted nothing")
	})
	t.Run("a dry run does not consult a stored token", func(t *testing.T) {
		f := registrytest.New(t)
		opts := registry.DeleteOptions{ClientToken: "guard-dry"}
		first, err := f.Delete(f.Ctx, f.Code.ID, opts)
		require.NoError(t, err)

		dryOpts := opts
		dryOpts.DryRun = true
		_, err = f.Delete(f.Ctx, f.Code.ID, dryOpts)
		require.ErrorIs(t, err, registry.ErrNotFound, "a dry run of the same request computes afresh and finds it soft deleted")

		before := guardSnapshot(t, f)
		other, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, DryRun: true, ClientToken: "guard-dry"})
		require.NoError(t, err, "a dry run of another request is no mismatch")
		assert.False(t, other.Replayed)
		assert.Len(t, other.Deleted, 3)
		assert.Equal(t, before, guardSnapshot(t, f))

		again, err := f.Delete(f.Ctx, f.Code.ID, opts)
		require.NoError(t, err)
		assert.True(t, again.Replayed, "the dry runs left the stored token alone")
		assert.Equal(t, first, guardWithoutReplayed(again))
	})
}

func TestConcurrentRetriesOfOneTokenDeleteOnce(t *testing.T) {
	for _, hard := range []bool{false, true} {
		name := "soft"
		if hard {
			name = "hard"
		}
		t.Run(name, func(t *testing.T) {
			cleaner := &guardCleaner{}
			f := registrytest.New(t, registry.WithCleaner(cleaner))
			start := guardLastSeq(t, f)
			opts := registry.DeleteOptions{Hard: hard, Recursive: true, ClientToken: "guard-concurrent", Reason: "dedupe"}

			const n = 32
			results := make([]registry.Result, n)
			errs := make([]error, n)
			gate := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-gate
					results[i], errs[i] = f.Delete(f.Ctx, f.Package.ID, opts)
				}()
			}
			close(gate)
			wg.Wait()

			firsts := 0
			var first registry.Result
			for i := range n {
				require.NoError(t, errs[i])
				if !results[i].Replayed {
					firsts++
					first = results[i]
				}
			}
			require.Equal(t, 1, firsts, "exactly one call executes; the others replay it")
			want := []string{f.Children[0].ID, f.Children[1].ID, f.Package.ID}
			assert.ElementsMatch(t, want, first.Deleted)
			for i := range n {
				assert.Equal(t, first, guardWithoutReplayed(results[i]), "result %d", i)
			}

			typ := registry.EventSoftDeleted
			if hard {
				typ = registry.EventDeleted
			}
			events := guardEventsAfter(t, f, start)
			perArtifact := map[string]int{}
			for _, e := range events {
				assert.Equal(t, typ, e.Type)
				assert.Equal(t, first.Operation, e.Operation)
				perArtifact[e.ArtifactID]++
			}
			assert.Len(t, events, len(want))
			for _, id := range want {
				assert.Equal(t, 1, perArtifact[id], "events for %s", id)
			}
			if hard {
				assert.ElementsMatch(t, guardURIs(f.Children), cleaner.calls())
			} else {
				assert.Empty(t, cleaner.calls())
			}
		})
	}
}

func TestConcurrentRetriesOfOneRestoreTokenRestoreOnce(t *testing.T) {
	f := registrytest.New(t)
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
	require.NoError(t, err)
	start := guardLastSeq(t, f)
	opts := registry.RestoreOptions{ClientToken: "guard-concurrent-restore"}

	const n = 32
	results := make([]registry.Artifact, n)
	errs := make([]error, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i], errs[i] = f.Restore(f.Ctx, f.Package.ID, opts)
		}()
	}
	close(gate)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "a retry of a restore is not ErrNotDeleted")
		assert.Equal(t, results[0], results[i])
	}
	assert.False(t, results[0].Deleted)
	events := guardEventsAfter(t, f, start)
	got := []string{}
	for _, e := range events {
		assert.Equal(t, registry.EventRestored, e.Type)
		got = append(got, e.ArtifactID)
	}
	assert.ElementsMatch(t, []string{f.Package.ID, f.Children[0].ID, f.Children[1].ID}, got, "one restore, one event per artifact")
}

func guardURIs(as []registry.Artifact) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.StorageURIs...)
	}
	return out
}

func TestRestoreClientToken(t *testing.T) {
	setup := func(t *testing.T) *registrytest.Fixture {
		f := registrytest.New(t)
		_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
		require.NoError(t, err)
		return f
	}
	opts := registry.RestoreOptions{ClientToken: "guard-restore", Reason: "deleted by mistake"}

	t.Run("a retry returns the restored artifact and changes nothing", func(t *testing.T) {
		f := setup(t)
		first, err := f.Restore(f.Ctx, f.Package.ID, opts)
		require.NoError(t, err)
		require.False(t, first.Deleted)
		for _, c := range f.Children {
			_, err := f.Get(f.Ctx, c.ID)
			require.NoError(t, err, "the restore brings back what the same delete took")
		}
		f.Clock.Advance(time.Hour)
		before := guardSnapshot(t, f)
		again, err := f.Restore(f.Ctx, f.Package.ID, opts)
		require.NoError(t, err, "a retry is not ErrNotDeleted")
		assert.Equal(t, first, again)
		assert.Equal(t, before, guardSnapshot(t, f))
	})
	t.Run("a retry after the artifact is deleted again changes nothing", func(t *testing.T) {
		f := setup(t)
		first, err := f.Restore(f.Ctx, f.Package.ID, opts)
		require.NoError(t, err)
		_, err = f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
		require.NoError(t, err)
		before := guardSnapshot(t, f)
		again, err := f.Restore(f.Ctx, f.Package.ID, opts)
		require.NoError(t, err)
		assert.Equal(t, first, again, "the retry returns the stored result")
		assert.Equal(t, before, guardSnapshot(t, f), "the retry restores nothing")
	})
	t.Run("another request with the token is a mismatch", func(t *testing.T) {
		f := setup(t)
		_, err := f.Restore(f.Ctx, f.Package.ID, opts)
		require.NoError(t, err)
		_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
		require.NoError(t, err)
		before := guardSnapshot(t, f)
		for name, call := range map[string]func() error{
			"other ID": func() error {
				_, err := f.Restore(f.Ctx, f.Code.ID, opts)
				return err
			},
			"by FQN": func() error {
				_, err := f.RestoreByFQN(f.Ctx, f.Package.FQN(), opts)
				return err
			},
			"other reason": func() error {
				_, err := f.Restore(f.Ctx, f.Package.ID, registry.RestoreOptions{ClientToken: opts.ClientToken, Reason: "other"})
				return err
			},
			"delete": func() error {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, ClientToken: opts.ClientToken, Reason: opts.Reason})
				return err
			},
		} {
			guardRequireCode(t, call(), registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
			assert.Equal(t, before, guardSnapshot(t, f), name)
		}
	})
	t.Run("a failed restore does not bind its token", func(t *testing.T) {
		f := setup(t)
		_, err := f.Restore(f.Ctx, f.Children[0].ID, opts)
		require.ErrorIs(t, err, registry.ErrParentDeleted)
		_, err = f.Restore(f.Ctx, f.Package.ID, registry.RestoreOptions{})
		require.NoError(t, err)
		_, err = f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{})
		require.NoError(t, err)
		got, err := f.Restore(f.Ctx, f.Children[0].ID, opts)
		require.NoError(t, err, "the fixed retry runs")
		assert.False(t, got.Deleted)
	})
}

// A token is kept for its whole lifetime whatever happens to its target: a
// retry after someone else hard deleted the artifact and registered its
// name again returns the first result and leaves the new artifact alone.
func TestClientTokenRetryAfterTheTargetWasReplacedReplays(t *testing.T) {
	cases := []struct {
		name string
		// first makes the request with the token; retry must replay it.
		first func(f *registrytest.Fixture) (any, error)
		// restore says whether the target is soft deleted before the
		// first call and the new holder of the name is soft deleted too.
		restore bool
	}{
		{"DeleteByFQN", func(f *registrytest.Fixture) (any, error) {
			return f.DeleteByFQN(f.Ctx, f.Code.FQN(), registry.DeleteOptions{ClientToken: "retry-fqn", Reason: "old"})
		}, false},
		{"Delete by ID", func(f *registrytest.Fixture) (any, error) {
			return f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "retry-id", Reason: "old"})
		}, false},
		{"RestoreByFQN", func(f *registrytest.Fixture) (any, error) {
			return f.RestoreByFQN(f.Ctx, f.Code.FQN(), registry.RestoreOptions{ClientToken: "retry-restore-fqn"})
		}, true},
		{"Restore by ID", func(f *registrytest.Fixture) (any, error) {
			return f.Restore(f.Ctx, f.Code.ID, registry.RestoreOptions{ClientToken: "retry-restore-id"})
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			if c.restore {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			}
			first, err := c.first(f)
			require.NoError(t, err)

			// Someone else hard deletes it and registers the name again.
			other := registry.WithPrincipal(f.Ctx, "someone-else")
			f.Clock.Advance(time.Hour)
			_, err = f.Delete(other, f.Code.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			heir, err := f.Register(other, registry.Artifact{Kind: registry.KindCode, Namespace: f.Code.Namespace, Name: f.Code.Name, Version: f.Code.Version})
			require.NoError(t, err)
			if c.restore {
				_, err = f.Delete(other, heir.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			}

			f.Clock.Advance(registry.DefaultTokenTTL - time.Hour - time.Nanosecond)
			before := guardSnapshot(t, f)
			again, err := c.first(f)
			require.NoError(t, err, "a retry within the token's lifetime returns the first result")
			if res, ok := again.(registry.Result); ok {
				assert.True(t, res.Replayed)
				assert.Equal(t, first, guardWithoutReplayed(res))
			} else {
				assert.Equal(t, first, again)
			}
			assert.Equal(t, before, guardSnapshot(t, f), "the retry acted again")
			now, err := f.Get(f.Ctx, heir.ID, registry.IncludeAll)
			require.NoError(t, err)
			assert.Equal(t, c.restore, now.Deleted, "the new artifact is untouched")
			require.NoError(t, f.Check())

			// Expiry still works: at the TTL the token is forgotten and the
			// call runs afresh, by FQN on the new artifact.
			f.Clock.Advance(time.Nanosecond)
			fresh, err := c.first(f)
			if !strings.Contains(c.name, "FQN") {
				require.ErrorIs(t, err, registry.ErrNotFound, "an expired token is forgotten: the call runs again")
			} else {
				require.NoError(t, err)
				switch got := fresh.(type) {
				case registry.Result:
					assert.False(t, got.Replayed)
					assert.Equal(t, []string{heir.ID}, got.Deleted)
				case registry.Artifact:
					assert.Equal(t, heir.ID, got.ID)
					assert.False(t, got.Deleted)
				}
			}
			require.NoError(t, f.Check())
		})
	}
}

// tokenPrincipals is a registry with an artifact in each of two teams'
// namespaces; alice works in team_a, bob in team_b. With authz, a
// NamespaceAuthorizer scopes each to their own namespace (admin, who seeds,
// to all).
func tokenPrincipals(t *testing.T, authz bool) (f *registrytest.Fixture, alice, bob context.Context, mine, theirs registry.Artifact) {
	t.Helper()
	var opts []registry.Option
	if authz {
		opts = append(opts, registry.WithAuthorizer(registry.NamespaceAuthorizer{
			registrytest.Principal: {"*"}, "alice": {"team_a"}, "bob": {"team_b"}}))
	}
	f = registrytest.NewEmpty(t, opts...)
	mine = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "team_a", Name: "churn", Version: "1"})
	theirs = f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "team_b", Name: "fraud", Version: "1"})
	return f, registry.WithPrincipal(f.Ctx, "alice"), registry.WithPrincipal(f.Ctx, "bob"), mine, theirs
}

// A client token is its principal's: another principal using the same
// token first can neither make the owner's first request fail (squatting)
// nor learn anything of it from an error, and each gets its own result.
func TestClientTokenBelongsToItsPrincipal(t *testing.T) {
	const token = "shared-1"
	for _, authz := range []bool{false, true} {
		name := "no authorizer"
		if authz {
			name = "NamespaceAuthorizer"
		}
		t.Run(name+"/delete", func(t *testing.T) {
			f, alice, bob, aliceArt, bobArt := tokenPrincipals(t, authz)
			bobOpts := registry.DeleteOptions{ClientToken: token, Reason: "bob-reason"}
			bobFirst, err := f.DeleteByFQN(bob, bobArt.FQN(), bobOpts)
			require.NoError(t, err)
			require.Equal(t, []string{bobArt.ID}, bobFirst.Deleted)

			aliceOpts := registry.DeleteOptions{Hard: true, ClientToken: token, Reason: "alice-reason"}
			aliceFirst, err := f.Delete(alice, aliceArt.ID, aliceOpts)
			require.NoError(t, err, "another principal's use of the token must not squat it")
			assert.False(t, aliceFirst.Replayed)
			assert.Equal(t, []string{aliceArt.ID}, aliceFirst.Deleted)
			assert.True(t, aliceFirst.Hard)

			for _, c := range []struct {
				who   string
				retry func() (registry.Result, error)
				want  registry.Result
			}{
				{"alice", func() (registry.Result, error) { return f.Delete(alice, aliceArt.ID, aliceOpts) }, aliceFirst},
				{"bob", func() (registry.Result, error) { return f.DeleteByFQN(bob, bobArt.FQN(), bobOpts) }, bobFirst},
			} {
				again, err := c.retry()
				require.NoError(t, err, c.who)
				assert.True(t, again.Replayed, c.who)
				assert.Equal(t, c.want, guardWithoutReplayed(again), "%s gets their own first result", c.who)
			}

			// Carol sends alice's very request with the token: it is her own
			// request, run afresh, and nothing in its outcome is alice's.
			carol := registry.WithPrincipal(f.Ctx, "carol")
			res, err := f.Delete(carol, aliceArt.ID, aliceOpts)
			guardRequireCode(t, err, registry.ErrNotFound, registry.CodeNotFound)
			assert.False(t, res.Replayed)
			assert.NotContains(t, err.Error(), "alice")
			// A different request of bob's with the token is a mismatch with
			// his own first request, and names only his.
			_, err = f.Delete(bob, bobArt.ID, bobOpts)
			e := guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
			assert.NotContains(t, e.Message, "alice")
			assert.NotContains(t, e.Message, aliceArt.ID)
			assert.Equal(t, bobArt.ID, e.ID)
			require.NoError(t, f.Check())
		})
		t.Run(name+"/restore", func(t *testing.T) {
			f, alice, bob, aliceArt, bobArt := tokenPrincipals(t, authz)
			_, err := f.Delete(alice, aliceArt.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			_, err = f.Delete(bob, bobArt.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			bobOpts := registry.RestoreOptions{ClientToken: token, Reason: "bob-reason"}
			bobFirst, err := f.Restore(bob, bobArt.ID, bobOpts)
			require.NoError(t, err)
			aliceOpts := registry.RestoreOptions{ClientToken: token, Reason: "alice-reason"}
			aliceFirst, err := f.RestoreByFQN(alice, aliceArt.FQN(), aliceOpts)
			require.NoError(t, err, "another principal's use of the token must not squat it")
			assert.Equal(t, aliceArt.ID, aliceFirst.ID)
			assert.False(t, aliceFirst.Deleted)

			again, err := f.RestoreByFQN(alice, aliceArt.FQN(), aliceOpts)
			require.NoError(t, err)
			assert.Equal(t, aliceFirst, again)
			again, err = f.Restore(bob, bobArt.ID, bobOpts)
			require.NoError(t, err)
			assert.Equal(t, bobFirst, again)
			require.NoError(t, f.Check())
		})
	}
}

// An idempotency mismatch names each field of the request that differs,
// with its first and its new value, and no other.
func TestClientTokenMismatchNamesWhatDiffers(t *testing.T) {
	const token = "t1"
	base := registry.DeleteOptions{ClientToken: token, Reason: "old"}
	with := func(edit func(o *registry.DeleteOptions)) registry.DeleteOptions {
		o := base
		edit(&o)
		return o
	}
	del := func(o registry.DeleteOptions) func(f *registrytest.Fixture) error {
		return func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, o)
			return err
		}
	}
	delFQN := func(fqn func(f *registrytest.Fixture) string, o registry.DeleteOptions) func(f *registrytest.Fixture) error {
		return func(f *registrytest.Fixture) error {
			_, err := f.DeleteByFQN(f.Ctx, fqn(f), o)
			return err
		}
	}
	codeFQN := func(f *registrytest.Fixture) string { return f.Code.FQN() }
	restore := func(id func(f *registrytest.Fixture) string, reason string) func(f *registrytest.Fixture) error {
		return func(f *registrytest.Fixture) error {
			_, err := f.Restore(f.Ctx, id(f), registry.RestoreOptions{ClientToken: token, Reason: reason})
			return err
		}
	}
	restoreFQN := func(fqn func(f *registrytest.Fixture) string, reason string) func(f *registrytest.Fixture) error {
		return func(f *registrytest.Fixture) error {
			_, err := f.RestoreByFQN(f.Ctx, fqn(f), registry.RestoreOptions{ClientToken: token, Reason: reason})
			return err
		}
	}
	codeID := func(f *registrytest.Fixture) string { return f.Code.ID }
	cascade := with(func(o *registry.DeleteOptions) { o.Cascade = true })
	cases := []struct {
		name string
		// restore: the first call is a restore of the soft-deleted Code
		restore bool
		first   func(f *registrytest.Fixture) error
		second  func(f *registrytest.Fixture) error
		// want is the list of differences, after "differs in "
		want func(f *registrytest.Fixture) string
	}{
		{"Delete/target", false, del(base), func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, base)
			return err
		}, func(f *registrytest.Fixture) string {
			return "target (" + f.Code.ID + " then " + f.Dataset.ID + ")"
		}},
		{"Delete/ID then FQN", false, del(base), delFQN(codeFQN, base), func(f *registrytest.Fixture) string {
			return "target (" + f.Code.ID + " then " + f.Code.FQN() + ")"
		}},
		{"Delete/hard", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Hard = true })),
			func(*registrytest.Fixture) string { return "hard (false then true)" }},
		{"Delete/recursive", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Recursive = true })),
			func(*registrytest.Fixture) string { return "recursive (false then true)" }},
		{"Delete/cascade", false, del(base), del(cascade),
			func(*registrytest.Fixture) string { return "cascade (false then true)" }},
		{"Delete/limit", false, del(cascade), del(with(func(o *registry.DeleteOptions) { o.Cascade, o.CascadeLimit = true, 3 })),
			func(*registrytest.Fixture) string { return "limit (20 then 3)" }},
		{"Delete/lineage", false, del(cascade), del(with(func(o *registry.DeleteOptions) { o.Cascade, o.Lineage = true, registry.LineageDetach })),
			func(*registrytest.Fixture) string { return "lineage (restrict then detach)" }},
		{"Delete/atomic", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Atomic = true })),
			func(*registrytest.Fixture) string { return "atomic (false then true)" }},
		{"Delete/reason", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Reason = "new" })),
			func(*registrytest.Fixture) string { return `reason ("old" then "new")` }},
		{"Delete/no reason", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Reason = "" })),
			func(*registrytest.Fixture) string { return `reason ("old" then "")` }},
		{"Delete/reason and hard", false, del(base), del(with(func(o *registry.DeleteOptions) { o.Reason, o.Hard = "new", true })),
			func(*registrytest.Fixture) string { return `hard (false then true) and reason ("old" then "new")` }},
		{"Delete/call", false, del(base), restore(codeID, base.Reason),
			func(*registrytest.Fixture) string { return "call (delete then restore)" }},
		{"DeleteByFQN/target", false, delFQN(codeFQN, base), delFQN(func(f *registrytest.Fixture) string { return f.Dataset.FQN() }, base),
			func(f *registrytest.Fixture) string {
				return "target (" + f.Code.FQN() + " then " + f.Dataset.FQN() + ")"
			}},
		{"DeleteByFQN/FQN then ID", false, delFQN(codeFQN, base), del(base),
			func(f *registrytest.Fixture) string { return "target (" + f.Code.FQN() + " then " + f.Code.ID + ")" }},
		{"DeleteByFQN/hard", false, delFQN(codeFQN, base), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Hard = true })),
			func(*registrytest.Fixture) string { return "hard (false then true)" }},
		{"DeleteByFQN/recursive", false, delFQN(codeFQN, base), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Recursive = true })),
			func(*registrytest.Fixture) string { return "recursive (false then true)" }},
		{"DeleteByFQN/cascade", false, delFQN(codeFQN, base), delFQN(codeFQN, cascade),
			func(*registrytest.Fixture) string { return "cascade (false then true)" }},
		{"DeleteByFQN/limit", false, delFQN(codeFQN, cascade), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Cascade, o.CascadeLimit = true, 3 })),
			func(*registrytest.Fixture) string { return "limit (20 then 3)" }},
		{"DeleteByFQN/lineage", false, delFQN(codeFQN, cascade), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Cascade, o.Lineage = true, registry.LineageCascade })),
			func(*registrytest.Fixture) string { return "lineage (restrict then cascade)" }},
		{"DeleteByFQN/atomic", false, delFQN(codeFQN, base), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Atomic = true })),
			func(*registrytest.Fixture) string { return "atomic (false then true)" }},
		{"DeleteByFQN/reason", false, delFQN(codeFQN, base), delFQN(codeFQN, with(func(o *registry.DeleteOptions) { o.Reason = "new" })),
			func(*registrytest.Fixture) string { return `reason ("old" then "new")` }},
		{"DeleteByFQN/call", false, delFQN(codeFQN, base), restoreFQN(codeFQN, base.Reason),
			func(*registrytest.Fixture) string { return "call (delete then restore)" }},
		{"Restore/target", true, restore(codeID, "old"), restore(func(f *registrytest.Fixture) string { return f.Dataset.ID }, "old"),
			func(f *registrytest.Fixture) string { return "target (" + f.Code.ID + " then " + f.Dataset.ID + ")" }},
		{"Restore/ID then FQN", true, restore(codeID, "old"), restoreFQN(codeFQN, "old"),
			func(f *registrytest.Fixture) string { return "target (" + f.Code.ID + " then " + f.Code.FQN() + ")" }},
		{"Restore/reason", true, restore(codeID, "old"), restore(codeID, "new"),
			func(*registrytest.Fixture) string { return `reason ("old" then "new")` }},
		{"Restore/call", true, restore(codeID, "old"), del(base),
			func(*registrytest.Fixture) string { return "call (restore then delete)" }},
		{"RestoreByFQN/reason", true, restoreFQN(codeFQN, "old"), restoreFQN(codeFQN, "new"),
			func(*registrytest.Fixture) string { return `reason ("old" then "new")` }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			if c.restore {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			}
			require.NoError(t, c.first(f))
			f.Clock.Advance(time.Minute)
			before := guardSnapshot(t, f)

			err := c.second(f)
			e := guardRequireCode(t, err, registry.ErrIdempotencyMismatch, registry.CodeIdempotencyMismatch)
			assert.Equal(t, "clientToken", e.Field)
			assert.Equal(t, f.Code.ID, e.ID)
			assert.Contains(t, e.Message, `client token "t1" was first used at `+registrytest.Epoch.Format(time.RFC3339)+" for ")
			assert.Contains(t, e.Message, "; this request differs in "+c.want(f)+". ",
				"the message names exactly the fields that differ")
			assert.Equal(t, before, guardSnapshot(t, f), "a mismatched request changed the registry")
			require.NoError(t, f.Check())
		})
	}
}
