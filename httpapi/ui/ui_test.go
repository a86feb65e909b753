package ui_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry/httpapi/ui"
)

// TestHandlerServesFiles: each file of the page under Prefix with its
// content type and the headers that keep it from being framed or made to
// load foreign scripts; what is not there is 404.
func TestHandlerServesFiles(t *testing.T) {
	srv := httptest.NewServer(ui.Handler())
	t.Cleanup(srv.Close)
	cases := []struct {
		path, contentType, contains string
		status                      int
	}{
		{"/ui/", "text/html", `<script src="app.js" defer>`, http.StatusOK},
		{"/ui/app.js", "text/javascript", "'use strict'", http.StatusOK},
		{"/ui/app.css", "text/css", "#graph", http.StatusOK},
		{"/ui/vendor/cytoscape.min.js", "text/javascript", "cytoscape", http.StatusOK},
		{"/ui/vendor/cytoscape-dagre.min.js", "text/javascript", "dagre", http.StatusOK},
		{"/ui/nothing.js", "text/plain", "404 page not found", http.StatusNotFound},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + c.path)
			require.NoError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			assert.Equal(t, c.status, res.StatusCode)
			assert.Contains(t, res.Header.Get("Content-Type"), c.contentType)
			assert.Contains(t, string(body), c.contains)
			assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
		})
	}
}

// TestHandlerIsReadOnly: anything but GET and HEAD is 405 with Allow.
func TestHandlerIsReadOnly(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := httptest.NewRecorder()
		ui.Handler().ServeHTTP(rec, httptest.NewRequest(method, "/ui/app.js", strings.NewReader("x")))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, method)
		assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), method)
	}
}

// TestIndexLoadsOnlyEmbeddedFiles: every script and stylesheet index.html
// names is embedded and relative (the page needs no network but its
// server), and every vendored script is loaded.
func TestIndexLoadsOnlyEmbeddedFiles(t *testing.T) {
	files := ui.Files()
	index, err := fs.ReadFile(files, "index.html")
	require.NoError(t, err)
	refs := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(string(index), -1)
	require.NotEmpty(t, refs)
	loaded := map[string]bool{}
	for _, m := range refs {
		assert.NotContains(t, m[1], "//", "index.html loads %s from elsewhere", m[1])
		_, err := fs.Stat(files, m[1])
		assert.NoError(t, err, "index.html names %s", m[1])
		loaded[m[1]] = true
	}
	vendored, err := fs.Glob(files, "vendor/*.js")
	require.NoError(t, err)
	require.NotEmpty(t, vendored)
	for _, v := range vendored {
		assert.True(t, loaded[v], "%s is vendored but not loaded", v)
	}
}

// TestVendoredMatchesVENDORED: the vendored files are the ones vendor.sh
// recorded (a hand edit, or a copy that skipped the script, shows here).
func TestVendoredMatchesVENDORED(t *testing.T) {
	doc, err := os.ReadFile("VENDORED.md")
	require.NoError(t, err)
	rows := regexp.MustCompile("`static/(vendor/[^`]+\\.js)`.*`([0-9a-f]{64})`").FindAllStringSubmatch(string(doc), -1)
	require.Len(t, rows, 2, "VENDORED.md lists cytoscape and cytoscape-dagre")
	for _, r := range rows {
		data, err := fs.ReadFile(ui.Files(), r[1])
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		assert.Equal(t, r[2], hex.EncodeToString(sum[:]), r[1])
	}
}
