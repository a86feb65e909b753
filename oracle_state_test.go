package registry_test

// The reference model of the model-based randomized test (oracle_test.go):
// the registry's documented semantics (doc.go) re-implemented with plain
// maps and slices, small enough to be read and believed. It never calls the
// engine; it only uses the package's exported types to describe what the
// engine should answer.

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelreg/registry"
)

// modelState is the whole expected state of one registry.
type modelState struct {
	now     time.Time
	ttl     time.Duration // idempotency token lifetime
	protect time.Duration // purge protection, 0 for none
	authz   bool          // modelAllowed decides every change
	arts    map[string]*registry.Artifact
	edges   map[modelEdgeKey]registry.Edge
	tokens  map[modelTokenKey]*modelToken
	pending map[string]bool // storage URIs waiting for a cleaner
	ops     map[string]bool // every operation ID a call has returned
	known   []string        // every ID ever registered, first registration order
	knownOK map[string]bool
}

type modelEdgeKey struct{ up, down string }

// modelTokenKey names a client token: a token is its principal's.
type modelTokenKey struct{ principal, token string }

// modelToken is a bound client token: the request it was used for and what
// that request returned. It lives its TTL whatever happens to its target.
type modelToken struct {
	request  string
	expires  time.Time
	result   registry.Result    // deletes
	restored *registry.Artifact // restores
}

// modelOutcome is what the model says a call returns: an error code, or a
// result (deletes, purges) or artifacts (register, update, restore).
type modelOutcome struct {
	code string
	res  registry.Result
	arts []registry.Artifact
}

func newModelState(now time.Time, cfg modelConfig) *modelState {
	return &modelState{
		now: now, ttl: cfg.ttl, protect: cfg.protect, authz: cfg.authz,
		arts: map[string]*registry.Artifact{}, edges: map[modelEdgeKey]registry.Edge{},
		tokens: map[modelTokenKey]*modelToken{}, pending: map[string]bool{}, ops: map[string]bool{},
		knownOK: map[string]bool{},
	}
}

// modelAllowed is the authorization policy of the seeds that have one: bob
// may touch nothing in namespace lab and may not reset; anonymous callers
// may not hard delete or update what is named seg; alice may not update
// code (so that a hard delete can be refused the marking of a dependent).
func modelAllowed(principal string, action registry.Action, a registry.Artifact) bool {
	switch {
	case action == registry.ActionReset:
		return principal != "bob"
	case principal == "bob" && a.Namespace == "lab":
		return false
	case principal == registry.Anonymous && a.Name == "seg":
		return action != registry.ActionHardDelete && action != registry.ActionUpdate
	case principal == "alice" && a.Kind == registry.KindCode:
		return action != registry.ActionUpdate
	}
	return true
}

// allowed asks the policy, when the seed has one.
func (m *modelState) allowed(principal string, action registry.Action, a *registry.Artifact) bool {
	return !m.authz || modelAllowed(modelPrincipal(principal), action, *a)
}

func modelPrincipal(p string) string {
	if p == "" {
		return registry.Anonymous
	}
	return p
}

// modelFQN builds namespace.name[.version], quoting parts that hold a '.'.
func modelFQN(ns, name, version string) string {
	q := func(s string) string {
		if strings.Contains(s, ".") {
			return `"` + s + `"`
		}
		return s
	}
	out := q(ns) + "." + q(name)
	if version != "" {
		out += "." + q(version)
	}
	return out
}

// modelCompareVersions is natural version order: digit runs compare as
// numbers, other runs as text, fewer runs first ("" is the oldest).
func modelCompareVersions(a, b string) int {
	ra, rb := modelVersionRuns(a), modelVersionRuns(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		x, y := ra[i], rb[i]
		nx, ex := strconv.Atoi(x)
		ny, ey := strconv.Atoi(y)
		if ex == nil && ey == nil {
			if c := cmp.Compare(nx, ny); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(ra), len(rb))
}

func modelVersionRuns(s string) []string {
	var runs []string
	for s != "" {
		digit := s[0] >= '0' && s[0] <= '9'
		i := 1
		for i < len(s) && (s[i] >= '0' && s[i] <= '9') == digit {
			i++
		}
		runs = append(runs, s[:i])
		s = s[i:]
	}
	return runs
}

// modelNameKey orders artifacts as List does: namespace, name, version,
// byte-wise, parts separated by a byte below every allowed character.
func modelNameKey(a *registry.Artifact) string {
	return a.Namespace + "\x00" + a.Name + "\x00" + a.Version
}

func modelClone(a *registry.Artifact) registry.Artifact {
	c := *a
	c.Tags, c.Owners, c.StorageURIs = slices.Clone(a.Tags), slices.Clone(a.Owners), slices.Clone(a.StorageURIs)
	c.Endpoints, c.DeletedUpstreams = slices.Clone(a.Endpoints), slices.Clone(a.DeletedUpstreams)
	c.Labels = maps.Clone(a.Labels)
	return c
}

// modelNil turns an empty list into nil, as the registry stores it.
func modelNil[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func modelNilMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// modelSetMetadata copies the fields Update may change, as stored.
func modelSetMetadata(dst, src *registry.Artifact) {
	dst.DisplayName, dst.Description, dst.Algorithm = src.DisplayName, src.Description, src.Algorithm
	dst.Tags, dst.Owners, dst.StorageURIs = modelNil(src.Tags), modelNil(src.Owners), modelNil(src.StorageURIs)
	dst.Labels = modelNilMap(src.Labels)
}

func modelSameMetadata(a, b *registry.Artifact) bool {
	return a.DisplayName == b.DisplayName && a.Description == b.Description && a.Algorithm == b.Algorithm &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Owners, b.Owners) &&
		slices.Equal(a.StorageURIs, b.StorageURIs) && maps.Equal(a.Labels, b.Labels)
}

// touch records a change to a by principal: one more revision, now.
func (m *modelState) touch(a *registry.Artifact, principal string) {
	a.Revision++
	a.UpdatedAt = m.now
	a.UpdatedBy = modelPrincipal(principal)
}

func (m *modelState) byName(ns, name, version string) *registry.Artifact {
	for _, a := range m.arts {
		if a.Namespace == ns && a.Name == name && a.Version == version {
			return a
		}
	}
	return nil
}

// sorted returns the artifacts that match keep, in ID order (IDs are
// lower-case hex of one length, so string order is byte order).
func (m *modelState) sorted(keep func(*registry.Artifact) bool) []*registry.Artifact {
	var out []*registry.Artifact
	for _, a := range m.arts {
		if keep(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *registry.Artifact) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (m *modelState) children(id string) []*registry.Artifact {
	return m.sorted(func(a *registry.Artifact) bool { return a.Parent == id })
}

// downstreams lists the IDs made from id, in ID order; upstreams the IDs id
// was made from.
func (m *modelState) downstreams(id string) []string {
	var out []string
	for k := range m.edges {
		if k.up == id {
			out = append(out, k.down)
		}
	}
	slices.Sort(out)
	return out
}

func (m *modelState) upstreams(id string) []string {
	var out []string
	for k := range m.edges {
		if k.down == id {
			out = append(out, k.up)
		}
	}
	slices.Sort(out)
	return out
}

func (m *modelState) referenced(uri string) bool {
	for _, a := range m.arts {
		if slices.Contains(a.StorageURIs, uri) {
			return true
		}
	}
	return false
}

// mayShare follows the storage-URI rule of Register and Update: every URI
// self (nil for a new artifact) did not reference needs ActionUpdate on each
// other artifact that references it.
func (m *modelState) mayShare(principal string, uris []string, self *registry.Artifact) bool {
	for _, u := range uris {
		if self != nil && slices.Contains(self.StorageURIs, u) {
			continue
		}
		for _, o := range m.arts {
			if o != self && slices.Contains(o.StorageURIs, u) && !m.allowed(principal, registry.ActionUpdate, o) {
				return false
			}
		}
	}
	return true
}

func (m *modelState) remember(id string) {
	if !m.knownOK[id] {
		m.knownOK[id] = true
		m.known = append(m.known, id)
	}
}

// register follows Register/RegisterBatch: every artifact is validated
// first, then checked against the store and the batch, then all are stored,
// or none.
func (m *modelState) register(principal string, batch []registry.Artifact) modelOutcome {
	for _, in := range batch {
		if in.Parent != "" && strings.EqualFold(in.Parent, in.ID) {
			return modelOutcome{code: registry.CodeInvalid}
		}
	}
	ids, names := map[string]bool{}, map[string]bool{}
	for _, in := range batch {
		id := strings.ToLower(in.ID)
		name := modelFQN(in.Namespace, in.Name, in.Version)
		if ids[id] || names[name] {
			return modelOutcome{code: registry.CodeAlreadyExists}
		}
		// Authorization of the row first, then what it collides with.
		if !m.allowed(principal, registry.ActionCreate, &in) {
			return modelOutcome{code: registry.CodeForbidden}
		}
		if m.arts[id] != nil || m.byName(in.Namespace, in.Name, in.Version) != nil {
			return modelOutcome{code: registry.CodeAlreadyExists}
		}
		if in.Parent != "" && !ids[strings.ToLower(in.Parent)] {
			p := m.arts[strings.ToLower(in.Parent)]
			switch {
			case p == nil:
				return modelOutcome{code: registry.CodeInvalid}
			case !m.allowed(principal, registry.ActionUpdate, p):
				return modelOutcome{code: registry.CodeForbidden}
			case p.Deleted:
				return modelOutcome{code: registry.CodeInvalid}
			}
		}
		if !m.mayShare(principal, in.StorageURIs, nil) {
			return modelOutcome{code: registry.CodeForbidden}
		}
		ids[id], names[name] = true, true
	}
	var out []registry.Artifact
	for _, in := range batch {
		a := &registry.Artifact{ID: strings.ToLower(in.ID), Kind: in.Kind, Namespace: in.Namespace, Name: in.Name,
			Version: in.Version, Parent: strings.ToLower(in.Parent), Revision: 1,
			CreatedAt: m.now, UpdatedAt: m.now, UpdatedBy: modelPrincipal(principal)}
		modelSetMetadata(a, &in)
		m.arts[a.ID] = a
		m.remember(a.ID)
		for _, u := range a.StorageURIs {
			delete(m.pending, u) // owned again
		}
		out = append(out, modelClone(a))
	}
	return modelOutcome{arts: out}
}

// update follows Update: live artifacts only, identity fields immutable, no
// revision for a change that changes nothing, dropped URIs to the cleaner.
func (m *modelState) update(principal string, in registry.Artifact) modelOutcome {
	a := m.arts[strings.ToLower(in.ID)]
	if a == nil || a.Deleted {
		return modelOutcome{code: registry.CodeNotFound}
	}
	for _, f := range [][2]string{{string(in.Kind), string(a.Kind)}, {in.Namespace, a.Namespace}, {in.Name, a.Name},
		{in.Version, a.Version}, {in.Parent, a.Parent}} {
		if f[0] != "" && f[0] != f[1] {
			return modelOutcome{code: registry.CodeInvalid}
		}
	}
	if !m.allowed(principal, registry.ActionUpdate, a) {
		return modelOutcome{code: registry.CodeForbidden}
	}
	if modelSameMetadata(a, &in) {
		return modelOutcome{arts: []registry.Artifact{modelClone(a)}}
	}
	if !m.mayShare(principal, in.StorageURIs, a) {
		return modelOutcome{code: registry.CodeForbidden}
	}
	before := a.StorageURIs
	m.touch(a, principal)
	modelSetMetadata(a, &in)
	for _, u := range a.StorageURIs {
		delete(m.pending, u)
	}
	for _, u := range before {
		if !m.referenced(u) {
			m.pending[u] = true
		}
	}
	return modelOutcome{arts: []registry.Artifact{modelClone(a)}}
}

// link follows Link: two live ends, no duplicate edge, no cycle (walking
// soft-deleted artifacts too).
func (m *modelState) link(principal, up, down string) modelOutcome {
	if !m.linkAllowed(principal, up, down) {
		return modelOutcome{code: registry.CodeForbidden}
	}
	for _, id := range []string{up, down} {
		if a := m.arts[id]; a == nil || a.Deleted {
			return modelOutcome{code: registry.CodeNotFound}
		}
	}
	if _, ok := m.edges[modelEdgeKey{up, down}]; ok {
		return modelOutcome{code: registry.CodeAlreadyExists}
	}
	if up == down || m.reaches(down, up) {
		return modelOutcome{code: registry.CodeInvalid}
	}
	m.edges[modelEdgeKey{up, down}] = registry.Edge{Upstream: up, Downstream: down, CreatedAt: m.now, CreatedBy: modelPrincipal(principal)}
	return modelOutcome{}
}

// linkAllowed asks about both ends of an edge, those that exist.
func (m *modelState) linkAllowed(principal, up, down string) bool {
	for _, id := range []string{up, down} {
		if a := m.arts[id]; a != nil && !m.allowed(principal, registry.ActionLink, a) {
			return false
		}
	}
	return true
}

func (m *modelState) reaches(from, to string) bool {
	seen := map[string]bool{from: true}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, d := range m.downstreams(cur) {
			if d == to {
				return true
			}
			if !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return false
}

// unlink follows Unlink: "a missing edge is ErrNotFound. It works whatever
// state the two artifacts are in."
func (m *modelState) unlink(principal, up, down string) modelOutcome {
	if !m.linkAllowed(principal, up, down) {
		return modelOutcome{code: registry.CodeForbidden}
	}
	if _, ok := m.edges[modelEdgeKey{up, down}]; !ok {
		return modelOutcome{code: registry.CodeNotFound}
	}
	delete(m.edges, modelEdgeKey{up, down})
	return modelOutcome{}
}

// deploy follows Deploy and Undeploy.
func (m *modelState) deploy(principal, id, endpoint string, on bool) modelOutcome {
	a := m.arts[id]
	if a == nil || a.Deleted {
		return modelOutcome{code: registry.CodeNotFound}
	}
	has := slices.Contains(a.Endpoints, endpoint)
	switch {
	case on && has:
		return modelOutcome{}
	case !on && !has:
		return modelOutcome{code: registry.CodeNotFound}
	case !m.allowed(principal, registry.ActionDeploy, a):
		return modelOutcome{code: registry.CodeForbidden}
	}
	m.touch(a, principal)
	if on {
		a.Endpoints = append(slices.Clone(a.Endpoints), endpoint)
	} else {
		a.Endpoints = modelNil(slices.DeleteFunc(slices.Clone(a.Endpoints), func(e string) bool { return e == endpoint }))
	}
	return modelOutcome{}
}

// token looks a principal's client token up: nil when unused or expired.
func (m *modelState) token(principal, t string) *modelToken {
	if tok := m.tokens[modelTokenKey{modelPrincipal(principal), t}]; tok != nil && tok.expires.After(m.now) {
		return tok
	}
	return nil
}

func modelValidToken(t string) bool {
	if len(t) > 64 {
		return false
	}
	for _, c := range []byte(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// resolve finds a target by FQN (when fqn is set) or by ID, in any state.
func (m *modelState) resolve(id, fqn string, ns, name, version string) *registry.Artifact {
	if fqn != "" {
		return m.byName(ns, name, version)
	}
	return m.arts[strings.ToLower(id)]
}

// delete follows Delete and DeleteByFQN. op is the operation ID the engine
// returned (IDs are random; the model checks how they are used).
func (m *modelState) delete(o modelOp, op string) modelOutcome {
	d := o.del
	if d.CascadeLimit < 0 || d.Lineage < registry.LineageRestrict || d.Lineage > registry.LineageCascade || !modelValidToken(d.ClientToken) ||
		(d.CascadeLimit != 0 && !d.Cascade) || (d.Lineage != registry.LineageRestrict && !d.Hard && !d.Cascade) {
		return modelOutcome{code: registry.CodeInvalid}
	}
	limit := d.CascadeLimit
	if limit == 0 {
		limit = registry.DefaultCascadeLimit
	}
	target := strings.ToLower(o.id)
	if o.fqn != "" {
		target = o.fqn
	}
	// The request a token remembers: everything but the token and DryRun,
	// and who asked (a token is its caller's).
	requestLimit := 0
	if d.Cascade {
		requestLimit = limit
	}
	request := fmt.Sprintf("delete %s hard=%t recursive=%t cascade=%t limit=%d lineage=%d atomic=%t reason=%q by %s",
		target, d.Hard, d.Recursive, d.Cascade, requestLimit, d.Lineage, d.Atomic, d.Reason, modelPrincipal(o.principal))
	if d.ClientToken != "" && !d.DryRun {
		if tok := m.token(o.principal, d.ClientToken); tok != nil {
			if tok.request != request {
				return modelOutcome{code: registry.CodeIdempotencyMismatch}
			}
			res := modelCloneResult(tok.result)
			res.Replayed = true
			return modelOutcome{res: res}
		}
	}
	a := m.resolve(o.id, o.fqn, o.ns, o.name, o.version)
	if a == nil || (a.Deleted && !d.Hard) {
		return modelOutcome{code: registry.CodeNotFound}
	}
	p := m.plan(d, o.principal)
	p.build([]*registry.Artifact{a}, limit)
	multi := d.Recursive || d.Cascade || (d.Hard && d.Lineage == registry.LineageCascade)
	if code := p.failure(multi); code != "" && (d.Atomic || !multi) {
		return modelOutcome{code: code}
	}
	res := p.result(op)
	if d.DryRun {
		return modelOutcome{res: res}
	}
	p.apply(op, o.principal, d.Reason)
	// A call that deleted nothing changed nothing: it does not bind its
	// token, so that the caller can fix the cause and retry with it.
	if d.ClientToken != "" && len(res.Deleted) > 0 {
		m.tokens[modelTokenKey{modelPrincipal(o.principal), d.ClientToken}] = &modelToken{request: request, expires: m.now.Add(m.ttl), result: modelCloneResult(res)}
	}
	return modelOutcome{res: res}
}

func modelCloneResult(r registry.Result) registry.Result {
	r.Deleted, r.Failed = slices.Clone(r.Deleted), slices.Clone(r.Failed)
	r.Skipped, r.Detached = slices.Clone(r.Skipped), slices.Clone(r.Detached)
	return r
}

// restore follows Restore and RestoreByFQN: the artifact and the
// descendants the same operation took, nothing else.
func (m *modelState) restore(o modelOp) modelOutcome {
	if !modelValidToken(o.token) {
		return modelOutcome{code: registry.CodeInvalid}
	}
	target := strings.ToLower(o.id)
	if o.fqn != "" {
		target = o.fqn
	}
	request := fmt.Sprintf("restore %s reason=%q by %s", target, o.reason, modelPrincipal(o.principal))
	if o.token != "" {
		if tok := m.token(o.principal, o.token); tok != nil {
			if tok.request != request {
				return modelOutcome{code: registry.CodeIdempotencyMismatch}
			}
			return modelOutcome{arts: []registry.Artifact{modelClone(tok.restored)}}
		}
	}
	a := m.resolve(o.id, o.fqn, o.ns, o.name, o.version)
	switch {
	case a == nil:
		return modelOutcome{code: registry.CodeNotFound}
	case !a.Deleted:
		return modelOutcome{code: registry.CodeNotDeleted}
	case a.Parent != "" && m.arts[a.Parent] != nil && m.arts[a.Parent].Deleted:
		return modelOutcome{code: registry.CodeParentDeleted}
	}
	op := a.DeleteOperation
	set := []*registry.Artifact{a}
	for i := 0; i < len(set); i++ {
		for _, c := range m.children(set[i].ID) {
			if c.Deleted && c.DeleteOperation == op {
				set = append(set, c)
			}
		}
	}
	for _, x := range set {
		if !m.allowed(o.principal, registry.ActionRestore, x) {
			return modelOutcome{code: registry.CodeForbidden}
		}
	}
	for _, x := range set {
		m.touch(x, o.principal)
		x.Deleted, x.DeletedAt, x.DeletedBy, x.DeleteOperation, x.DeleteReason = false, time.Time{}, "", "", ""
	}
	out := modelClone(a)
	if o.token != "" {
		m.tokens[modelTokenKey{modelPrincipal(o.principal), o.token}] = &modelToken{request: request, expires: m.now.Add(m.ttl), restored: &out}
	}
	return modelOutcome{arts: []registry.Artifact{modelClone(a)}}
}

// purge follows Purge: a hard, recursive delete through the same planner
// of the soft-deleted artifacts deleted at or before now-age, oldest first,
// skipping those whose parent is purged with them.
func (m *modelState) purge(o modelOp, op string) modelOutcome {
	if o.age < 0 || o.purge.Lineage < registry.LineageRestrict || o.purge.Lineage > registry.LineageCascade {
		return modelOutcome{code: registry.CodeInvalid}
	}
	reason := o.purge.Reason
	if reason == "" {
		reason = "purge"
	}
	d := registry.DeleteOptions{Hard: true, Recursive: true, Lineage: o.purge.Lineage, DryRun: o.purge.DryRun, Reason: reason}
	cutoff := m.now.Add(-o.age)
	old := m.sorted(func(a *registry.Artifact) bool { return a.Deleted && !a.DeletedAt.After(cutoff) })
	slices.SortStableFunc(old, func(a, b *registry.Artifact) int { return a.DeletedAt.Compare(b.DeletedAt) })
	in := map[string]bool{}
	for _, a := range old {
		in[a.ID] = true
	}
	var roots []*registry.Artifact
	for _, a := range old {
		if !in[a.Parent] {
			roots = append(roots, a)
		}
	}
	p := m.plan(d, o.principal)
	p.build(roots, registry.DefaultCascadeLimit)
	res := p.result(op)
	if !d.DryRun {
		p.apply(op, o.principal, reason)
	}
	return modelOutcome{res: res}
}

// reset empties the registry; the storage URIs of what it held wait for
// the cleaner.
func (m *modelState) reset(principal string) modelOutcome {
	if !m.allowed(principal, registry.ActionReset, &registry.Artifact{}) {
		return modelOutcome{code: registry.CodeForbidden}
	}
	for _, a := range m.arts {
		for _, u := range a.StorageURIs {
			m.pending[u] = true
		}
	}
	m.arts = map[string]*registry.Artifact{}
	m.edges = map[modelEdgeKey]registry.Edge{}
	m.tokens = map[modelTokenKey]*modelToken{}
	return modelOutcome{}
}

// modelPlan is the model's deletion planner, following the rules of doc.go
// in the order it gives them: collect (target, cascade versions newest
// first, subtrees, lineage-cascade dependents), check each item, propagate
// failures to parents and (Restrict, Cascade) to upstreams, order children
// and dependents first, apply.
type modelPlan struct {
	m         *modelState
	o         registry.DeleteOptions
	principal string
	lineage   bool // the lineage rules apply: hard or cascade deletes
	items     []*modelItem
	byID      map[string]*modelItem
	roots     []*modelItem
	order     []*modelItem
	skipped   []string
}

type modelItem struct {
	a        *registry.Artifact
	parent   *modelItem
	kids     []*modelItem
	downs    []*modelItem // dependents in the plan
	ups      []*modelItem // upstreams in the plan
	liveKids []string     // live children left out (not recursive), until adopted
	downIDs  []string     // every dependent, in the plan or not
	fail     string
	own      bool // failed a rule itself, not because a child or dependent did
	visit    int
}

func (m *modelState) plan(o registry.DeleteOptions, principal string) *modelPlan {
	return &modelPlan{m: m, o: o, principal: principal, lineage: o.Hard || o.Cascade, byID: map[string]*modelItem{}}
}

func (p *modelPlan) build(roots []*registry.Artifact, limit int) {
	for _, a := range roots {
		if !p.o.Cascade {
			p.root(a)
			continue
		}
		// Cascade: the target, then the other versions newest first (live
		// ones only for a soft delete), at most limit in all.
		others := p.m.sorted(func(b *registry.Artifact) bool {
			return b.ID != a.ID && b.Namespace == a.Namespace && b.Name == a.Name && (p.o.Hard || !b.Deleted)
		})
		slices.SortFunc(others, func(x, y *registry.Artifact) int { return modelCompareVersions(y.Version, x.Version) })
		p.root(a)
		for i, b := range others {
			if i >= limit-1 {
				p.skipped = append(p.skipped, b.ID)
				continue
			}
			p.root(b)
		}
	}
	if p.lineage {
		for i := 0; i < len(p.items); i++ {
			x := p.items[i]
			x.downIDs = p.m.downstreams(x.a.ID)
			if p.o.Lineage != registry.LineageCascade {
				continue
			}
			for _, d := range x.downIDs {
				if !p.m.arts[d].Deleted {
					p.root(p.m.arts[d])
				}
			}
		}
		for _, x := range p.items {
			for _, d := range x.downIDs {
				if y := p.byID[d]; y != nil && y != x {
					x.downs = append(x.downs, y)
					y.ups = append(y.ups, x)
				}
			}
		}
	}
	// A live child that joined the plan another way is not left behind: it
	// becomes its parent's child in the plan.
	for _, x := range p.items {
		left := x.liveKids[:0]
		for _, id := range x.liveKids {
			y := p.byID[id]
			if y == nil {
				left = append(left, id)
				continue
			}
			if y.parent == nil {
				y.parent = x
				x.kids = append(x.kids, y)
			}
		}
		x.liveKids = left
	}
	for _, x := range p.items {
		p.check(x)
		x.own = x.fail != ""
	}
	p.propagate()
	var visit func(x *modelItem)
	visit = func(x *modelItem) {
		if x.visit != 0 {
			return
		}
		x.visit = 1
		for _, k := range x.kids {
			visit(k)
		}
		for _, d := range x.downs {
			visit(d)
		}
		x.visit = 2
		p.order = append(p.order, x)
	}
	for _, r := range p.roots {
		visit(r)
	}
}

// root adds a and, breadth first, the part of its subtree the delete takes:
// live descendants when Recursive, and for a hard delete the soft-deleted
// ones too (with or without Recursive, so none is orphaned).
func (p *modelPlan) root(a *registry.Artifact) {
	if p.byID[a.ID] != nil {
		return
	}
	x := p.add(a, nil)
	p.roots = append(p.roots, x)
	queue := []*modelItem{x}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, k := range p.m.children(cur.a.ID) {
			switch {
			case !k.Deleted && !p.o.Recursive:
				cur.liveKids = append(cur.liveKids, k.ID)
				continue
			case k.Deleted && !p.o.Hard:
				continue
			}
			if y := p.byID[k.ID]; y != nil {
				if y.parent == nil {
					y.parent = cur
					cur.kids = append(cur.kids, y)
				}
				continue
			}
			queue = append(queue, p.add(k, cur))
		}
	}
}

func (p *modelPlan) add(a *registry.Artifact, parent *modelItem) *modelItem {
	x := &modelItem{a: a, parent: parent}
	p.items = append(p.items, x)
	p.byID[a.ID] = x
	if parent != nil {
		parent.kids = append(parent.kids, x)
	}
	return x
}

// check applies the item rules; the first that fails wins.
func (p *modelPlan) check(x *modelItem) {
	a := x.a
	action := registry.ActionDelete
	if p.o.Hard {
		action = registry.ActionHardDelete
	}
	switch {
	case !p.m.allowed(p.principal, action, a):
		x.fail = registry.CodeForbidden
	case len(x.liveKids) > 0:
		x.fail = registry.CodeNotEmpty
	case len(a.Endpoints) > 0:
		x.fail = registry.CodeDeployed
	case p.m.protect > 0 && p.o.Hard && a.Deleted && p.m.now.Sub(a.DeletedAt) < p.m.protect:
		x.fail = registry.CodePurgeProtected
	case p.lineage:
		// Dependents outside the plan: a live one blocks under Restrict
		// and Cascade; a hard delete marks the others (a soft-deleted one,
		// a live one under Detach), which is an update of each that the
		// principal must be allowed.
		for _, d := range x.downIDs {
			dep := p.m.arts[d]
			switch {
			case p.byID[d] != nil:
			case !dep.Deleted && p.o.Lineage != registry.LineageDetach:
				x.fail = registry.CodeHasDependents
			case p.o.Hard && !p.m.allowed(p.principal, registry.ActionUpdate, dep):
				x.fail = registry.CodeForbidden
				return
			}
		}
	}
}

// propagate fails the plan parent of a failed item and, under Restrict and
// Cascade, every upstream in the plan of a failed live item, until nothing
// changes, breadth first from the failed items in plan order.
func (p *modelPlan) propagate() {
	var queue []*modelItem
	for _, x := range p.items {
		if x.fail != "" {
			queue = append(queue, x)
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if par := x.parent; par != nil && par.fail == "" {
			par.fail = registry.CodeNotEmpty
			queue = append(queue, par)
		}
		if !p.lineage {
			continue
		}
		// The upstreams of an item that stays: Restrict and Cascade refuse
		// them if it is live; otherwise a hard delete marks it, if the
		// principal may.
		code := registry.CodeHasDependents
		if x.a.Deleted || p.o.Lineage == registry.LineageDetach {
			if !p.o.Hard || p.m.allowed(p.principal, registry.ActionUpdate, x.a) {
				continue
			}
			code = registry.CodeForbidden
		}
		for _, u := range x.ups {
			if u.fail == "" {
				u.fail = code
				queue = append(queue, u)
			}
		}
	}
}

// failure is the code a call that fails returns: a single-target delete
// its target's; a multi-item one the cause, the target's if it broke a rule
// itself, else the first item in order that did.
func (p *modelPlan) failure(multi bool) string {
	if t := p.roots[0]; t.fail != "" && (!multi || t.own) {
		return t.fail
	}
	first := ""
	for _, x := range p.order {
		switch {
		case x.fail == "":
		case x.own:
			return x.fail
		case first == "":
			first = x.fail
		}
	}
	return first
}

func (p *modelPlan) result(op string) registry.Result {
	res := registry.Result{Operation: op, Hard: p.o.Hard, DryRun: p.o.DryRun}
	for _, x := range p.order {
		if x.fail != "" {
			res.Failed = append(res.Failed, registry.Failure{ID: x.a.ID, Code: x.fail})
		} else {
			res.Deleted = append(res.Deleted, x.a.ID)
		}
	}
	// "Skipped lists versions past the cascade limit, not deleted and not
	// failed" (Result): a version the plan took anyway, as a descendant or
	// a lineage dependent, is reported where it ended up.
	for _, id := range p.skipped {
		if p.byID[id] == nil {
			res.Skipped = append(res.Skipped, id)
		}
	}
	if p.o.Hard {
		res.Detached, _ = p.detachments()
	}
	return res
}

// detachments lists, in order, the artifacts a hard delete leaves behind
// that lose an upstream, and the upstreams each loses.
func (p *modelPlan) detachments() ([]string, map[string][]string) {
	var ids []string
	lost := map[string][]string{}
	for _, x := range p.order {
		if x.fail != "" {
			continue
		}
		for _, d := range x.downIDs {
			if y := p.byID[d]; y != nil && y.fail == "" {
				continue
			}
			if _, seen := lost[d]; !seen {
				ids = append(ids, d)
			}
			lost[d] = append(lost[d], x.a.ID)
		}
	}
	return ids, lost
}

func (p *modelPlan) apply(op, principal, reason string) {
	m := p.m
	if !p.o.Hard {
		for _, x := range p.order {
			if x.fail == "" {
				m.touch(x.a, principal)
				x.a.Deleted, x.a.DeletedAt, x.a.DeletedBy = true, m.now, modelPrincipal(principal)
				x.a.DeleteOperation, x.a.DeleteReason = op, reason
			}
		}
		return
	}
	ids, lost := p.detachments()
	gone := map[string]bool{}
	var uris []string
	for _, x := range p.order {
		if x.fail == "" {
			gone[x.a.ID] = true
			uris = append(uris, x.a.StorageURIs...)
			delete(m.arts, x.a.ID)
		}
	}
	for k := range m.edges {
		if gone[k.up] || gone[k.down] {
			delete(m.edges, k)
		}
	}
	for _, id := range ids {
		a := m.arts[id]
		m.touch(a, principal)
		a.DeletedUpstreams = append(slices.Clone(a.DeletedUpstreams), lost[id]...)
	}
	for _, u := range uris {
		if !m.referenced(u) {
			m.pending[u] = true
		}
	}
}
