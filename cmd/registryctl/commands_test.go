package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
)

func TestRegisterFromFlagsFileAndBatch(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()

	r := w.run([]string{"register", "--id", "00000000-0000-4000-8000-000000000010", "--kind", "model", "--namespace", "mlflow_svc",
		"--name", "fraud", "--version", "1", "--tag", "prod,eu", "--label", "team=risk", "--storage-uri", "s3://m/fraud/1.zip", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	var a registry.Artifact
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &a))
	assert.Equal(t, []string{"prod", "eu"}, a.Tags)
	assert.Equal(t, map[string]string{"team": "risk"}, a.Labels)

	// A file, with a flag overriding its version.
	file := writeFile(t, dir, "fraud.json", `{"kind":"model","namespace":"mlflow_svc","name":"fraud","version":"9","description":"from a file"}`)
	r = w.run([]string{"register", "--file", file, "--version", "2", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &a))
	assert.Equal(t, "2", a.Version)
	assert.Equal(t, "from a file", a.Description)

	// Standard input, and an unknown field refused before sending.
	r = w.runIn(`{"kind":"code","namespace":"mlflow_svc","name":"train"}`, []string{"register", "-f", "-"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mlflow_svc.train")
	r = w.run([]string{"register", "--file", writeFile(t, dir, "bad.json", `{"kind":"model","Nmae":"x"}`)})
	assert.Equal(t, exitInvalid, r.code)

	// A batch is all or none: the second item collides, so neither is kept.
	batch := writeFile(t, dir, "batch.json", `{"items":[{"kind":"model","namespace":"mlflow_svc","name":"b","version":"1"},
		{"kind":"model","namespace":"mlflow_svc","name":"churn","version":"1"}]}`)
	r = w.run([]string{"register", "--batch", batch})
	assert.Equal(t, exitRefused, r.code, r.stderr)
	_, err := w.f.GetVersion(w.f.Ctx, "mlflow_svc", "b", "1")
	assert.ErrorIs(t, err, registry.ErrNotFound)
	batch = writeFile(t, dir, "array.json", `[{"kind":"model","namespace":"mlflow_svc","name":"b","version":"1"},
		{"kind":"model","namespace":"mlflow_svc","name":"b","version":"2"}]`)
	r = w.run([]string{"register", "--batch", batch, "--namespace", "x"})
	assert.Equal(t, exitInvalid, r.code, "a flag beside --batch is refused, not ignored")
	r = w.run([]string{"register", "--batch", batch})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mlflow_svc.b.1")
	assert.Contains(t, r.stdout, "mlflow_svc.b.2")
}

func TestUpdateKeepsWhatNoFlagNames(t *testing.T) {
	w := newWorld(t)
	r := w.run([]string{"update", "--fqn", "mlflow_svc.churn.1", "--description", "retrained weekly", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	a := w.f.MustGet(t, idChurn1)
	assert.Equal(t, "retrained weekly", a.Description)
	assert.Equal(t, "KMeans", a.Algorithm, "a field without a flag is kept")
	assert.Equal(t, map[string]string{"team": "growth"}, a.Labels)
	assert.EqualValues(t, 2, a.Revision)

	r = w.run([]string{"update", idChurn1, "--algorithm", "DBSCAN", "--if-match", "1"})
	assert.Equal(t, exitPrecondition, r.code, "a stale revision: %s", r.stderr)
	assert.Equal(t, "KMeans", w.f.MustGet(t, idChurn1).Algorithm)
	r = w.run([]string{"update", idChurn1, "--algorithm", "DBSCAN", "--if-match", `"2"`})
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "DBSCAN", w.f.MustGet(t, idChurn1).Algorithm)
}

func TestLinkDeployAndTheirUndo(t *testing.T) {
	w := newWorld(t)
	steps := []struct {
		args []string
		code int
	}{
		{[]string{"link", idCustomers, idChurn1}, exitOK},
		{[]string{"link", idReport, idCustomers}, exitInvalid}, // a cycle is an invalid argument
		{[]string{"unlink", idCustomers, idChurn1}, exitOK},
		{[]string{"unlink", idCustomers, idChurn1}, exitNotFound},
		{[]string{"deploy", idChurn1, "endpoint-us-1"}, exitOK},
		{[]string{"delete", idChurn1}, exitRefused},
		{[]string{"undeploy", idChurn1, "endpoint-us-1"}, exitOK},
		{[]string{"delete", idChurn1, "--idempotency-key", "retire-1"}, exitOK},
		{[]string{"delete", idChurn1, "--idempotency-key", "retire-1"}, exitOK}, // replayed, not a 404
		{[]string{"delete", idChurn1}, exitNotFound},
		{[]string{"restore", "--fqn", "mlflow_svc.churn.1"}, exitOK},
		{[]string{"restore", idChurn1}, exitRefused}, // not deleted
	}
	for _, s := range steps {
		r := w.run(s.args)
		require.Equal(t, s.code, r.code, "%q: %s%s", s.args, r.stdout, r.stderr)
	}
	r := w.run([]string{"delete", idChurn2, "--idempotency-key", "k2"})
	require.Equal(t, exitOK, r.code)
	r = w.run([]string{"delete", idChurn2, "--idempotency-key", "k2"})
	assert.Contains(t, r.stdout, "replayed")
}

func TestListPagesWithCursor(t *testing.T) {
	w := newWorld(t)
	r := w.run([]string{"list", "--namespace", "mlflow_svc", "--limit", "2", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	var p page
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &p))
	require.Len(t, p.Data, 2)
	require.NotEmpty(t, p.After)
	r = w.run([]string{"list", "--namespace", "mlflow_svc", "--limit", "2", "--cursor", p.After, "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	var next page
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &next))
	assert.Equal(t, idChurn3, next.Data[0].ID)

	r = w.run([]string{"list", "--namespace", "mlflow_svc", "--limit", "2"})
	assert.Contains(t, r.stderr, "more: --cursor "+p.After, "the table says how to go on")
	r = w.run([]string{"list", "--namespace", "mlflow_svc", "--all", "--limit", "2"})
	assert.Equal(t, 9, strings.Count(r.stdout, "\n"), "a header and the 8 artifacts of mlflow_svc:\n%s", r.stdout)
}

func TestPurge(t *testing.T) {
	w := newWorld(t)
	require.Equal(t, exitOK, w.run([]string{"delete", idChurn1}).code)
	require.Equal(t, exitOK, w.run([]string{"delete", idReport}).code)
	w.f.Clock.Advance(48 * time.Hour)

	r := w.run([]string{"purge", "--older-than", "24h", "--dry-run"})
	require.Equal(t, exitOK, r.code, r.stderr)
	golden(t, "purge_dry_run", r.stdout)
	assert.True(t, w.f.MustGet(t, idChurn1).Deleted, "a dry run changes nothing")

	r = w.run([]string{"purge", "--older-than", "soon"})
	assert.Equal(t, exitInvalid, r.code)
	r = w.run([]string{"purge", "--older-than", "24h", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	var res registry.Result
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	assert.ElementsMatch(t, []string{idChurn1, idReport}, res.Deleted)
	_, err := w.f.Get(w.f.Ctx, idChurn1, registry.IncludeAll)
	assert.ErrorIs(t, err, registry.ErrNotFound)
}

func TestCheckCleanupsAndEvents(t *testing.T) {
	w := newWorld(t)
	r := w.run([]string{"check"})
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "consistent\n", r.stdout)

	r = w.run([]string{"cleanups", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.JSONEq(t, `{"items":[]}`, r.stdout)
	w.storageDown.Store(true)
	require.Equal(t, exitOK, w.run([]string{"delete", idChurn1, "--hard"}).code)
	r = w.run([]string{"cleanups"})
	require.Equal(t, exitOK, r.code, r.stderr)
	golden(t, "cleanups_table", r.stdout)
	r = w.run([]string{"cleanups", "retry"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "0 cleaned, 1 still failing.\n")
	w.storageDown.Store(false)
	r = w.run([]string{"cleanups", "retry"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "1 cleaned, 0 still failing.\ncleaned  s3://models/churn/1.zip\n", r.stdout)

	r = w.run([]string{"events", "--after", "0", "--limit", "3", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	var e registry.Event
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
	assert.Equal(t, registry.EventCreated, e.Type)
	assert.Equal(t, idCustomers, e.ArtifactID)
	r = w.run([]string{"events", "--limit", "1"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "created  mlflow_svc.customers.1")
}

func TestResetAsksFirst(t *testing.T) {
	w := newWorld(t)
	// Standard input is not a terminal: without --yes nothing happens.
	r := w.runIn("yes\n", []string{"reset"})
	assert.Equal(t, exitError, r.code)
	assert.Contains(t, r.stderr, "--yes")
	assert.False(t, w.f.MustGet(t, idChurn1).Deleted)

	// On a terminal it asks, and anything but yes keeps the registry.
	var out, errb bytes.Buffer
	a := &app{streams: streams{in: strings.NewReader("no\n"), out: &out, err: &errb}, isTerminal: func(any) bool { return true }}
	code := runApp(context.Background(), a, []string{"reset", "--server", w.url, "--token", adminToken})
	assert.Equal(t, exitError, code)
	assert.Contains(t, errb.String(), "Type yes")
	w.f.MustGet(t, idChurn1)

	a.streams = streams{in: strings.NewReader("yes\n"), out: &out, err: &errb}
	require.Equal(t, exitOK, runApp(context.Background(), a, []string{"reset", "--server", w.url, "--token", adminToken}), errb.String())
	n, err := w.f.Count(w.f.Ctx, registry.Filter{Include: registry.IncludeAll})
	require.NoError(t, err)
	assert.Zero(t, n)

	r = w.run([]string{"reset", "--yes"})
	assert.Equal(t, exitOK, r.code, r.stderr)
}

// TestProgressOnATerminalOnly runs a slow delete in process with stderr
// taken for a terminal: the spinner turns and is erased. The built binary's
// stderr is a pipe: nothing (TestDeleteTreeSoftThenRestore).
func TestProgressOnATerminalOnly(t *testing.T) {
	slow := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete || r.URL.Path == "/v1/purge" {
				time.Sleep(3 * progressTick)
			}
			h.ServeHTTP(w, r)
		})
	}
	w := newWorld(t, slow)
	for _, term := range []bool{true, false} {
		var out, errb bytes.Buffer
		a := &app{streams: streams{in: strings.NewReader(""), out: &out, err: &errb}, isTerminal: func(any) bool { return term }}
		code := runApp(context.Background(), a, []string{"delete", idChurn1, "--dry-run", "--server", w.url, "--token", adminToken})
		require.Equal(t, exitOK, code, errb.String())
		if term {
			assert.Contains(t, errb.String(), "planning the delete… 0.")
			assert.True(t, strings.HasSuffix(errb.String(), "\r\033[K"), "the line is erased: %q", errb.String())
		} else {
			assert.Empty(t, errb.String())
		}
		assert.Contains(t, out.String(), "#1 would delete")
	}
}

func TestHelpDocumentsEveryCommand(t *testing.T) {
	w := newWorld(t)
	r := w.run([]string{"--help"})
	for _, c := range []string{"register", "update", "get", "list", "link", "unlink", "lineage", "deploy", "undeploy", "delete",
		"restore", "purge", "cleanups", "check", "reset", "events", "completion"} {
		assert.Contains(t, r.stdout, "\n  "+c+" ", c)
	}
	r = w.run([]string{"delete", "--help"})
	for _, f := range []string{"--hard", "--recursive", "--cascade", "--cascade-limit", "--lineage", "--atomic", "--dry-run",
		"--reason", "--idempotency-key", "--if-match", "--fqn", "--all-versions", "--namespace", "--name"} {
		assert.Contains(t, r.stdout, f+" ", f)
	}
}

func TestRestoreByOperation(t *testing.T) {
	w := newWorld(t)
	require.Equal(t, exitOK, w.run([]string{"undeploy", idDecoder, "endpoint-eu-1"}).code)
	r := w.run([]string{"delete", idPackage, "--recursive", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	var res registry.Result
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res))
	require.Len(t, res.Deleted, 3)

	r = w.run([]string{"restore", "--operation", res.Operation, "--reason", "too soon"})
	require.Equal(t, exitOK, r.code, r.stderr)
	golden(t, "restore_operation", r.stdout)
	for _, id := range []string{idPackage, idEncoder, idDecoder} {
		assert.False(t, w.f.MustGet(t, id).Deleted, id)
	}
	r = w.run([]string{"restore", "--operation", res.Operation, "--fqn", "mlflow_svc.ensemble.1"})
	assert.Equal(t, exitInvalid, r.code, "one way to name what to restore")
}

func TestDeleteAllVersions(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"delete", "--all-versions", "--namespace", "mlflow_svc"}, exitInvalid},
		{[]string{"delete", "--all-versions", "--namespace", "mlflow_svc", "--name", "churn", "--if-match", "1"}, exitInvalid},
		{[]string{"delete", "--namespace", "mlflow_svc", "--name", "churn"}, exitInvalid},
		{[]string{"delete", "--all-versions", "--namespace", "mlflow_svc", "--name", "nothing"}, exitNotFound},
	} {
		r := w.run(tc.args)
		assert.Equal(t, tc.code, r.code, "%q: %s", tc.args, r.stderr)
	}
	// Restrict: churn.3 has a live dependent, so it fails and the others go.
	r := w.run([]string{"delete", "--all-versions", "--namespace", "mlflow_svc", "--name", "churn", "--hard", "--dry-run"})
	assert.Equal(t, exitPartial, r.code, r.stderr)
	golden(t, "delete_all_versions_restrict", r.stdout)
	r = w.run([]string{"delete", "--all-versions", "--namespace", "mlflow_svc", "--name", "churn", "--hard", "--lineage", "cascade"})
	assert.Equal(t, exitOK, r.code, r.stderr)
	golden(t, "delete_all_versions_cascade", r.stdout)
	_, err := w.f.Get(w.f.Ctx, idReport, registry.IncludeAll)
	assert.ErrorIs(t, err, registry.ErrNotFound, "the dependent went with the versions")
}

func TestGetUnversionedAndEventsAsYAML(t *testing.T) {
	w := newWorld(t)
	r := w.run([]string{"register", "--kind", "code", "--namespace", "mlflow_svc", "--name", "train_script"})
	require.Equal(t, exitOK, r.code, r.stderr)
	r = w.run([]string{"get", "--namespace", "mlflow_svc", "--name", "train_script", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"name": "train_script"`)
	r = w.run([]string{"get", "--namespace", "mlflow_svc", "--name", "churn"})
	assert.Equal(t, exitNotFound, r.code, "churn has versions only")

	r = w.run([]string{"events", "--after", "1", "--limit", "2", "-o", "yaml"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 2, strings.Count(r.stdout, "---\n"))
	assert.Contains(t, r.stdout, "seq: 2\n")
	assert.NotContains(t, r.stdout, "seq: 1\n", "--after is exclusive")
}

// TestEventsStreamEnd: when the server ends the stream, events says where
// to resume and exits 7; a script can loop on it.
func TestEventsStreamEnd(t *testing.T) {
	cut := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v1/events" {
				ctx, cancel := context.WithTimeout(r.Context(), 300*time.Millisecond)
				defer cancel()
				r = r.WithContext(ctx)
			}
			h.ServeHTTP(w, r)
		})
	}
	w := newWorld(t, cut)
	r := w.run([]string{"events", "--after", "3"})
	assert.Equal(t, exitUnavailable, r.code, r.stderr)
	n := strings.Count(r.stdout, "\n")
	require.Positive(t, n)
	assert.Contains(t, r.stderr, fmt.Sprintf("resume with --after %d", 3+n))
}

func TestCompletionIgnoresABrokenConfig(t *testing.T) {
	w := newWorld(t)
	bad := writeFile(t, t.TempDir(), "bad.yaml", "server: [\n")
	r := w.run([]string{"check", "--config", bad})
	assert.Equal(t, exitInvalid, r.code)
	r = w.run([]string{"__complete", "--config", bad, "list", "--include", ""})
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "non-deleted\ndeleted\nall\n")
	r = w.run([]string{"completion", "zsh", "--config", bad})
	assert.Equal(t, exitOK, r.code, r.stderr)
}
