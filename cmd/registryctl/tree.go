package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/modelreg/registry"
)

// treeNode is one item of a delete's result in the tree.
type treeNode struct {
	key      string // the ID, or the FQN of a failed item the caller may not read
	label    string // FQN (kind ID)
	mark     string
	rank     int // the order of the report: deleted, then failed, then skipped
	children []*treeNode
}

// resultTree renders a delete's (or a purge's) result as a tree: each item
// under its parent when the parent is in the result too (parents, from
// the items' Parent), siblings and roots in the order of the report
// (deleted in the order applied, then failed, then skipped), each marked
// with what happened to it. Dependents that a hard delete detached follow.
// The output depends on nothing but its arguments.
func resultTree(w io.Writer, call string, res registry.Result, parents map[string]string) {
	what := "a soft " + call
	if res.Hard {
		what = "a hard " + call
	}
	if call == "purge" {
		what = "a purge" // always hard
	}
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "Dry run of %s, operation %s: nothing was changed.\n", what, res.Operation)
	case res.Replayed:
		fmt.Fprintf(w, "%s, operation %s, replayed: the first call's result; nothing more was changed.\n", capital(what), res.Operation)
	default:
		fmt.Fprintf(w, "%s, operation %s.\n", capital(what), res.Operation)
	}

	var nodes []*treeNode
	done, verb := "deleted", "deleted"
	if res.DryRun {
		done, verb = "would delete", "would be deleted"
	}
	for i, it := range res.DeletedItems {
		nodes = append(nodes, &treeNode{key: it.ID, label: itemLabel(it.FQN, string(it.Kind), it.ID),
			mark: fmt.Sprintf("#%d %s", i+1, done), rank: len(nodes)})
	}
	for _, f := range res.Failed {
		mark := "FAILED " + f.Code + ": " + oneLine(f.Message)
		nodes = append(nodes, &treeNode{key: first(f.ID, f.FQN), label: itemLabel(f.FQN, string(f.Kind), f.ID),
			mark: mark, rank: len(nodes)})
	}
	reason := first(res.SkipReason, "past the cascade limit")
	for i, id := range res.Skipped {
		it := registry.Item{ID: id}
		if i < len(res.SkippedItems) {
			it = res.SkippedItems[i]
		}
		nodes = append(nodes, &treeNode{key: id, label: itemLabel(it.FQN, string(it.Kind), id),
			mark: "SKIPPED: " + oneLine(reason), rank: len(nodes)})
	}

	byKey := make(map[string]*treeNode, len(nodes))
	for _, n := range nodes {
		if _, dup := byKey[n.key]; !dup {
			byKey[n.key] = n
		}
	}
	var roots []*treeNode
	for _, n := range nodes {
		if p, ok := byKey[parents[n.key]]; ok && p != n && !isAncestor(n, p) {
			p.children = append(p.children, n)
			continue
		}
		roots = append(roots, n)
	}
	// Roots in the order of the report; a parent is deleted after its
	// children, so a root's rank is its subtree's last: sort by the lowest
	// rank in each subtree to keep the plan's order readable.
	slices.SortStableFunc(roots, func(x, y *treeNode) int { return minRank(x) - minRank(y) })
	for _, r := range roots {
		fmt.Fprintf(w, "%s  %s\n", r.label, r.mark)
		printChildren(w, r, "")
	}
	if len(nodes) == 0 {
		fmt.Fprintln(w, "(nothing to delete)")
	}

	if len(res.Detached) > 0 {
		fmt.Fprintln(w, "Dependents that lose an upstream and stay:")
		for i, id := range res.Detached {
			it := registry.Item{ID: id}
			if i < len(res.DetachedItems) {
				it = res.DetachedItems[i]
			}
			fmt.Fprintf(w, "  %s  DETACHED\n", itemLabel(it.FQN, string(it.Kind), id))
		}
	}
	fmt.Fprintf(w, "%d %s, %d failed, %d skipped, %d detached.\n", len(res.Deleted), verb, len(res.Failed), len(res.Skipped), len(res.Detached))
}

func printChildren(w io.Writer, n *treeNode, prefix string) {
	slices.SortStableFunc(n.children, func(x, y *treeNode) int { return minRank(x) - minRank(y) })
	for i, c := range n.children {
		branch, next := "├── ", "│   "
		if i == len(n.children)-1 {
			branch, next = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s%s  %s\n", prefix, branch, c.label, c.mark)
		printChildren(w, c, prefix+next)
	}
}

// minRank is the lowest rank in n's subtree.
func minRank(n *treeNode) int {
	r := n.rank
	for _, c := range n.children {
		r = min(r, minRank(c))
	}
	return r
}

// isAncestor reports whether n is an ancestor of p already (a cycle the
// server would never report, guarded against anyway).
func isAncestor(n, p *treeNode) bool {
	for _, c := range n.children {
		if c == p || isAncestor(c, p) {
			return true
		}
	}
	return false
}

func itemLabel(fqn, kind, id string) string {
	if id == "" {
		id = "ID hidden"
	}
	return fmt.Sprintf("%s (%s %s)", first(fqn, "?"), first(kind, "?"), id)
}

func capital(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
