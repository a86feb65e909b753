package registry

import (
	"slices"
	"sort"
	"time"
)

// record is the stored form of an artifact. It is never modified once
// stored: readers of older snapshots share it. It is smaller than Artifact
// (labels as a sorted key/value list, the delete bookkeeping behind a
// pointer that live artifacts leave nil) because a registry holds millions
// of them; reads copy it out into a fresh Artifact, so callers never share
// memory with the store. Strings are immutable and are shared.
type record struct {
	ID, Namespace, Name, Version, Parent string
	Kind                                 Kind
	DisplayName, Description, Algorithm  string
	Tags, Owners, StorageURIs            []string
	Endpoints, DeletedUpstreams          []string
	Labels                               []string // key, value, key, value, ... sorted by key
	Revision                             int64
	CreatedAt, UpdatedAt                 time.Time
	UpdatedBy                            string
	del                                  *deletion // nil while live
}

// deletion records the soft delete that took an artifact.
type deletion struct {
	At                    time.Time
	By, Operation, Reason string
}

func (r *record) isDeleted() bool { return r.del != nil }

// FQN returns the fully qualified name.
func (r *record) FQN() string { return BuildFQN(r.Namespace, r.Name, r.Version) }

func (r *record) isDeployed() bool { return len(r.Endpoints) > 0 }

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
		ID: r.ID, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Version: r.Version, Parent: r.Parent,
		DisplayName: r.DisplayName, Description: r.Description, Algorithm: r.Algorithm,
		Deleted: r.del != nil, Revision: r.Revision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
	}
	if n := len(r.Tags) + len(r.Owners) + len(r.StorageURIs) + len(r.Endpoints) + len(r.DeletedUpstreams); n > 0 {
		buf := make([]string, 0, n)
		take := func(s []string) []string {
			if len(s) == 0 {
				return nil
			}
			start := len(buf)
			buf = append(buf, s...)
			return buf[start:len(buf):len(buf)]
		}
		a.Tags, a.Owners, a.StorageURIs = take(r.Tags), take(r.Owners), take(r.StorageURIs)
		a.Endpoints, a.DeletedUpstreams = take(r.Endpoints), take(r.DeletedUpstreams)
	}
	if len(r.Labels) > 0 {
		a.Labels = make(map[string]string, len(r.Labels)/2)
		for i := 0; i < len(r.Labels); i += 2 {
			a.Labels[r.Labels[i]] = r.Labels[i+1]
		}
	}
	if d := r.del; d != nil {
		a.DeletedAt, a.DeletedBy, a.DeleteOperation, a.DeleteReason = d.At, d.By, d.Operation, d.Reason
	}
	return a
}

// flatLabels returns labels as a key-sorted key/value list.
func flatLabels(m map[string]string) []string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, 2*len(m))
	for _, k := range keys {
		out = append(out, k, m[k])
	}
	return out
}

// setMetadata copies the metadata fields of a into r, with r's own slices.
func (r *record) setMetadata(a *Artifact) {
	r.DisplayName, r.Description, r.Algorithm = a.DisplayName, a.Description, a.Algorithm
	r.Tags, r.Owners, r.StorageURIs = clip0(a.Tags), clip0(a.Owners), clip0(a.StorageURIs)
	r.Labels = flatLabels(a.Labels)
}

// clip0 copies a list, keeping nil for an empty one.
func clip0(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// sameMetadata reports whether a carries r's metadata already.
func (r *record) sameMetadata(a *Artifact) bool {
	return a.DisplayName == r.DisplayName && a.Description == r.Description && a.Algorithm == r.Algorithm &&
		slices.Equal(a.Tags, r.Tags) && slices.Equal(a.Owners, r.Owners) &&
		slices.Equal(a.StorageURIs, r.StorageURIs) && slices.Equal(flatLabels(a.Labels), r.Labels)
}

// copyRecord returns a shallow copy of a stored record, for building its
// next version; a list the change touches must be replaced, not appended to
// in place.
func copyRecord(r *record) *record {
	c := *r
	return &c
}
