package benchmarks

import (
	"github.com/modelreg/registry"
)

// The delete planner of the map and SQL stores: the registry's rules
// (doc.go) for what the benchmarks exercise, the Restrict lineage policy
// only. The SQL store runs it on the statements of its transaction for one
// artifact and for cascades, and replaces it with set-based SQL for whole
// subtrees.

// node is what the planner needs to know of an artifact.
type node struct {
	ID, Parent        string
	Deleted, Deployed bool
}

// graphReader answers the planner's questions inside the store's
// transaction.
type graphReader interface {
	// children lists the artifacts id contains, in any state.
	children(id string) ([]node, error)
	// downstreams lists the artifacts with an edge from id, in any state.
	downstreams(id string) ([]node, error)
}

type pitem struct {
	n        node
	parent   *pitem
	liveKids int
	downs    []node
	ups      []*pitem
	fail     error
}

type plan struct {
	items   []*pitem
	byID    map[string]*pitem
	roots   []*pitem
	skipped int
}

// newPlan collects, checks and propagates: the roots, the part of each
// root's subtree the delete takes (every descendant with recursive, else the
// soft-deleted ones of a hard delete; live ones of a soft delete), and, when
// lineage applies (hard or cascade deletes), each item's dependents.
func newPlan(g graphReader, roots []node, hard, recursive, lineage bool) (*plan, error) {
	p := &plan{byID: make(map[string]*pitem, len(roots))}
	for _, r := range roots {
		if _, ok := p.byID[r.ID]; ok {
			continue
		}
		x := p.add(r, nil)
		p.roots = append(p.roots, x)
		for queue := []*pitem{x}; len(queue) > 0; queue = queue[1:] {
			cur := queue[0]
			kids, err := g.children(cur.n.ID)
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				if !k.Deleted && !recursive {
					cur.liveKids++
					continue
				}
				if k.Deleted && !hard {
					continue
				}
				if y, ok := p.byID[k.ID]; ok {
					if y.parent == nil {
						y.parent = cur
					}
					continue
				}
				queue = append(queue, p.add(k, cur))
			}
		}
	}
	if lineage {
		for _, x := range p.items {
			downs, err := g.downstreams(x.n.ID)
			if err != nil {
				return nil, err
			}
			x.downs = downs
		}
		for _, x := range p.items {
			for _, d := range x.downs {
				if y, ok := p.byID[d.ID]; ok && y != x {
					y.ups = append(y.ups, x)
				}
			}
		}
	}
	for _, x := range p.items {
		switch {
		case x.liveKids > 0:
			x.fail = errf(registry.ErrNotEmpty, "%s contains %d live artifact(s)", x.n.ID, x.liveKids)
		case x.n.Deployed:
			x.fail = errf(registry.ErrDeployed, "%s is deployed", x.n.ID)
		case lineage:
			for _, d := range x.downs {
				if _, in := p.byID[d.ID]; !in && !d.Deleted {
					x.fail = errf(registry.ErrHasDependents, "%s has live dependent %s", x.n.ID, d.ID)
					break
				}
			}
		}
	}
	var queue []*pitem
	for _, x := range p.items {
		if x.fail != nil {
			queue = append(queue, x)
		}
	}
	for ; len(queue) > 0; queue = queue[1:] {
		x := queue[0]
		if par := x.parent; par != nil && par.fail == nil {
			par.fail = errf(registry.ErrNotEmpty, "%s contains %s, which cannot be deleted", par.n.ID, x.n.ID)
			queue = append(queue, par)
		}
		if !lineage || x.n.Deleted {
			continue
		}
		for _, u := range x.ups {
			if u.fail == nil {
				u.fail = errf(registry.ErrHasDependents, "%s has live dependent %s, which cannot be deleted", u.n.ID, x.n.ID)
				queue = append(queue, u)
			}
		}
	}
	return p, nil
}

func (p *plan) add(n node, parent *pitem) *pitem {
	x := &pitem{n: n, parent: parent}
	p.items = append(p.items, x)
	p.byID[n.ID] = x
	return x
}

// failure returns the error of a failed plan: the first root's own, else
// the first item's.
func (p *plan) failure() error {
	if len(p.roots) > 0 && p.roots[0].fail != nil {
		return p.roots[0].fail
	}
	for _, x := range p.items {
		if x.fail != nil {
			return x.fail
		}
	}
	return nil
}

// outcome counts the plan's items.
func (p *plan) outcome() Outcome {
	o := Outcome{Skipped: p.skipped}
	for _, x := range p.items {
		if x.fail != nil {
			o.Failed++
		} else {
			o.Deleted++
		}
	}
	return o
}
