package openmetadata

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/modelreg/registry"
)

// paging is OpenMetadata's Paging: cursors to the neighbouring pages and
// the total count.
type paging struct {
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Total  int    `json:"total"`
}

// resultList is OpenMetadata's ResultList.
type resultList[T any] struct {
	Data   []T    `json:"data"`
	Paging paging `json:"paging"`
}

// maxChunk is the largest page asked of the registry (its own bound);
// larger OpenMetadata pages are read in several.
const maxChunk = 1000

// lister pages through the artifacts a registry filter selects, keeping
// only those keep accepts (nil keeps all), forward or backward from a
// position, reading the registry a bounded page at a time.
type lister struct {
	reg  registry.API
	ctx  context.Context
	base registry.Filter
	keep func(registry.Artifact) bool
}

func (l lister) kept(a registry.Artifact) bool { return l.keep == nil || l.keep(a) }

func chunk(n int) int { return min(max(n, 1), maxChunk) }

func cursorAt(a registry.Artifact) string { return registry.CursorAt(a.Namespace, a.Name, a.Version) }

// after returns up to limit items after the registry cursor from ("" for
// the start), and whether items precede and follow them.
func (l lister) after(from string, limit int) (items []registry.Artifact, hasPrev, hasNext bool, err error) {
	cur := from
scan:
	for {
		f := l.base
		f.Cursor, f.Limit = cur, chunk(limit-len(items)+1)
		p, err := l.reg.List(l.ctx, f)
		if err != nil {
			return nil, false, false, err
		}
		for _, a := range p.Items {
			if !l.kept(a) {
				continue
			}
			if len(items) == limit {
				hasNext = true
				break scan
			}
			items = append(items, a)
		}
		if p.Next == "" {
			break
		}
		cur = p.Next
	}
	if from != "" {
		at := from
		if len(items) > 0 {
			at = cursorAt(items[0])
		}
		if hasPrev, err = l.exists(at, true); err != nil {
			return nil, false, false, err
		}
	}
	return items, hasPrev, hasNext, nil
}

// before returns up to limit items before the registry cursor from, in
// ascending order, and whether items precede and follow them.
func (l lister) before(from string, limit int) (items []registry.Artifact, hasPrev, hasNext bool, err error) {
	cur := from
scan:
	for {
		f := l.base
		f.Before, f.Limit = cur, chunk(limit-len(items)+1)
		p, err := l.reg.List(l.ctx, f)
		if err != nil {
			return nil, false, false, err
		}
		for i := len(p.Items) - 1; i >= 0; i-- {
			if !l.kept(p.Items[i]) {
				continue
			}
			if len(items) == limit {
				hasPrev = true
				break scan
			}
			items = append(items, p.Items[i])
		}
		if p.Prev == "" {
			break
		}
		cur = p.Prev
	}
	slices.Reverse(items)
	at := from
	if len(items) > 0 {
		at = cursorAt(items[len(items)-1])
	}
	if hasNext, err = l.exists(at, false); err != nil {
		return nil, false, false, err
	}
	return items, hasPrev, hasNext, nil
}

// exists reports whether a kept item lies before (or after) the cursor.
func (l lister) exists(at string, backward bool) (bool, error) {
	cur := at
	for {
		f := l.base
		f.Limit = 100
		if backward {
			f.Before = cur
		} else {
			f.Cursor = cur
		}
		p, err := l.reg.List(l.ctx, f)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(p.Items, l.kept) {
			return true, nil
		}
		next := p.Next
		if backward {
			next = p.Prev
		}
		if next == "" {
			return false, nil
		}
		cur = next
	}
}

// encodeCursor makes an OpenMetadata cursor of an FQN: URL-safe Base64,
// as OpenMetadata's own cursors are.
func encodeCursor(fqn string) string { return base64.URLEncoding.EncodeToString([]byte(fqn)) }

// decodeCursor reads a cursor encodeCursor made (padded or not, URL-safe
// or standard alphabet).
func decodeCursor(c string) (string, bool) {
	c = strings.TrimRight(c, "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(c); err == nil && len(b) > 0 {
			return string(b), true
		}
	}
	return "", false
}
