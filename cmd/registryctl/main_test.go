package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/registrytest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// bin is the registryctl binary TestMain builds.
var bin string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "registryctl-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "registryctl")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The seeded artifacts' IDs, fixed so that outputs are the same on every
// run.
const (
	idCustomers = "00000000-0000-4000-8000-000000000001" // dataset mlflow_svc.customers.1
	idChurn1    = "00000000-0000-4000-8000-000000000002" // model mlflow_svc.churn.1
	idChurn2    = "00000000-0000-4000-8000-000000000003"
	idChurn3    = "00000000-0000-4000-8000-000000000004" // customers -> churn.3 -> report.1
	idReport    = "00000000-0000-4000-8000-000000000005"
	idPackage   = "00000000-0000-4000-8000-000000000006" // contains encoder and decoder
	idEncoder   = "00000000-0000-4000-8000-000000000007"
	idDecoder   = "00000000-0000-4000-8000-000000000008" // deployed to endpoint-eu-1
	idOther     = "00000000-0000-4000-8000-000000000009" // namespace other, out of mlflowToken's reach
	unknownID   = "00000000-0000-4000-8000-0000000000ff"
)

const (
	adminToken  = httpapi.DemoAdminToken  // every namespace
	mlflowToken = httpapi.DemoMLflowToken // mlflow_svc only
)

// world is a server over a seeded registry, and what the tests need to
// run the binary against it.
type world struct {
	t   *testing.T
	url string
	f   *registrytest.Fixture
	env []string // the binary's environment: no REGISTRYCTL_*, an empty config home
	// storageDown makes the registry's cleaner fail.
	storageDown *atomic.Bool
}

// newWorld starts registrytest.NewServer (every dialect and the native API,
// as registryd serves them) over the seeded registry; wrap, when given,
// puts middleware in front of it (a slow server).
func newWorld(t *testing.T, wrap ...func(http.Handler) http.Handler) *world {
	t.Helper()
	down := new(atomic.Bool)
	cleaner := registry.CleanerFunc(func(context.Context, string) error {
		if down.Load() {
			return errors.New("storage unavailable")
		}
		return nil
	})
	s := registrytest.NewServer(t, registrytest.WithRegistryOptions(registry.WithCleaner(cleaner)))
	f := s.Fixture
	w := &world{t: t, url: s.URL, f: f, storageDown: down}
	if len(wrap) > 0 {
		h := proxyTo(s.URL)
		for _, fn := range wrap {
			h = fn(h)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		w.url = srv.URL
	}

	reg := func(a registry.Artifact) { f.MustRegister(t, a) }
	m := func(id, name, version string) registry.Artifact {
		return registry.Artifact{ID: id, Kind: registry.KindModel, Namespace: "mlflow_svc", Name: name, Version: version}
	}
	reg(registry.Artifact{ID: idCustomers, Kind: registry.KindDataset, Namespace: "mlflow_svc", Name: "customers", Version: "1",
		DisplayName: "Customers", StorageURIs: []string{"s3://datasets/customers/1.parquet"}})
	for _, x := range []registry.Artifact{m(idChurn1, "churn", "1"), m(idChurn2, "churn", "2"), m(idChurn3, "churn", "3")} {
		x.Algorithm, x.Owners, x.Labels = "KMeans", []string{"alice"}, map[string]string{"team": "growth"}
		x.StorageURIs = []string{"s3://models/churn/" + x.Version + ".zip"}
		reg(x)
		f.Clock.Advance(time.Minute)
	}
	reg(m(idReport, "report", "1"))
	f.MustLink(t, idCustomers, idChurn3)
	f.MustLink(t, idChurn3, idReport)
	reg(m(idPackage, "ensemble", "1"))
	enc, dec := m(idEncoder, "ensemble_encoder", "1"), m(idDecoder, "ensemble_decoder", "1")
	enc.Parent, dec.Parent = idPackage, idPackage
	reg(enc)
	reg(dec)
	require.NoError(t, f.Deploy(f.Ctx, idDecoder, "endpoint-eu-1"))
	reg(registry.Artifact{ID: idOther, Kind: registry.KindModel, Namespace: "other", Name: "x", Version: "1"})

	home := t.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRYCTL_") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") && !strings.HasPrefix(kv, "HOME=") {
			w.env = append(w.env, kv)
		}
	}
	w.env = append(w.env, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	return w
}

// proxyTo forwards every request to the server at base.
func proxyTo(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	})
}

// result is what one run of the binary did.
type result struct {
	stdout, stderr string
	code           int
}

// run runs the binary with the admin token (unless args or env give
// another) against the world's server, bounded in time.
func (w *world) run(args []string, env ...string) result {
	w.t.Helper()
	return w.runIn("", args, env...)
}

func (w *world) runIn(stdin string, args []string, env ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append([]string{}, w.env...), "REGISTRYCTL_SERVER="+w.url, "REGISTRYCTL_TOKEN="+adminToken)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	require.NoError(w.t, ctx.Err(), "registryctl %q did not finish in time", args)
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(w.t, ok, "registryctl %q: %v", args, err)
		code = ee.ExitCode()
	}
	return result{out.String(), errb.String(), code}
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalize replaces the UUIDs the server makes (operations) with
// <operation>; the seeded IDs stay.
func normalize(s string) string {
	return uuidRE.ReplaceAllStringFunc(s, func(id string) string {
		if strings.HasPrefix(id, "00000000-0000-4000-8000-") {
			return id
		}
		return "<operation>"
	})
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	got = normalize(got)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write it")
	assert.Equal(t, string(want), got, "%s differs; go test -run %s -update rewrites it", path, t.Name())
}

func TestGolden(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"get_table", []string{"get", idChurn3}, exitOK},
		{"get_json", []string{"get", "--fqn", "mlflow_svc.churn.3", "-o", "json"}, exitOK},
		{"get_yaml", []string{"get", "--namespace", "mlflow_svc", "--name", "churn", "--version", "3", "-o", "yaml"}, exitOK},
		{"list_table", []string{"list", "--namespace", "mlflow_svc"}, exitOK},
		{"list_all_json", []string{"list", "--namespace", "mlflow_svc", "--name", "churn", "--limit", "1", "--all", "-o", "json"}, exitOK},
		{"lineage_table", []string{"lineage", idChurn3, "--direction", "both", "--depth", "2"}, exitOK},
		// A recursive hard delete of the package: the deployed decoder
		// fails, so the package is not empty; the encoder would go.
		{"delete_tree_partial", []string{"delete", idPackage, "--hard", "--recursive", "--dry-run"}, exitPartial},
		{"delete_tree_partial_yaml", []string{"delete", idPackage, "--hard", "--recursive", "--dry-run", "-o", "yaml"}, exitPartial},
		// A cascade past its limit, detaching the report that depends on
		// churn.3.
		{"delete_tree_cascade", []string{"delete", "--fqn", "mlflow_svc.churn.3", "--hard", "--cascade", "--cascade-limit", "2",
			"--lineage", "detach", "--dry-run"}, exitOK},
		{"delete_tree_cascade_json", []string{"delete", "--fqn", "mlflow_svc.churn.3", "--hard", "--cascade", "--cascade-limit", "2",
			"--lineage", "detach", "--dry-run", "-o", "json"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args)
			assert.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			golden(t, tc.name, r.stdout)
		})
	}
}

// TestDeleteTreeSoft deletes the package for real, softly, and restores it
// by the operation the tree printed.
func TestDeleteTreeSoftThenRestore(t *testing.T) {
	w := newWorld(t)
	require.Equal(t, 0, w.run([]string{"undeploy", idDecoder, "endpoint-eu-1"}).code)
	r := w.run([]string{"delete", idPackage, "--recursive", "--reason", "retired"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr, "no progress when stderr is not a terminal")
	golden(t, "delete_tree_soft", r.stdout)
	for _, id := range []string{idPackage, idEncoder, idDecoder} {
		a := w.f.MustGet(t, id)
		assert.True(t, a.Deleted, id)
	}

	r = w.run([]string{"get", idEncoder})
	assert.Equal(t, exitNotFound, r.code)
	r = w.run([]string{"get", idEncoder, "--include", "all", "-o", "json"})
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"deleteReason": "retired"`)

	r = w.run([]string{"restore", idPackage})
	require.Equal(t, exitOK, r.code, r.stderr)
	for _, id := range []string{idPackage, idEncoder, idDecoder} {
		assert.False(t, w.f.MustGet(t, id).Deleted, id)
	}
}

func TestExitCodes(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
	}{
		{"done", []string{"get", idChurn1}, nil, exitOK},
		{"usage: unknown flag", []string{"get", "--bogus"}, nil, exitError},
		{"usage: unknown command", []string{"frobnicate"}, nil, exitError},
		{"usage: too many arguments", []string{"link", idChurn1}, nil, exitError},
		{"invalid: flag value refused before sending", []string{"delete", idChurn1, "--lineage", "sideways"}, nil, exitInvalid},
		{"invalid: two ways to name the artifact", []string{"get", idChurn1, "--fqn", "mlflow_svc.churn.1"}, nil, exitInvalid},
		{"invalid: 400 from the server", []string{"delete", idChurn1, "--cascade-limit", "3"}, nil, exitInvalid},
		{"invalid: bad idempotency key", []string{"delete", idChurn1, "--idempotency-key", "not a token!"}, nil, exitInvalid},
		{"not found: ID", []string{"get", unknownID}, nil, exitNotFound},
		{"not found: FQN", []string{"delete", "--fqn", "mlflow_svc.nothing.1"}, nil, exitNotFound},
		{"refused: deployed", []string{"delete", idDecoder, "--hard"}, nil, exitRefused},
		{"refused: has dependents", []string{"delete", idChurn3, "--hard"}, nil, exitRefused},
		{"refused: not empty", []string{"delete", idPackage}, nil, exitRefused},
		{"refused: already exists", []string{"register", "--kind", "model", "--namespace", "mlflow_svc", "--name", "churn", "--version", "1"}, nil, exitRefused},
		{"refused: forbidden namespace", []string{"delete", idOther}, []string{"REGISTRYCTL_TOKEN=" + mlflowToken}, exitRefused},
		{"refused: unknown token", []string{"get", idChurn1}, []string{"REGISTRYCTL_TOKEN=nobody"}, exitRefused},
		{"refused: atomic with a failure", []string{"delete", idPackage, "--hard", "--recursive", "--atomic"}, nil, exitRefused},
		{"partial: a recursive delete in which an item failed", []string{"delete", idPackage, "--recursive"}, nil, exitPartial},
		{"precondition failed: stale revision", []string{"delete", idChurn2, "--if-match", "7"}, nil, exitPrecondition},
		{"unreachable", []string{"get", idChurn1, "--server", "http://127.0.0.1:1"}, nil, exitUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(tc.args, tc.env...)
			assert.Equal(t, tc.code, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
			if tc.code != exitOK && tc.code != exitPartial {
				assert.Contains(t, r.stderr, "registryctl: ", "the error is said on stderr")
			}
		})
	}
	// None of the refused or failed calls changed anything; the partial
	// delete took the encoder alone.
	for _, id := range []string{idChurn1, idChurn2, idChurn3, idDecoder, idPackage, idOther} {
		assert.False(t, w.f.MustGet(t, id).Deleted, id)
	}
	assert.True(t, w.f.MustGet(t, idEncoder).Deleted)
}

func TestCredentialsPrecedence(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	files := 0
	file := func(server, token string) string {
		files++
		return writeFile(t, dir, fmt.Sprintf("config-%d.yaml", files), fmt.Sprintf("server: %s\ntoken: %s\n", server, token))
	}
	dead := "http://127.0.0.1:1"
	// The default file, under XDG_CONFIG_HOME.
	xdg := filepath.Join(dir, "xdg")
	require.NoError(t, os.MkdirAll(filepath.Join(xdg, "registryctl"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(xdg, "registryctl", "config.yaml"),
		[]byte("server: "+w.url+"\ntoken: "+adminToken+"\n"), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		env  []string
		code int
	}{
		{"flag beats env and file", []string{"--token", adminToken, "--server", w.url, "--config", file(dead, "bad")},
			[]string{"REGISTRYCTL_TOKEN=bad", "REGISTRYCTL_SERVER=" + dead}, exitOK},
		{"env beats file", []string{"--config", file(dead, "bad")},
			[]string{"REGISTRYCTL_TOKEN=" + adminToken, "REGISTRYCTL_SERVER=" + w.url}, exitOK},
		{"env's bad token beats file's good one", []string{"--config", file(w.url, adminToken)},
			[]string{"REGISTRYCTL_TOKEN=bad", "REGISTRYCTL_SERVER="}, exitRefused},
		{"empty env counts as unset", []string{"--config", file(w.url, adminToken)},
			[]string{"REGISTRYCTL_TOKEN=", "REGISTRYCTL_SERVER="}, exitOK},
		{"file alone", []string{"--config", file(w.url, adminToken)}, []string{"REGISTRYCTL_TOKEN=", "REGISTRYCTL_SERVER="}, exitOK},
		{"default file under XDG_CONFIG_HOME", nil, []string{"REGISTRYCTL_TOKEN=", "REGISTRYCTL_SERVER=", "XDG_CONFIG_HOME=" + xdg}, exitOK},
		{"no token anywhere", nil, []string{"REGISTRYCTL_TOKEN=", "REGISTRYCTL_SERVER=" + w.url}, exitRefused},
		{"missing --config file", []string{"--config", filepath.Join(dir, "absent.yaml")}, nil, exitError},
		{"unknown key in the config file", []string{"--config", writeFile(t, dir, "bad.yaml", "server: x\npassword: y\n")}, nil, exitInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.run(append([]string{"check"}, tc.args...), tc.env...)
			assert.Equal(t, tc.code, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
		})
	}
	// No server anywhere: the default. Something may listen there on the
	// machine running the tests, so only an unreachable one is checked.
	r := w.run([]string{"check"}, "REGISTRYCTL_SERVER=")
	if r.code == exitUnavailable {
		assert.Contains(t, r.stderr, defaultServer)
	}

	r = w.run([]string{"--help"})
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{"--server", "REGISTRYCTL_SERVER", "REGISTRYCTL_TOKEN", "config.yaml", "order of precedence", "Exit codes"} {
		assert.Contains(t, r.stdout, s)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestCompletion(t *testing.T) {
	w := newWorld(t)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := w.run([]string{"completion", shell}, "REGISTRYCTL_SERVER=http://127.0.0.1:1")
		assert.Equal(t, exitOK, r.code, shell)
		assert.Contains(t, r.stdout, "registryctl", shell)
	}
	r := w.run([]string{"__complete", "delete", "--lineage", ""})
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, "restrict\ndetach\ncascade\n:4\n", strings.SplitAfter(r.stdout, ":4\n")[0])
}
