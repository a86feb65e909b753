package registry

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// TestKeyBytesAliasesWithoutRoomToGrow checks the contract of keyBytes: the
// string's own bytes, no copy, and no capacity past them, so that an append
// (go-memdb's, for non-unique indexes) copies instead of writing into the
// string.
func TestKeyBytesAliasesWithoutRoomToGrow(t *testing.T) {
	s := strings.Repeat("ns\x00name\x00v", 3)[:12]
	b := keyBytes(s)
	if string(b) != s || len(b) != len(s) || cap(b) != len(s) {
		t.Fatalf("keyBytes(%q) = %q, len %d, cap %d", s, b, len(b), cap(b))
	}
	if unsafe.SliceData(b) != unsafe.StringData(s) {
		t.Fatal("keyBytes copied the string")
	}
	grown := append(b, 'x')
	if unsafe.SliceData(grown) == unsafe.StringData(s) || s != strings.Repeat("ns\x00name\x00v", 3)[:12] {
		t.Fatal("an append wrote into the string")
	}
	if keyBytes("") != nil {
		t.Fatal("keyBytes of the empty string is not nil")
	}
}

// TestRecordNameIsOneKey checks that a record's namespace, name and version
// are the parts of its name key, the very bytes the name index holds, and
// that a record stays in the 240-byte size class.
func TestRecordNameIsOneKey(t *testing.T) {
	for _, p := range [][3]string{{"ns", "name", "1"}, {"svc", "churn.v2", ""}, {"é", "ü", "10"}} {
		var r record
		r.setName(p[0], p[1], p[2])
		if r.namespace() != p[0] || r.name() != p[1] || r.version() != p[2] {
			t.Errorf("setName%q: parts %q %q %q", p, r.namespace(), r.name(), r.version())
		}
		if want := nameKey(p[0], p[1], p[2]); !bytes.Equal(keyBytes(r.key), want) {
			t.Errorf("setName%q: key %q, want %q", p, r.key, want)
		}
		_, key, _ := newSchema().Tables[tableArtifacts].Indexes[indexName].Indexer.(keyIndexer).FromObject(&r)
		if unsafe.SliceData(key) != unsafe.StringData(r.key) {
			t.Errorf("setName%q: the name index copies the key", p)
		}
	}
	var empty record
	if empty.namespace() != "" || empty.name() != "" || empty.version() != "" {
		t.Error("a record without a name has parts")
	}
	if size := unsafe.Sizeof(record{}); size > 240 {
		t.Errorf("record is %d bytes, past the 240-byte size class", size)
	}
}

// TestRecordKindCodes checks that every kind survives a record and that an
// invalid one is none.
func TestRecordKindCodes(t *testing.T) {
	for _, k := range []Kind{KindModel, KindDataset, KindCode} {
		if r := (record{kind: codeOf(k)}); r.Kind() != k || r.artifact().Kind != k {
			t.Errorf("kind %q comes back as %q", k, r.Kind())
		}
	}
	for _, k := range []Kind{"", "Model", "xmodel"} {
		if codeOf(k) != 0 || checkKind(k) == nil {
			t.Errorf("invalid kind %q has code %d", k, codeOf(k))
		}
	}
}

// TestCheckNameLengths checks that a name part longer than any
// valid one is refused before its offsets are taken.
func TestCheckNameLengths(t *testing.T) {
	long := strings.Repeat("a", 4*MaxNameLength+1)
	if err := checkNameLengths(long, "n", "1"); err == nil || !strings.Contains(err.Error(), "namespace") {
		t.Errorf("a namespace of %d bytes: %v", len(long), err)
	}
	if err := checkNameLengths("ns", "n", strings.Repeat("1", 4*MaxVersionLength+1)); err == nil {
		t.Error("a long version passes")
	}
	if err := checkNameLengths(strings.Repeat("é", MaxNameLength), "n", "1"); err != nil {
		t.Errorf("a valid namespace of %d characters: %v", MaxNameLength, err)
	}
}

// TestChangeBucketVersions checks that each next version of a bucket holds
// its references with no room to append and leaves the version it was made
// from as it was (stored rows are shared with readers).
func TestChangeBucketVersions(t *testing.T) {
	w := &writeTxn{}
	var bk *uriBucket
	for i := range 17 {
		ref := uriRef{URI: fmt.Sprintf("s3://b/%02d", i), Owner: newID()}
		next, err := w.changeBucket(7, bk, []uriRef{ref}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(next.Refs) != i+1 || cap(next.Refs) != len(next.Refs) {
			t.Fatalf("after %d additions: %d references in an array of %d", i+1, len(next.Refs), cap(next.Refs))
		}
		if bk != nil && len(bk.Refs) != i {
			t.Fatalf("the previous version changed: %d references", len(bk.Refs))
		}
		bk = next
	}
	next, err := w.changeBucket(7, bk, nil, bk.Refs[:1])
	if err != nil || len(next.Refs) != 16 || len(bk.Refs) != 17 {
		t.Fatalf("removing one: %v, %d references, previous %d", err, len(next.Refs), len(bk.Refs))
	}
}

// TestChangeBucketAllocatesOnce checks that adding a reference to a bucket
// allocates the new references once, at their size, rather than cloning and
// growing (which leaves the grown array's spare half in the stored row).
func TestChangeBucketAllocatesOnce(t *testing.T) {
	w := &writeTxn{}
	bk := &uriBucket{Bucket: 7}
	for i := range 12 {
		bk.Refs = append(bk.Refs, uriRef{URI: fmt.Sprintf("s3://b/%02d", i), Owner: newID()})
	}
	bk.Refs = slices.Clip(bk.Refs)
	add := []uriRef{{URI: "s3://b/05x", Owner: newID()}}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := w.changeBucket(7, bk, add, nil); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the references and the bucket
		t.Errorf("adding a reference allocates %v times, want 2", allocs)
	}
}

// TestSetNameBytesIsSetName checks that a name read in place (a snapshot's)
// makes the same record as one given as strings, and owns its bytes.
func TestSetNameBytesIsSetName(t *testing.T) {
	buf := []byte("nsnamev1")
	var a, b record
	a.setName("ns", "name", "v1")
	b.setNameBytes(buf[:2], buf[2:6], buf[6:])
	copy(buf, "XXXXXXXX")
	if a.key != b.key || a.nameAt != b.nameAt || a.versionAt != b.versionAt {
		t.Fatalf("setNameBytes: key %q (%d, %d), want %q (%d, %d)", b.key, b.nameAt, b.versionAt, a.key, a.nameAt, a.versionAt)
	}
}
