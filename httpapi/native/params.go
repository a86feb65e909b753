package native

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// params are a request's query parameters, checked against those its
// endpoint takes: each at most once, none unknown.
type params url.Values

// query checks the query against the names the endpoint takes and
// answers 400 otherwise.
func (h *handler) query(w http.ResponseWriter, r *http.Request, names ...string) (params, bool) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.writeError(w, r, invalid("query", "the query string is malformed: "+err.Error()))
		return nil, false
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(names, k) {
			detail := fmt.Sprintf("unknown query parameter %q", k)
			if len(names) > 0 {
				detail += "; this endpoint takes " + strings.Join(names, ", ")
			} else {
				detail += "; this endpoint takes none"
			}
			h.writeError(w, r, invalid(k, detail))
			return nil, false
		}
		if len(q[k]) > 1 {
			h.writeError(w, r, invalid(k, fmt.Sprintf("query parameter %q is given %d times; give it once", k, len(q[k]))))
			return nil, false
		}
	}
	return params(q), true
}

func (p params) has(name string) bool { _, ok := p[name]; return ok }

func (p params) str(name string) string { return url.Values(p).Get(name) }

func (p params) boolean(name string) (bool, error) {
	if !p.has(name) {
		return false, nil
	}
	switch p.str(name) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, invalid(name, fmt.Sprintf("%s must be true or false (or 1 or 0), not %q", name, clip(p.str(name))))
}

// integer reads a whole number in [lo, hi]; absent is 0.
func (p params) integer(name string, lo, hi int64) (int64, error) {
	if !p.has(name) {
		return 0, nil
	}
	n, err := strconv.ParseInt(p.str(name), 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("%s must be a whole number from %d to %d, not %q", name, lo, hi, clip(p.str(name))))
	}
	return n, nil
}

func (p params) include() (registry.Include, error) {
	switch v := registry.Include(p.str("include")); v {
	case "":
		if !p.has("include") {
			return registry.IncludeNonDeleted, nil
		}
	case registry.IncludeNonDeleted, registry.IncludeDeleted, registry.IncludeAll:
		return v, nil
	}
	return "", invalid("include", fmt.Sprintf("include must be non-deleted, deleted or all, not %q", clip(p.str("include"))))
}

func (p params) lineage(name string) (registry.LineagePolicy, error) {
	switch p.str(name) {
	case "", "restrict":
		return registry.LineageRestrict, nil
	case "detach":
		return registry.LineageDetach, nil
	case "cascade":
		return registry.LineageCascade, nil
	}
	return 0, invalid(name, fmt.Sprintf("%s must be restrict, detach or cascade, not %q", name, clip(p.str(name))))
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// idempotencyKey is the Idempotency-Key header, at most once.
func idempotencyKey(r *http.Request) (string, error) {
	v := r.Header.Values("Idempotency-Key")
	switch len(v) {
	case 0:
		return "", nil
	case 1:
		if v[0] == "" {
			return "", invalid("Idempotency-Key", "Idempotency-Key is empty; give 1 to 64 of [a-zA-Z0-9-], or leave the header out")
		}
		return v[0], nil
	}
	return "", invalid("Idempotency-Key", "Idempotency-Key is given more than once")
}

// ifMatch reads If-Match as a revision: 0 when absent or "*", the revision
// of a strong tag "<n>", -1 for a tag that names no revision of this
// server (a weak one, another server's), which never matches.
func ifMatch(r *http.Request) (int64, error) {
	v := r.Header.Values("If-Match")
	if len(v) == 0 {
		return 0, nil
	}
	tag := strings.TrimSpace(strings.Join(v, ","))
	if tag == "*" {
		return 0, nil
	}
	if strings.Contains(tag, ",") {
		return 0, invalid("If-Match", "If-Match lists several entity tags; give the one ETag you read")
	}
	weak := strings.HasPrefix(tag, "W/")
	opaque := strings.TrimPrefix(tag, "W/")
	if len(opaque) < 2 || opaque[0] != '"' || opaque[len(opaque)-1] != '"' || strings.ContainsAny(opaque[1:len(opaque)-1], "\" ") {
		return 0, invalid("If-Match", fmt.Sprintf("If-Match %q is not an entity tag; give the ETag you read, quotes included", clip(tag)))
	}
	n, err := strconv.ParseInt(opaque[1:len(opaque)-1], 10, 64)
	if weak || err != nil || n < 1 {
		return -1, nil
	}
	return n, nil
}

// decode reads a strict JSON body sent as application/json.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return &httpx.BodyError{Status: http.StatusUnsupportedMediaType,
			Message: fmt.Sprintf("send the body as application/json, not %q", clip(ct))}
	}
	// encoding/json replaces invalid UTF-8 with U+FFFD silently: refuse it.
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, h.MaxBodyBytes, &raw, false); err != nil {
		return err
	}
	if !utf8.Valid(raw) {
		return &httpx.BodyError{Status: http.StatusBadRequest, Message: "request body is not valid UTF-8"}
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return httpx.DecodeJSON(w, r, h.MaxBodyBytes, v, true)
}

func etag(a registry.Artifact) string { return `"` + strconv.FormatInt(a.Revision, 10) + `"` }
