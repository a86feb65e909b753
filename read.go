package registry

import (
	"context"
	"encoding/base64"
	"fmt"

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

// Filter selects artifacts for List. Empty fields match everything.
type Filter struct {
	Namespace string
	// Name filters on the exact name; with Namespace it is one index range.
	Name    string
	Kind    Kind
	Include Include
	// Limit is the page size: 0 means 100, at most 1000.
	Limit int
	// Cursor continues after the last item of a previous page (Page.Next).
	Cursor string
}

// Page is one page of List results.
type Page struct {
	Items []Artifact `json:"data"`
	// Next is the cursor of the following page, empty on the last page.
	Next string `json:"after,omitempty"`
}

// List returns artifacts in a stable order (namespace, then name, then
// version, byte-wise), a page at a time.
func (r *Registry) List(ctx context.Context, f Filter) (Page, error) {
	inc, err := beginRead(ctx, nil)
	if err != nil {
		return Page{}, err
	}
	if inc, err = checkInclude(f.Include); err != nil {
		return Page{}, err
	}
	limit, prefixKey, err := checkFilter(&f)
	if err != nil {
		return Page{}, err
	}
	txn := r.snapshot()
	var it memdb.ResultIterator
	var after []byte
	if f.Cursor != "" {
		if after, err = decodeCursor(f.Cursor, prefixKey); err != nil {
			return Page{}, err
		}
		it, err = txn.LowerBound(tableArtifacts, indexName, after)
	} else {
		it, err = txn.Get(tableArtifacts, indexName+prefix, prefixKey)
	}
	if err != nil {
		return Page{}, fmt.Errorf("registry: list: %w", err)
	}
	page := Page{Items: []Artifact{}}
	var last *record
	for o := it.Next(); o != nil; o = it.Next() {
		a := o.(*record)
		key := nameKey(a.Namespace, a.Name, a.Version)
		if !hasPrefix(key, prefixKey) {
			break
		}
		if after != nil && string(key) <= string(after) {
			continue
		}
		if !a.visible(inc) || (f.Kind != "" && a.Kind != f.Kind) || (f.Name != "" && a.Name != f.Name) {
			continue
		}
		if r.authorizeReads && r.authorizeRead(ctx, a) != nil {
			continue
		}
		if len(page.Items) == limit {
			page.Next = encodeCursor(nameKey(last.Namespace, last.Name, last.Version))
			break
		}
		page.Items = append(page.Items, r.view(ctx, PrincipalFrom(ctx), txn, a))
		last = a
	}
	return page, nil
}

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
