package lookout_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/lookout"
	"github.com/modelreg/registry/registrytest"
)

// Access keys of the tests: alice may act in line-a and line-b, bob in
// line-c, admin everywhere.
var keys = map[string][2]string{
	"AKIDALICE": {"alice-secret", "alice"},
	"AKIDBOB":   {"bob-secret", "bob"},
	"AKIDADMIN": {"admin-secret", "admin"},
}

type env struct {
	t   *testing.T
	f   *registrytest.Fixture
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := registrytest.NewEmpty(t, registry.WithAuthorizer(registry.NamespaceAuthorizer{
		"alice": {"line-a", "line-b"}, "bob": {"line-c"}, "admin": {"*"},
	}))
	h, err := lookout.New(lookout.Options{
		Registry: f.Registry,
		Keys: func(id string) (string, string, bool) {
			k, ok := keys[id]
			return k[0], k[1], ok
		},
		Clock:        f.Clock.Now,
		MaxBodyBytes: 64 << 10,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, f: f, srv: srv}
}

// req is one request of a test.
type req struct {
	method, path, body string
	token              string // X-Amzn-Client-Token
	key                string // access key; AKIDALICE when empty
	secret             string // overrides the key's secret
	region, service    string // override the credential scope
	at                 time.Time
	header             map[string]string // set after signing
	drop               []string          // headers removed after signing
	tamperBody         string            // body sent instead of the signed one
	tamperPath         string            // path sent instead of the signed one
	rawQuery           string            // query set after signing
	unsigned           bool
}

// resp is an answer.
type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(r req) resp {
	e.t.Helper()
	out, err := e.try(r)
	require.NoError(e.t, err)
	return out
}

// try sends r, signed unless told otherwise; it is safe to call from
// several goroutines.
func (e *env) try(r req) (resp, error) {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(context.Background(), method, e.srv.URL+r.path, body)
	if err != nil {
		return resp{}, err
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		hr.Header.Set("X-Amzn-Client-Token", r.token)
	}
	if !r.unsigned {
		key := r.key
		if key == "" {
			key = "AKIDALICE"
		}
		secret := keys[key][0]
		if r.secret != "" {
			secret = r.secret
		}
		region, service := "us-east-1", "lookoutvision"
		if r.region != "" {
			region = r.region
		}
		if r.service != "" {
			service = r.service
		}
		at := r.at
		if at.IsZero() {
			at = e.f.Clock.Now()
		}
		sum := sha256.Sum256([]byte(r.body))
		if err := v4.NewSigner().SignHTTP(context.Background(),
			aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, hr, hex.EncodeToString(sum[:]), service, region, at); err != nil {
			return resp{}, err
		}
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	for _, k := range r.drop {
		hr.Header.Del(k)
	}
	if r.tamperBody != "" {
		hr.Body = io.NopCloser(strings.NewReader(r.tamperBody))
		hr.ContentLength = int64(len(r.tamperBody))
	}
	if r.rawQuery != "" {
		hr.URL.RawQuery = r.rawQuery
	}
	if r.tamperPath != "" {
		hr.URL.Path = r.tamperPath
	}
	res, err := e.srv.Client().Do(hr)
	if err != nil {
		return resp{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return resp{}, err
	}
	out := resp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			return out, fmt.Errorf("body %s: %w", raw, err)
		}
	}
	return out, nil
}

// must sends r and requires the status.
func (e *env) must(status int, r req) resp {
	e.t.Helper()
	out := e.do(r)
	require.Equal(e.t, status, out.status, "%s %s: %s", r.method, r.path, out.raw)
	return out
}

func (e *env) createProject(name string) {
	e.t.Helper()
	e.must(http.StatusOK, req{method: "POST", path: "/2020-11-20/projects", body: `{"ProjectName":"` + name + `"}`})
}

func (e *env) createModel(project string) string {
	e.t.Helper()
	out := e.must(http.StatusAccepted, req{method: "POST", path: "/2020-11-20/projects/" + project + "/models",
		body: `{"OutputConfig":{"S3Location":{"Bucket":"out-bucket","Prefix":"line/"}}}`})
	return out.body["ModelMetadata"].(map[string]any)["ModelVersion"].(string)
}

// dump is everything a request could change: every artifact in any state,
// the pending cleanups and the audit log.
func (e *env) dump() string {
	e.t.Helper()
	var b strings.Builder
	ctx := e.f.Ctx
	f := registry.Filter{Include: registry.IncludeAll, Limit: 1000}
	for {
		page, err := e.f.List(ctx, f)
		require.NoError(e.t, err)
		for _, a := range page.Items {
			j, err := json.Marshal(a)
			require.NoError(e.t, err)
			b.Write(j)
			b.WriteByte('\n')
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	pending, err := e.f.PendingCleanups(ctx)
	require.NoError(e.t, err)
	j, _ := json.Marshal(pending)
	b.Write(j)
	events, err := e.f.Events(ctx, 0, 1000)
	require.NoError(e.t, err)
	j, _ = json.Marshal(events)
	b.Write(j)
	require.NoError(e.t, e.f.Check())
	return b.String()
}
