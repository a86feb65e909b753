package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
)

const (
	adminToken = "browser-admin-token"
	nlpToken   = "browser-nlp-token" // a principal of namespace nlp only
	// testTimeout bounds the whole browser session; each wait is bounded
	// by it too.
	testTimeout = 2 * time.Minute
)

// chromium returns the Chromium (or Chrome) binary, or skips the test
// saying how to get one.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium to drive the web page: install it (Debian: apt-get install chromium) or set CHROMIUM to its path; .ci/run installs it")
	return ""
}

// world is the seeded registry: in namespace vision a model package
// detector 1 containing backbone and head (head deployed), its other
// version detector 2, the dataset and code it was made from, and a model
// distilled from it; namespace nlp holds two more artifacts.
type world struct {
	reg                                                 *registry.Registry
	ctx                                                 context.Context
	images, train, detector1, detector2, backbone, head registry.Artifact
	distilled                                           registry.Artifact
	endpoint                                            string
}

func seed(t *testing.T, creds *httpapi.Credentials) *world {
	t.Helper()
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()), registry.WithReadAuthorization())
	require.NoError(t, err)
	w := &world{reg: reg, ctx: registry.WithPrincipal(context.Background(), "admin"), endpoint: "edge-eu-1"}
	add := func(kind registry.Kind, ns, name, version, parent string) registry.Artifact {
		a, err := reg.Register(w.ctx, registry.Artifact{Kind: kind, Namespace: ns, Name: name, Version: version, Parent: parent,
			StorageURIs: []string{fmt.Sprintf("s3://%s/%s/%s", ns, name, version)}})
		require.NoError(t, err)
		return a
	}
	w.images = add(registry.KindDataset, "vision", "images", "1", "")
	w.train = add(registry.KindCode, "vision", "train", "1", "")
	w.detector1 = add(registry.KindModel, "vision", "detector", "1", "")
	w.detector2 = add(registry.KindModel, "vision", "detector", "2", "")
	w.backbone = add(registry.KindModel, "vision", "backbone", "1", w.detector1.ID)
	w.head = add(registry.KindModel, "vision", "head", "1", w.detector1.ID)
	w.distilled = add(registry.KindModel, "vision", "distilled", "1", "")
	add(registry.KindCode, "nlp", "tokenizer", "1", "")
	add(registry.KindDataset, "nlp", "corpus", "2024", "")
	for _, e := range [][2]string{{w.images.ID, w.detector1.ID}, {w.train.ID, w.detector1.ID},
		{w.detector1.ID, w.distilled.ID}, {w.images.ID, w.detector2.ID}} {
		require.NoError(t, reg.Link(w.ctx, e[0], e[1]))
	}
	require.NoError(t, reg.Deploy(w.ctx, w.head.ID, w.endpoint))
	return w
}

// snapshot is every artifact and its lineage, to tell that nothing changed.
func (w *world) snapshot(t *testing.T) string {
	t.Helper()
	page, err := w.reg.List(w.ctx, registry.Filter{Include: registry.IncludeAll, Limit: 1000})
	require.NoError(t, err)
	var out []any
	for _, a := range page.Items {
		g, err := w.reg.Lineage(w.ctx, a.ID, registry.Downstream, 1, registry.IncludeAll)
		require.NoError(t, err)
		out = append(out, a, g.Edges)
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return string(b)
}

// serve starts the whole HTTP layer on 127.0.0.1.
func serve(t *testing.T, w *world, creds *httpapi.Credentials) string {
	t.Helper()
	h, err := httpapi.NewHandler(httpapi.Config{Registry: w.reg, Credentials: creds})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	res, err := http.Get(srv.URL + "/v1/openapi.json")
	require.NoError(t, err)
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		t.Skip("the native API (/v1, package httpapi/native) is not mounted in httpapi.NewHandler: the page has nothing to call")
	}
	return srv.URL
}

// TestPageBrowsePreviewDeleteRestore drives the web page in headless
// Chromium through what a user does: sign in with a token, browse to a
// namespace and an artifact and see its graph, preview a recursive hard
// delete that fails on a deployed child (shown on the graph and in the
// plan, the registry unchanged), confirm a delete that succeeds (with a
// double click, which deletes once), and restore that operation from the
// history. After each step it checks the registry through the library and
// saves a screenshot.
func TestPageBrowsePreviewDeleteRestore(t *testing.T) {
	bin := chromium(t)
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"admin": {Namespaces: []string{"*"}, Tokens: []string{adminToken}},
		"nlp":   {Namespaces: []string{"nlp"}, Tokens: []string{nlpToken}},
	})
	require.NoError(t, err)
	w := seed(t, creds)
	base := serve(t, w, creds)

	shots := os.Getenv("BROWSER_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	t.Logf("screenshots in %s", shots)

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1100),
	)...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()

	// Every uncaught exception and console error of the page fails the test.
	var mu sync.Mutex
	var pageErrors []string
	exceptions := chromedp.Events(browser, runtime.ExceptionThrown)
	consoles := chromedp.Events(browser, runtime.ConsoleAPICalled)
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			mu.Lock()
			pageErrors = append(pageErrors, (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
			mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range consoles {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				mu.Lock()
				pageErrors = append(pageErrors, "console.error: "+strings.Join(args, " "))
				mu.Unlock()
			}
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		assert.Empty(t, pageErrors, "the page reported errors")
	}()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(browser, actions...), step)
	}
	eval := func(js string) any {
		t.Helper()
		v, err := chromedp.Run(browser, chromedp.Evaluate[any](js))
		require.NoError(t, err, js)
		return v
	}
	waitFor := func(js string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[any](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))(ctx, tg)
			if err != nil {
				err = fmt.Errorf("waiting for %s: %w", js, err)
			}
			return chromedp.Void{}, err
		}
	}
	screenshot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	q := func(sel string) string { b, _ := json.Marshal(sel); return string(b) }

	// 1. Open the page: / redirects to /ui/, which asks for a token.
	do("open", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css("#token")))
	screenshot("01-sign-in")
	url, err := chromedp.Run(browser, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, base+"/ui/", url)

	// 2. Sign in, and browse to the namespace: its artifacts are listed.
	do("sign in", chromedp.SendKeys(css("#token"), adminToken), chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css(`#namespaces a[data-ns="vision"]`)),
		chromedp.WaitVisible(css(`#namespaces a[data-ns="nlp"]`)),
		chromedp.Click(css(`#namespaces a[data-ns="vision"]`)),
		chromedp.WaitVisible(css(`#artifacts a[data-fqn="vision.detector.1"]`)))
	assert.EqualValues(t, 7, eval(`document.querySelectorAll('#artifacts tbody a[data-id]').length`), "vision's artifacts listed")
	screenshot("02-namespace")

	// 3. One artifact: its versions, containment and lineage, one graph.
	do("artifact", chromedp.Click(css(`#artifacts a[data-fqn="vision.detector.1"]`)),
		waitFor(`document.querySelector('#graph').dataset.ready === 'true'`))
	lin, err := w.reg.Lineage(w.ctx, w.detector1.ID, registry.Both, 2, registry.IncludeAll)
	require.NoError(t, err)
	wantNodes := 1 + 1 + 2 + len(lin.Nodes) // itself, detector 2, backbone and head, lineage
	assert.Equal(t, 7, wantNodes)
	assert.Equal(t, fmt.Sprint(wantNodes), eval(`document.querySelector('#graph').dataset.nodes`), "nodes drawn")
	assert.EqualValues(t, wantNodes, eval(`state.cy.nodes().length`))
	assert.Equal(t, "vision.detector.1", eval(`document.querySelector('#artifact-title').textContent`))
	screenshot("03-artifact")

	// 4. Preview a recursive hard delete, detaching dependents: head is
	// deployed, so it fails, and the graph and the plan say why. A dry run
	// changes nothing.
	before := w.snapshot(t)
	do("preview", chromedp.Click(css(`#delete-form input[name=hard]`)), chromedp.Click(css(`#delete-form input[name=recursive]`)),
		chromedp.SetValue(css(`#delete-form select[name=lineage]`), "detach"),
		chromedp.SendKeys(css(`#delete-form input[name=reason]`), "retired"),
		chromedp.Click(css("#preview")),
		waitFor(`document.querySelector('#plan').dataset.state === 'previewed'`))
	failing := fmt.Sprintf(`#plan li[data-status="failed"][data-id=%s]`, q(w.head.ID))
	text, err := chromedp.Run(browser, chromedp.Text(css(failing)))
	require.NoError(t, err, "the deployed child is listed as failing")
	assert.Contains(t, text, "DEPLOYED")
	assert.Contains(t, text, w.endpoint, "the reason names the endpoint")
	assert.Equal(t, true, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('p-failed')`, q(w.head.ID))), "drawn as failing")
	assert.Contains(t, eval(fmt.Sprintf(`state.cy.getElementById(%s).data('why')`, q(w.head.ID))), "DEPLOYED", "the reason on hover")
	assert.Equal(t, before, w.snapshot(t), "a preview changes nothing")
	screenshot("04-preview-failing")

	// The same, atomic: the delete fails as a whole, the preview says so
	// with the failing items drawn, and there is nothing to confirm.
	do("atomic preview", chromedp.Click(css(`#delete-form input[name=atomic]`)), chromedp.Click(css("#preview")),
		waitFor(`document.querySelector('#plan').dataset.state === 'previewed'`))
	assert.Contains(t, eval(`document.querySelector('#plan h3').textContent`), "fails as a whole")
	assert.Equal(t, true, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('p-failed')`, q(w.head.ID))))
	assert.EqualValues(t, 0, eval(`document.querySelectorAll('#plan li[data-status="delete"]').length`))
	assert.Equal(t, true, eval(`document.querySelector('#confirm').disabled`), "nothing to confirm")
	assert.Equal(t, before, w.snapshot(t), "a preview changes nothing")
	do("not atomic", chromedp.Click(css(`#delete-form input[name=atomic]`)))

	// 5. The endpoint is retired; a soft recursive delete now succeeds.
	// Confirm is clicked twice: the Idempotency-Key made with the preview
	// makes it one delete.
	require.NoError(t, w.reg.Undeploy(w.ctx, w.head.ID, w.endpoint))
	do("preview the soft delete", chromedp.Click(css(`#delete-form input[name=hard]`)),
		chromedp.Click(css("#preview")),
		waitFor(`document.querySelector('#plan').dataset.state === 'previewed'`),
		waitFor(`!document.querySelector('#confirm').disabled`))
	assert.EqualValues(t, 3, eval(`document.querySelectorAll('#plan li[data-status="delete"]').length`))
	do("confirm", chromedp.DoubleClick(css("#confirm")),
		waitFor(`document.querySelector('#result').dataset.state === 'done'`))
	op := eval(`document.querySelector('#result').dataset.operation`).(string)
	require.NotEmpty(t, op)
	for _, a := range []registry.Artifact{w.detector1, w.backbone, w.head} {
		_, err := w.reg.Get(w.ctx, a.ID)
		assert.ErrorIs(t, err, registry.ErrNotFound, "%s is soft deleted", a.FQN())
		got, err := w.reg.Get(w.ctx, a.ID, registry.IncludeDeleted)
		require.NoError(t, err)
		assert.Equal(t, op, got.DeleteOperation, a.FQN())
		assert.Equal(t, "retired", got.DeleteReason, a.FQN())
	}
	events, err := w.reg.Events(w.ctx, 0, 1000)
	require.NoError(t, err)
	deletes := 0
	for _, e := range events {
		if e.Type == registry.EventSoftDeleted {
			deletes++
			assert.Equal(t, op, e.Operation, "one delete operation")
		}
	}
	assert.Equal(t, 3, deletes, "the double click deleted once")
	_, err = w.reg.Get(w.ctx, w.detector2.ID)
	assert.NoError(t, err, "the other version stays")
	require.NoError(t, w.reg.Check())
	do("history", waitFor(fmt.Sprintf(`document.querySelector('#operations li[data-operation=%s] button.restore')`, q(op))))
	screenshot("05-deleted")

	// 6. Restore the operation from the history: all three come back.
	do("restore", chromedp.Click(css(fmt.Sprintf(`#operations li[data-operation=%s] button.restore`, q(op)))),
		waitFor(`document.querySelector('#notice').textContent.startsWith('Restored 3')`),
		waitFor(fmt.Sprintf(`document.querySelector('#operations li[data-operation=%s]').dataset.restorable === '0'`, q(op))))
	for _, a := range []registry.Artifact{w.detector1, w.backbone, w.head} {
		got, err := w.reg.Get(w.ctx, a.ID)
		if assert.NoError(t, err, "%s is restored", a.FQN()) {
			assert.False(t, got.Deleted)
		}
	}
	assert.Equal(t, false, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('deleted')`, q(w.detector1.ID))), "drawn live again")
	assert.Equal(t, "live", eval(`document.querySelector('#artifact-state').textContent`))
	require.NoError(t, w.reg.Check())
	screenshot("06-restored")

	// 7. The other marks of a preview: a hard cascade of detector 2 limited
	// to one version skips detector 1; a hard delete of the dataset that
	// detaches its dependents draws them detached. Previews change nothing.
	before = w.snapshot(t)
	do("cascade preview", chromedp.Navigate(base+"/ui/#/a/"+w.detector2.ID),
		waitFor(`document.querySelector('#artifact-title').textContent === 'vision.detector.2' && document.querySelector('#graph').dataset.ready === 'true'`),
		chromedp.Click(css(`#delete-form input[name=hard]`)), chromedp.Click(css(`#delete-form input[name=cascade]`)),
		chromedp.SendKeys(css(`#delete-form input[name=cascadeLimit]`), "1"),
		chromedp.Click(css("#preview")),
		waitFor(`document.querySelector('#plan').dataset.state === 'previewed'`))
	assert.Equal(t, true, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('p-delete')`, q(w.detector2.ID))))
	assert.Equal(t, true, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('p-skipped')`, q(w.detector1.ID))), "past the limit: skipped")
	assert.EqualValues(t, 1, eval(fmt.Sprintf(`document.querySelectorAll('#plan li[data-status="skipped"][data-id=%s]').length`, q(w.detector1.ID))))
	screenshot("07-preview-skipped")
	do("detach preview", chromedp.Navigate(base+"/ui/#/a/"+w.images.ID),
		waitFor(`document.querySelector('#artifact-title').textContent === 'vision.images.1' && document.querySelector('#graph').dataset.ready === 'true'`),
		chromedp.Click(css(`#delete-form input[name=hard]`)),
		chromedp.SetValue(css(`#delete-form select[name=lineage]`), "detach"),
		chromedp.Click(css("#preview")),
		waitFor(`document.querySelector('#plan').dataset.state === 'previewed'`))
	for _, a := range []registry.Artifact{w.detector1, w.detector2} {
		assert.Equal(t, true, eval(fmt.Sprintf(`state.cy.getElementById(%s).hasClass('p-detached')`, q(a.ID))), "%s detached", a.FQN())
	}
	assert.EqualValues(t, 2, eval(`state.cy.edges('.p-cut').length`), "the edges a hard delete drops")
	assert.Equal(t, before, w.snapshot(t), "previews change nothing")
	screenshot("08-preview-detached")

	// 8. The page never bypasses authorization: a wrong token is refused,
	// and a principal of nlp sees nlp only, even at vision's URL.
	do("sign out, wrong token", chromedp.Click(css("#signout")), chromedp.WaitVisible(css("#token")),
		chromedp.SendKeys(css("#token"), "not-a-token"), chromedp.Click(css("#signin")),
		waitFor(`!document.querySelector('#error').hidden`))
	assert.Contains(t, eval(`document.querySelector('#error').textContent`), "did not accept the token")
	do("sign in to nlp", chromedp.SendKeys(css("#token"), nlpToken), chromedp.Click(css("#signin")),
		chromedp.WaitVisible(css(`#namespaces a[data-ns="nlp"]`)))
	assert.EqualValues(t, 1, eval(`document.querySelectorAll('#namespaces a[data-ns]').length`), "only nlp is listed")
	do("vision's artifact", chromedp.Navigate(base+"/ui/#/a/"+w.detector1.ID),
		waitFor(`!document.querySelector('#error').hidden`))
	assert.Contains(t, eval(`document.querySelector('#error').textContent`), "NOT_FOUND", "read authorization hides it")
	assert.Equal(t, true, eval(`document.querySelector('#artifact-view').hidden`), "nothing of it is shown")
	screenshot("09-other-principal")
}
