// Package ui is registryd's web page: browse namespaces and artifacts, see
// one artifact's versions, containment and lineage drawn as one graph,
// preview any delete on that graph (what it deletes, what fails and why,
// what it skips or detaches), confirm exactly the previewed delete, and
// restore an operation from the history.
//
// The page is static files embedded in the binary (static/): index.html,
// app.js in plain JavaScript and app.css, with no framework and no build
// step, and the graph libraries cytoscape and cytoscape-dagre, vendored by
// vendor.sh (versions and licenses in VENDORED.md). It holds no server
// logic: it calls the native API (package httpapi/native, /v1) with the
// bearer token the user types, kept in the tab's sessionStorage, so it
// sees and does only what that token's principal may.
//
// httpapi.NewHandler mounts Handler at Prefix and redirects / to it.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// Prefix is the path the page is served under.
const Prefix = "/ui/"

//go:embed static
var static embed.FS

// Files returns the page's files, rooted at index.html.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("ui: the embedded files have no static directory: " + err.Error()) // fixed at build time
	}
	return sub
}

// Handler serves the page's files for GET and HEAD requests under Prefix;
// mount it at Prefix. Every response forbids framing and sniffing, and its
// Content-Security-Policy lets the page load scripts only from this server
// and connect only to it.
func Handler() http.Handler {
	files := http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed: the page is read-only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// Inline styles are allowed because cytoscape inserts a <style>
		// element; the page reports any violation as a console error,
		// which fails the browser test.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
			"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// Embedded files change only with the binary, but the page and its
		// script must change together: revalidate (FileServer answers
		// If-Modified-Since; embedded files have no time, so it always
		// sends them).
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
