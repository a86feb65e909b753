package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/replicated"
)

// daemon is a registryd process started by a test.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string         // http://127.0.0.1:<port>
	ids  map[string]any // the "demo IDs" log line
	done chan struct{}  // closed when the process has exited, with err
	err  error
}

// startDaemon builds registryd, starts it with args on 127.0.0.1:0 and
// waits until /readyz answers 200. The process is killed when the test
// ends, whatever happened.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build registryd with")
	}
	bin := filepath.Join(t.TempDir(), "registryd")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	d := &daemon{t: t, done: make(chan struct{}), ids: map[string]any{}}
	d.cmd = exec.Command(bin, append([]string{"-addr", "127.0.0.1:0", "-log-format", "json"}, args...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRYD_") {
			d.cmd.Env = append(d.cmd.Env, kv)
		}
	}
	stdout, err := d.cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	d.cmd.Stderr = &stderr
	require.NoError(t, d.cmd.Start())
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		select {
		case <-d.done:
		case <-time.After(10 * time.Second):
			t.Errorf("registryd did not exit after a kill")
		}
		if t.Failed() {
			t.Logf("registryd stderr:\n%s", stderr.String())
		}
	})

	addr := make(chan string, 1)
	ids := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			switch line["msg"] {
			case "registryd listening":
				addr <- fmt.Sprint(line["addr"])
			case "demo IDs":
				ids <- line
			}
		}
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	select {
	case a := <-addr:
		d.base = "http://" + a
	case <-d.done:
		t.Fatalf("registryd exited before listening: %v\n%s", d.err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("registryd did not listen within 30 s\n%s", stderr.String())
	}
	if len(args) > 0 && args[0] == "-demo" {
		select {
		case d.ids = <-ids:
		case <-time.After(10 * time.Second):
			t.Fatal("no demo IDs logged")
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(d.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		require.True(t, time.Now().Before(deadline), "registryd not ready within 10 s: %v", err)
		time.Sleep(20 * time.Millisecond)
	}
	return d
}

func (d *daemon) id(key string) string {
	s, _ := d.ids[key].(string)
	return s
}

// send sends a request as curl would (headers as name, value pairs) and
// returns the status, headers and body.
func (d *daemon) send(method, path, body string, headers ...string) (int, http.Header, string) {
	d.t.Helper()
	return d.do(false, method, path, body, headers...)
}

// sendSigned sends a request signed with the demo AWS key, as an AWS SDK
// would.
func (d *daemon) sendSigned(method, path, body string, headers ...string) (int, http.Header, string) {
	d.t.Helper()
	return d.do(true, method, path, body, headers...)
}

func (d *daemon) do(sign bool, method, path, body string, headers ...string) (int, http.Header, string) {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	require.NoError(d.t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if sign {
		require.NoError(d.t, lookout.Sign(req, []byte(body), httpapi.DemoAccessKeyID, httpapi.DemoSecretAccessKey, lookout.DefaultRegion, time.Now()))
	}
	cl := &http.Client{Timeout: 10 * time.Second}
	res, err := cl.Do(req)
	require.NoError(d.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(d.t, err)
	return res.StatusCode, res.Header, string(data)
}

// TestRegistrydDemo builds and starts registryd -demo, sends each seed's
// example requests with only host and IDs substituted (and with curl when
// the machine has it), then stops it with SIGTERM while a request is in
// flight: the request finishes and the process exits 0.
func TestRegistrydDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	d := startDaemon(t, "-demo")

	st, _, body := d.send("GET", "/healthz", "")
	assert.Equal(t, 200, st, body)

	t.Run("seed 000 OpenMetadata", func(t *testing.T) {
		id := d.id("omModel")
		require.NotEmpty(t, id)
		bearer := "Bearer " + httpapi.DemoMLflowToken
		st, h, body := d.send("DELETE", "/api/v1/mlmodels/name/mlflow_svc.customer_segmentation", "", "Authorization", bearer)
		require.Equal(t, 200, st, body)
		assert.Equal(t, "entitySoftDeleted", h.Get("X-OpenMetadata-Change"))
		assert.Contains(t, body, `"deleted":true`)
		assert.Contains(t, body, `"version":0.2`)
		st, _, body = d.send("PUT", "/api/v1/mlmodels/restore", `{"id": "`+id+`"}`, "Authorization", bearer, "Content-Type", "application/json")
		require.Equal(t, 200, st, body)
		assert.Contains(t, body, `"deleted":false`)
		st, _, body = d.send("DELETE", "/api/v1/mlmodels/"+id+"?hardDelete=true", "", "Authorization", bearer)
		assert.Equal(t, 204, st, "a hard delete is 204, as seed 000 says: %s", body)
		st, _, body = d.send("DELETE", "/api/v1/mlmodels/"+id, "", "Authorization", bearer)
		assert.Equal(t, 404, st, body)
	})

	t.Run("seeds 001 and 002 ModelArts", func(t *testing.T) {
		models, _ := d.ids["modelartsModels"].([]any)
		require.Len(t, models, 3)
		st, _, body := d.send("DELETE", fmt.Sprintf("/v1/%s/models/%s?cascade=true", httpapi.DemoModelArtsProject, models[0]), "",
			"X-Auth-Token", httpapi.DemoAdminToken)
		require.Equal(t, 200, st, body)
		var out struct {
			Success []string `json:"delete_success_list"`
			Failed  []struct {
				ModelID, Code, Msg, Message string
			} `json:"delete_failed_list"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &out))
		assert.ElementsMatch(t, []any{models[0], models[1]}, []any{out.Success[0], out.Success[1]})
		assert.Contains(t, body, `"error_code":"ModelArts.3009"`)
		assert.Contains(t, body, `"error_msg":"Failed to delete model, model (`+models[2].(string)+`) already deploy service."`)
	})

	t.Run("seed 003 artifacts", func(t *testing.T) {
		model, dataset := d.id("artifactModel"), d.id("artifactDataset")
		st, _, body := d.send("GET", "/artifact/model/"+model+"/lineage", "")
		require.Equal(t, 200, st, body)
		assert.Contains(t, body, `"from_node_artifact_id":"`+dataset+`","to_node_artifact_id":"`+model+`"`)
		st, _, body = d.send("DELETE", "/artifacts/model/"+model, "")
		require.Equal(t, 200, st, body)
		assert.JSONEq(t, `{"status":"deleted","id":"`+model+`"}`, body)
		st, _, body = d.send("DELETE", "/artifacts/model/"+model, "")
		assert.Equal(t, 404, st)
		assert.JSONEq(t, `{"detail":"Artifact does not exist."}`, body)
		st, _, body = d.send("DELETE", "/artifacts/model/12345", "")
		assert.Equal(t, 404, st, body)

		curl, err := exec.LookPath("curl")
		if err != nil {
			t.Log("no curl on this machine; the net/http requests above stand for it")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		code := d.id("artifactCode")
		out, err := exec.CommandContext(ctx, curl, "-sS", "-X", "DELETE", d.base+"/artifacts/code/"+code).Output()
		require.NoError(t, err)
		assert.JSONEq(t, `{"status":"deleted","id":"`+code+`"}`, string(out))
		out, err = exec.CommandContext(ctx, curl, "-sS", "-X", "POST", d.base+"/artifact/model",
			"-H", "Content-Type: application/json", "-d", `{"url": "https://huggingface.co/correct-model"}`).Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), `"name":"correct-model"`)
	})

	t.Run("seed 004 Lookout for Vision", func(t *testing.T) {
		path := "/2020-11-20/projects/" + httpapi.DemoLookoutProject + "/models/"
		st, h, body := d.sendSigned("DELETE", path+d.id("lookoutHosted"), "", "X-Amzn-Client-Token", "retire-1")
		assert.Equal(t, 409, st, body)
		assert.Equal(t, "ConflictException", h.Get("X-Amzn-ErrorType"))
		st, _, body = d.sendSigned("DELETE", path+d.id("lookoutStopped"), "", "X-Amzn-Client-Token", "retire-2")
		assert.Equal(t, 202, st, body)
		assert.JSONEq(t, `{"ModelArn":"arn:aws:lookoutvision:us-east-1:123456789012:model/`+httpapi.DemoLookoutProject+`/`+d.id("lookoutStopped")+`"}`, body)
	})

	st, _, body = d.send("GET", "/readyz", "")
	require.Equal(t, 200, st, body)

	// Graceful shutdown: a request whose body is still arriving when
	// SIGTERM comes is served to the end.
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", d.base+"/artifact/dataset", pr)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		body   string
		err    error
	}
	answered := make(chan result, 1)
	go func() {
		res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		answered <- result{res.StatusCode, string(data), err}
	}()
	_, err = pw.Write([]byte(`{"url":"https://huggingface.co/`))
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the server is reading the body
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	time.Sleep(300 * time.Millisecond) // the server is shutting down
	select {
	case <-d.done:
		t.Fatalf("registryd exited with a request in flight: %v", d.err)
	default:
	}
	_, err = pw.Write([]byte(`datasets/late"}`))
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	select {
	case r := <-answered:
		require.NoError(t, r.err)
		assert.Equal(t, 201, r.status, r.body)
	case <-time.After(15 * time.Second):
		t.Fatal("the request in flight was not answered")
	}
	select {
	case <-d.done:
		var exit *exec.ExitError
		if errors.As(d.err, &exit) {
			t.Fatalf("registryd exited %d", exit.ExitCode())
		}
		require.NoError(t, d.err)
	case <-time.After(15 * time.Second):
		t.Fatal("registryd did not exit after SIGTERM")
	}
}

// TestRegistrydCredentialsFile: a server with a credentials file and no
// demo starts empty, answers its principal and refuses anonymous requests.
func TestRegistrydCredentialsFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	file := filepath.Join(t.TempDir(), "creds.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"principals":{"alice":{"namespaces":["artifacts"],"tokens":["alice-token"]}}}`), 0o600))
	d := startDaemon(t, "-credentials", file)
	st, _, body := d.send("POST", "/artifact/model", `{"url":"https://huggingface.co/org/churn"}`, "X-Authorization", "bearer alice-token")
	assert.Equal(t, 201, st, body)
	st, _, body = d.send("POST", "/artifact/model", `{"url":"https://huggingface.co/org/other"}`)
	assert.Equal(t, 403, st, body)
	st, _, body = d.send("POST", "/artifacts", `[{"name":"*"}]`, "X-Authorization", "alice-token")
	assert.Equal(t, 200, st, body)
	assert.Contains(t, body, `"name":"churn"`)
}

// TestFlags: flags, their environment variables and bad values.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want options
		err  string
	}{
		{name: "defaults", want: options{addr: "127.0.0.1:8585", logFormat: "text", shutdown: 30 * time.Second, nodeID: "registryd"}},
		{name: "flags", args: []string{"-addr", "127.0.0.1:9000", "-demo", "-log-format", "json", "-shutdown-timeout", "5s",
			"-data-dir", "/var/lib/registry", "-node-id", "n1"},
			want: options{addr: "127.0.0.1:9000", demo: true, logFormat: "json", shutdown: 5 * time.Second, dataDir: "/var/lib/registry", nodeID: "n1"}},
		{name: "environment", env: map[string]string{"REGISTRYD_ADDR": "127.0.0.1:9001", "REGISTRYD_DEMO": "true",
			"REGISTRYD_CREDENTIALS": "/etc/c.json", "REGISTRYD_LOG_FORMAT": "json", "REGISTRYD_DATA_DIR": "/data", "REGISTRYD_NODE_ID": "n2"},
			want: options{addr: "127.0.0.1:9001", demo: true, credentials: "/etc/c.json", logFormat: "json", shutdown: 30 * time.Second,
				dataDir: "/data", nodeID: "n2"}},
		{name: "a flag beats its variable", args: []string{"-addr", "127.0.0.1:9002"}, env: map[string]string{"REGISTRYD_ADDR": "127.0.0.1:9001"},
			want: options{addr: "127.0.0.1:9002", logFormat: "text", shutdown: 30 * time.Second, nodeID: "registryd"}},
		{name: "bad log format", args: []string{"-log-format", "xml"}, err: `-log-format "xml" is not text or json`},
		{name: "bad REGISTRYD_DEMO", env: map[string]string{"REGISTRYD_DEMO": "maybe"}, err: "REGISTRYD_DEMO"},
		{name: "arguments", args: []string{"serve"}, err: "unexpected arguments"},
		{name: "unknown flag", args: []string{"-port", "1"}, err: "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"REGISTRYD_ADDR", "REGISTRYD_CREDENTIALS", "REGISTRYD_DEMO", "REGISTRYD_LOG_FORMAT",
				"REGISTRYD_DATA_DIR", "REGISTRYD_NODE_ID"} {
				t.Setenv(k, tc.env[k])
				if _, ok := tc.env[k]; !ok {
					os.Unsetenv(k)
				}
			}
			got, err := parseFlags(tc.args, io.Discard)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestRunRefuses: no credentials, a credentials file with -demo, a bad
// file, a data directory that is a file or in use, and a taken address are
// errors before anything is served.
func TestRunRefuses(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"principals":{}}`), 0o600))
	good := filepath.Join(t.TempDir(), "good.json")
	require.NoError(t, os.WriteFile(good, []byte(`{"principals":{"alice":{"namespaces":["*"],"tokens":["t"]}}}`), 0o600))
	inUse := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := replicated.Open(ctx, replicated.Config{DataDir: inUse, ElectionTimeout: 50 * time.Millisecond, LogOutput: io.Discard})
	require.NoError(t, err)
	defer node.Close()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{nil, "no credentials"},
		{[]string{"-credentials", good, "-data-dir", good}, "data directory"},
		{[]string{"-credentials", good, "-data-dir", inUse}, "in use by another process"},
		{[]string{"-credentials", bad}, "no principals"},
		{[]string{"-credentials", bad + ".missing"}, "no such file"},
		{[]string{"-demo", "-credentials", bad}, "no principals"},
		{[]string{"-demo", "-credentials", good}, "give one or the other"},
		{[]string{"-demo", "-addr", "256.0.0.1:1"}, "listen"},
	} {
		t.Setenv("REGISTRYD_ADDR", "")
		os.Unsetenv("REGISTRYD_ADDR")
		err := run(context.Background(), tc.args, io.Discard, io.Discard, nil)
		require.Error(t, err, "%v", tc.args)
		assert.Contains(t, err.Error(), tc.err, "%v", tc.args)
	}
}

// TestRegistrydShutdownTimeout: a request that does not finish within
// -shutdown-timeout does not hold the process: it exits 1.
func TestRegistrydShutdownTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	d := startDaemon(t, "-demo", "-shutdown-timeout", "300ms")
	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequest("POST", d.base+"/artifact/dataset", pr)
	require.NoError(t, err)
	go func() {
		if res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req); err == nil {
			res.Body.Close()
		}
	}()
	_, err = pw.Write([]byte(`{"url":`)) // and never the rest
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-d.done:
		var exit *exec.ExitError
		require.True(t, errors.As(d.err, &exit), "want exit status 1, got %v", d.err)
		assert.Equal(t, 1, exit.ExitCode())
		assert.Less(t, time.Since(start), 10*time.Second)
	case <-time.After(15 * time.Second):
		t.Fatal("registryd did not exit after its shutdown timeout")
	}
}
