package registry_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// guardEventsAfter reads the whole audit log after a sequence number.
func guardEventsAfter(t *testing.T, f *registrytest.Fixture, after uint64) []registry.Event {
	t.Helper()
	var out []registry.Event
	for {
		page, err := f.Events(f.Ctx, after, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

func guardLastSeq(t *testing.T, f *registrytest.Fixture) uint64 {
	t.Helper()
	events := guardEventsAfter(t, f, 0)
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Seq
}

// guardReceive takes one event that must already be waiting: events are
// delivered before the call that caused them returns.
func guardReceive(t *testing.T, s *registry.Subscription) registry.Event {
	t.Helper()
	select {
	case e, ok := <-s.C:
		require.True(t, ok, "the subscription is closed")
		return e
	default:
		t.Fatal("no event is waiting on the subscription")
		return registry.Event{}
	}
}

type guardWant struct {
	typ      registry.EventType
	id       string
	upstream string
	endpoint string
}

func TestEveryCommittedChangeEmitsOneEventPerArtifact(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *registrytest.Fixture)
		run   func(t *testing.T, f *registrytest.Fixture) []guardWant
		// anyOrder when the order of one call's events is not specified.
		anyOrder bool
	}{
		{name: "register", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "new"})
			return []guardWant{{typ: registry.EventCreated, id: a.ID}}
		}},
		{name: "register a batch", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			as, err := f.RegisterBatch(f.Ctx, []registry.Artifact{
				{Kind: registry.KindModel, Namespace: "guard", Name: "one"},
				{Kind: registry.KindModel, Namespace: "guard", Name: "two"},
			})
			require.NoError(t, err)
			return []guardWant{{typ: registry.EventCreated, id: as[0].ID}, {typ: registry.EventCreated, id: as[1].ID}}
		}},
		{name: "update", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			c := f.MustGet(t, f.Code.ID)
			c.Description = "trains the segmentation model"
			_, err := f.Update(f.Ctx, c)
			require.NoError(t, err)
			return []guardWant{{typ: registry.EventUpdated, id: f.Code.ID}}
		}},
		{name: "soft delete", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
			require.NoError(t, err)
			return []guardWant{{typ: registry.EventSoftDeleted, id: f.Code.ID}}
		}},
		{name: "hard delete", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{Hard: true})
			require.NoError(t, err)
			return []guardWant{{typ: registry.EventDeleted, id: f.Code.ID}}
		}},
		{name: "recursive soft delete", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
			require.NoError(t, err)
			return guardWants(registry.EventSoftDeleted, res.Deleted...)
		}},
		{name: "recursive hard delete", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			res, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true})
			require.NoError(t, err)
			return guardWants(registry.EventDeleted, res.Deleted...)
		}},
		{name: "hard delete detaching a dependent", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			res, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
			require.NoError(t, err)
			require.Equal(t, []string{f.Versions[0].ID}, res.Detached)
			return []guardWant{{typ: registry.EventDeleted, id: f.Dataset.ID}, {typ: registry.EventUpdated, id: f.Versions[0].ID}}
		}},
		{name: "hard delete cascading through lineage", setup: guardUndeployNewest,
			run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
				res, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageCascade})
				require.NoError(t, err)
				require.Len(t, res.Deleted, 4)
				return guardWants(registry.EventDeleted, res.Deleted...)
			}},
		{name: "restore", anyOrder: true,
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
				require.NoError(t, err)
			},
			run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
				_, err := f.Restore(f.Ctx, f.Package.ID)
				require.NoError(t, err)
				return guardWants(registry.EventRestored, f.Package.ID, f.Children[0].ID, f.Children[1].ID)
			}},
		{name: "link", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			require.NoError(t, f.Link(f.Ctx, f.Code.ID, f.Versions[0].ID))
			return []guardWant{{typ: registry.EventLinked, id: f.Versions[0].ID, upstream: f.Code.ID}}
		}},
		{name: "unlink", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			require.NoError(t, f.Unlink(f.Ctx, f.Dataset.ID, f.Versions[0].ID))
			return []guardWant{{typ: registry.EventUnlinked, id: f.Versions[0].ID, upstream: f.Dataset.ID}}
		}},
		{name: "deploy", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			require.NoError(t, f.Deploy(f.Ctx, f.Versions[0].ID, "endpoint-guard"))
			return []guardWant{{typ: registry.EventDeployed, id: f.Versions[0].ID, endpoint: "endpoint-guard"}}
		}},
		{name: "undeploy", run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
			require.NoError(t, f.Undeploy(f.Ctx, f.Versions[2].ID, registrytest.Endpoint))
			return []guardWant{{typ: registry.EventUndeployed, id: f.Versions[2].ID, endpoint: registrytest.Endpoint}}
		}},
		{name: "purge",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			},
			run: func(t *testing.T, f *registrytest.Fixture) []guardWant {
				_, err := f.Purge(f.Ctx, 0)
				require.NoError(t, err)
				return []guardWant{{typ: registry.EventDeleted, id: f.Code.ID}}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			if c.setup != nil {
				c.setup(t, f)
			}
			before := map[string]registry.Artifact{}
			for _, a := range guardSnapshot(t, f).Artifacts {
				before[a.ID] = a
			}
			start := guardLastSeq(t, f)
			now := f.Clock.Advance(time.Minute)
			want := c.run(t, f)

			events := guardEventsAfter(t, f, start)
			require.Len(t, events, len(want), "one event per artifact changed")
			got := make([]guardWant, len(events))
			for i, e := range events {
				got[i] = guardWant{typ: e.Type, id: e.ArtifactID, upstream: e.Upstream, endpoint: e.Endpoint}
				assert.Equal(t, start+uint64(i)+1, e.Seq, "Seq numbers events without gaps")
				assert.Equal(t, registrytest.Principal, e.Principal)
				assert.True(t, now.Equal(e.Time), "event time %v, clock %v", e.Time, now)
				assert.NotEmpty(t, e.Operation)
				assert.Equal(t, events[0].Operation, e.Operation, "one call, one operation")
				if e.Type == registry.EventLinked || e.Type == registry.EventUnlinked {
					assert.Equal(t, e.ArtifactID, e.Downstream)
				}
				if e.Type == registry.EventDeleted {
					assert.Equal(t, before[e.ArtifactID].Revision, e.Revision, "a deleted event carries the last revision")
					assert.Equal(t, before[e.ArtifactID].FQN(), e.FQN)
					continue
				}
				a := f.MustGet(t, e.ArtifactID)
				assert.Equal(t, a.Revision, e.Revision, "the revision after the change")
				assert.Equal(t, a.FQN(), e.FQN)
				assert.Equal(t, a.Kind, e.Kind)
			}
			if c.anyOrder {
				assert.ElementsMatch(t, want, got)
			} else {
				assert.Equal(t, want, got)
			}
		})
	}
}

func guardWants(typ registry.EventType, ids ...string) []guardWant {
	out := make([]guardWant, len(ids))
	for i, id := range ids {
		out[i] = guardWant{typ: typ, id: id}
	}
	return out
}

func TestEventsCarryTheReasonPrincipalAndOperationOfTheCall(t *testing.T) {
	f := registrytest.New(t)
	bob := registry.WithPrincipal(context.Background(), "bob")

	check := func(t *testing.T, start uint64, typ registry.EventType, n int, reason, principal, op string) []registry.Event {
		t.Helper()
		events := guardEventsAfter(t, f, start)
		require.Len(t, events, n)
		for _, e := range events {
			assert.Equal(t, typ, e.Type)
			assert.Equal(t, reason, e.Reason)
			assert.Equal(t, principal, e.Principal)
			if op != "" {
				assert.Equal(t, op, e.Operation)
			}
		}
		return events
	}

	t.Run("soft delete", func(t *testing.T) {
		start := guardLastSeq(t, f)
		res, err := f.Delete(bob, f.Package.ID, registry.DeleteOptions{Recursive: true, Reason: "superseded by ensemble 2"})
		require.NoError(t, err)
		require.NotEmpty(t, res.Operation)
		check(t, start, registry.EventSoftDeleted, 3, "superseded by ensemble 2", "bob", res.Operation)
		for _, id := range res.Deleted {
			a := f.MustGet(t, id)
			assert.Equal(t, res.Operation, a.DeleteOperation)
			assert.Equal(t, "superseded by ensemble 2", a.DeleteReason)
			assert.Equal(t, "bob", a.DeletedBy)
		}
		t.Run("a replay emits nothing", func(t *testing.T) {
			opts := registry.DeleteOptions{Reason: "cleanup", ClientToken: "guard-events"}
			start := guardLastSeq(t, f)
			first, err := f.Delete(bob, f.Code.ID, opts)
			require.NoError(t, err)
			events := check(t, start, registry.EventSoftDeleted, 1, "cleanup", "bob", first.Operation)
			again, err := f.Delete(bob, f.Code.ID, opts)
			require.NoError(t, err)
			assert.Equal(t, first.Operation, again.Operation)
			assert.Equal(t, events, guardEventsAfter(t, f, start))
		})
	})
	t.Run("restore", func(t *testing.T) {
		start := guardLastSeq(t, f)
		_, err := f.Restore(bob, f.Package.ID, registry.RestoreOptions{Reason: "still serving"})
		require.NoError(t, err)
		check(t, start, registry.EventRestored, 3, "still serving", "bob", "")
	})
	t.Run("hard delete", func(t *testing.T) {
		start := guardLastSeq(t, f)
		res, err := f.Delete(bob, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, Reason: "GDPR request 42"})
		require.NoError(t, err)
		check(t, start, registry.EventDeleted, 3, "GDPR request 42", "bob", res.Operation)
	})
	t.Run("anonymous", func(t *testing.T) {
		start := guardLastSeq(t, f)
		res, err := f.Delete(context.Background(), f.Dataset.ID, registry.DeleteOptions{})
		require.NoError(t, err)
		check(t, start, registry.EventSoftDeleted, 1, "", registry.Anonymous, res.Operation)
	})
}

func TestDryRunsAndFailedCallsEmitNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, f *registrytest.Fixture)
		call  func(f *registrytest.Fixture) error
	}{
		{name: "soft delete dry run", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true, DryRun: true})
			return err
		}},
		{name: "hard delete dry run", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach, DryRun: true})
			return err
		}},
		{name: "purge dry run",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			},
			call: func(f *registrytest.Fixture) error {
				_, err := f.Purge(f.Ctx, 0, registry.PurgeOptions{DryRun: true})
				return err
			}},
		{name: "deployed", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Versions[2].ID, registry.DeleteOptions{})
			return err
		}},
		{name: "not empty", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{})
			return err
		}},
		{name: "has dependents", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{Hard: true})
			return err
		}},
		{name: "atomic",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				require.NoError(t, f.Deploy(f.Ctx, f.Children[1].ID, "endpoint-guard"))
			},
			call: func(f *registrytest.Fixture) error {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Hard: true, Recursive: true, Atomic: true})
				return err
			}},
		{name: "second soft delete",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				require.NoError(t, err)
			},
			call: func(f *registrytest.Fixture) error {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
				return err
			}},
		{name: "invalid token", call: func(f *registrytest.Fixture) error {
			_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "no_underscores"})
			return err
		}},
		{name: "token mismatch",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{ClientToken: "guard-silent"})
				require.NoError(t, err)
			},
			call: func(f *registrytest.Fixture) error {
				_, err := f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{ClientToken: "guard-silent"})
				return err
			}},
		{name: "restore of a live artifact", call: func(f *registrytest.Fixture) error {
			_, err := f.Restore(f.Ctx, f.Code.ID)
			return err
		}},
		{name: "restore under a deleted parent",
			setup: func(t *testing.T, f *registrytest.Fixture) {
				_, err := f.Delete(f.Ctx, f.Package.ID, registry.DeleteOptions{Recursive: true})
				require.NoError(t, err)
			},
			call: func(f *registrytest.Fixture) error {
				_, err := f.Restore(f.Ctx, f.Children[0].ID)
				return err
			}},
		{name: "register taken name", call: func(f *registrytest.Fixture) error {
			_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: f.Code.Namespace, Name: f.Code.Name, Version: f.Code.Version})
			return err
		}},
		{name: "link closing a cycle", call: func(f *registrytest.Fixture) error {
			return f.Link(f.Ctx, f.Versions[2].ID, f.Dataset.ID)
		}},
		{name: "unlink a missing edge", call: func(f *registrytest.Fixture) error {
			return f.Unlink(f.Ctx, f.Code.ID, f.Dataset.ID)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t)
			if c.setup != nil {
				c.setup(t, f)
			}
			sub, err := f.Subscribe(16)
			require.NoError(t, err)
			defer sub.Close()
			before := guardSnapshot(t, f)
			err = c.call(f)
			if strings.HasSuffix(c.name, "dry run") {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			assert.Equal(t, before, guardSnapshot(t, f))
			assert.Zero(t, len(sub.C), "a subscriber got an event")
		})
	}
	t.Run("unchanged deploy and update", func(t *testing.T) {
		f := registrytest.New(t)
		start := guardLastSeq(t, f)
		require.NoError(t, f.Deploy(f.Ctx, f.Versions[2].ID, registrytest.Endpoint))
		_, err := f.Update(f.Ctx, f.MustGet(t, f.Code.ID))
		require.NoError(t, err)
		assert.Empty(t, guardEventsAfter(t, f, start), "a call that changes nothing emits nothing")
	})
}

func TestSubscribersSeeEveryEventInCommitOrder(t *testing.T) {
	f := registrytest.NewEmpty(t)
	const writers, each = 8, 25
	// Each writer registers, soft deletes, restores and hard deletes: 4
	// events a round.
	total := writers * each * 4
	sub, err := f.Subscribe(total)
	require.NoError(t, err)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			for i := range each {
				a, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("w%d-%d", w, i)})
				if !assert.NoError(t, err) {
					return
				}
				_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{})
				assert.NoError(t, err)
				_, err = f.Restore(f.Ctx, a.ID)
				assert.NoError(t, err)
				_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{Hard: true})
				assert.NoError(t, err)
			}
		}()
	}
	close(gate)
	wg.Wait()

	require.Equal(t, total, len(sub.C))
	got := make([]registry.Event, 0, total)
	for range total {
		got = append(got, guardReceive(t, sub))
	}
	assert.Zero(t, sub.Lost())
	assert.Equal(t, guardEventsAfter(t, f, 0), got, "subscribers and the audit log see one history")
	next := map[string]registry.EventType{}
	lifecycle := map[registry.EventType]registry.EventType{
		registry.EventCreated: registry.EventSoftDeleted, registry.EventSoftDeleted: registry.EventRestored,
		registry.EventRestored: registry.EventDeleted,
	}
	for i, e := range got {
		require.Equal(t, uint64(i+1), e.Seq)
		if e.Type != registry.EventCreated {
			assert.Equal(t, next[e.ArtifactID], e.Type, "event %d of %s is out of order", e.Seq, e.ArtifactID)
		}
		next[e.ArtifactID] = lifecycle[e.Type]
	}
}

// A subscriber that never reads does not stall the registry: thousands of
// deletes complete, it keeps the first events that fit its buffer, counts
// the rest as lost, and is told how many when it reads again.
func TestSubscriberThatNeverReadsDoesNotStallWriters(t *testing.T) {
	const n, buffer, writers = 3000, 8, 4
	f := registrytest.NewEmpty(t)
	batch := make([]registry.Artifact, n)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("m%04d", i)}
	}
	as, err := f.RegisterBatch(f.Ctx, batch)
	require.NoError(t, err)
	start := guardLastSeq(t, f)

	slow, err := f.Subscribe(buffer)
	require.NoError(t, err)
	defer slow.Close()
	fast, err := f.Subscribe(n)
	require.NoError(t, err)
	defer fast.Close()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += writers {
				_, err := f.Delete(f.Ctx, as[i].ID, registry.DeleteOptions{})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	assert.Equal(t, uint64(n-buffer), slow.Lost())
	assert.Zero(t, fast.Lost())
	require.Equal(t, n, len(fast.C))
	require.Equal(t, buffer, len(slow.C))
	for i := range n {
		e := guardReceive(t, fast)
		require.Equal(t, start+uint64(i)+1, e.Seq)
		require.Equal(t, registry.EventSoftDeleted, e.Type)
	}
	for i := range buffer {
		e := guardReceive(t, slow)
		assert.Equal(t, start+uint64(i)+1, e.Seq, "the slow subscriber keeps the first events that fit")
	}

	created := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "after"})
	missed := guardReceive(t, slow)
	assert.Equal(t, registry.EventMissed, missed.Type)
	assert.Equal(t, uint64(n-buffer), missed.Missed)
	e := guardReceive(t, slow)
	assert.Equal(t, registry.EventCreated, e.Type)
	assert.Equal(t, created.ID, e.ArtifactID)
	assert.Equal(t, start+n+1, e.Seq)
	assert.Equal(t, uint64(n-buffer), slow.Lost(), "delivered events are not lost")

	for _, e := range guardEventsAfter(t, f, 0) {
		require.NotEqual(t, registry.EventMissed, e.Type, "missed events never reach the audit log")
	}
}

// A subscriber that fell behind and then keeps up (it reads everything
// waiting after each write) gets a missed event and then every new event
// again, whatever its buffer: Subscribe allows a buffer of 1.
func TestSubscriberThatFellBehindRecoversOnceItKeepsUp(t *testing.T) {
	for _, buffer := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("buffer %d", buffer), func(t *testing.T) {
			f := registrytest.NewEmpty(t)
			sub, err := f.Subscribe(buffer)
			require.NoError(t, err)
			defer sub.Close()
			register := func(name string) registry.Artifact {
				return f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: name})
			}
			for i := range buffer + 3 {
				register(fmt.Sprintf("early-%d", i))
			}
			require.Equal(t, uint64(3), sub.Lost())
			for range buffer {
				guardReceive(t, sub)
			}

			missed := uint64(0)
			for i := range 3 {
				a := register(fmt.Sprintf("late-%d", i))
				var got []registry.Event
				for len(sub.C) > 0 {
					got = append(got, guardReceive(t, sub))
				}
				require.NotEmpty(t, got)
				for _, e := range got {
					if e.Type == registry.EventMissed {
						missed += e.Missed
					}
				}
				last := got[len(got)-1]
				assert.Equal(t, registry.EventCreated, last.Type, "write %d: a subscriber that keeps up gets the new event, got %v", i, got)
				assert.Equal(t, a.ID, last.ArtifactID)
			}
			assert.Equal(t, uint64(3), missed, "the missed events add up to what was lost")
			assert.Equal(t, uint64(3), sub.Lost(), "nothing is lost while the subscriber keeps up")
		})
	}
}

func TestAuditLogKeepsTheNewestEventsAndShowsTheGap(t *testing.T) {
	f := registrytest.NewEmpty(t, registry.WithAuditLogSize(4))
	for i := range 10 {
		f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("m%d", i)})
	}
	seqs := func(after uint64, limit int) []uint64 {
		t.Helper()
		events, err := f.Events(f.Ctx, after, limit)
		require.NoError(t, err)
		out := []uint64{}
		for _, e := range events {
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, []uint64{7, 8, 9, 10}, seqs(0, 0), "the reader asked from 1 and sees the gap")
	assert.Equal(t, []uint64{7, 8, 9, 10}, seqs(3, 100))
	assert.Equal(t, []uint64{7, 8}, seqs(2, 2))
	assert.Equal(t, []uint64{7, 8, 9, 10}, seqs(6, 0))
	assert.Equal(t, []uint64{8, 9, 10}, seqs(7, 0))
	assert.Equal(t, []uint64{9, 10}, seqs(8, 0))
	assert.Equal(t, []uint64{10}, seqs(9, 0))
	assert.Equal(t, []uint64{}, seqs(10, 0))
	assert.Equal(t, []uint64{}, seqs(1000, 0))

	f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "m10"})
	assert.Equal(t, []uint64{8, 9, 10, 11}, seqs(0, 0))

	for _, limit := range []int{-1, 1001} {
		_, err := f.Events(f.Ctx, 0, limit)
		assert.ErrorIs(t, err, registry.ErrInvalid, "limit %d", limit)
	}
	for _, size := range []int{0, -1} {
		_, err := registry.New(registry.WithAuditLogSize(size))
		assert.ErrorIs(t, err, registry.ErrInvalid, "size %d", size)
	}
}

// Events returns the events with Seq greater than after; none is greater
// than the largest uint64.
func TestEventsAfterTheLargestSeqIsEmpty(t *testing.T) {
	f := registrytest.New(t)
	require.NotEmpty(t, guardEventsAfter(t, f, 0))
	events, err := f.Events(f.Ctx, math.MaxUint64, 0)
	require.NoError(t, err)
	assert.Empty(t, events)
}

func TestAuditLogOfOneEvent(t *testing.T) {
	f := registrytest.NewEmpty(t, registry.WithAuditLogSize(1))
	events, err := f.Events(f.Ctx, 0, 0)
	require.NoError(t, err)
	assert.Empty(t, events)
	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "m"})
	_, err = f.Delete(f.Ctx, a.ID, registry.DeleteOptions{})
	require.NoError(t, err)
	events, err = f.Events(f.Ctx, 0, 0)
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, uint64(2), events[0].Seq)
	assert.Equal(t, registry.EventSoftDeleted, events[0].Type)
}

func TestEventsPageWithTheDefaultLimit(t *testing.T) {
	f := registrytest.NewEmpty(t)
	batch := make([]registry.Artifact, 150)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("m%03d", i)}
	}
	_, err := f.RegisterBatch(f.Ctx, batch)
	require.NoError(t, err)
	first, err := f.Events(f.Ctx, 0, 0)
	require.NoError(t, err)
	require.Len(t, first, 100)
	rest, err := f.Events(f.Ctx, first[99].Seq, 0)
	require.NoError(t, err)
	require.Len(t, rest, 50)
	assert.Equal(t, uint64(101), rest[0].Seq)
	assert.Equal(t, uint64(150), rest[49].Seq)
}

func TestResetEmitsOneResetEvent(t *testing.T) {
	f := registrytest.New(t)
	sub, err := f.Subscribe(4)
	require.NoError(t, err)
	defer sub.Close()
	start := guardLastSeq(t, f)
	now := f.Clock.Advance(time.Minute)
	require.NoError(t, f.Reset(f.Ctx))

	events := guardEventsAfter(t, f, start)
	require.Len(t, events, 1)
	e := events[0]
	assert.Equal(t, registry.EventReset, e.Type)
	assert.Equal(t, start+1, e.Seq)
	assert.Equal(t, registrytest.Principal, e.Principal)
	assert.NotEmpty(t, e.Operation)
	assert.Empty(t, e.ArtifactID)
	assert.True(t, now.Equal(e.Time))
	assert.Equal(t, e, guardReceive(t, sub))

	a := f.MustRegister(t, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: "after-reset"})
	next := guardReceive(t, sub)
	assert.Equal(t, start+2, next.Seq, "Seq goes on across a reset")
	assert.Equal(t, a.ID, next.ArtifactID)
}

func TestSubscriptionCloseIsSafeTwice(t *testing.T) {
	f := registrytest.New(t)
	sub, err := f.Subscribe(4)
	require.NoError(t, err)
	_, err = f.Delete(f.Ctx, f.Code.ID, registry.DeleteOptions{})
	require.NoError(t, err)
	sub.Close()
	require.NotPanics(t, sub.Close)

	e, ok := <-sub.C
	require.True(t, ok, "events delivered before Close stay readable")
	assert.Equal(t, registry.EventSoftDeleted, e.Type)
	_, ok = <-sub.C
	assert.False(t, ok, "Close closes C")

	require.NotPanics(t, func() {
		_, err = f.Delete(f.Ctx, f.Dataset.ID, registry.DeleteOptions{})
	})
	require.NoError(t, err, "writes go on after a subscriber leaves")
	assert.Zero(t, sub.Lost(), "a closed subscription loses nothing")
}

func TestSubscriptionCloseRacesWithWriters(t *testing.T) {
	f := registrytest.NewEmpty(t)
	subs := make([]*registry.Subscription, 16)
	for i := range subs {
		var err error
		subs[i], err = f.Subscribe(1)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-gate
		for i := range 100 {
			_, err := f.Register(f.Ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "guard", Name: fmt.Sprintf("m%d", i)})
			assert.NoError(t, err)
		}
	}()
	for _, s := range subs {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				s.Close()
			}()
		}
	}
	close(gate)
	wg.Wait()
	for _, s := range subs {
		for range s.C {
			// drain until closed
		}
		assert.LessOrEqual(t, s.Lost(), uint64(100))
	}
}

func TestSubscribeNeedsRoomForOneEvent(t *testing.T) {
	f := registrytest.NewEmpty(t)
	for _, n := range []int{0, -1} {
		_, err := f.Subscribe(n)
		assert.ErrorIs(t, err, registry.ErrInvalid, "buffer %d", n)
	}
}
