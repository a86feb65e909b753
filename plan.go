package registry

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/go-memdb"
	"github.com/modelreg/registry/internal/versions"
)

// The deletion planner. Every delete — single, recursive, cascade, lineage
// cascade, purge — goes through it:
//
//  1. collect the set: the roots (the target, then the other versions a
//     cascade takes), each root's containment subtree, and under the Cascade
//     lineage policy every live dependent, transitively, with its subtree;
//  2. check each item: authorization, live children the complete set leaves
//     behind, deployment, purge protection, live dependents outside the set;
//  3. propagate failures until nothing changes: a parent whose child stays
//     fails, an upstream whose live dependent stays fails (Restrict, Cascade)
//     or detaches it (Detach);
//  4. order the set so that children and dependents come before what
//     contains them or what they depend on;
//  5. apply the items that did not fail, in that order, in the caller's
//     transaction.
//
// All reads happen in steps 1–3 and all writes in step 5: go-memdb copies an
// index's modified nodes again whenever a transaction reads an index it has
// written (DEPENDENCIES.md), so a plan of 100k items never interleaves them.

// item is one artifact in a plan.
type item struct {
	a        *record
	parent   *item   // the item that contains this one, if in the plan
	children []*item // items this one contains
	downs    []*item // items made from this one (lineage rules only)
	ups      []*item // items this one was made from (lineage rules only)
	// liveKids are the live children expand left out (not recursive); adopt
	// drops those that joined the plan another way.
	liveKids []*record
	// downRows are all artifacts made from a; outEdges all the edges out
	// of it (hard deletes only). The edges into it are named by its
	// upstream set, which applyHard reads.
	downRows []*record
	outEdges []*Edge
	fail     *Error
	// own is true when the item failed a rule itself, false when it failed
	// because a child or dependent did.
	own bool
	// cause is the child or dependent whose failure made this item fail,
	// root the item at the end of that chain of causes, which broke a rule
	// itself; both nil when own. A failure names them, never copies their
	// messages, so that its size does not grow with the depth of the plan.
	cause, root *item
	visit       uint8 // ordering state: 0 new, 1 on the path, 2 done
	// fqn is a's FQN once result has built it, for the item's event.
	fqn string
}

type planner struct {
	w *writeTxn
	o DeleteOptions
	// lineage is true when the lineage rules apply: hard or cascade deletes.
	lineage     bool
	items       []*item
	byID        map[string]*item
	roots       []*item
	order       []*item
	skipped     []*record
	skippedName string
	// mayUpdate caches the authorizer's answer for marking a dependent.
	mayUpdate map[string]error
	scanned   int
	// secret caches which artifacts the principal may not read.
	secret map[string]bool
	slab   []item // where add takes its items from
}

func newPlanner(w *writeTxn, o DeleteOptions) *planner {
	// mayUpdate and secret are made when first needed: most deletes ask
	// neither.
	return &planner{w: w, o: o, lineage: o.Hard || o.Cascade, byID: map[string]*item{}}
}

// build collects, checks, propagates and orders the plan for the roots.
func (p *planner) build(roots []*record) error {
	for _, a := range roots {
		if p.o.Cascade {
			if err := p.addCascade(a); err != nil {
				return err
			}
			continue
		}
		if _, err := p.addRoot(a); err != nil {
			return err
		}
	}
	if p.lineage {
		// Items appended while scanning (lineage cascade) are scanned too,
		// in the next batch.
		for i := 0; i < len(p.items); {
			batch := p.items[i:]
			outs, err := edgesOut(p.w.Txn, batch)
			if err != nil {
				return err
			}
			for j, x := range batch {
				if err := p.scanLineage(x, outs[j]); err != nil {
					return err
				}
			}
			i += len(batch)
		}
		p.linkLineage()
	}
	for _, x := range p.items {
		p.adopt(x)
	}
	for _, x := range p.items {
		p.check(x)
		x.own = x.fail != nil
	}
	p.propagate()
	p.sort()
	return nil
}

// addCascade adds the target and the other versions of its name, newest
// first, up to the cascade limit; the rest are skipped. Newest first means
// that when a model's versions were fine-tuned one from the next, a limited
// cascade never deletes a version whose successor it leaves behind.
func (p *planner) addCascade(target *record) error {
	others, err := p.versions(target)
	if err != nil {
		return err
	}
	if _, err := p.addRoot(target); err != nil {
		return err
	}
	room := p.o.limit() - 1
	for i, a := range others {
		if i >= room {
			p.skipped = append(p.skipped, a)
			p.skippedName = BuildFQN(target.namespace(), target.name(), "")
			continue
		}
		if _, err := p.addRoot(a); err != nil {
			return err
		}
	}
	return nil
}

// skips returns the versions the cascade limit left out that nothing else
// brought into the plan: a version past the limit is still taken when it is
// contained in another item or, under the Cascade policy, depends on one.
func (p *planner) skips() []*record {
	var out []*record
	for _, a := range p.skipped {
		if _, in := p.byID[a.ID]; !in {
			out = append(out, a)
		}
	}
	return out
}

// versions lists the other versions of target's name that the delete can
// take (live ones for a soft delete, all for a hard one), newest first.
func (p *planner) versions(target *record) ([]*record, error) {
	all, err := versionsOf(p.w.Txn, target.namespace(), target.name())
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, a := range all {
		if a.ID != target.ID && (p.o.Hard || !a.isDeleted()) {
			out = append(out, a)
		}
	}
	return out, nil
}

// versionsOf lists every version of namespace/name, in any state, newest
// first (natural version order).
func versionsOf(txn *memdb.Txn, namespace, name string) ([]*record, error) {
	it, err := txn.Get(tableArtifacts, indexName+prefix, nameKeyPrefix(namespace, name))
	if err != nil {
		return nil, fmt.Errorf("registry: versions of %s: %w", BuildFQN(namespace, name, ""), err)
	}
	var out []*record
	for o := it.Next(); o != nil; o = it.Next() {
		out = append(out, o.(*record))
	}
	slices.SortFunc(out, func(a, b *record) int { return versions.Compare(b.version(), a.version()) })
	return out, nil
}

// addRoot adds a and the part of its subtree the delete takes.
func (p *planner) addRoot(a *record) (*item, error) {
	if x, ok := p.byID[a.ID]; ok {
		return x, nil
	}
	x := p.add(a, nil)
	p.roots = append(p.roots, x)
	return x, p.expand(x)
}

func (p *planner) add(a *record, parent *item) *item {
	// Items come from slabs that double up to 1024, so that a plan of 100k
	// items makes about a hundred allocations for them, not 100k.
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]item, 0, min(1024, max(4, 2*cap(p.slab))))
	}
	p.slab = append(p.slab, item{a: a, parent: parent})
	x := &p.slab[len(p.slab)-1]
	p.items = append(p.items, x)
	p.byID[a.ID] = x
	if parent != nil {
		parent.children = append(parent.children, x)
	}
	return x
}

// expand adds the subtree under x, breadth first: for a soft delete the live
// descendants (soft-deleted ones keep their own delete), for a hard delete
// every descendant; without Recursive only soft-deleted children, which a
// hard delete removes with their parent so that none is left orphaned.
func (p *planner) expand(x *item) error {
	// Level by level, which is the order of a first-in first-out queue,
	// so that each level's children are read in one pass (childrenOf).
	level := []*item{x}
	for len(level) > 0 {
		var kids [][]*record
		if len(level) == 1 {
			k, err := children(p.w.Txn, level[0].a.ID)
			if err != nil {
				return err
			}
			kids = [][]*record{k}
		} else {
			ids := make([]string, len(level))
			for i, x := range level {
				ids[i] = x.a.ID
			}
			var err error
			if kids, err = childrenOf(p.w.Txn, ids); err != nil {
				return err
			}
		}
		var next []*item
		for li, cur := range level {
			for _, k := range kids[li] {
				if !k.isDeleted() && !p.o.Recursive {
					cur.liveKids = append(cur.liveKids, k)
					continue
				}
				if k.isDeleted() && !p.o.Hard {
					continue
				}
				if y, ok := p.byID[k.ID]; ok {
					if y.parent == nil {
						y.parent = cur
						cur.children = append(cur.children, y)
					}
					continue
				}
				next = append(next, p.add(k, cur))
			}
			if err := p.tick(); err != nil {
				return err
			}
		}
		level = next
	}
	return nil
}

// adopt judges x on the live children the complete plan leaves behind: a
// live child that joined the plan another way (a version of the cascade, a
// dependent under the Cascade lineage policy) becomes x's child in the plan,
// deleted before x and failing x if it fails, and is no longer left behind.
func (p *planner) adopt(x *item) {
	left := x.liveKids[:0]
	for _, k := range x.liveKids {
		y, in := p.byID[k.ID]
		if !in {
			left = append(left, k)
			continue
		}
		if y.parent == nil {
			y.parent = x
			x.children = append(x.children, y)
		}
	}
	x.liveKids = left
}

// tick checks for cancellation every few thousand items of a large plan.
func (p *planner) tick() error {
	p.scanned++
	if p.scanned%4096 == 0 {
		return p.w.ctx.Err()
	}
	return nil
}

// children returns the artifacts id contains, in key order.
func children(txn *memdb.Txn, id string) ([]*record, error) {
	it, err := txn.Get(tableContains, indexID+prefix, idKey(id))
	if err != nil {
		return nil, fmt.Errorf("registry: children of %s: %w", id, err)
	}
	var out []*record
	for o := it.Next(); o != nil; o = it.Next() {
		c := row(txn, o.(*containsRow).Child)
		if c == nil {
			return nil, fmt.Errorf("registry: %s contains %s, which is not stored", id, o.(*containsRow).Child)
		}
		out = append(out, c)
	}
	return out, nil
}

// childrenOf returns what each artifact of ids contains, as children
// does, with one pass over the containment rows and one over the
// artifacts for all of them (groupScan).
func childrenOf(txn *memdb.Txn, ids []string) ([][]*record, error) {
	if len(ids) == 1 {
		kids, err := children(txn, ids[0])
		return [][]*record{kids}, err
	}
	order, sorted := sortIDs(ids)
	out := make([][]*record, len(ids))
	type slot struct {
		id   string
		k, j int // out[k][j]
	}
	var slots []slot
	err := groupScan(txn, tableContains, sorted, func(o any) string { return o.(*containsRow).Parent }, func(i int, o any) {
		k := order[i]
		slots = append(slots, slot{o.(*containsRow).Child, k, len(out[k])})
		out[k] = append(out[k], nil)
	})
	if err != nil || len(slots) == 0 {
		return out, err
	}
	slices.SortFunc(slots, func(a, b slot) int { return strings.Compare(a.id, b.id) })
	kids := make([]string, len(slots))
	for i, s := range slots {
		kids[i] = s.id
	}
	if err := groupScan(txn, tableArtifacts, kids, func(o any) string { return o.(*record).ID }, func(i int, o any) {
		out[slots[i].k][slots[i].j] = o.(*record)
	}); err != nil {
		return nil, err
	}
	for _, s := range slots {
		if out[s.k][s.j] == nil {
			return nil, fmt.Errorf("registry: %s contains %s, which is not stored", ids[s.k], s.id)
		}
	}
	return out, nil
}

// sortIDs returns the indexes of ids in the order of their values, which
// is the order of their keys, and the IDs in that order.
func sortIDs(ids []string) (order []int, sorted []string) {
	order = make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(ids[a], ids[b]) })
	sorted = make([]string, len(ids))
	for i, k := range order {
		sorted[i] = ids[k]
	}
	return order, sorted
}

// edgesOut returns the edges out of each of items, as edgesOf does, with
// one pass over the edges for all of them.
func edgesOut(txn *memdb.Txn, items []*item) ([][]*Edge, error) {
	if len(items) == 1 {
		out, err := edgesOf(txn, indexID, items[0].a.ID)
		return [][]*Edge{out}, err
	}
	ids := make([]string, len(items))
	for i, x := range items {
		ids[i] = x.a.ID
	}
	order, sorted := sortIDs(ids)
	out := make([][]*Edge, len(items))
	err := groupScan(txn, tableEdges, sorted, func(o any) string { return o.(*Edge).Upstream }, func(i int, o any) {
		out[order[i]] = append(out[order[i]], o.(*Edge))
	})
	return out, err
}

// scanLineage reads x's edges. Under the Cascade policy it adds x's live
// dependents (and their subtrees) to the plan.
func (p *planner) scanLineage(x *item, out []*Edge) error {
	for _, e := range out {
		var d *record
		if y, in := p.byID[e.Downstream]; in {
			d = y.a // read already: the plan reads before it writes
		} else if d = row(p.w.Txn, e.Downstream); d == nil {
			continue // Check reports such an edge; deleting x removes it
		}
		x.downRows = append(x.downRows, d)
		if p.o.Lineage == LineageCascade && !d.isDeleted() {
			if _, err := p.addRoot(d); err != nil {
				return err
			}
		}
	}
	if p.o.Hard {
		x.outEdges = out
	}
	return p.tick()
}

func (p *planner) linkLineage() {
	for _, x := range p.items {
		for _, d := range x.downRows {
			if y, ok := p.byID[d.ID]; ok && y != x {
				x.downs = append(x.downs, y)
				y.ups = append(y.ups, x)
			}
		}
	}
}

// check applies the rules to one item, the first that fails wins:
// authorization, live children left behind, deployment, purge protection,
// live dependents outside the plan.
func (p *planner) check(x *item) {
	if x.fail != nil {
		return
	}
	a := x.a
	action := ActionDelete
	if p.o.Hard {
		action = ActionHardDelete
	}
	if err := p.w.authorize(action, a); err != nil {
		x.fail = err.(*Error)
		return
	}
	if len(x.liveKids) > 0 {
		x.fail = notEmpty(a, x.liveKids, p.hidden)
		return
	}
	if a.isDeployed() {
		x.fail = newError(CodeDeployed, a.ID,
			"failed to delete %s %s (%s): it is deployed to %s; undeploy it first (ModelArts.3009)",
			a.Kind(), a.ID, a.FQN(), strings.Join(a.endpoints(), ", "))
		return
	}
	if pp := p.w.r.purgeProtection; pp > 0 && p.o.Hard && a.isDeleted() && p.w.now.Sub(a.del.At) < pp {
		x.fail = newError(CodePurgeProtected, a.ID,
			"%s (%s) was soft deleted at %s and is purge protected for %s; it can be hard deleted from %s",
			a.ID, a.FQN(), a.del.At.UTC().Format(timeFormat), pp, a.del.At.Add(pp).UTC().Format(timeFormat))
		return
	}
	if !p.lineage {
		return
	}
	var blocking []*record
	for _, d := range x.downRows {
		if _, in := p.byID[d.ID]; in {
			continue
		}
		if d.isDeleted() {
			// Never blocks; a hard delete drops the edge and marks it.
			if p.o.Hard {
				if err := p.mayMark(d); err != nil {
					x.fail = err
					return
				}
			}
			continue
		}
		if p.o.Lineage == LineageDetach {
			if !p.o.Hard {
				continue // a soft delete keeps edges; nothing to detach
			}
			if err := p.mayMark(d); err != nil {
				x.fail = err
				return
			}
			continue
		}
		blocking = append(blocking, d)
	}
	if len(blocking) > 0 {
		x.fail = hasDependents(a, blocking, "", p.hidden)
	}
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

// mayMark asks whether the principal may mark dependent d as having lost an
// upstream (Detach).
func (p *planner) mayMark(d *record) *Error {
	err, ok := p.mayUpdate[d.ID]
	if !ok {
		err = p.w.authorize(ActionUpdate, d)
		if p.mayUpdate == nil {
			p.mayUpdate = map[string]error{}
		}
		p.mayUpdate[d.ID] = err
	}
	if err != nil {
		return err.(*Error)
	}
	return nil
}

// propagate fails what a failure leaves inconsistent, until nothing
// changes: the plan's parent of a failed item would keep a live (or, for a
// hard delete, an existing) child, and an upstream of a failed live item
// would keep a live dependent.
func (p *planner) propagate() {
	var queue []*item
	for _, x := range p.items {
		if x.fail != nil {
			queue = append(queue, x)
		}
	}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		if par := x.parent; par != nil && par.fail == nil {
			par.fail = newError(CodeNotEmpty, par.a.ID, "%s is not empty: %s (%s) contains an artifact that cannot be deleted: %s",
				par.a.Kind(), par.a.ID, par.a.FQN(), p.because(x))
			par.cause, par.root = x, rootOf(x)
			queue = append(queue, par)
		}
		if !p.lineage {
			continue
		}
		for _, u := range x.ups {
			if u.fail != nil {
				continue
			}
			switch {
			case x.a.isDeleted():
				// A soft-deleted dependent never blocks; a hard delete of u
				// marks it, if the principal may.
				if p.o.Hard {
					u.fail = p.mayMark(x.a)
				}
			case p.o.Lineage != LineageDetach:
				u.fail = newError(CodeHasDependents, u.a.ID, "%s (%s) has a live dependent that cannot be deleted: %s",
					u.a.ID, u.a.FQN(), p.because(x))
			case p.o.Hard:
				u.fail = p.mayMark(x.a)
			}
			if u.fail != nil {
				u.cause, u.root = x, rootOf(x)
				queue = append(queue, u)
			}
		}
	}
}

// rootOf returns the item at the end of x's chain of causes: x itself
// when x broke a rule itself.
func rootOf(x *item) *item {
	if x.root != nil {
		return x.root
	}
	return x
}

// because names the failed item x for the failure it causes, in a size that
// does not depend on the depth of the plan: x's ID, FQN and code, and the
// ID, FQN and code of the root cause when that is another item. An item the
// principal may not read is named by neither.
func (p *planner) because(x *item) string {
	s := p.describe(x)
	if r := rootOf(x); r != x {
		s += "; root cause: " + p.describe(r)
	}
	return s
}

func (p *planner) describe(x *item) string {
	if p.hidden(x.a) {
		return p.label(x.a) + ": " + p.shown(x).Code
	}
	return fmt.Sprintf("%s (%s): %s", x.a.ID, x.a.FQN(), x.fail.Code)
}

func notEmpty(a *record, kids []*record, hide func(*record) bool) *Error {
	return newError(CodeNotEmpty, a.ID, "%s is not empty: %s (%s) contains %d live artifact(s) (%s); delete with Recursive to delete them too, or delete them first",
		a.Kind(), a.ID, a.FQN(), len(kids), names(kids, hide))
}

func hasDependents(a *record, deps []*record, why string, hide func(*record) bool) *Error {
	return newError(CodeHasDependents, a.ID, "%s (%s) has %d live dependent(s) through lineage: %s%s; delete them too (Lineage: LineageCascade), detach them (Lineage: LineageDetach) or unlink them first",
		a.ID, a.FQN(), len(deps), names(deps, hide), why)
}

// names lists up to five FQNs; those hide hides (artifacts the principal
// may not read) are counted, never named.
func names(as []*record, hide func(*record) bool) string {
	const most = 5
	var shown []string
	hidden := 0
	for _, a := range as {
		switch {
		case hide(a):
			hidden++
		case len(shown) < most:
			shown = append(shown, a.FQN())
		}
	}
	out := strings.Join(shown, ", ")
	if more := len(as) - hidden - len(shown); more > 0 {
		out += fmt.Sprintf(" and %d more", more)
	}
	if hidden > 0 {
		if out != "" {
			out += " and "
		}
		out += fmt.Sprintf("%d you may not read", hidden)
	}
	return out
}

// hidden reports whether the principal may not read a (WithReadAuthorization):
// the plan's messages and result count such an artifact without naming it.
func (p *planner) hidden(a *record) bool {
	if !p.w.r.authorizeReads {
		return false
	}
	h, ok := p.secret[a.ID]
	if !ok {
		h = p.w.hidden(a)
		if p.secret == nil {
			p.secret = map[string]bool{}
		}
		p.secret[a.ID] = h
	}
	return h
}

// label names a in a message: its FQN, or "an artifact you may not read".
func (p *planner) label(a *record) string {
	if p.hidden(a) {
		return "an artifact you may not read"
	}
	return a.FQN()
}

// shown is x's failure as the principal may see it: that of an artifact it
// may not read names neither the artifact nor its state.
func (p *planner) shown(x *item) *Error {
	if p.hidden(x.a) {
		action := ActionDelete
		if p.o.Hard {
			action = ActionHardDelete
		}
		return unreadable(p.w.principal, action)
	}
	return x.fail
}

// sort orders the plan depth first, emitting an item after its children and
// its dependents (post-order), starting from the roots in order. It runs in
// time linear in the plan: the graph library's topological sorts rescan the
// whole predecessor map for every vertex, quadratic in the plan (see the
// planner benchmarks). A containment-lineage cycle (a child its parent was
// made from) is broken where the walk meets it; both ends are deleted in the
// same transaction either way.
func (p *planner) sort() {
	p.order = make([]*item, 0, len(p.items))
	type frame struct {
		x    *item
		next int // index into children, then downs
	}
	var stack []frame
	push := func(x *item) {
		if x.visit == 0 {
			x.visit = 1
			stack = append(stack, frame{x: x})
		}
	}
	visitAll := func(start *item) {
		push(start)
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			kids, downs := f.x.children, f.x.downs
			if f.next < len(kids)+len(downs) {
				var y *item
				if f.next < len(kids) {
					y = kids[f.next]
				} else {
					y = downs[f.next-len(kids)]
				}
				f.next++
				push(y)
				continue
			}
			f.x.visit = 2
			p.order = append(p.order, f.x)
			stack = stack[:len(stack)-1]
		}
	}
	for _, r := range p.roots {
		visitAll(r)
	}
	for _, x := range p.items {
		visitAll(x)
	}
}

// failure returns the failure the call returns, nil if no item failed. A
// single-target delete returns its target's failure. A multi-item one
// returns the cause: the target's failure if the target broke a rule
// itself, else the first item in order that did (a parent that failed only
// because its child is deployed reports the child's DEPLOYED, not its own
// NOT_EMPTY).
func (p *planner) failure(multi bool) *Error {
	if len(p.roots) == 0 {
		return nil
	}
	if t := p.roots[0]; t.fail != nil && (!multi || t.own) {
		return p.shown(t)
	}
	var first *Error
	for _, x := range p.order {
		switch {
		case x.fail == nil:
		case x.own:
			return p.shown(x)
		case first == nil:
			first = p.shown(x)
		}
	}
	return first
}

// result reports the plan. applied says whether the items that did not fail
// are (or, in a dry run, would be) deleted.
func (p *planner) result(applied bool) Result {
	res := Result{Operation: p.w.op, Hard: p.o.Hard, DryRun: p.o.DryRun, Deleted: []string{}, Failed: []Failure{}, DeletedItems: []Item{}}
	if applied {
		res.Deleted, res.DeletedItems = make([]string, 0, len(p.order)), make([]Item, 0, len(p.order))
	}
	for _, x := range p.order {
		switch {
		case p.hidden(x.a):
			// Counted in the messages of the items it holds back, never
			// named.
		case x.fail != nil:
			f := Failure{ID: x.a.ID, FQN: x.a.FQN(), Kind: x.a.Kind(), Code: x.fail.Code, Message: x.fail.Message}
			if x.cause != nil {
				if !p.hidden(x.cause.a) {
					f.Cause = x.cause.a.ID
				}
				f.RootCode = p.shown(x.root).Code
				if !p.hidden(x.root.a) {
					f.RootCause = x.root.a.ID
				}
			}
			res.Failed = append(res.Failed, f)
		case applied:
			it := itemOf(x.a)
			x.fqn = it.FQN
			res.Deleted = append(res.Deleted, x.a.ID)
			res.DeletedItems = append(res.DeletedItems, it)
		}
	}
	if skipped := p.unhidden(p.skips()); len(skipped) > 0 {
		res.Skipped, res.SkippedItems = idsAndItems(skipped)
		res.SkipReason = fmt.Sprintf("cascade limit of %d reached: %d more version(s) of %s were not deleted; delete again to continue",
			p.o.limit(), len(skipped), p.skippedName)
	}
	if applied && p.o.Hard {
		res.Detached, res.DetachedItems = idsAndItems(p.unhidden(p.detached()))
	}
	return res
}

// unhidden leaves out of rows the artifacts the principal may not read.
func (p *planner) unhidden(rows []*record) []*record {
	if !p.w.r.authorizeReads {
		return rows
	}
	return slices.DeleteFunc(rows, p.hidden)
}

func itemOf(a *record) Item { return Item{ID: a.ID, FQN: a.FQN(), Kind: a.Kind()} }

// idsAndItems reports rows as a Result's parallel lists: IDs and items.
func idsAndItems(rows []*record) ([]string, []Item) {
	if len(rows) == 0 {
		return nil, nil
	}
	ids, items := make([]string, len(rows)), make([]Item, len(rows))
	for i, a := range rows {
		ids[i], items[i] = a.ID, itemOf(a)
	}
	return ids, items
}

// detached lists, in order, the artifacts that stay and lose an upstream to
// this hard delete, with the upstreams each loses.
func (p *planner) detachments() (ids []string, lost map[string][]string, rows map[string]*record) {
	lost = map[string][]string{}
	rows = map[string]*record{}
	for _, x := range p.order {
		if x.fail != nil {
			continue
		}
		for _, d := range x.downRows {
			if y, in := p.byID[d.ID]; in && y.fail == nil {
				continue
			}
			if _, seen := lost[d.ID]; !seen {
				ids = append(ids, d.ID)
				rows[d.ID] = d
			}
			lost[d.ID] = append(lost[d.ID], x.a.ID)
		}
	}
	return ids, lost, rows
}

func (p *planner) detached() []*record {
	ids, _, rows := p.detachments()
	out := make([]*record, len(ids))
	for i, id := range ids {
		out[i] = rows[id]
	}
	return out
}

// apply makes the plan's changes: every item that did not fail is soft or
// hard deleted, in order.
func (p *planner) apply() error {
	if p.o.Hard {
		return p.applyHard()
	}
	w := p.w
	changes := make([]change, 0, len(p.order))
	w.events = slices.Grow(w.events, len(p.order))
	del := &deletion{At: w.now, By: w.principal, Operation: w.op, Reason: w.reason}
	for _, x := range p.order {
		if x.fail != nil {
			continue
		}
		c := w.touch(x.a)
		c.del = del
		changes = append(changes, change{old: x.a, new: c})
		w.events = append(w.events, change{kind: EventSoftDeleted, new: c, fqn: x.fqn})
	}
	return w.replaceAll(changes)
}

func (p *planner) applyHard() error {
	w := p.w
	changes := make([]change, 0, len(p.order))
	w.events = slices.Grow(w.events, len(p.order))
	// An item deleted has every child deleted too (a child that fails
	// fails its parent), so its containment rows go with one prefix
	// delete.
	var parents map[string]bool
	for _, x := range p.order {
		if x.fail != nil {
			continue
		}
		changes = append(changes, change{old: x.a})
		w.events = append(w.events, change{kind: EventDeleted, new: x.a, fqn: x.fqn})
		if len(x.children) > 1 {
			if parents == nil {
				parents = map[string]bool{}
			}
			parents[x.a.ID] = true
		}
	}
	// Storage URIs that lose their last reference become pending cleanups
	// in the same writes.
	if err := w.replaceAllDropping(changes, parents); err != nil {
		return err
	}
	// The edges out of every item deleted, and the edges into it from
	// upstreams that stay (the others go with their upstream's outgoing
	// edges). An edge into an item is not read: go-memdb deletes a row
	// by its key, so an Edge holding the two ends names it.
	var keyed []keyedEdge
	for _, x := range p.order {
		if x.fail != nil {
			continue
		}
		for _, e := range x.outEdges {
			keyed = append(keyed, keyedEdge{edgeKey(e.Upstream, e.Downstream), e})
		}
		for u := range x.a.upstreams().All() {
			if y, in := p.byID[u]; !in || y.fail != nil {
				keyed = append(keyed, keyedEdge{edgeKey(u, x.a.ID), &Edge{Upstream: u, Downstream: x.a.ID}})
			}
		}
	}
	// Deleted in key order, as replaceAll writes rows: each radix-tree
	// node is then copied once, not once per edge under it. The keys are
	// built once: parsing two UUIDs per comparison cost a fifth of a 100k
	// recursive delete.
	slices.SortFunc(keyed, func(a, b keyedEdge) int { return bytes.Compare(a.key, b.key) })
	// The edges out of artifacts registered together are neighbours:
	// whole subtrees of the index go by prefix.
	keys := make([][]byte, len(keyed))
	for i, k := range keyed {
		keys[i] = k.key
	}
	prefixes, covered, err := w.purePrefixes(tableEdges, indexID, keys)
	if err != nil {
		return err
	}
	if err := w.deletePrefixes(tableEdges, indexID, prefixes); err != nil {
		return err
	}
	for i, k := range keyed {
		if covered != nil && covered[i] {
			continue
		}
		if err := w.Delete(tableEdges, k.e); err != nil {
			return fmt.Errorf("registry: delete edge %s -> %s: %w", k.e.Upstream, k.e.Downstream, err)
		}
	}
	ids, lost, rows := p.detachments()
	changes = changes[:0]
	for _, id := range ids {
		c := w.touch(rows[id])
		c.setExtra(c.endpoints(), append(slices.Clone(c.deletedUpstreams()), lost[id]...))
		c.setUpstreams(c.upstreams().Without(lost[id]...))
		changes = append(changes, change{old: rows[id], new: c})
		w.emit(EventUpdated, c)
	}
	return w.replaceAll(changes)
}

// keyedEdge is an edge with its key in the edges table.
type keyedEdge struct {
	key []byte
	e   *Edge
}
