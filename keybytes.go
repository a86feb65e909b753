package registry

import "unsafe"

// keyBytes returns the bytes of s without copying them, for an index key
// that a row already holds as a string (the name key, record.key), so that
// neither a write nor a lookup allocates it again and a row's index entry
// keeps no copy of its own.
//
// It is safe because nothing writes into the bytes: go-immutable-radix keeps
// the key and slices of it as its leaf key and prefix and never writes into
// key bytes (it copies prefixes, and concatenates into fresh slices);
// go-memdb appends to a key only for non-unique indexes, and the slice
// returned has its capacity at its length, so that any append copies. No
// caller may write into the result.
func keyBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
