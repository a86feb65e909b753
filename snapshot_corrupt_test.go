package registry_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frame is one record of a snapshot, as the format at the top of
// snapshot.go lays it out.
type frame struct {
	start, end int // the record's bytes: snap[start:end]
	typ        byte
}

const snapHeaderSize = 16

func frames(t *testing.T, snap []byte) []frame {
	t.Helper()
	var out []frame
	for off := snapHeaderSize; off < len(snap); {
		require.GreaterOrEqual(t, len(snap)-off, 9)
		n := int(binary.BigEndian.Uint32(snap[off+1:]))
		out = append(out, frame{start: off, end: off + 5 + n + 4, typ: snap[off]})
		off += 5 + n + 4
	}
	return out
}

// reframe recomputes every record's CRC and the trailer (counts, byte
// count, whole checksum), so that a change to a payload reaches the
// checks behind the checksums.
func reframe(t *testing.T, snap []byte) []byte {
	t.Helper()
	out := append([]byte(nil), snap[:snapHeaderSize]...)
	counts := map[byte]uint64{}
	for _, f := range frames(t, snap) {
		if f.typ == 255 {
			break
		}
		counts[f.typ]++
		rec := append([]byte(nil), snap[f.start:f.end-4]...)
		out = append(out, rec...)
		out = binary.BigEndian.AppendUint32(out, crc32.Checksum(rec, castagnoli))
	}
	var p []byte
	for _, typ := range []byte{2, 3, 4, 5} {
		p = binary.AppendUvarint(p, counts[typ])
	}
	p = binary.BigEndian.AppendUint64(p, uint64(len(out)))
	p = binary.BigEndian.AppendUint32(p, crc32.Checksum(out, castagnoli))
	return appendRecord(out, 255, p)
}

func appendRecord(out []byte, typ byte, payload []byte) []byte {
	start := len(out)
	out = append(out, typ)
	out = binary.BigEndian.AppendUint32(out, uint32(len(payload)))
	out = append(out, payload...)
	return binary.BigEndian.AppendUint32(out, crc32.Checksum(out[start:], castagnoli))
}

func firstOf(t *testing.T, snap []byte, typ byte) frame {
	t.Helper()
	for _, f := range frames(t, snap) {
		if f.typ == typ {
			return f
		}
	}
	t.Fatalf("no record of type %d", typ)
	return frame{}
}

func TestReadSnapshotRefusesCorruption(t *testing.T) {
	w := newRichWorld(t)
	snap, _ := snapshotBytes(t, w.f.Registry)
	fs := frames(t, snap)
	trailer := fs[len(fs)-1]
	require.Equal(t, byte(255), trailer.typ)

	type tc struct {
		name   string
		data   []byte
		reason string
		offset int64 // -1: not checked
	}
	var cases []tc
	edit := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), snap...)) }

	// Truncation at every record boundary and inside every record.
	cases = append(cases, tc{"empty", nil, "truncated", 0}, tc{"inside the header", snap[:10], "truncated", 0},
		tc{"after the header", snap[:snapHeaderSize], "truncated: the snapshot ends before its trailer", snapHeaderSize})
	for i, f := range fs {
		if i > 0 {
			cases = append(cases, tc{"at boundary before record " + strconv.Itoa(i+1), snap[:f.start], "truncated: the snapshot ends before its trailer", int64(f.start)})
		}
		cases = append(cases,
			tc{"inside the header of record " + strconv.Itoa(i+1), snap[:f.start+3], "truncated", int64(f.start)},
			tc{"inside record " + strconv.Itoa(i+1), snap[:(f.start+f.end)/2], "truncated", int64(f.start)},
			tc{"before the CRC of record " + strconv.Itoa(i+1), snap[:f.end-1], "truncated", int64(f.start)})
	}
	// A flipped byte in each section.
	for _, typ := range []byte{1, 2, 3, 4, 5, 255} {
		f := firstOf(t, snap, typ)
		cases = append(cases, tc{"flipped byte in section " + strconv.Itoa(int(typ)), edit(func(b []byte) []byte { b[f.start+6] ^= 0x40; return b }), "CRC mismatch", int64(f.start)})
	}
	cases = append(cases, tc{"flipped byte in the header", edit(func(b []byte) []byte { b[13] ^= 1; return b }), "CRC mismatch", 0})
	// Two records swapped.
	a1, a2 := fs[1], fs[2]
	require.Equal(t, byte(2), a1.typ)
	require.Equal(t, byte(2), a2.typ)
	swapped := append(append(append(append([]byte(nil), snap[:a1.start]...), snap[a2.start:a2.end]...), snap[a1.start:a1.end]...), snap[a2.end:]...)
	cases = append(cases, tc{"two artifacts swapped", swapped, "records out of key order", int64(a1.start + a2.end - a2.start)})
	e := firstOf(t, snap, 3)
	sectionSwap := append(append(append(append([]byte(nil), snap[:a1.start]...), snap[e.start:e.end]...), snap[a1.start:e.start]...), snap[e.end:]...)
	cases = append(cases, tc{"an edge before the artifacts", sectionSwap, "out of order: a record of section artifacts after section edges", -1})
	cases = append(cases,
		tc{"wrong magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), "wrong magic", 0},
		tc{"future version", edit(func(b []byte) []byte { b[11] = 2; return b[:20] }), "future version 2 > supported 1", 8},
		tc{"version 0", edit(func(b []byte) []byte { b[11] = 0; return b }), "unknown version 0", 8},
		tc{"data after the trailer", append(append([]byte(nil), snap...), 0), "data after the trailer", int64(len(snap))},
	)
	// The trailer's counts and checksum.
	trailerWith := func(fn func(p []byte) []byte) []byte {
		p := append([]byte(nil), snap[trailer.start+5:trailer.end-4]...)
		return appendRecord(append([]byte(nil), snap[:trailer.start]...), 255, fn(p))
	}
	cases = append(cases,
		tc{"wrong artifact count", trailerWith(func(p []byte) []byte { p[0]++; return p }), "count mismatch in the trailer: it counts 53 artifacts, the snapshot holds 52", int64(trailer.start)},
		tc{"wrong byte count", trailerWith(func(p []byte) []byte { p[len(p)-5]++; return p }), "count mismatch in the trailer", int64(trailer.start)},
		tc{"wrong whole checksum", trailerWith(func(p []byte) []byte { p[len(p)-1]++; return p }), "whole-file checksum mismatch", int64(trailer.start)},
	)
	// Records whose frames are sound but whose content is not.
	meta := firstOf(t, snap, 1)
	cases = append(cases,
		tc{"unknown record type", reframe(t, append(append(append([]byte(nil), snap[:meta.end]...), appendRecord(nil, 9, []byte{1})...), snap[meta.end:]...)),
			"unknown record type 9", int64(meta.end)},
		tc{"second meta record", reframe(t, append(append([]byte(nil), snap[:meta.end]...), snap[meta.start:]...)), "out of order", int64(meta.end)},
		tc{"missing meta record", reframe(t, append(append([]byte(nil), snap[:meta.start]...), snap[meta.end:]...)), "the first record must be the meta record", int64(meta.start)},
		tc{"an artifact of no kind", reframe(t, edit(func(b []byte) []byte {
			i := bytes.Index(b[a1.start:a1.end], []byte("\x05model"))
			if i < 0 {
				i = bytes.Index(b[a1.start:a1.end], []byte("\x07dataset"))
			}
			require.Positive(t, i)
			b[a1.start+i+1] = 'X'
			return b
		})), "breaks the registry's rules", int64(a1.start)},
		tc{"trailing bytes in a record", reframe(t, edit(func(b []byte) []byte {
			rec := append(append([]byte(nil), b[e.start+5:e.end-4]...), 0)
			return append(append(append([]byte(nil), b[:e.start]...), appendRecord(nil, 3, rec)...), b[e.end:]...)
		})), "1 bytes follow the record's last field", int64(e.start)},
	)
	// A reference to a missing row: drop every artifact but the first.
	var onlyFirst []byte
	onlyFirst = append(onlyFirst, snap[:a1.end]...)
	onlyFirst = append(onlyFirst, snap[e.start:]...)
	cases = append(cases, tc{"edges to missing artifacts", reframe(t, onlyFirst), "a reference to a missing row", -1})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := snapshotBytes(t, w.f.Registry)
			_, err := w.f.ReadSnapshot(bytes.NewReader(c.data))
			require.Error(t, err)
			assert.ErrorIs(t, err, registry.ErrCorruptSnapshot)
			var se *registry.SnapshotError
			require.True(t, errors.As(err, &se))
			assert.Contains(t, se.Reason, c.reason)
			if c.offset >= 0 {
				assert.Equal(t, c.offset, se.Offset, err.Error())
			}
			assert.Contains(t, err.Error(), "nothing was loaded")
			after, _ := snapshotBytes(t, w.f.Registry)
			assert.Equal(t, before, after, "the registry is unchanged")
			_, err = registry.Load(bytes.NewReader(c.data))
			assert.ErrorIs(t, err, registry.ErrCorruptSnapshot)
		})
	}
}
