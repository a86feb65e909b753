package registry

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-memdb"
)

// Reading the rows of many artifacts at once. A prefix scan or a lookup
// through go-memdb costs a read transaction on the index, an iterator and
// a walk from the root each time; a plan of 10k artifacts made 20k of them
// for containment and lineage alone. The artifacts a bulk operation takes
// are often neighbours in the indexes (registered together, their
// time-ordered IDs are close), so groupScan walks one iterator through
// the rows of a sorted list of IDs, and seeks afresh only past a gap.

// maxScanSkip is how many rows of other artifacts groupScan steps over
// before it seeks instead.
const maxScanSkip = 32

// groupScan calls fn(i, row) for each row of the table's id index whose key
// starts with the key of ids[i], in key order, for each i in order. ids
// must be canonical IDs in ascending order (the order of their keys), and
// head must return the ID a row's key starts with.
func groupScan(txn *memdb.Txn, table string, ids []string, head func(any) string, fn func(i int, row any)) error {
	var it memdb.ResultIterator
	var cur any
	seek := func(id string) error {
		var err error
		if it, err = txn.LowerBound(table, indexID, idKey(id)); err != nil {
			return fmt.Errorf("registry: %s from %s: %w", table, id, err)
		}
		cur = it.Next()
		return nil
	}
	for i, id := range ids {
		if it == nil {
			if err := seek(id); err != nil {
				return err
			}
		}
		skipped := 0
		for cur != nil && strings.Compare(head(cur), id) < 0 {
			if skipped++; skipped > maxScanSkip {
				if err := seek(id); err != nil {
					return err
				}
				break
			}
			cur = it.Next()
		}
		for cur != nil && head(cur) == id {
			fn(i, cur)
			cur = it.Next()
		}
	}
	return nil
}
