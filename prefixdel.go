package registry

import "fmt"

// Deleting many rows by prefix. go-immutable-radix copies, for every key a
// transaction deletes, the node of the key itself (just to clear its leaf)
// besides the nodes on its path, while a prefix delete drops a whole
// subtree with copies only on the path to it. Rows a bulk delete takes are
// often neighbours in an index (the artifacts one call registered have
// time-ordered IDs, and so do the lineage edges out of them), so the
// subtrees that hold only rows the call deletes are worth finding.

// minPrefixRun is the fewest keys a prefix must cover for purePrefixes to
// count the rows under it: below that, deleting the keys one by one costs
// less than reading.
const minPrefixRun = 16

// purePrefixes returns prefixes under which the index holds exactly rows
// of keys (sorted and distinct, all present in the index) and no other,
// each covering at least minPrefixRun of them, and marks the keys they
// cover. It reads the index: call it before the transaction writes to it,
// since go-memdb copies a written index's nodes anew after a read.
func (w *writeTxn) purePrefixes(table, index string, keys [][]byte) (prefixes [][]byte, covered []bool, err error) {
	if len(keys) < minPrefixRun {
		return nil, nil, nil
	}
	covered = make([]bool, len(keys))
	var walk func(lo, hi int) error
	walk = func(lo, hi int) error {
		if hi-lo < minPrefixRun {
			return nil
		}
		first, last := keys[lo], keys[hi-1]
		n := 0
		for n < len(first) && n < len(last) && first[n] == last[n] {
			n++
		}
		p := first[:n:n]
		rows, err := w.countPrefix(table, index, p, hi-lo)
		if err != nil {
			return err
		}
		if rows == hi-lo {
			prefixes = append(prefixes, p)
			for i := lo; i < hi; i++ {
				covered[i] = true
			}
			return nil
		}
		// Split on the byte after the common prefix; a key that ends there
		// stays on its own.
		for i := lo; i < hi; {
			if len(keys[i]) == n {
				i++
				continue
			}
			b, j := keys[i][n], i+1
			for j < hi && len(keys[j]) > n && keys[j][n] == b {
				j++
			}
			if j-i == hi-lo {
				return nil // cannot happen with distinct keys; never loop
			}
			if err := walk(i, j); err != nil {
				return err
			}
			i = j
		}
		return nil
	}
	if err := walk(0, len(keys)); err != nil {
		return nil, nil, err
	}
	if len(prefixes) == 0 {
		return nil, nil, nil
	}
	return prefixes, covered, nil
}

// countPrefix counts the rows of the index under p, up to limit+1.
func (w *writeTxn) countPrefix(table, index string, p []byte, limit int) (int, error) {
	it, err := w.Get(table, index+prefix, p)
	if err != nil {
		return 0, fmt.Errorf("registry: %s by %s: %w", table, index, err)
	}
	n := 0
	for o := it.Next(); o != nil && n <= limit; o = it.Next() {
		n++
	}
	return n, nil
}

// deletePrefixes deletes the rows under each prefix of the index; go-memdb
// removes them from the table's other indexes one by one.
func (w *writeTxn) deletePrefixes(table, index string, prefixes [][]byte) error {
	for _, p := range prefixes {
		if _, err := w.DeletePrefix(table, index+prefix, string(p)); err != nil {
			return fmt.Errorf("registry: %s under %x: %w", table, p, err)
		}
	}
	return nil
}

// dropPureRuns deletes by prefix the artifacts among list's deletes (which
// come first, sorted by ID key) that fill whole subtrees of the ID index,
// and returns list without them. go-memdb takes them out of the name index
// one by one.
func dropPureRuns[T any](w *writeTxn, list []T, keyOf func(T) ([]byte, bool)) ([]T, error) {
	n := 0
	for n < len(list) {
		if _, del := keyOf(list[n]); !del {
			break
		}
		n++
	}
	if n < minPrefixRun {
		return list, nil
	}
	keys := make([][]byte, n)
	for i := range keys {
		keys[i], _ = keyOf(list[i])
	}
	prefixes, covered, err := w.purePrefixes(tableArtifacts, indexID, keys)
	if err != nil || prefixes == nil {
		return list, err
	}
	if err := w.deletePrefixes(tableArtifacts, indexID, prefixes); err != nil {
		return nil, err
	}
	out := make([]T, 0, len(list))
	for i, o := range list {
		if i < n && covered[i] {
			continue
		}
		out = append(out, o)
	}
	return out, nil
}
