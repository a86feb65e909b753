package replicated

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkBoltFile looks at a bbolt file's two meta pages before bbolt maps
// it. bbolt survives a torn write of its own (a meta page whose checksum
// fails is skipped for the other one), but it maps the file up to the
// size the newest valid meta page records: a file cut shorter than that
// (a truncated copy, a full disk) would be read past its end, and a read
// past the end of a mapped file kills the process (SIGBUS) instead of
// returning an error. So: a missing or empty file is a new store; a file
// whose newest valid meta page reaches past its end is an error that says
// so.
func checkBoltFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	size := info.Size()
	if size == 0 {
		return nil
	}
	// Meta page 0 starts the file; its page size locates meta page 1.
	m0, ok0 := readMeta(f, 0)
	pageSize := int64(0)
	if ok0 {
		pageSize = int64(m0.pageSize)
	}
	var m1 boltMeta
	ok1 := false
	for _, ps := range []int64{pageSize, 4096, 1024, 2048, 8192, 16384, 32768, 65536} {
		if ps == 0 {
			continue
		}
		if m, ok := readMeta(f, ps); ok && int64(m.pageSize) == ps {
			m1, ok1 = m, true
			if pageSize == 0 {
				pageSize = ps
			}
			break
		}
	}
	if !ok0 && !ok1 {
		return fmt.Errorf("%s is not a valid bbolt file (%d bytes): both meta pages fail their checks", path, size)
	}
	newest := m0
	if !ok0 || (ok1 && m1.txid > m0.txid) {
		newest = m1
	}
	if need := int64(newest.pgid) * int64(newest.pageSize); need > size {
		return fmt.Errorf("%s is truncated: its latest transaction (%d) spans %d bytes, the file has %d", path, newest.txid, need, size)
	}
	return nil
}

type boltMeta struct {
	pageSize uint32
	pgid     uint64 // the high-water mark: pages in use
	txid     uint64
}

// readMeta reads the meta page at offset off and reports whether it is
// valid (magic, version 2, checksum): bbolt's layout is a 16-byte page
// header, then magic, version, page size, flags (4 bytes each), the root
// bucket (16), the freelist page, the high-water mark, the transaction ID
// and an FNV-64a checksum of everything before it (8 bytes each).
func readMeta(r io.ReaderAt, off int64) (boltMeta, bool) {
	var b [16 + 64]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return boltMeta{}, false
	}
	m := b[16:]
	le := binary.NativeEndian // bbolt writes its pages in the machine's byte order
	if le.Uint32(m[0:]) != 0xED0CDAED || le.Uint32(m[4:]) != 2 {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}
