package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupScenario is a world where concurrent registrations conflict with
// each other and with the store in every way a registration can be
// refused: taken names and IDs (by the store, by another call, within one
// batch), missing, soft-deleted and concurrently registered parents,
// creation refused by the authorizer, and storage URIs shared with an
// artifact the principal may not update (stored, or registered by another
// call of the same group).
type groupScenario struct {
	calls [][]Artifact
	who   []string
}

const (
	gsLiveParent    = "00000000-0000-4000-8000-000000000001"
	gsDeletedParent = "00000000-0000-4000-8000-000000000002"
	gsLocked        = "00000000-0000-4000-8000-000000000003"
)

func gsID(call, row int) string {
	return fmt.Sprintf("10000000-0000-4000-8000-%06d%06d", call, row)
}

func newGroupScenario(n int) groupScenario {
	var s groupScenario
	for k := range n {
		size := 1 + k%3
		batch := make([]Artifact, size)
		who := []string{"alice", "mallory"}[k%2]
		for j := range batch {
			// Calls 4i and 4i+1 want the same names; the others names of
			// their own.
			name := fmt.Sprintf("u%d", k)
			if k%4 < 2 {
				name = fmt.Sprintf("m%d", k/4)
			}
			a := Artifact{ID: gsID(k, j), Kind: KindModel, Namespace: "open", Name: name, Version: fmt.Sprint(j)}
			switch k % 13 {
			case 1:
				a.Parent = gsLiveParent
			case 2:
				a.Parent = gsDeletedParent
			case 3:
				a.Parent = gsID(k-1, 0) // registered by the call before, or refused, or not yet
			case 4:
				a.Parent = gsID(n+k, 0) // never registered
			case 5:
				a.StorageURIs = []string{"s3://shared/locked"} // shared with a stored locked artifact
			case 6, 7:
				a.StorageURIs = []string{fmt.Sprintf("s3://shared/%d", k/13)} // shared by the two calls
			case 8:
				a.Namespace = "locked"
			case 9:
				a.ID = gsID(k-1, j) // the ID of the call before's row
			case 10:
				if j == 1 {
					a.Name, a.Version = batch[0].Name, batch[0].Version // twice in one batch
				}
			case 11:
				a.Name, a.Version = "existing", "1" // taken by the store
			case 12:
				// alice registers a locked artifact with a URI that
				// mallory's next call shares.
				a.Namespace, a.StorageURIs, who = "locked", []string{fmt.Sprintf("s3://locked/%d", k)}, "alice"
			case 0:
				if k > 0 {
					a.StorageURIs, who = []string{fmt.Sprintf("s3://locked/%d", k-1)}, "mallory"
				}
			}
			batch[j] = a
		}
		s.calls = append(s.calls, batch)
		s.who = append(s.who, who)
	}
	return s
}

// newGroupRegistry returns the scenario's starting registry: mallory may
// not create or update anything in namespace locked.
func newGroupRegistry(t *testing.T) *Registry {
	var tick atomic.Int64
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := New(
		WithClock(ClockFunc(func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) })),
		WithAuthorizer(AuthorizerFunc(func(ctx context.Context, p string, act Action, a Artifact) error {
			if p == "mallory" && a.Namespace == "locked" && (act == ActionCreate || act == ActionUpdate) {
				return errors.New("locked is not mallory's")
			}
			return nil
		})))
	require.NoError(t, err)
	ctx := WithDecision(WithPrincipal(context.Background(), "alice"), Decision{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Operation: "setup"})
	_, err = r.RegisterBatch(ctx, []Artifact{
		{ID: gsLiveParent, Kind: KindModel, Namespace: "open", Name: "parent", Version: "1"},
		{ID: gsDeletedParent, Kind: KindModel, Namespace: "open", Name: "parent", Version: "2"},
		{ID: gsLocked, Kind: KindModel, Namespace: "locked", Name: "existing", Version: "1", StorageURIs: []string{"s3://shared/locked"}},
		{ID: "00000000-0000-4000-8000-000000000004", Kind: KindModel, Namespace: "open", Name: "existing", Version: "1"},
	})
	require.NoError(t, err)
	_, err = r.Delete(ctx, gsDeletedParent)
	require.NoError(t, err)
	return r
}

type callKey struct{}

type groupOutcome struct {
	arts []Artifact
	err  error
}

// TestGroupCommitEqualsCallsAlone registers from many goroutines at once,
// with calls refused for every reason, and checks that groups formed and
// that every call's outcome, the events and the final state are exactly
// those of the same calls made one at a time, in the order the groups
// applied them, with the same times and operation IDs.
func TestGroupCommitEqualsCallsAlone(t *testing.T) {
	const calls, writers = 240, 16
	s := newGroupScenario(calls)
	r := newGroupRegistry(t)

	type applied struct {
		call int
		now  time.Time
		op   string
	}
	var order []applied
	var groups, largest int
	first := true
	r.onGroup = func(group []*registerCall) {
		if first {
			// Hold the first group until most writers queue behind it.
			first = false
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				r.registers.mu.Lock()
				n := len(r.registers.pending)
				r.registers.mu.Unlock()
				if n >= writers/2 {
					break
				}
				time.Sleep(time.Millisecond)
			}
		}
		groups++
		largest = max(largest, len(group))
		for _, c := range group {
			order = append(order, applied{c.ctx.Value(callKey{}).(int), c.now, c.op})
		}
	}
	out := make([]groupOutcome, calls)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1)) - 1; k < calls; k = int(next.Add(1)) - 1 {
				ctx := context.WithValue(WithPrincipal(context.Background(), s.who[k]), callKey{}, k)
				arts, err := r.RegisterBatch(ctx, s.calls[k])
				out[k] = groupOutcome{arts, err}
			}
		}()
	}
	wg.Wait()
	r.onGroup = nil
	require.Len(t, order, calls)
	assert.Greater(t, largest, 1, "no group of more than one call formed")
	assert.Less(t, groups, calls)
	require.NoError(t, r.Check())

	alone := newGroupRegistry(t)
	refused := map[string]int{}
	for _, x := range order {
		ctx := WithDecision(WithPrincipal(context.Background(), s.who[x.call]), Decision{Time: x.now, Operation: x.op})
		arts, err := alone.RegisterBatch(ctx, s.calls[x.call])
		got := out[x.call]
		if err != nil {
			var want, have *Error
			require.ErrorAs(t, err, &want)
			require.ErrorAs(t, got.err, &have, "call %d", x.call)
			assert.Equal(t, want.Code, have.Code, "call %d", x.call)
			assert.Equal(t, want.Message, have.Message, "call %d", x.call)
			refused[string(want.Code)]++
			continue
		}
		require.NoError(t, got.err, "call %d", x.call)
		assert.Equal(t, arts, got.arts, "call %d", x.call)
	}
	// Every way to be refused happened.
	assert.Positive(t, refused[string(CodeAlreadyExists)])
	assert.Positive(t, refused[string(CodeInvalid)])
	assert.Positive(t, refused[string(CodeForbidden)])
	assert.Less(t, refused[string(CodeAlreadyExists)]+refused[string(CodeInvalid)]+refused[string(CodeForbidden)], calls)

	ctx := WithPrincipal(context.Background(), "alice")
	for _, ns := range []string{"open", "locked"} {
		want, err := alone.List(ctx, Filter{Namespace: ns, Include: IncludeAll, Limit: maxPageSize})
		require.NoError(t, err)
		have, err := r.List(ctx, Filter{Namespace: ns, Include: IncludeAll, Limit: maxPageSize})
		require.NoError(t, err)
		assert.Equal(t, want, have)
	}
	wantEvents, err := alone.Events(ctx, 0, 1000)
	require.NoError(t, err)
	haveEvents, err := r.Events(ctx, 0, 1000)
	require.NoError(t, err)
	assert.Equal(t, wantEvents, haveEvents)
	require.NoError(t, alone.Check())
}

// TestGroupCommitPanicFailsOnlyThatCall makes one call of a group panic
// while it is checked: that call's goroutine panics, the other calls of
// the group commit, and the registry is consistent.
func TestGroupCommitPanicFailsOnlyThatCall(t *testing.T) {
	r, err := New()
	require.NoError(t, err)
	const writers = 8
	release := make(chan struct{})
	var firstOnce, queued sync.Once
	var groups [][]string
	r.onGroup = func(group []*registerCall) {
		firstOnce.Do(func() { <-release })
		var names []string
		for _, c := range group {
			names = append(names, c.rows[0].name())
		}
		groups = append(groups, names)
	}
	r.onCheck = func(c *registerCall) {
		if c.rows[0].name() == "boom" {
			panic("boom")
		}
	}
	type outcome struct {
		panicked any
		err      error
	}
	out := make([]outcome, writers)
	var wg sync.WaitGroup
	for k := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { out[k].panicked = recover() }()
			name := fmt.Sprint("m", k)
			if k == 3 {
				name = "boom"
			}
			_, out[k].err = r.Register(WithPrincipal(context.Background(), "p"), Artifact{Kind: KindModel, Namespace: "ns", Name: name})
		}()
		if k == 0 {
			// Let the first call lead (its group is held by onGroup), then
			// queue the others behind it.
			for {
				if !r.mu.TryLock() {
					break
				}
				r.mu.Unlock()
				time.Sleep(time.Millisecond)
			}
		}
	}
	for {
		r.registers.mu.Lock()
		n := len(r.registers.pending)
		r.registers.mu.Unlock()
		if n == writers { // the first, applying its group, and the others
			break
		}
		time.Sleep(time.Millisecond)
	}
	queued.Do(func() { close(release) })
	wg.Wait()
	require.Len(t, groups, 2, "the first call alone, then the others in one group")
	assert.Len(t, groups[1], writers-1)
	assert.Contains(t, groups[1], "boom")
	for k, o := range out {
		if k == 3 {
			assert.Equal(t, "boom", o.panicked)
			continue
		}
		assert.Nil(t, o.panicked, "call %d", k)
		assert.NoError(t, o.err, "call %d", k)
	}
	n, err := r.Count(WithPrincipal(context.Background(), "p"), Filter{Namespace: "ns"})
	require.NoError(t, err)
	assert.Equal(t, writers-1, n)
	require.NoError(t, r.Check())
}
