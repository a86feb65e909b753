package registry

import (
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	iradix "github.com/hashicorp/go-immutable-radix"
)

// record is the stored form of an artifact. It is never modified once
// stored: readers of older snapshots share it. It is smaller than Artifact
// (labels as a sorted key/value list, the delete bookkeeping behind a
// pointer that live artifacts leave nil) because a registry holds millions
// of them; reads copy it out into a fresh Artifact, so callers never share
// memory with the store. Strings are immutable and are shared.
type record struct {
	ID string
	// key is the name index's key, namespace\x00name\x00version (nameKey),
	// held once: the namespace, name and version are its substrings (see
	// namespace, name, version) and the index aliases its bytes (keyBytes),
	// so that neither a row nor an index operation allocates a name key.
	// Set it through setName.
	key                                 string
	Parent                              string
	DisplayName, Description, Algorithm string
	// lists holds the tags, the owners, the storage URIs and the labels
	// (key, value, key, value, ... sorted by key) back to back, in one
	// allocation; the counts say where each list ends.
	lists                 []string
	nTags, nOwners, nURIs uint8 // at most MaxListEntries each
	kind                  kindCode
	nameAt, versionAt     uint16 // where the name and the version start in key
	// upstreamList holds the artifacts this one was made from, sorted: the
	// lineage edges into it, while they are few; a large set lives in ext.
	// Read and replace them through upstreams and setUpstreams
	// (upstreams.go). Edges out of it are found through the edges table's
	// index, so every edge is stored once.
	upstreamList         []string
	Revision             int64
	CreatedAt, UpdatedAt time.Time
	UpdatedBy            string
	del                  *deletion // nil while live
	ext                  *extra    // nil for most artifacts
}

// kindCode is a Kind as a record holds it: one byte instead of a string
// header. Records hold valid kinds only, or none (0).
type kindCode uint8

// kinds lists the kinds by code.
var kinds = [...]Kind{0: "", 1: KindModel, 2: KindDataset, 3: KindCode}

// codeOf returns the code of a valid kind, 0 for any other.
func codeOf(k Kind) kindCode {
	switch k {
	case KindModel:
		return 1
	case KindDataset:
		return 2
	case KindCode:
		return 3
	}
	return 0
}

// Kind returns the artifact's kind.
func (r *record) Kind() Kind { return kinds[r.kind] }

// setName sets the namespace, name and version: one allocation, the name
// index's key. The parts must have passed checkName and checkVersion, or at
// least checkNameLengths.
func (r *record) setName(namespace, name, version string) {
	r.key = namespace + string(nameSep) + name + string(nameSep) + version
	r.nameAt = uint16(len(namespace) + 1)
	r.versionAt = r.nameAt + uint16(len(name)+1)
}

// checkNameLengths refuses parts longer than any valid one (MaxNameLength
// and MaxVersionLength characters of at most 4 bytes), with checkText's
// message, for a record that does not come through prepareNew (a
// snapshot's): setName needs their offsets to fit in 16 bits.
func checkNameLengths(namespace, name, version string) error {
	for _, p := range []struct {
		field, s string
		max      int
	}{{"namespace", namespace, MaxNameLength}, {"name", name, MaxNameLength}, {"version", version, MaxVersionLength}} {
		if len(p.s) > utf8.UTFMax*p.max {
			return checkText(p.field, p.s, p.max, false)
		}
	}
	return nil
}

// setNameBytes is setName for parts read in place (a snapshot's), copied
// once, into the key.
func (r *record) setNameBytes(namespace, name, version []byte) {
	var b strings.Builder
	b.Grow(len(namespace) + len(name) + len(version) + 2)
	b.Write(namespace)
	b.WriteByte(nameSep)
	b.Write(name)
	b.WriteByte(nameSep)
	b.Write(version)
	r.key = b.String()
	r.nameAt = uint16(len(namespace) + 1)
	r.versionAt = r.nameAt + uint16(len(name)+1)
}

// namespace, name and version are the parts of the name, substrings of key.
func (r *record) namespace() string {
	if r.key == "" {
		return ""
	}
	return r.key[:r.nameAt-1]
}

func (r *record) name() string {
	if r.key == "" {
		return ""
	}
	return r.key[r.nameAt : r.versionAt-1]
}

func (r *record) version() string {
	if r.key == "" {
		return ""
	}
	return r.key[r.versionAt:]
}

// extra holds the fields few artifacts have, out of line.
type extra struct {
	Endpoints, DeletedUpstreams []string
	// upstreamTree holds the upstreams of an artifact that has too many
	// for upstreamList (see upstreamSet).
	upstreamTree *iradix.Tree
}

func (r *record) endpoints() []string {
	if r.ext == nil {
		return nil
	}
	return r.ext.Endpoints
}

func (r *record) deletedUpstreams() []string {
	if r.ext == nil {
		return nil
	}
	return r.ext.DeletedUpstreams
}

// setExtra replaces the endpoints and the deleted upstreams, dropping the
// out-of-line block when it would be empty.
func (r *record) setExtra(endpoints, deletedUpstreams []string) {
	var tree *iradix.Tree
	if r.ext != nil {
		tree = r.ext.upstreamTree
	}
	r.ext = newExtra(endpoints, deletedUpstreams, tree)
}

// newExtra returns an out-of-line block, nil when it would be empty.
func newExtra(endpoints, deletedUpstreams []string, upstreamTree *iradix.Tree) *extra {
	if len(endpoints) == 0 && len(deletedUpstreams) == 0 && upstreamTree == nil {
		return nil
	}
	return &extra{Endpoints: endpoints, DeletedUpstreams: deletedUpstreams, upstreamTree: upstreamTree}
}

// deletion records the soft delete that took an artifact.
type deletion struct {
	At                    time.Time
	By, Operation, Reason string
}

func (r *record) isDeleted() bool { return r.del != nil }

// The lists, each capped so that an append copies.
func (r *record) tags() []string { return r.lists[:r.nTags:r.nTags] }

func (r *record) owners() []string {
	i, j := int(r.nTags), int(r.nTags)+int(r.nOwners)
	return r.lists[i:j:j]
}

func (r *record) uris() []string {
	i := int(r.nTags) + int(r.nOwners)
	j := i + int(r.nURIs)
	return r.lists[i:j:j]
}

func (r *record) labels() []string {
	i := int(r.nTags) + int(r.nOwners) + int(r.nURIs)
	return r.lists[i:len(r.lists):len(r.lists)]
}

// FQN returns the fully qualified name.
func (r *record) FQN() string { return BuildFQN(r.namespace(), r.name(), r.version()) }

func (r *record) isDeployed() bool { return len(r.endpoints()) > 0 }

func (r *record) visible(inc Include) bool {
	switch inc {
	case IncludeDeleted:
		return r.del != nil
	case IncludeAll:
		return true
	default:
		return r.del == nil
	}
}

// artifact copies the record out. The five string lists share one backing
// array, each capped at its length so that an append by the caller copies
// instead of overwriting its neighbour.
func (r *record) artifact() Artifact {
	a := Artifact{
		ID: r.ID, Kind: r.Kind(), Namespace: r.namespace(), Name: r.name(), Version: r.version(), Parent: r.Parent,
		DisplayName: r.DisplayName, Description: r.Description, Algorithm: r.Algorithm,
		Deleted: r.del != nil, Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
	}
	endpoints, lost := r.endpoints(), r.deletedUpstreams()
	if n := int(r.nTags) + int(r.nOwners) + int(r.nURIs) + len(endpoints) + len(lost); n > 0 {
		buf := make([]string, 0, n)
		take := func(s []string) []string {
			if len(s) == 0 {
				return nil
			}
			start := len(buf)
			buf = append(buf, s...)
			return buf[start:len(buf):len(buf)]
		}
		a.Tags, a.Owners, a.StorageURIs = take(r.tags()), take(r.owners()), take(r.uris())
		a.Endpoints, a.DeletedUpstreams = take(endpoints), take(lost)
	}
	if labels := r.labels(); len(labels) > 0 {
		a.Labels = make(map[string]string, len(labels)/2)
		for i := 0; i < len(labels); i += 2 {
			a.Labels[labels[i]] = labels[i+1]
		}
	}
	if d := r.del; d != nil {
		a.DeletedAt, a.DeletedBy, a.DeleteOperation, a.DeleteReason = d.At, d.By, d.Operation, d.Reason
	}
	return a
}

// appendLabels appends labels to out as a key-sorted key/value list.
func appendLabels(out []string, m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k, m[k])
	}
	return out
}

// setMetadata copies the metadata fields of a into r, with r's own lists.
// The lists must have been validated (at most MaxListEntries each).
func (r *record) setMetadata(a *Artifact) {
	r.DisplayName, r.Description, r.Algorithm = a.DisplayName, a.Description, a.Algorithm
	r.lists = nil
	if n := len(a.Tags) + len(a.Owners) + len(a.StorageURIs) + 2*len(a.Labels); n > 0 {
		r.lists = make([]string, 0, n)
		r.lists = append(r.lists, a.Tags...)
		r.lists = append(r.lists, a.Owners...)
		r.lists = append(r.lists, a.StorageURIs...)
		r.lists = appendLabels(r.lists, a.Labels)
	}
	r.nTags, r.nOwners, r.nURIs = uint8(len(a.Tags)), uint8(len(a.Owners)), uint8(len(a.StorageURIs))
}

// sameMetadata reports whether a carries r's metadata already.
func (r *record) sameMetadata(a *Artifact) bool {
	return a.DisplayName == r.DisplayName && a.Description == r.Description && a.Algorithm == r.Algorithm &&
		slices.Equal(a.Tags, r.tags()) && slices.Equal(a.Owners, r.owners()) &&
		slices.Equal(a.StorageURIs, r.uris()) && slices.Equal(appendLabels(nil, a.Labels), r.labels())
}

// copyRecord returns a shallow copy of a stored record, for building its
// next version; a list the change touches must be replaced, not appended to
// in place.
func copyRecord(r *record) *record {
	c := *r
	return &c
}

// eventRecord is a record with the identity an event carries, for asking
// the authorizer about it.
func eventRecord(id string, kind Kind, namespace, name, version string) *record {
	a := &record{ID: id, kind: codeOf(kind)}
	a.setName(namespace, name, version)
	return a
}
