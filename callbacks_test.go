package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// cbClock is a manual clock whose reads can be made to panic or to run a
// hook (which may call the registry).
type cbClock struct {
	*registrytest.Clock
	mu     sync.Mutex
	skip   int    // reads to let through before the armed panic
	armed  bool   // a read panics once skip reaches 0
	hook   func() // run once, on the next read
	panics int    // how many reads panicked
}

func newCBClock() *cbClock { return &cbClock{Clock: registrytest.NewClock(registrytest.Epoch)} }

func (c *cbClock) Now() time.Time {
	c.mu.Lock()
	boom := false
	if c.armed {
		if c.skip == 0 {
			boom, c.armed = true, false
			c.panics++
		} else {
			c.skip--
		}
	}
	hook := c.hook
	c.hook = nil
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	if boom {
		panic("cb: the clock crashed")
	}
	return c.Clock.Now()
}

// panicAfter makes the clock panic once, after skip more reads.
func (c *cbClock) panicAfter(skip int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skip, c.armed = skip, true
}

func (c *cbClock) onNextRead(hook func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hook = hook
}

func (c *cbClock) panicked() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.panics
}

// cbWithin runs fn and fails the test if it has not returned within five
// seconds: a registry left locked fails the test instead of hanging it. fn
// runs on another goroutine and must use assert, not require.
func cbWithin(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return within 5s: the registry is stuck", what)
	}
}

var cbSeq atomic.Int64

// cbRequireUsable checks that a write completes promptly and that every
// invariant holds.
func cbRequireUsable(t *testing.T, f *registrytest.Fixture) {
	t.Helper()
	var err error
	cbWithin(t, "the next Register", func() {
		_, err = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "cb", Name: fmt.Sprintf("next-%d", cbSeq.Add(1))})
	})
	require.NoError(t, err, "the next write works")
	require.NoError(t, f.Check())
}

func cbPanickingAuthorizer(action registry.Action) func(string, registry.Action, registry.Artifact) error {
	return func(_ string, a registry.Action, _ registry.Artifact) error {
		if a == action {
			panic("cb: the policy engine crashed")
		}
		return nil
	}
}

// Every user callback that panics leaves the registry usable and, when the
// call it panicked in fails, unchanged.
func TestPanickingCallbackLeavesTheRegistryUsable(t *testing.T) {
	type env struct {
		f       *registrytest.Fixture
		clock   *cbClock
		authz   *guardAuthorizer
		cleaner *guardCleaner
	}
	requireClockError := func(t *testing.T, e env, err error) {
		t.Helper()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "clock panicked")
		assert.Contains(t, err.Error(), "cb: the clock crashed")
		assert.Equal(t, http.StatusInternalServerError, registry.HTTPStatus(err))
		assert.Equal(t, 1, e.clock.panicked())
	}
	cases := []struct {
		name string
		// call makes the failing call; unchanged says the registry must be
		// as it was before it.
		call      func(t *testing.T, e env)
		unchanged bool
	}{
		{"clock on Register", func(t *testing.T, e env) {
			e.clock.panicAfter(0)
			_, err := e.f.Register(e.f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "never"})
			requireClockError(t, e, err)
		}, true},
		{"clock on a hard delete", func(t *testing.T, e env) {
			e.clock.panicAfter(0)
			_, err := e.f.Delete(e.f.Ctx, e.f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
			requireClockError(t, e, err)
			assert.Empty(t, e.cleaner.calls())
		}, true},
		{"clock on Reset", func(t *testing.T, e env) {
			e.clock.panicAfter(0)
			err := e.f.Reset(e.f.Ctx)
			requireClockError(t, e, err)
			assert.Empty(t, e.cleaner.calls())
		}, true},
		{"clock on RetryCleanups", func(t *testing.T, e env) {
			uri := e.f.Children[0].StorageURIs[0]
			e.cleaner.fail(uri, errors.New("throttled"))
			_, err := e.f.Delete(e.f.Ctx, e.f.Children[0].ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			before := guardSnapshot(t, e.f)
			require.Len(t, before.Pending, 1)
			require.Equal(t, 1, before.Pending[0].Attempts)
			e.cleaner.fail(uri, nil)

			e.clock.panicAfter(0)
			_, err = e.f.RetryCleanups(e.f.Ctx)
			requireClockError(t, e, err)
			assert.Equal(t, []string{uri}, e.cleaner.calls(), "nothing is handed to the cleaner")
			assert.Equal(t, before, guardSnapshot(t, e.f), "the pending URI is as it was")
		}, false},
		{"clock on the cleanup round of a hard delete", func(t *testing.T, e env) {
			e.clock.panicAfter(1) // the delete reads it once, the round once
			res, err := e.f.Delete(e.f.Ctx, e.f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
			require.NoError(t, err, "the delete committed before the cleanup round")
			assert.Len(t, res.Deleted, 3)
			assert.Equal(t, 1, e.clock.panicked())
			assert.Empty(t, e.cleaner.calls(), "the round did not run")
			pending := guardPending(t, e.f)
			assert.ElementsMatch(t, guardURIs(e.f.Children), guardPendingURIs(t, e.f), "nothing is lost")
			for _, p := range pending {
				assert.Zero(t, p.Attempts)
			}
			rep, err := e.f.RetryCleanups(e.f.Ctx)
			require.NoError(t, err)
			assert.ElementsMatch(t, guardURIs(e.f.Children), rep.Cleaned)
		}, false},
		{"authorizer on Register", func(t *testing.T, e env) {
			e.authz.setDeny(cbPanickingAuthorizer(registry.ActionCreate))
			_, err := e.f.Register(e.f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "never"})
			guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
			e.authz.setDeny(nil)
		}, true},
		{"authorizer on a recursive hard delete", func(t *testing.T, e env) {
			e.authz.setDeny(cbPanickingAuthorizer(registry.ActionHardDelete))
			_, err := e.f.Delete(e.f.Ctx, e.f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, Atomic: true})
			guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
			assert.Empty(t, e.cleaner.calls())
			e.authz.setDeny(nil)
		}, true},
		{"authorizer on Reset", func(t *testing.T, e env) {
			e.authz.setDeny(cbPanickingAuthorizer(registry.ActionReset))
			err := e.f.Reset(e.f.Ctx)
			guardRequireCode(t, err, registry.ErrForbidden, registry.CodeForbidden)
			e.authz.setDeny(nil)
		}, true},
		{"cleaner", func(t *testing.T, e env) {
			uri := e.f.Children[0].StorageURIs[0]
			e.cleaner.panicOn(uri, true)
			_, err := e.f.Delete(e.f.Ctx, e.f.Children[0].ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			pending := guardPending(t, e.f)
			require.Len(t, pending, 1)
			assert.Equal(t, uri, pending[0].URI)
			assert.Contains(t, pending[0].LastError, "cleaner panicked")
			e.cleaner.panicOn(uri, false)
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env{clock: newCBClock(), authz: &guardAuthorizer{}, cleaner: &guardCleaner{}}
			e.f = registrytest.New(t, registry.WithClock(e.clock), registry.WithAuthorizer(e.authz), registry.WithCleaner(e.cleaner))
			before := guardSnapshot(t, e.f)
			cbWithin(t, "the failing call", func() {
				assert.NotPanics(t, func() { c.call(t, e) })
			})
			if c.unchanged {
				assert.Equal(t, before, guardSnapshot(t, e.f), "the failed call changed nothing")
			}
			require.NoError(t, e.f.Check())
			cbRequireUsable(t, e.f)
		})
	}
}

// Subscribers are channels, not callbacks: one that never reads, or that
// closes its subscription while events are being published, never blocks a
// writer or breaks a write.
func TestSubscriberNeverBlocksOrBreaksWriters(t *testing.T) {
	cases := []struct {
		name string
		sub  func(t *testing.T, f *registrytest.Fixture) (stop func())
	}{
		{"never reads", func(t *testing.T, f *registrytest.Fixture) func() {
			s, err := f.Subscribe(1)
			require.NoError(t, err)
			return s.Close
		}},
		{"closes itself on its first event", func(t *testing.T, f *registrytest.Fixture) func() {
			s, err := f.Subscribe(1)
			require.NoError(t, err)
			done := make(chan struct{})
			go func() {
				defer close(done)
				<-s.C
				s.Close()
				for range s.C {
				}
			}()
			return func() { <-done }
		}},
		{"is closed by another goroutine while writes publish", func(t *testing.T, f *registrytest.Fixture) func() {
			var subs []*registry.Subscription
			for range 8 {
				s, err := f.Subscribe(2)
				require.NoError(t, err)
				subs = append(subs, s)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for _, s := range subs {
					runtime.Gosched()
					s.Close()
				}
			}()
			return func() { <-done }
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.NewEmpty(t)
			stop := c.sub(t, f)
			cbWithin(t, "200 writes", func() {
				for i := range 200 {
					a, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: fmt.Sprintf("m%d", i)})
					if !assert.NoError(t, err) {
						return
					}
					_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
					assert.NoError(t, err)
				}
			})
			stop()
			cbRequireUsable(t, f)
			assert.Len(t, guardEventsAfter(t, f, 0), 401, "every write was published")
		})
	}
}

// A clock is read before the registry takes its lock, so a clock that
// calls the registry does not deadlock it: both calls complete.
func TestReentrantClockCompletes(t *testing.T) {
	cases := []struct {
		name string
		call func(f *registrytest.Fixture) error
	}{
		{"Register", func(f *registrytest.Fixture) error {
			_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "outer"})
			return err
		}},
		{"Delete", func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			return err
		}},
		{"RetryCleanups", func(f *registrytest.Fixture) error {
			_, err := f.RetryCleanups(f.Ctx)
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock, cleaner := newCBClock(), &guardCleaner{}
			f := registrytest.New(t, registry.WithClock(clock), registry.WithCleaner(cleaner))
			uri := f.Children[0].StorageURIs[0]
			cleaner.fail(uri, errors.New("throttled")) // so that RetryCleanups has work to do
			_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			cleaner.fail(uri, nil)
			var inner error
			clock.onNextRead(func() {
				_, inner = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "from-the-clock"})
			})
			var outer error
			cbWithin(t, "a call whose clock writes", func() { outer = c.call(f) })
			require.NoError(t, inner)
			require.NoError(t, outer)
			_, err = f.GetByFQN(f.Ctx, "cb.from-the-clock")
			assert.NoError(t, err)
			cbRequireUsable(t, f)
		})
	}
}

// cbWrites are the registry's write calls, each with arguments that would
// succeed on a fixture seeded by registrytest.New whose first child is soft
// deleted.
func cbWrites(f *registrytest.Fixture) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Register": func(ctx context.Context) error {
			_, err := f.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "inner"})
			return err
		},
		"RegisterBatch": func(ctx context.Context) error {
			_, err := f.RegisterBatch(ctx, []registry.Artifact{{Kind: registry.KindModel, Namespace: "cb", Name: "inner"}})
			return err
		},
		"Update": func(ctx context.Context) error {
			c := f.Code
			c.Description = "changed from inside a callback"
			_, err := f.Update(ctx, c)
			return err
		},
		"Delete": func(ctx context.Context) error {
			_, err := f.Delete(ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			return err
		},
		"DeleteByFQN": func(ctx context.Context) error {
			_, err := f.DeleteByFQN(ctx, f.Code.FQN(), registry.DeleteOptions{})
			return err
		},
		"Restore": func(ctx context.Context) error {
			_, err := f.Restore(ctx, f.Children[0].ID)
			return err
		},
		"Purge": func(ctx context.Context) error {
			_, err := f.Purge(ctx, 0)
			return err
		},
		"Link": func(ctx context.Context) error { return f.Link(ctx, f.Dataset.ID, f.Code.ID) },
		"Unlink": func(ctx context.Context) error {
			return f.Unlink(ctx, f.Dataset.ID, f.Versions[0].ID)
		},
		"Deploy":        func(ctx context.Context) error { return f.Deploy(ctx, f.Code.ID, "endpoint-cb") },
		"Undeploy":      func(ctx context.Context) error { return f.Undeploy(ctx, f.Versions[2].ID, registrytest.Endpoint) },
		"Reset":         func(ctx context.Context) error { return f.Reset(ctx) },
		"RetryCleanups": func(ctx context.Context) error { _, err := f.RetryCleanups(ctx); return err },
	}
}

// An authorizer runs under the registry's write lock: a write it makes is
// refused with a clear INVALID_ARGUMENT error instead of deadlocking,
// whether it passes the ctx it was given or another one, and changes
// nothing; the call that asked the authorizer completes.
func TestAuthorizerCannotWriteToTheRegistry(t *testing.T) {
	ctxs := map[string]func(given context.Context) context.Context{
		"the ctx it was given": func(given context.Context) context.Context { return given },
		"a fresh ctx": func(context.Context) context.Context {
			return registry.WithPrincipal(context.Background(), registrytest.Principal)
		},
	}
	outers := map[string]struct {
		call  func(f *registrytest.Fixture) error
		added int // artifacts the outer call adds
	}{
		"Register": {func(f *registrytest.Fixture) error {
			_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "outer"})
			return err
		}, 1},
		"Delete": {func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, Hard: true})
			return err
		}, -3},
	}
	for outerName, outer := range outers {
		for ctxName, pick := range ctxs {
			for _, name := range []string{"Register", "RegisterBatch", "Update", "Delete", "DeleteByFQN", "Restore", "Purge",
				"Link", "Unlink", "Deploy", "Undeploy", "Reset", "RetryCleanups"} {
				t.Run(outerName+"/"+ctxName+"/"+name, func(t *testing.T) {
					var inner func(ctx context.Context) error
					var once sync.Once
					var innerErr error
					var armed atomic.Bool
					called := false
					authz := registry.AuthorizerFunc(func(ctx context.Context, _ string, action registry.Action, _ registry.Artifact) error {
						if armed.Load() && (action == registry.ActionCreate || action == registry.ActionHardDelete) {
							once.Do(func() {
								called = true
								innerErr = inner(pick(ctx))
							})
						}
						return nil
					})
					f := registrytest.New(t, registry.WithAuthorizer(authz), registry.WithCleaner(&guardCleaner{}))
					_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{})
					require.NoError(t, err)
					inner = cbWrites(f)[name]
					before := guardSnapshot(t, f)
					armed.Store(true)
					var outerErr error
					cbWithin(t, outerName+" whose authorizer calls "+name, func() { outerErr = outer.call(f) })
					require.True(t, called)
					require.NoError(t, outerErr, "the call that asked the authorizer completes")
					e := guardRequireCode(t, innerErr, registry.ErrInvalid, registry.CodeInvalid)
					assert.Contains(t, e.Message, "cannot be made from inside an authorizer callback")
					after := guardSnapshot(t, f)
					assert.Len(t, after.Artifacts, len(before.Artifacts)+outer.added, "the refused write changed nothing")
					assert.Equal(t, before.Pending, after.Pending)
					cbRequireUsable(t, f)
				})
			}
		}
	}
}

// Reads take no lock: an authorizer may read the registry, with the ctx it
// was given, even under read authorization (where the read asks it again).
func TestAuthorizerMayReadTheRegistry(t *testing.T) {
	for _, readAuthz := range []bool{false, true} {
		t.Run(fmt.Sprintf("read authorization %t", readAuthz), func(t *testing.T) {
			var armed, inside atomic.Bool
			var f *registrytest.Fixture
			var reads []error
			authz := registry.AuthorizerFunc(func(ctx context.Context, _ string, action registry.Action, _ registry.Artifact) error {
				if action != registry.ActionHardDelete || !armed.Load() || !inside.CompareAndSwap(false, true) {
					return nil
				}
				defer inside.Store(false)
				armed.Store(false)
				_, err := f.Get(ctx, f.Code.ID)
				reads = append(reads, err)
				_, err = f.GetByFQN(ctx, f.Dataset.FQN())
				reads = append(reads, err)
				_, err = f.List(ctx, registry.Filter{Namespace: registrytest.Namespace})
				reads = append(reads, err)
				_, err = f.Lineage(ctx, f.Versions[0].ID, registry.Downstream, 2)
				reads = append(reads, err)
				_, err = f.Events(ctx, 0, 10)
				reads = append(reads, err)
				_, err = f.PendingCleanups(ctx)
				reads = append(reads, err)
				reads = append(reads, f.Check())
				return nil
			})
			opts := []registry.Option{registry.WithAuthorizer(authz)}
			if readAuthz {
				opts = append(opts, registry.WithReadAuthorization())
			}
			f = registrytest.New(t, opts...)
			armed.Store(true)
			var err error
			cbWithin(t, "a delete whose authorizer reads", func() {
				_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			})
			require.NoError(t, err)
			require.Len(t, reads, 7)
			for i, err := range reads {
				assert.NoError(t, err, "read %d", i)
			}
			cbRequireUsable(t, f)
		})
	}
}

// The cleaner runs outside the lock: it may read and write the registry,
// including a hard delete whose own cleanup round hands it another URI, and
// a RetryCleanups that skips the URI it is working on.
func TestCleanerMayCallTheRegistry(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.NewEmpty(t, registry.WithCleaner(cleaner))
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "a", StorageURIs: []string{"s3://cb/a"}})
	b := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "b", StorageURIs: []string{"s3://cb/b"}})
	var errs []error
	cleaner.setHook(func(uri string) {
		if uri != "s3://cb/a" {
			return
		}
		_, err := f.Get(f.Ctx, b.ID)
		errs = append(errs, err)
		_, err = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "cb", Name: "from-the-cleaner"})
		errs = append(errs, err)
		_, err = f.Delete(f.Ctx, b.ID, registry.DeleteOptions{Hard: true})
		errs = append(errs, err)
		p, err := f.PendingCleanups(f.Ctx)
		errs = append(errs, err)
		assert.Equal(t, []string{"s3://cb/a"}, cbURIs(p), "a is pending while it is being cleaned; b was cleaned")
		rep, err := f.RetryCleanups(f.Ctx)
		errs = append(errs, err)
		assert.Empty(t, rep.Cleaned, "the URI being cleaned is not handed over twice")
	})
	var err error
	cbWithin(t, "a delete whose cleaner calls the registry", func() {
		_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
	})
	require.NoError(t, err)
	for i, err := range errs {
		assert.NoError(t, err, "call %d", i)
	}
	assert.Equal(t, []string{"s3://cb/a", "s3://cb/b"}, cleaner.calls())
	assert.Empty(t, guardPending(t, f))
	cbRequireUsable(t, f)
}

func cbURIs(cs []registry.Cleanup) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.URI)
	}
	return out
}

// cbBlockOnce makes the cleaner's first Clean announce its URI on entered
// and wait until release is closed; later calls go straight through.
func cbBlockOnce(cleaner *guardCleaner) (entered chan string, release chan struct{}) {
	entered, release = make(chan string, 1), make(chan struct{})
	var once sync.Once
	cleaner.setHook(func(uri string) {
		once.Do(func() {
			entered <- uri
			<-release
		})
	})
	return entered, release
}

// cbOther returns the URI of pair that is not uri.
func cbOther(pair []string, uri string) string {
	if pair[0] == uri {
		return pair[1]
	}
	return pair[0]
}

// (a) A URI that an artifact takes back after the hard delete queued it,
// before the cleaner gets to it, is never handed to the cleaner: each URI
// is checked under the lock right before its hand-off.
func TestCleanerNeverGetsAURIReclaimedBeforeItsTurn(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	uris := guardURIs(f.Children)
	entered, release := cbBlockOnce(cleaner)

	done := make(chan error)
	go func() {
		_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
		done <- err
	}()
	first := <-entered
	second := cbOther(uris, first)
	heir := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "heir", StorageURIs: []string{second}})
	close(release)
	require.NoError(t, <-done)

	assert.Equal(t, []string{first}, cleaner.calls(), "the reclaimed URI is never handed to the cleaner")
	assert.Empty(t, guardPending(t, f), "the first was cleaned; the second is owned again")
	assert.Equal(t, []string{second}, f.MustGet(t, heir.ID).StorageURIs)
	cbRequireUsable(t, f)
}

// (b) A URI registered again while the cleaner is working on it cannot be
// taken back from the cleaner: it is reported, pending with ReclaimedBy and
// a LastError that says to verify the object, never handed to the cleaner
// while referenced, and queued afresh once its last reference goes.
func TestURIReclaimedWhileBeingCleanedIsReported(t *testing.T) {
	for _, cleanErr := range []error{nil, errors.New("throttled")} {
		t.Run(fmt.Sprintf("cleaner error %v", cleanErr), func(t *testing.T) {
			cleaner := &guardCleaner{}
			f := registrytest.New(t, registry.WithCleaner(cleaner))
			uri := f.Children[0].StorageURIs[0]
			cleaner.fail(uri, cleanErr)
			entered, release := cbBlockOnce(cleaner)

			done := make(chan error)
			go func() {
				_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{Hard: true})
				done <- err
			}()
			require.Equal(t, uri, <-entered)
			heir := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "heir", StorageURIs: []string{uri}})
			close(release)
			require.NoError(t, <-done)
			require.NoError(t, f.Check(), "a reclaimed URI may be referenced and pending")

			pending := guardPending(t, f)
			require.Len(t, pending, 1, "the reclaim is reported, not silently dropped")
			p := pending[0]
			assert.Equal(t, uri, p.URI)
			assert.Equal(t, heir.ID, p.ReclaimedBy)
			assert.Equal(t, f.Children[0].ID, p.ArtifactID)
			assert.Equal(t, 1, p.Attempts)
			assert.Contains(t, p.LastError, "re-referenced by "+heir.ID+" while being cleaned")
			assert.Contains(t, p.LastError, "verify the object exists")
			if cleanErr != nil {
				assert.Contains(t, p.LastError, "throttled")
			}

			// Retries leave it alone while it is referenced.
			cleaner.fail(uri, nil)
			rep, err := f.RetryCleanups(f.Ctx)
			require.NoError(t, err)
			assert.Empty(t, rep.Cleaned)
			assert.Equal(t, []registry.Cleanup{p}, rep.Failed, "a retry reports it, untouched")
			assert.Equal(t, []string{uri}, cleaner.calls(), "never handed to the cleaner while referenced")

			// Another reference keeps the warning; the last one going queues it afresh.
			other := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "other", StorageURIs: []string{uri}})
			assert.Equal(t, []registry.Cleanup{p}, guardPending(t, f))
			_, err = f.Delete(f.Ctx, heir.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			assert.Equal(t, []registry.Cleanup{p}, guardPending(t, f))
			assert.Equal(t, []string{uri}, cleaner.calls())
			_, err = f.Delete(f.Ctx, other.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			assert.Equal(t, []string{uri, uri}, cleaner.calls(), "orphaned again, it is cleaned again")
			assert.Empty(t, guardPending(t, f))
			cbRequireUsable(t, f)
		})
	}
}

// Reset clears a reclaim warning with the reference that held it: the URI
// is queued and handed to the cleaner like every other.
func TestResetCleansAURIReclaimedWhileBeingCleaned(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	uri := f.Children[0].StorageURIs[0]
	entered, release := cbBlockOnce(cleaner)
	done := make(chan error)
	go func() {
		_, err := f.Delete(f.Ctx, f.Children[0].ID, registry.DeleteOptions{Hard: true})
		done <- err
	}()
	<-entered
	f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "heir", StorageURIs: []string{uri}})
	close(release)
	require.NoError(t, <-done)
	require.Len(t, guardPending(t, f), 1)

	require.NoError(t, f.Reset(f.Ctx))
	assert.Empty(t, guardPending(t, f))
	calls := cleaner.calls()
	assert.Equal(t, 2, len(slicesIndexAll(calls, uri)), "cleaned again by the reset")
	cbRequireUsable(t, f)
}

func slicesIndexAll(s []string, v string) []int {
	var out []int
	for i, x := range s {
		if x == v {
			out = append(out, i)
		}
	}
	return out
}

// (c) RetryCleanups checks each URI right before its hand-off too: one
// reclaimed while the cleaner works on another is never handed over.
func TestRetryCleanupsNeverHandsOverAReclaimedURI(t *testing.T) {
	cleaner := &guardCleaner{}
	f := registrytest.New(t, registry.WithCleaner(cleaner))
	uris := guardURIs(f.Children)
	for _, u := range uris {
		cleaner.fail(u, errors.New("throttled"))
	}
	_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
	require.NoError(t, err)
	require.ElementsMatch(t, uris, guardPendingURIs(t, f))
	for _, u := range uris {
		cleaner.fail(u, nil)
	}
	calls := len(cleaner.calls())
	entered, release := cbBlockOnce(cleaner)

	type out struct {
		rep registry.CleanupReport
		err error
	}
	done := make(chan out)
	go func() {
		rep, err := f.RetryCleanups(f.Ctx)
		done <- out{rep, err}
	}()
	first := <-entered
	second := cbOther(uris, first)
	f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "heir", StorageURIs: []string{second}})
	close(release)
	o := <-done
	require.NoError(t, o.err)
	assert.Equal(t, []string{first}, o.rep.Cleaned)
	assert.Empty(t, o.rep.Failed)
	assert.Equal(t, []string{first}, cleaner.calls()[calls:], "the reclaimed URI is never handed to the cleaner")
	assert.Empty(t, guardPending(t, f))
	cbRequireUsable(t, f)
}

// Under read authorization, Events asks the authorizer about each event it
// returns; it does so without holding the event log, so an authorizer that
// writes there cannot deadlock the publisher of its own write. With the
// ctx it was given the write is refused, as every authorizer's is; with
// another it goes through, since no lock is held.
func TestAuthorizerAskedByEventsMayNotHangIt(t *testing.T) {
	ctxs := map[string]struct {
		pick    func(given context.Context) context.Context
		refused bool
	}{
		"the ctx it was given": {func(given context.Context) context.Context { return given }, true},
		"a fresh ctx": {func(context.Context) context.Context {
			return registry.WithPrincipal(context.Background(), registrytest.Principal)
		}, false},
	}
	for name, c := range ctxs {
		t.Run(name, func(t *testing.T) {
			var armed atomic.Bool
			var f *registrytest.Fixture
			var innerErr error
			authz := registry.AuthorizerFunc(func(ctx context.Context, _ string, action registry.Action, _ registry.Artifact) error {
				if action == registry.ActionRead && armed.CompareAndSwap(true, false) {
					_, innerErr = f.Register(c.pick(ctx), registry.Artifact{Kind: registry.KindModel, Namespace: "cb", Name: "from-events"})
				}
				return nil
			})
			f = registrytest.New(t, registry.WithAuthorizer(authz), registry.WithReadAuthorization())
			armed.Store(true)
			var events []registry.Event
			var err error
			cbWithin(t, "Events whose authorizer writes", func() { events, err = f.Events(f.Ctx, 0, 5) })
			require.NoError(t, err)
			assert.Len(t, events, 5)
			if c.refused {
				guardRequireCode(t, innerErr, registry.ErrInvalid, registry.CodeInvalid)
			} else {
				assert.NoError(t, innerErr)
			}
			cbRequireUsable(t, f)
		})
	}
}

// Recorded times never go backwards in commit order: a clock that goes
// back (or a reading that waited for the lock while others wrote) records
// the previous write's time instead.
func TestRecordedTimesNeverGoBackwards(t *testing.T) {
	f := registrytest.NewEmpty(t)
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "1"})
	f.Clock.Set(registrytest.Epoch.Add(-time.Hour))
	b := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "2"})
	assert.Equal(t, a.CreatedAt, b.CreatedAt, "the clock went back an hour; the registry keeps the later time")
	res, err := f.Delete(f.Ctx, a.ID)
	require.NoError(t, err)
	require.Len(t, res.Deleted, 1)
	got := f.MustGet(t, a.ID)
	assert.False(t, got.DeletedAt.Before(got.CreatedAt))
	assert.False(t, got.UpdatedAt.Before(got.CreatedAt))
	f.Clock.Set(registrytest.Epoch.Add(time.Hour))
	c := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "svc", Name: "m", Version: "3"})
	assert.Equal(t, registrytest.Epoch.Add(time.Hour), c.CreatedAt, "a clock that moves forward is followed")
}
