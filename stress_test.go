package registry_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// The concurrency stress test: writers mix every kind of delete and
// restore with registrations, updates, lineage, deployments, purges, resets
// and client-token retries, while readers check, one read call at a time,
// that they never see half of a transaction.
//
// The registry holds three worlds, each built so that every write keeps an
// invariant that one read call can check, and that half of a transaction
// would break:
//
//   - namespace "v", version groups: name g<j> has stressVSize(j) versions,
//     registered by one RegisterBatch and deleted only by cascades whose
//     limit covers them all (soft or hard, any lineage policy, atomic or
//     not, dry or not, by ID or FQN), by Purge and by Reset. One List of the
//     namespace must show each group whole or absent, its versions all live
//     or all deleted, with one revision, one update time, one delete
//     operation. A cascade seen with some versions gone is half a
//     transaction.
//   - namespace "t", containment trees: t<j> contains t<j>-0 and t<j>-1,
//     each of which contains two leaves. Trees are registered whole by
//     RegisterBatch, or node by node, and take every kind of delete
//     (single, recursive, hard, atomic, partial, dry), restore, deploy and
//     update. One List must show no node without its parent, no live node
//     under a deleted one, and every node that an atomic recursive soft
//     delete took (its reason names the root) deleted by the same operation
//     as that root: a restore or a delete seen half done breaks it.
//   - namespace "l", lineage worlds: a dataset, three model versions and a
//     code artifact, linked and unlinked at random, deleted with every
//     lineage policy. One Lineage read must show edges only between the
//     artifacts it shows, no cycle, and no artifact listing as a deleted
//     upstream one the same read still shows.
//
// Readers also run Check (one snapshot) and follow the audit log and a
// subscription: an operation's events are contiguous and numbered without
// gaps. Writers check each Result and that what a hard delete removed stays
// gone. At the end every storage URI ever stored is either still referenced
// or was cleaned, never both, and Check passes.
//
// Set REGISTRY_STRESS_SEED to replay the writers' choices of a failed run
// (the interleaving differs from run to run).

const (
	stressVGroups  = 6
	stressTrees    = 6
	stressLWorlds  = 4
	stressWriters  = 6
	stressReaders  = 3
	stressWriteOps = 500 // per writer
	stressTokenTTL = 2 * time.Hour
	stressProtect  = 20 * time.Minute
	stressAuditLog = 1 << 15
	stressMaxFails = 40 // violations kept for the report
)

// stressVSize is the number of versions of group j: 2 to 6.
func stressVSize(j int) int { return 2 + j%5 }

// stressTreeNodes are the name suffixes of a tree, parents first.
var stressTreeNodes = []string{"", "-0", "-1", "-0-0", "-0-1", "-1-0", "-1-1"}

// stressTreeParent returns the name of a tree node's parent, "" for a root.
func stressTreeParent(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// stressRatomic is the reason prefix of an atomic recursive soft delete;
// the root's ID follows it.
const stressRatomic = "ratomic:"

// stressIntern is refused hard deletes, deployments and resets.
const stressIntern = "intern"

var stressPrincipals = []string{"admin", "alice"}

func stressSeed(t *testing.T) uint64 {
	if s := os.Getenv("REGISTRY_STRESS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "REGISTRY_STRESS_SEED")
		return n
	}
	return 20260102
}

// stressCleaner fails the first attempt on a third of the URIs, panics on
// the first attempt on a tenth, and records what it cleaned.
type stressCleaner struct {
	mu       sync.Mutex
	attempts map[string]int
	cleaned  map[string]bool
}

func (c *stressCleaner) Clean(_ context.Context, uri string) error {
	h := fnv.New32a()
	h.Write([]byte(uri))
	c.mu.Lock()
	c.attempts[uri]++
	first := c.attempts[uri] == 1
	c.mu.Unlock()
	switch {
	case first && h.Sum32()%10 == 0:
		panic("stress cleaner: flaky storage")
	case first && h.Sum32()%3 == 0:
		return errors.New("stress cleaner: storage unavailable")
	}
	c.mu.Lock()
	c.cleaned[uri] = true
	c.mu.Unlock()
	return nil
}

type stressRun struct {
	t       *testing.T
	f       *registrytest.Fixture
	seed    uint64
	cleaner *stressCleaner
	uriGen  atomic.Int64
	// uris holds every storage URI a committed call stored.
	uris sync.Map
	done atomic.Bool

	mu    sync.Mutex
	fails []string
	nfail int
	stats map[string]int // "op code" -> count
}

func (s *stressRun) failf(who, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nfail++
	if len(s.fails) < stressMaxFails {
		s.fails = append(s.fails, who+": "+fmt.Sprintf(format, args...))
	}
}

func (s *stressRun) count(op, outcome string) {
	s.mu.Lock()
	s.stats[op+" "+outcome]++
	s.mu.Unlock()
}

func (s *stressRun) uri(kind string) string {
	return fmt.Sprintf("s3://stress/%s/%d", kind, s.uriGen.Add(1))
}

func (s *stressRun) stored(as ...registry.Artifact) {
	for _, a := range as {
		for _, u := range a.StorageURIs {
			s.uris.Store(u, true)
		}
	}
}

// outcome records the result of a call that may fail only with one of the
// allowed codes, and reports whether it succeeded.
func (s *stressRun) outcome(who, op string, err error, allowed ...string) bool {
	if err == nil {
		s.count(op, "ok")
		return true
	}
	var e *registry.Error
	if !errors.As(err, &e) {
		s.failf(who, "%s: error %v (%T) is not a *registry.Error", op, err, err)
		return false
	}
	if !slices.Contains(allowed, e.Code) {
		s.failf(who, "%s: unexpected %s: %v", op, e.Code, err)
	}
	s.count(op, e.Code)
	return false
}

func TestStressReadersNeverSeeHalfATransaction(t *testing.T) {
	seed := stressSeed(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("writers' choices came from seed %d; rerun with REGISTRY_STRESS_SEED=%d", seed, seed)
		}
	})
	cleaner := &stressCleaner{attempts: map[string]int{}, cleaned: map[string]bool{}}
	authz := registry.AuthorizerFunc(func(_ context.Context, p string, a registry.Action, _ registry.Artifact) error {
		if p == stressIntern && (a == registry.ActionHardDelete || a == registry.ActionDeploy || a == registry.ActionReset) {
			return errors.New("interns may not")
		}
		return nil
	})
	f := registrytest.NewEmpty(t, registry.WithAuthorizer(authz), registry.WithCleaner(cleaner),
		registry.WithTokenTTL(stressTokenTTL), registry.WithPurgeProtection(stressProtect), registry.WithAuditLogSize(stressAuditLog))
	s := &stressRun{t: t, f: f, seed: seed, cleaner: cleaner, stats: map[string]int{}}

	setup := &stressWriter{s: s, id: -1, rnd: rand.New(rand.NewPCG(seed, 1<<32)), ctx: f.Ctx}
	for j := 0; j < stressVGroups; j++ {
		setup.vCreate(j)
	}
	for j := 0; j < stressTrees; j++ {
		setup.tCreate(j)
	}
	for j := 0; j < stressLWorlds; j++ {
		setup.lCreate(j)
	}
	s.requireNoFails("setup")
	require.NoError(t, f.Check())

	sub, err := f.Subscribe(4096)
	require.NoError(t, err)
	var wg, readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		s.follow(sub)
	}()
	for i := 0; i < stressReaders; i++ {
		readers.Add(1)
		go func(i int) {
			defer readers.Done()
			r := &stressReader{s: s, id: i, rnd: rand.New(rand.NewPCG(seed, uint64(1000+i)))}
			r.run()
		}(i)
	}
	for i := 0; i < stressWriters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			w := &stressWriter{s: s, id: i, rnd: rand.New(rand.NewPCG(seed, uint64(i)))}
			for n := 0; n < stressWriteOps && !s.tooManyFails(); n++ {
				w.n = n
				w.step()
			}
		}(i)
	}
	wg.Wait()
	s.done.Store(true)
	sub.Close()
	readers.Wait()

	s.finish()
	keys := make([]string, 0, len(s.stats))
	for k := range s.stats {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, s.stats[k])
	}
	t.Logf("outcomes: %s", b.String())
	groups, calls, largest := registry.GroupStats(f.Registry)
	t.Logf("registrations: %d calls in %d groups, at most %d in one", calls, groups, largest)
	require.GreaterOrEqual(t, calls, int64(s.stats["v-create ok"]+s.stats["t-create ok"]+s.stats["t-add ok"]))
	s.requireNoFails("stress")
	// Every kind of change must have happened, or the test proved nothing.
	for _, op := range []string{"v-create", "v-cascade-soft", "v-cascade-hard", "t-create", "t-delete-soft-recursive-atomic",
		"t-delete-soft-recursive-partial", "t-delete-hard", "t-delete-soft", "t-restore", "t-add", "l-link", "l-unlink",
		"l-delete-hard", "l-delete-soft", "l-restore", "purge-took", "deploy", "undeploy", "update", "token-replay"} {
		require.Positive(t, s.stats[op+" ok"], "no %s succeeded", op)
	}
	require.NoError(t, f.Check())
}

func (s *stressRun) requireNoFails(phase string) {
	s.t.Helper()
	if s.nfail > 0 {
		s.t.Fatalf("%s: %d violations, the first %d:\n%s", phase, s.nfail, len(s.fails), strings.Join(s.fails, "\n"))
	}
}

func (s *stressRun) tooManyFails() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nfail >= stressMaxFails
}

// finish settles the storage cleanups and checks that no URI was lost or
// cleaned while still referenced.
func (s *stressRun) finish() {
	t, ctx := s.t, s.f.Ctx
	for i := 0; i < 3; i++ {
		if _, err := s.f.RetryCleanups(ctx); err != nil {
			s.failf("finish", "RetryCleanups: %v", err)
		}
	}
	pending, err := s.f.PendingCleanups(ctx)
	require.NoError(t, err)
	if len(pending) > 0 {
		s.failf("finish", "%d cleanups still pending after three retries, the first %+v", len(pending), pending[0])
	}
	referenced := map[string]bool{}
	filter := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		page, err := s.f.List(ctx, filter)
		require.NoError(t, err)
		for _, a := range page.Items {
			for _, u := range a.StorageURIs {
				referenced[u] = true
			}
		}
		if page.Next == "" {
			break
		}
		filter.Cursor = page.Next
	}
	s.cleaner.mu.Lock()
	defer s.cleaner.mu.Unlock()
	s.uris.Range(func(k, _ any) bool {
		u := k.(string)
		switch {
		case referenced[u] && s.cleaner.cleaned[u]:
			s.failf("finish", "storage URI %s was cleaned but an artifact still references it", u)
		case !referenced[u] && !s.cleaner.cleaned[u]:
			s.failf("finish", "storage URI %s lost its artifact and was never cleaned (orphaned)", u)
		}
		return true
	})
}

// stressWriter makes random changes. Its choices depend only on its seed.
type stressWriter struct {
	s   *stressRun
	id  int
	n   int
	rnd *rand.Rand
	ctx context.Context
}

func (w *stressWriter) who() string { return fmt.Sprintf("writer %d op %d", w.id, w.n) }

func (w *stressWriter) pick(n int) int { return w.rnd.IntN(n) }

func (w *stressWriter) chance(p float64) bool { return w.rnd.Float64() < p }

func (w *stressWriter) step() {
	principal := stressPrincipals[w.pick(2)]
	if w.chance(0.15) {
		principal = stressIntern
	}
	w.ctx = registry.WithPrincipal(context.Background(), principal)
	if w.id == 0 && w.n == stressWriteOps/2 {
		w.ctx = registry.WithPrincipal(context.Background(), "admin")
	}
	if w.id == 0 && w.n == stressWriteOps/2 || w.pick(2000) == 0 {
		// Reset, the artifact-registry seed's DELETE /reset: every world
		// is gone at once, and the writers build them again.
		err := w.s.f.Reset(w.ctx)
		w.s.outcome(w.who(), "reset", err, registry.CodeForbidden)
		return
	}
	switch r := w.pick(100); {
	case r < 4:
		w.s.f.Clock.Advance(time.Duration(1+w.pick(40)) * time.Minute)
	case r < 10:
		w.vCreate(w.pick(stressVGroups))
	case r < 22:
		w.vCascade(w.pick(stressVGroups))
	case r < 26:
		w.tCreate(w.pick(stressTrees))
	case r < 31:
		w.tAdd(w.pick(stressTrees))
	case r < 47:
		w.tDelete(w.pick(stressTrees))
	case r < 54:
		w.tRestore(w.pick(stressTrees))
	case r < 58:
		w.deploy("t", w.pick(stressTrees))
	case r < 60:
		w.update("t", w.pick(stressTrees))
	case r < 66:
		w.lLink(w.pick(stressLWorlds))
	case r < 69:
		w.lUnlink(w.pick(stressLWorlds))
	case r < 79:
		w.lDelete(w.pick(stressLWorlds))
	case r < 84:
		w.lRestore(w.pick(stressLWorlds))
	case r < 88:
		w.lCreate(w.pick(stressLWorlds))
	case r < 91:
		w.deploy("l", w.pick(stressLWorlds))
	case r < 93:
		w.update("l", w.pick(stressLWorlds))
	case r < 97:
		w.purge()
	default:
		if _, err := w.s.f.RetryCleanups(w.ctx); err != nil {
			w.s.failf(w.who(), "RetryCleanups: %v", err)
		}
	}
}

// world lists the artifacts of one world, in any state, from one read.
func (w *stressWriter) world(ns string, j int) []registry.Artifact {
	page, err := w.s.f.List(w.ctx, registry.Filter{Namespace: ns, Include: registry.IncludeAll, Limit: 1000})
	if err != nil {
		w.s.failf(w.who(), "List %s: %v", ns, err)
		return nil
	}
	var out []registry.Artifact
	for _, a := range page.Items {
		if stressWorldOf(a.Name) == j {
			out = append(out, a)
		}
	}
	return out
}

// stressWorldOf returns the j of a name g<j>, t<j>..., l<j>-...
func stressWorldOf(name string) int {
	end := 1
	for end < len(name) && name[end] >= '0' && name[end] <= '9' {
		end++
	}
	j, err := strconv.Atoi(name[1:end])
	if err != nil {
		return -1
	}
	return j
}

func (w *stressWriter) randomOf(as []registry.Artifact, keep func(registry.Artifact) bool) (registry.Artifact, bool) {
	var c []registry.Artifact
	for _, a := range as {
		if keep == nil || keep(a) {
			c = append(c, a)
		}
	}
	if len(c) == 0 {
		return registry.Artifact{}, false
	}
	return c[w.pick(len(c))], true
}

func (w *stressWriter) token() string {
	if !w.chance(0.4) {
		return ""
	}
	return fmt.Sprintf("w%d-n%d-s%d", w.id, w.n, w.s.seed%1000)
}

func (w *stressWriter) reason() string {
	return []string{"", "superseded", "cleanup", "gdpr"}[w.pick(4)]
}

func (w *stressWriter) policy() registry.LineagePolicy { return registry.LineagePolicy(w.pick(3)) }

// stressDelete is one delete request, by ID or by FQN.
type stressDelete struct {
	id, fqn string
	o       registry.DeleteOptions
}

func (w *stressWriter) do(d stressDelete) (registry.Result, error) {
	if d.fqn != "" {
		return w.s.f.DeleteByFQN(w.ctx, d.fqn, d.o)
	}
	return w.s.f.Delete(w.ctx, d.id, d.o)
}

// delete runs d, checks its result, and sometimes retries it with its
// token, or reuses the token for another request.
func (w *stressWriter) delete(op string, d stressDelete, allowed ...string) (registry.Result, bool) {
	res, err := w.do(d)
	allowed = append(allowed, registry.CodeNotFound, registry.CodeForbidden, registry.CodeIdempotencyMismatch)
	ok := w.s.outcome(w.who(), op, err, allowed...)
	w.checkResult(op, d.o, res, err)
	if ok && !d.o.DryRun && d.o.Hard {
		w.goneForGood(op, res)
	}
	if d.o.ClientToken == "" {
		return res, ok
	}
	switch {
	case w.chance(0.5):
		again, err2 := w.do(d)
		w.s.outcome(w.who(), op+" retry", err2, allowed...)
		w.checkResult(op+" retry", d.o, again, err2)
		if ok && err2 == nil && again.Replayed {
			w.s.count("token-replay", "ok")
			first, second := res, again
			first.Replayed, second.Replayed = false, false
			if fmt.Sprint(first) != fmt.Sprint(second) {
				w.s.failf(w.who(), "%s: replay %+v differs from the first result %+v", op, again, res)
			}
		}
	case w.chance(0.2):
		// The same token for a request with a larger cascade limit (or
		// another reason, without Cascade: a prefix, so the
		// atomic marker is not matched), which keeps every invariant if
		// the token has expired meanwhile.
		other := d
		if d.o.Cascade {
			limit := d.o.CascadeLimit
			if limit == 0 {
				limit = registry.DefaultCascadeLimit
			}
			other.o.CascadeLimit = limit + 1
		} else {
			other.o.Reason = "again: " + d.o.Reason
		}
		_, err2 := w.do(other)
		w.s.outcome(w.who(), op+" mismatch", err2, allowed...)
	}
	return res, ok
}

// checkResult checks what every Result promises.
func (w *stressWriter) checkResult(op string, o registry.DeleteOptions, res registry.Result, err error) {
	if err != nil {
		return
	}
	seen := map[string]string{}
	note := func(id, list string) {
		if prev, dup := seen[id]; dup {
			w.s.failf(w.who(), "%s: %s is in %s and in %s: %+v", op, id, prev, list, res)
		}
		seen[id] = list
	}
	for _, id := range res.Deleted {
		note(id, "Deleted")
	}
	for _, f := range res.Failed {
		note(f.ID, "Failed")
		if registry.ErrorCode(f.Err()) != f.Code || f.Code == "" || f.Message == "" {
			w.s.failf(w.who(), "%s: failure %+v has no proper code", op, f)
		}
	}
	for _, id := range res.Skipped {
		note(id, "Skipped")
	}
	if (len(res.Skipped) > 0) != (res.SkipReason != "") {
		w.s.failf(w.who(), "%s: skipped %v with reason %q", op, res.Skipped, res.SkipReason)
	}
	if res.Operation == "" || res.Hard != o.Hard {
		w.s.failf(w.who(), "%s: result %+v does not match the request %+v", op, res, o)
	}
	if !res.Replayed && res.DryRun != o.DryRun {
		w.s.failf(w.who(), "%s: DryRun %t in the result of a request with DryRun %t", op, res.DryRun, o.DryRun)
	}
	if o.Atomic && len(res.Failed) > 0 {
		w.s.failf(w.who(), "%s: an atomic delete succeeded with failures %+v", op, res.Failed)
	}
}

// goneForGood checks that what a hard delete removed is gone, and that
// each artifact it detached, if it is still there, says so. IDs are never
// reused, so this holds however the writers interleave.
func (w *stressWriter) goneForGood(op string, res registry.Result) {
	for _, id := range res.Deleted {
		if a, err := w.s.f.Get(w.ctx, id, registry.IncludeAll); !errors.Is(err, registry.ErrNotFound) {
			w.s.failf(w.who(), "%s: hard-deleted %s is still readable: %+v, %v", op, id, a, err)
		}
	}
	for _, id := range res.Detached {
		a, err := w.s.f.Get(w.ctx, id, registry.IncludeAll)
		if err != nil {
			continue
		}
		lost := false
		for _, u := range a.DeletedUpstreams {
			lost = lost || slices.Contains(res.Deleted, u)
		}
		if !lost {
			w.s.failf(w.who(), "%s: detached %s does not list a deleted upstream of %v: %v", op, id, res.Deleted, a.DeletedUpstreams)
		}
	}
}

// vCreate registers every version of group j in one batch and links each
// to the next.
func (w *stressWriter) vCreate(j int) {
	n := stressVSize(j)
	batch := make([]registry.Artifact, n)
	for i := range batch {
		batch[i] = registry.Artifact{Kind: registry.KindModel, Namespace: "v", Name: fmt.Sprintf("g%d", j), Version: strconv.Itoa(i + 1),
			StorageURIs: []string{w.s.uri("v")}}
	}
	out, err := w.s.f.RegisterBatch(w.ctx, batch)
	if !w.s.outcome(w.who(), "v-create", err, registry.CodeAlreadyExists) {
		return
	}
	w.s.stored(out...)
	for i := 1; i < n; i++ {
		err := w.s.f.Link(w.ctx, out[i-1].ID, out[i].ID)
		w.s.outcome(w.who(), "v-link", err, registry.CodeNotFound)
	}
}

// vCascade deletes all of group j with one cascade whose limit covers it.
func (w *stressWriter) vCascade(j int) {
	n := stressVSize(j)
	d := stressDelete{o: registry.DeleteOptions{Cascade: true, CascadeLimit: []int{0, n, n + 3}[w.pick(3)],
		Hard: w.chance(0.4), Lineage: w.policy(), Atomic: w.chance(0.5), DryRun: w.chance(0.15),
		ClientToken: w.token(), Reason: w.reason()}}
	version := strconv.Itoa(1 + w.pick(n))
	if w.chance(0.5) {
		d.fqn = registry.BuildFQN("v", fmt.Sprintf("g%d", j), version)
	} else {
		a, err := w.s.f.GetVersion(w.ctx, "v", fmt.Sprintf("g%d", j), version, registry.IncludeAll)
		if err != nil {
			w.s.outcome(w.who(), "v-get", err, registry.CodeNotFound)
			return
		}
		d.id = a.ID
	}
	op := "v-cascade-soft"
	if d.o.Hard {
		op = "v-cascade-hard"
	}
	if d.o.DryRun {
		op += "-dry"
	}
	res, _ := w.delete(op, d, registry.CodePurgeProtected)
	if why := w.wholeGroup(n, res); why != "" && !res.Replayed {
		w.s.failf(w.who(), "%s of group g%d: %s: %+v", op, j, why, res)
	}
}

// wholeGroup checks that a cascade over a group took all of it or failed
// for all of it.
func (w *stressWriter) wholeGroup(n int, res registry.Result) string {
	if res.Operation == "" || len(res.Deleted)+len(res.Failed) == 0 {
		return ""
	}
	switch {
	case len(res.Skipped) > 0:
		return "versions were skipped under a limit that covers them all"
	case len(res.Deleted)+len(res.Failed) != n:
		return fmt.Sprintf("the cascade took %d of %d versions", len(res.Deleted)+len(res.Failed), n)
	case len(res.Deleted) > 0 && len(res.Failed) > 0:
		return "some versions were deleted and others failed"
	}
	return ""
}

// tCreate registers tree j whole, parents first, in one batch.
func (w *stressWriter) tCreate(j int) {
	shared := w.s.uri("t-shared")
	ids := map[string]string{}
	batch := make([]registry.Artifact, len(stressTreeNodes))
	for i, suffix := range stressTreeNodes {
		name := fmt.Sprintf("t%d%s", j, suffix)
		ids[name] = uuid.NewString()
		batch[i] = registry.Artifact{ID: ids[name], Kind: registry.KindModel, Namespace: "t", Name: name, Version: "1",
			Parent: ids[stressTreeParent(name)], StorageURIs: []string{w.s.uri("t"), shared}}
	}
	out, err := w.s.f.RegisterBatch(w.ctx, batch)
	if w.s.outcome(w.who(), "t-create", err, registry.CodeAlreadyExists) {
		w.s.stored(out...)
	}
}

// tAdd registers one missing node of tree j under its live parent.
func (w *stressWriter) tAdd(j int) {
	nodes := w.world("t", j)
	have := map[string]registry.Artifact{}
	for _, a := range nodes {
		have[a.Name] = a
	}
	var missing []string
	for _, suffix := range stressTreeNodes {
		name := fmt.Sprintf("t%d%s", j, suffix)
		p, ok := have[stressTreeParent(name)]
		if _, there := have[name]; !there && (suffix == "" || ok && !p.Deleted) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	name := missing[w.pick(len(missing))]
	a := registry.Artifact{Kind: registry.KindModel, Namespace: "t", Name: name, Version: "1",
		Parent: have[stressTreeParent(name)].ID, StorageURIs: []string{w.s.uri("t")}}
	out, err := w.s.f.Register(w.ctx, a)
	// The parent may have gone since the read: ErrInvalid names it.
	if w.s.outcome(w.who(), "t-add", err, registry.CodeAlreadyExists, registry.CodeInvalid) {
		w.s.stored(out)
	} else if e := (*registry.Error)(nil); errors.As(err, &e) && e.Code == registry.CodeInvalid && e.Field != "parent" {
		w.s.failf(w.who(), "t-add: invalid %s: %v", e.Field, err)
	}
}

// tDelete deletes a node of tree j in any mode.
func (w *stressWriter) tDelete(j int) {
	a, ok := w.randomOf(w.world("t", j), nil)
	if !ok {
		return
	}
	d := stressDelete{id: a.ID, o: registry.DeleteOptions{Hard: w.chance(0.3), Recursive: w.chance(0.6), Atomic: w.chance(0.5),
		DryRun: w.chance(0.15), Cascade: w.chance(0.1), Lineage: w.policy(), ClientToken: w.token(), Reason: w.reason()}}
	d.o = applicable(d.o)
	op := "t-delete-soft"
	switch {
	case d.o.Hard:
		op = "t-delete-hard"
	case d.o.Recursive && d.o.Atomic:
		op = "t-delete-soft-recursive-atomic"
		d.o.Reason = stressRatomic + a.ID
	case d.o.Recursive:
		op = "t-delete-soft-recursive-partial"
		d.o.Reason = "rpartial:" + a.ID
	default:
		if w.chance(0.5) {
			d.id, d.fqn = "", a.FQN()
		}
	}
	if d.o.DryRun {
		op += "-dry"
	}
	w.delete(op, d, registry.CodeNotEmpty, registry.CodeDeployed, registry.CodePurgeProtected)
}

// tRestore restores a deleted node of tree j.
func (w *stressWriter) tRestore(j int) { w.restore("t-restore", "t", j) }

func (w *stressWriter) restore(op, ns string, j int) {
	a, ok := w.randomOf(w.world(ns, j), func(a registry.Artifact) bool { return a.Deleted })
	if !ok {
		return
	}
	o := registry.RestoreOptions{ClientToken: w.token(), Reason: w.reason()}
	byFQN := w.chance(0.5)
	call := func() (registry.Artifact, error) {
		if byFQN {
			return w.s.f.RestoreByFQN(w.ctx, a.FQN(), o)
		}
		return w.s.f.Restore(w.ctx, a.ID, o)
	}
	allowed := []string{registry.CodeNotFound, registry.CodeNotDeleted, registry.CodeParentDeleted, registry.CodeIdempotencyMismatch}
	from := w.s.f.Clock.Now()
	got, err := call()
	if w.s.outcome(w.who(), op, err, allowed...) && got.Deleted {
		w.s.failf(w.who(), "%s: restored %s is still deleted", op, got.ID)
	}
	if o.ClientToken == "" || err != nil || !w.chance(0.5) {
		return
	}
	again, err2 := call()
	w.s.outcome(w.who(), op+" retry", err2, allowed...)
	if w.s.f.Clock.Now().Sub(from) >= stressTokenTTL {
		return // the token may have expired in between
	}
	// The token is live, whatever happened to its target, unless a Reset
	// forgot it (and the artifact) in between.
	switch _, gerr := w.s.f.Get(w.ctx, got.ID, registry.IncludeAll); {
	case errors.Is(gerr, registry.ErrNotFound):
	case err2 != nil:
		w.s.failf(w.who(), "%s: a retry with a live token failed: %v", op, err2)
	case again.ID != got.ID || again.Revision != got.Revision || !again.UpdatedAt.Equal(got.UpdatedAt):
		w.s.failf(w.who(), "%s: a retry with a live token returned %s r%d at %v, the first call %s r%d at %v (token %s, clock %v to %v)",
			op, again.ID, again.Revision, again.UpdatedAt, got.ID, got.Revision, got.UpdatedAt, o.ClientToken, from, w.s.f.Clock.Now())
	default:
		w.s.count("token-replay", "ok")
	}
}

// stressLWorld lists the artifacts of lineage world j.
func stressLWorld(j int) []registry.Artifact {
	ns := "l"
	return []registry.Artifact{
		{Kind: registry.KindDataset, Namespace: ns, Name: fmt.Sprintf("l%d-data", j), Version: "1"},
		{Kind: registry.KindModel, Namespace: ns, Name: fmt.Sprintf("l%d-model", j), Version: "1"},
		{Kind: registry.KindModel, Namespace: ns, Name: fmt.Sprintf("l%d-model", j), Version: "2"},
		{Kind: registry.KindModel, Namespace: ns, Name: fmt.Sprintf("l%d-model", j), Version: "3"},
		{Kind: registry.KindCode, Namespace: ns, Name: fmt.Sprintf("l%d-code", j)},
	}
}

// lCreate registers the missing artifacts of lineage world j, one by one,
// and, for a whole new world, links data -> model 1 -> 2 -> 3, code -> 1.
func (w *stressWriter) lCreate(j int) {
	var made []registry.Artifact
	for _, a := range stressLWorld(j) {
		a.StorageURIs = []string{w.s.uri("l")}
		out, err := w.s.f.Register(w.ctx, a)
		if w.s.outcome(w.who(), "l-create", err, registry.CodeAlreadyExists) {
			w.s.stored(out)
			made = append(made, out)
		}
	}
	if len(made) == 5 {
		// Other writers may link the new artifacts first.
		for _, e := range [][2]int{{0, 1}, {1, 2}, {2, 3}, {4, 1}} {
			err := w.s.f.Link(w.ctx, made[e[0]].ID, made[e[1]].ID)
			w.s.outcome(w.who(), "l-create-link", err, registry.CodeNotFound, registry.CodeAlreadyExists, registry.CodeInvalid)
		}
	}
}

func (w *stressWriter) lLink(j int) {
	as := w.world("l", j)
	up, ok1 := w.randomOf(as, nil)
	down, ok2 := w.randomOf(as, nil)
	if !ok1 || !ok2 {
		return
	}
	err := w.s.f.Link(w.ctx, up.ID, down.ID)
	// A cycle (or a self link) is ErrInvalid on the downstream.
	w.s.outcome(w.who(), "l-link", err, registry.CodeNotFound, registry.CodeAlreadyExists, registry.CodeInvalid)
	if e := (*registry.Error)(nil); errors.As(err, &e) && e.Code == registry.CodeInvalid && e.Field != "downstream" {
		w.s.failf(w.who(), "l-link: invalid %s: %v", e.Field, err)
	}
}

func (w *stressWriter) lUnlink(j int) {
	a, ok := w.randomOf(w.world("l", j), nil)
	if !ok {
		return
	}
	g, err := w.s.f.Lineage(w.ctx, a.ID, registry.Both, 1, registry.IncludeAll)
	if err != nil || len(g.Edges) == 0 {
		w.s.outcome(w.who(), "l-walk", err, registry.CodeNotFound)
		return
	}
	e := g.Edges[w.pick(len(g.Edges))]
	err = w.s.f.Unlink(w.ctx, e.Upstream, e.Downstream)
	w.s.outcome(w.who(), "l-unlink", err, registry.CodeNotFound)
}

func (w *stressWriter) lDelete(j int) {
	a, ok := w.randomOf(w.world("l", j), nil)
	if !ok {
		return
	}
	d := stressDelete{id: a.ID, o: registry.DeleteOptions{Hard: w.chance(0.5), Cascade: w.chance(0.3), CascadeLimit: w.pick(5),
		Lineage: w.policy(), Atomic: w.chance(0.4), DryRun: w.chance(0.15), ClientToken: w.token(), Reason: w.reason()}}
	d.o = applicable(d.o)
	if w.chance(0.3) {
		d.id, d.fqn = "", a.FQN()
	}
	op := "l-delete-soft"
	if d.o.Hard {
		op = "l-delete-hard"
	}
	if d.o.DryRun {
		op += "-dry"
	}
	w.delete(op, d, registry.CodeDeployed, registry.CodeHasDependents, registry.CodePurgeProtected)
}

func (w *stressWriter) lRestore(j int) { w.restore("l-restore", "l", j) }

func (w *stressWriter) deploy(ns string, j int) {
	a, ok := w.randomOf(w.world(ns, j), func(a registry.Artifact) bool { return !a.Deleted })
	if !ok {
		return
	}
	if len(a.Endpoints) > 0 && w.chance(0.75) {
		err := w.s.f.Undeploy(w.ctx, a.ID, a.Endpoints[w.pick(len(a.Endpoints))])
		w.s.outcome(w.who(), "undeploy", err, registry.CodeNotFound, registry.CodeForbidden)
		return
	}
	err := w.s.f.Deploy(w.ctx, a.ID, fmt.Sprintf("ep-%d", w.pick(3)))
	w.s.outcome(w.who(), "deploy", err, registry.CodeNotFound, registry.CodeForbidden)
}

// update gives a live artifact new metadata and all-new storage URIs, so
// that no URI is ever stored again after its cleanup.
func (w *stressWriter) update(ns string, j int) {
	a, ok := w.randomOf(w.world(ns, j), func(a registry.Artifact) bool { return !a.Deleted })
	if !ok {
		return
	}
	a.Tags = []string{fmt.Sprintf("tag-%d", w.pick(5))}
	a.Labels = map[string]string{"writer": strconv.Itoa(w.id)}
	a.StorageURIs = []string{w.s.uri(ns + "-updated")}
	out, err := w.s.f.Update(w.ctx, a)
	if w.s.outcome(w.who(), "update", err, registry.CodeNotFound) {
		w.s.stored(out)
	}
}

func (w *stressWriter) purge() {
	age := []time.Duration{0, 10 * time.Minute, time.Hour, 3 * time.Hour}[w.pick(4)]
	o := registry.PurgeOptions{Lineage: w.policy(), DryRun: w.chance(0.3), Reason: w.reason()}
	res, err := w.s.f.Purge(w.ctx, age, o)
	op := "purge"
	if o.DryRun {
		op += "-dry"
	}
	if w.s.outcome(w.who(), op, err) {
		w.checkResult(op, registry.DeleteOptions{Hard: true, DryRun: o.DryRun}, res, nil)
		if !o.DryRun {
			w.goneForGood(op, res)
			if len(res.Deleted) > 0 {
				w.s.count("purge-took", "ok")
			}
		}
	}
}

// stressReader checks invariants, one read call at a time.
type stressReader struct {
	s   *stressRun
	id  int
	rnd *rand.Rand
	ctx context.Context

	// The audit log, followed page by page.
	after   uint64
	lastOp  string
	doneOps map[string]bool
}

func (r *stressReader) who(what string) string { return fmt.Sprintf("reader %d %s", r.id, what) }

func (r *stressReader) run() {
	r.ctx = context.Background()
	r.doneOps = map[string]bool{}
	for n := 0; !r.s.done.Load() || n < 10; n++ {
		if r.s.tooManyFails() {
			return
		}
		switch n % 8 {
		case 0, 4:
			r.versions()
		case 1, 5:
			r.trees()
		case 2, 6:
			r.lineage()
		case 3:
			r.events()
		case 7:
			r.pending()
			if n%24 == 7 {
				if err := r.s.f.Check(); err != nil {
					r.s.failf(r.who("Check"), "%v", err)
				}
			}
		}
	}
}

// sane checks what every artifact read promises about itself.
func (r *stressReader) sane(what string, a registry.Artifact) {
	switch {
	case a.Deleted != !a.DeletedAt.IsZero() || a.Deleted != (a.DeleteOperation != ""):
		r.s.failf(r.who(what), "%s deleted=%t but deletedAt=%v operation=%q", a.FQN(), a.Deleted, a.DeletedAt, a.DeleteOperation)
	case a.Deleted && a.IsDeployed():
		r.s.failf(r.who(what), "%s is deleted and deployed to %v", a.FQN(), a.Endpoints)
	case a.Revision < 1 || a.UpdatedAt.Before(a.CreatedAt):
		r.s.failf(r.who(what), "%s has revision %d, created %v, updated %v", a.FQN(), a.Revision, a.CreatedAt, a.UpdatedAt)
	}
}

func (r *stressReader) include() registry.Include {
	return []registry.Include{registry.IncludeAll, registry.IncludeDeleted, registry.IncludeNonDeleted}[r.rnd.IntN(3)]
}

// versions checks, in one List, that every group is whole or absent and
// changed as one.
func (r *stressReader) versions() {
	inc := r.include()
	f := registry.Filter{Namespace: "v", Include: inc, Limit: 1000}
	if r.rnd.IntN(2) == 0 {
		f.Name = fmt.Sprintf("g%d", r.rnd.IntN(stressVGroups))
	}
	page, err := r.s.f.List(r.ctx, f)
	if err != nil || page.Next != "" {
		r.s.failf(r.who("versions"), "List: %v, next %q", err, page.Next)
		return
	}
	groups := map[string][]registry.Artifact{}
	for _, a := range page.Items {
		r.sane("versions", a)
		groups[a.Name] = append(groups[a.Name], a)
	}
	for name, vs := range groups {
		n := stressVSize(stressWorldOf(name))
		first := vs[0]
		if len(vs) != n {
			r.s.failf(r.who("versions"), "include %s shows %d of the %d versions of %s: half a transaction", inc, len(vs), n, name)
			continue
		}
		for i, a := range vs {
			if a.Version != strconv.Itoa(i+1) {
				r.s.failf(r.who("versions"), "%s: version %q at %d", name, a.Version, i)
			}
			if a.Deleted != first.Deleted || a.Revision != first.Revision || !a.UpdatedAt.Equal(first.UpdatedAt) ||
				!a.CreatedAt.Equal(first.CreatedAt) || a.DeleteOperation != first.DeleteOperation || !a.DeletedAt.Equal(first.DeletedAt) {
				r.s.failf(r.who("versions"), "%s versions changed apart: %s deleted=%t r%d op=%q, %s deleted=%t r%d op=%q",
					name, first.Version, first.Deleted, first.Revision, first.DeleteOperation, a.Version, a.Deleted, a.Revision, a.DeleteOperation)
			}
		}
	}
}

// trees checks, in one List of every tree, containment and the atomic
// recursive deletes.
func (r *stressReader) trees() {
	page, err := r.s.f.List(r.ctx, registry.Filter{Namespace: "t", Include: registry.IncludeAll, Limit: 1000})
	if err != nil || page.Next != "" {
		r.s.failf(r.who("trees"), "List: %v, next %q", err, page.Next)
		return
	}
	byName := map[string]registry.Artifact{}
	byID := map[string]registry.Artifact{}
	type deletion struct {
		at            time.Time
		by, reason    string
		firstOfThisOp string
	}
	ops := map[string]deletion{}
	for _, a := range page.Items {
		r.sane("trees", a)
		byName[a.Name] = a
		byID[a.ID] = a
	}
	for _, a := range page.Items {
		pname := stressTreeParent(a.Name)
		p, ok := byName[pname]
		switch {
		case pname == "" && a.Parent != "":
			r.s.failf(r.who("trees"), "root %s has parent %s", a.Name, a.Parent)
		case pname != "" && !ok:
			r.s.failf(r.who("trees"), "%s is there without its parent %s: half a hard delete", a.Name, pname)
		case pname != "" && a.Parent != p.ID:
			r.s.failf(r.who("trees"), "%s has parent %s, not %s's %s", a.Name, a.Parent, pname, p.ID)
		case pname != "" && !a.Deleted && p.Deleted:
			r.s.failf(r.who("trees"), "live %s under deleted %s: half a recursive delete or restore", a.Name, pname)
		}
		if !a.Deleted {
			continue
		}
		if d, seen := ops[a.DeleteOperation]; seen {
			if !d.at.Equal(a.DeletedAt) || d.by != a.DeletedBy || d.reason != a.DeleteReason {
				r.s.failf(r.who("trees"), "operation %s deleted %s and %s differently", a.DeleteOperation, d.firstOfThisOp, a.Name)
			}
		} else {
			ops[a.DeleteOperation] = deletion{a.DeletedAt, a.DeletedBy, a.DeleteReason, a.Name}
		}
		if root, ok := strings.CutPrefix(a.DeleteReason, stressRatomic); ok {
			rt, there := byID[root]
			if !there || !rt.Deleted || rt.DeleteOperation != a.DeleteOperation || !rt.DeletedAt.Equal(a.DeletedAt) {
				r.s.failf(r.who("trees"), "%s was deleted by the atomic recursive delete %s of %s, which shows as present=%t deleted=%t operation=%q: half a transaction",
					a.Name, a.DeleteOperation, root, there, rt.Deleted, rt.DeleteOperation)
			}
		}
	}
}

// lineage checks one Lineage read of a lineage world.
func (r *stressReader) lineage() {
	page, err := r.s.f.List(r.ctx, registry.Filter{Namespace: "l", Include: registry.IncludeAll, Limit: 1000})
	if err != nil || len(page.Items) == 0 {
		return
	}
	start := page.Items[r.rnd.IntN(len(page.Items))]
	inc := r.include()
	g, err := r.s.f.Lineage(r.ctx, start.ID, []registry.Direction{registry.Upstream, registry.Downstream, registry.Both}[r.rnd.IntN(3)],
		1+r.rnd.IntN(5), inc)
	if err != nil {
		if !errors.Is(err, registry.ErrNotFound) {
			r.s.failf(r.who("lineage"), "Lineage: %v", err)
		}
		return
	}
	shown := map[string]registry.Artifact{g.Root.ID: g.Root}
	for _, a := range g.Nodes {
		if _, dup := shown[a.ID]; dup {
			r.s.failf(r.who("lineage"), "%s shown twice", a.FQN())
		}
		shown[a.ID] = a
	}
	for _, a := range shown {
		r.sane("lineage", a)
		if (inc == registry.IncludeDeleted && !a.Deleted) || (inc == registry.IncludeNonDeleted && a.Deleted) {
			r.s.failf(r.who("lineage"), "include %s shows %s deleted=%t", inc, a.FQN(), a.Deleted)
		}
		for _, u := range a.DeletedUpstreams {
			if _, still := shown[u]; still {
				r.s.failf(r.who("lineage"), "%s lists %s as a hard-deleted upstream, and the same read shows it: half a detach", a.FQN(), u)
			}
		}
	}
	out := map[string][]string{}
	edges := map[[2]string]bool{}
	for _, e := range g.Edges {
		_, up := shown[e.Upstream]
		_, down := shown[e.Downstream]
		if !up || !down {
			r.s.failf(r.who("lineage"), "edge %s -> %s touches an artifact the read does not show", e.Upstream, e.Downstream)
		}
		if edges[[2]string{e.Upstream, e.Downstream}] || e.Upstream == e.Downstream {
			r.s.failf(r.who("lineage"), "edge %s -> %s is repeated or a loop", e.Upstream, e.Downstream)
		}
		edges[[2]string{e.Upstream, e.Downstream}] = true
		out[e.Upstream] = append(out[e.Upstream], e.Downstream)
	}
	if cyc := stressCycle(out); cyc != nil {
		r.s.failf(r.who("lineage"), "the edges read have a cycle through %v", cyc)
	}
}

// stressCycle returns a node on a cycle of the graph, or nil.
func stressCycle(out map[string][]string) []string {
	state := map[string]int{} // 0 new, 1 on the path, 2 done
	var path []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = 1
		path = append(path, n)
		for _, d := range out[n] {
			if state[d] == 1 || state[d] == 0 && visit(d) {
				return true
			}
		}
		state[n] = 2
		path = path[:len(path)-1]
		return false
	}
	for n := range out {
		if state[n] == 0 && visit(n) {
			return path
		}
	}
	return nil
}

// events follows the audit log: sequence numbers without gaps, and each
// operation's events contiguous, at one time, by one principal.
func (r *stressReader) events() {
	evs, err := r.s.f.Events(r.ctx, r.after, 1000)
	if err != nil {
		r.s.failf(r.who("events"), "Events: %v", err)
		return
	}
	var prev registry.Event
	for i, e := range evs {
		if e.Seq != r.after+1 {
			r.s.failf(r.who("events"), "event %d has seq %d after %d", i, e.Seq, r.after)
		}
		r.after = e.Seq
		if e.Type == registry.EventMissed {
			r.s.failf(r.who("events"), "the audit log holds a missed event: %+v", e)
		}
		stressContiguous(r.s, r.who("events"), &r.lastOp, r.doneOps, &prev, e)
	}
}

// stressContiguous checks that e continues the operation of prev or starts
// one never seen before.
func stressContiguous(s *stressRun, who string, lastOp *string, done map[string]bool, prev *registry.Event, e registry.Event) {
	if e.Operation == *lastOp {
		if !e.Time.Equal(prev.Time) || e.Principal != prev.Principal {
			s.failf(who, "operation %s has events at %v by %s and at %v by %s", e.Operation, prev.Time, prev.Principal, e.Time, e.Principal)
		}
	} else {
		if done[e.Operation] {
			s.failf(who, "operation %s resumes at seq %d after another operation: its events are not contiguous", e.Operation, e.Seq)
		}
		if *lastOp != "" {
			done[*lastOp] = true
		}
		*lastOp = e.Operation
	}
	*prev = e
}

// follow drains a subscription: sequence numbers without gaps except those
// a missed event accounts for, and each operation contiguous.
func (s *stressRun) follow(sub *registry.Subscription) {
	var last uint64
	defer func() { s.t.Logf("the subscriber followed events up to seq %d (audit log %d)", last, stressAuditLog) }()
	var lastOp string
	var prev registry.Event
	done := map[string]bool{}
	for e := range sub.C {
		if e.Type == registry.EventMissed {
			last += e.Missed
			lastOp, done = "", map[string]bool{} // an operation may span the gap
			continue
		}
		if last != 0 && e.Seq != last+1 {
			s.failf("subscriber", "event seq %d follows %d", e.Seq, last)
		}
		last = e.Seq
		stressContiguous(s, "subscriber", &lastOp, done, &prev, e)
	}
}

// pending checks one read of the cleanup queue.
func (r *stressReader) pending() {
	p, err := r.s.f.PendingCleanups(r.ctx)
	if err != nil {
		r.s.failf(r.who("pending"), "PendingCleanups: %v", err)
		return
	}
	seen := map[string]bool{}
	for i, c := range p {
		if seen[c.URI] || c.ArtifactID == "" || c.Operation == "" || c.QueuedAt.IsZero() || c.Attempts < 0 {
			r.s.failf(r.who("pending"), "cleanup %d is malformed or repeated: %+v", i, c)
		}
		if i > 0 && c.URI <= p[i-1].URI {
			r.s.failf(r.who("pending"), "cleanups are not in URI order at %d: %s then %s", i, p[i-1].URI, c.URI)
		}
		seen[c.URI] = true
	}
}
