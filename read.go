package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"

	"github.com/hashicorp/go-memdb"
)

// notFound explains why id is not visible: it does not exist, or it exists
// in a state the include hides.
func notFound(id string, a *record, inc Include) *Error {
	switch {
	case a == nil:
		return newError(CodeNotFound, id, "artifact %s does not exist", id)
	case a.isDeleted():
		return newError(CodeNotFound, id, "artifact %s (%s) is soft deleted; read it with IncludeDeleted or IncludeAll, or restore it", id, a.FQN())
	default:
		return newError(CodeNotFound, id, "artifact %s (%s) is not deleted; include %q shows only soft-deleted artifacts", id, a.FQN(), string(inc))
	}
}

// Get returns the artifact with the given ID. By default only a live
// artifact is found; pass IncludeDeleted or IncludeAll to see soft-deleted
// ones.
func (r *Registry) Get(ctx context.Context, id string, opts ...ReadOption) (Artifact, error) {
	inc, err := beginRead(ctx, opts)
	if err != nil {
		return Artifact{}, err
	}
	cid, key, perr := parseID("id", id)
	if perr != nil {
		return Artifact{}, perr
	}
	a := rowByKey(r.snapshot(), key)
	if a == nil || r.hidden(ctx, PrincipalFrom(ctx), a) {
		return Artifact{}, newError(CodeNotFound, cid, "artifact %s does not exist", cid)
	}
	return r.found(ctx, cid, a, inc)
}

// GetByFQN returns the artifact with the given fully qualified name (see
// ParseFQN), in one index lookup.
func (r *Registry) GetByFQN(ctx context.Context, fqn string, opts ...ReadOption) (Artifact, error) {
	inc, err := beginRead(ctx, opts)
	if err != nil {
		return Artifact{}, err
	}
	ns, name, version, err := ParseFQN(fqn)
	if err != nil {
		return Artifact{}, err
	}
	return r.found(ctx, fqn, rowByName(r.snapshot(), ns, name, version), inc)
}

// GetVersion returns the artifact with the given namespace, name and version
// (empty for an unversioned artifact).
func (r *Registry) GetVersion(ctx context.Context, namespace, name, version string, opts ...ReadOption) (Artifact, error) {
	inc, err := beginRead(ctx, opts)
	if err != nil {
		return Artifact{}, err
	}
	if err := checkName("namespace", namespace); err != nil {
		return Artifact{}, err
	}
	if err := checkName("name", name); err != nil {
		return Artifact{}, err
	}
	if err := checkVersion(version); err != nil {
		return Artifact{}, err
	}
	return r.found(ctx, BuildFQN(namespace, name, version), rowByName(r.snapshot(), namespace, name, version), inc)
}

// beginRead checks what every read starts with. Reads need no principal
// unless reads are authorized.
func beginRead(ctx context.Context, opts []ReadOption) (Include, error) {
	if ctx == nil {
		return "", invalid("ctx", "context is nil; pass context.Background() or a request context")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return resolveReadOptions(opts)
}

// found returns a if the include shows it. An artifact the principal may
// not read (WithReadAuthorization) is missing: the answer names it by key
// only, exactly as for one that does not exist.
func (r *Registry) found(ctx context.Context, key string, a *record, inc Include) (Artifact, error) {
	if a == nil || r.hidden(ctx, PrincipalFrom(ctx), a) {
		return Artifact{}, newError(CodeNotFound, "", "artifact %s does not exist", key)
	}
	if !a.visible(inc) {
		return Artifact{}, notFound(a.ID, a, inc)
	}
	return r.view(ctx, PrincipalFrom(ctx), r.snapshot(), a), nil
}

// Filter selects artifacts for List and Count. Empty fields match
// everything.
type Filter struct {
	Namespace string
	// Name filters on the exact name; with Namespace it is one index range.
	Name    string
	Kind    Kind
	Include Include
	// Parent keeps only the artifacts that this artifact contains directly
	// (an OpenMetadata service's models). It filters within the range the
	// other fields select; it is not an index of its own.
	Parent string
	// Limit is the page size: 0 means 100, at most 1000.
	Limit int
	// Cursor continues after the last item of a previous page (Page.Next),
	// or after the position CursorAt names.
	Cursor string
	// Before lists the page that ends just before this cursor (Page.Prev,
	// or CursorAt), still in ascending order: the last Limit matching items
	// before it. At most one of Cursor and Before may be given.
	Before string
}

// Page is one page of List results.
type Page struct {
	Items []Artifact `json:"data"`
	// Next is the cursor of the following page (Filter.Cursor), empty when
	// no matching item follows this page.
	Next string `json:"after,omitempty"`
	// Prev is the cursor of the preceding page (Filter.Before), empty when
	// no matching item precedes this page (always on the first page).
	Prev string `json:"before,omitempty"`
}

// CursorAt returns the List cursor at the position of (namespace, name,
// version), whether or not such an artifact exists: as Filter.Cursor it
// continues after that position, as Filter.Before it ends before it. It lets
// a caller that filters a List further resume at any item it kept.
func CursorAt(namespace, name, version string) string {
	return encodeCursor(nameKey(namespace, name, version))
}

// List returns artifacts in a stable order (namespace, then name, then
// version, byte-wise), a page at a time, forward from Filter.Cursor or
// backward from Filter.Before. A page costs time in proportion to the items
// it scans: those it returns, those the filter skips on the way, and, to
// tell Prev and Next, those skipped up to the nearest match on each side.
func (r *Registry) List(ctx context.Context, f Filter) (Page, error) {
	q, err := r.newListQuery(ctx, f)
	if err != nil {
		return Page{}, err
	}
	txn := r.snapshot()
	page := Page{Items: []Artifact{}}
	var recs []*record
	if q.before != nil {
		recs, err = q.scan(txn, q.before, true, q.limit+1)
		if err != nil {
			return Page{}, err
		}
		if len(recs) > q.limit {
			recs = recs[:q.limit]
			page.Prev = cursorOf(recs[q.limit-1])
		}
		slices.Reverse(recs)
		if len(recs) > 0 {
			last := recs[len(recs)-1]
			more, err := q.scan(txn, keyBytes(last.key), false, 1)
			if err != nil {
				return Page{}, err
			}
			if len(more) > 0 {
				page.Next = cursorOf(last)
			}
		}
	} else {
		recs, err = q.scan(txn, q.after, false, q.limit+1)
		if err != nil {
			return Page{}, err
		}
		if len(recs) > q.limit {
			recs = recs[:q.limit]
			page.Next = cursorOf(recs[q.limit-1])
		}
		if q.after != nil && len(recs) > 0 {
			first := recs[0]
			prev, err := q.scan(txn, keyBytes(first.key), true, 1)
			if err != nil {
				return Page{}, err
			}
			if len(prev) > 0 {
				page.Prev = cursorOf(first)
			}
		}
	}
	for _, a := range recs {
		page.Items = append(page.Items, r.view(ctx, PrincipalFrom(ctx), txn, a))
	}
	return page, nil
}

// Count returns how many artifacts match the filter, ignoring its Limit,
// Cursor and Before. It walks the range the filter selects (one namespace,
// or the whole registry without one) and copies nothing.
func (r *Registry) Count(ctx context.Context, f Filter) (int, error) {
	f.Cursor, f.Before, f.Limit = "", "", 0
	q, err := r.newListQuery(ctx, f)
	if err != nil {
		return 0, err
	}
	n := 0
	err = q.walk(r.snapshot(), nil, false, func(*record) bool { n++; return true })
	return n, err
}

// listQuery is a checked Filter.
type listQuery struct {
	r             *Registry
	ctx           context.Context
	f             Filter
	inc           Include
	limit         int
	prefix        []byte
	after, before []byte
}

func (r *Registry) newListQuery(ctx context.Context, f Filter) (*listQuery, error) {
	inc, err := beginRead(ctx, nil)
	if err != nil {
		return nil, err
	}
	if inc, err = checkInclude(f.Include); err != nil {
		return nil, err
	}
	limit, prefixKey, err := checkFilter(&f)
	if err != nil {
		return nil, err
	}
	q := &listQuery{r: r, ctx: ctx, f: f, inc: inc, limit: limit, prefix: prefixKey}
	if f.Parent != "" {
		if q.f.Parent, err = checkID("parent", f.Parent); err != nil {
			return nil, err
		}
	}
	if f.Cursor != "" && f.Before != "" {
		return nil, invalid("cursor", "give Cursor or Before, not both")
	}
	if f.Cursor != "" {
		if q.after, err = decodeCursor(f.Cursor, prefixKey); err != nil {
			return nil, err
		}
	}
	if f.Before != "" {
		if q.before, err = decodeCursor(f.Before, prefixKey); err != nil {
			return nil, err
		}
	}
	return q, nil
}

func (q *listQuery) matches(a *record) bool {
	if !a.visible(q.inc) || (q.f.Kind != "" && a.Kind() != q.f.Kind) || (q.f.Name != "" && a.name() != q.f.Name) ||
		(q.f.Parent != "" && a.Parent != q.f.Parent) {
		return false
	}
	return !q.r.authorizeReads || q.r.authorizeRead(q.ctx, a) == nil
}

// scan returns up to n matching records strictly after (or, reverse,
// strictly before) from, in scan order; a nil from starts at the range's
// edge.
func (q *listQuery) scan(txn *memdb.Txn, from []byte, reverse bool, n int) ([]*record, error) {
	var out []*record
	err := q.walk(txn, from, reverse, func(a *record) bool {
		out = append(out, a)
		return len(out) < n
	})
	return out, err
}

// walk calls fn for each matching record strictly beyond from, in order
// (or in reverse), until fn returns false or the range ends.
func (q *listQuery) walk(txn *memdb.Txn, from []byte, reverse bool, fn func(*record) bool) error {
	var it memdb.ResultIterator
	var err error
	switch {
	case reverse && from != nil:
		it, err = txn.ReverseLowerBound(tableArtifacts, indexName, from)
	case reverse:
		it, err = txn.GetReverse(tableArtifacts, indexName+prefix, q.prefix)
	case from != nil:
		it, err = txn.LowerBound(tableArtifacts, indexName, from)
	default:
		it, err = txn.Get(tableArtifacts, indexName+prefix, q.prefix)
	}
	if err != nil {
		return fmt.Errorf("registry: list: %w", err)
	}
	for o := it.Next(); o != nil; o = it.Next() {
		a := o.(*record)
		key := keyBytes(a.key)
		if !hasPrefix(key, q.prefix) {
			break
		}
		if from != nil && string(key) == string(from) {
			continue
		}
		if !q.matches(a) {
			continue
		}
		if !fn(a) {
			return nil
		}
	}
	return nil
}

func cursorOf(a *record) string { return encodeCursor(keyBytes(a.key)) }

func checkFilter(f *Filter) (int, []byte, error) {
	if f.Limit < 0 || f.Limit > maxPageSize {
		return 0, nil, invalid("limit", "limit %d is out of range; want 0 (default %d) to %d", f.Limit, defaultPageSize, maxPageSize)
	}
	limit := f.Limit
	if limit == 0 {
		limit = defaultPageSize
	}
	if f.Kind != "" && !f.Kind.valid() {
		return 0, nil, invalid("kind", "kind %q is not one of model, dataset, code", clip(string(f.Kind)))
	}
	if f.Name != "" {
		if err := checkName("name", f.Name); err != nil {
			return 0, nil, err
		}
	}
	if f.Namespace == "" {
		return limit, nil, nil
	}
	if err := checkName("namespace", f.Namespace); err != nil {
		return 0, nil, err
	}
	return limit, nameKeyPrefix(f.Namespace, f.Name), nil
}

func hasPrefix(key, p []byte) bool { return len(key) >= len(p) && string(key[:len(p)]) == string(p) }

func encodeCursor(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(c string, prefixKey []byte) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(key) == 0 {
		return nil, invalid("cursor", "cursor %q is not one List returned", clip(c))
	}
	if !hasPrefix(key, prefixKey) {
		return nil, invalid("cursor", "cursor %q belongs to another filter; start again without a cursor", clip(c))
	}
	return key, nil
}
