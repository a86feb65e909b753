package registrytest

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
	"github.com/modelreg/registry/httpapi/lookout"
)

// Server is the whole HTTP layer (httpapi.NewHandler, every dialect) served
// in process on 127.0.0.1 over a fixture, with what each dialect's client
// needs to reach it as Principal ("admin", every namespace). The values are
// plain, so that a test passes them to whatever client it uses.
type Server struct {
	// URL is the server's base URL, like http://127.0.0.1:41234.
	URL string
	// Fixture is the registry served; its Ctx carries Principal.
	Fixture *Fixture
	// Credentials is the server's table: httpapi.DemoCredentials and the
	// principals of WithPrincipals.
	Credentials *httpapi.Credentials
	// Demo is what httpapi.SeedDemo created, with WithDemo; else nil.
	Demo *httpapi.Demo

	// OpenMetadataToken goes in Authorization: Bearer <token>.
	OpenMetadataToken string
	// ModelArts is the X-Auth-Token and a project to put in the path
	// (/v1/{ProjectID}/models).
	ModelArts ModelArtsClient
	// ArtifactsAuthorization is the artifact registry's X-Authorization.
	ArtifactsAuthorization string
	// AWS configures an AWS SDK's Lookout for Vision client.
	AWS AWSClient

	srv *httptest.Server
}

// ModelArtsClient is what a ModelArts client sends.
type ModelArtsClient struct {
	Token     string // X-Auth-Token
	ProjectID string // the path's project_id
}

// AWSClient is an AWS SDK configuration for the Lookout for Vision
// dialect: for the Go v2 SDK, Options.BaseEndpoint = Endpoint, Region and
// credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, "").
type AWSClient struct {
	Endpoint, Region, AccessKeyID, SecretAccessKey string
}

// ServerOption configures NewServer.
type ServerOption func(*serverConfig)

type serverConfig struct {
	principals map[string]httpapi.Principal
	regOpts    []registry.Option
	demo       bool
}

// WithPrincipals adds principals to the server's credentials table, beside
// the demo ones (whose names they must not reuse).
func WithPrincipals(p map[string]httpapi.Principal) ServerOption {
	return func(c *serverConfig) { maps.Copy(c.principals, p) }
}

// WithRegistryOptions passes options to the fixture's registry.New, after
// the manual clock and the credentials' authorizer (so they may replace
// either).
func WithRegistryOptions(opts ...registry.Option) ServerOption {
	return func(c *serverConfig) { c.regOpts = append(c.regOpts, opts...) }
}

// WithDemo seeds the registry with httpapi.SeedDemo (Server.Demo) and
// lets artifact registry requests without X-Authorization act as
// httpapi.DemoGuest, as registryd -demo does.
func WithDemo() ServerOption {
	return func(c *serverConfig) { c.demo = true }
}

// TestProject is Server.ModelArts.ProjectID.
const TestProject = "test-project"

// NewServer starts the HTTP layer over an empty fixture (NewEmpty; with
// WithDemo, the demo's seed) on an httptest server at 127.0.0.1 and
// returns its URL and the clients' configuration. When the test ends the
// server is closed and then, as for every fixture, the test fails if the
// registry's Check reports a broken invariant.
//
//	s := registrytest.NewServer(t)
//	req, _ := http.NewRequest("POST", s.URL+"/v1/"+s.ModelArts.ProjectID+"/models", strings.NewReader(
//		`{"model_name":"churn","model_version":"1.1.1","model_type":"PyTorch","source_location":"obs://b/churn/"}`))
//	req.Header.Set("X-Auth-Token", s.ModelArts.Token)
//	res, err := http.DefaultClient.Do(req) // 200 {"model_id": …}
//
//	// An AWS SDK for Go v2 client of the Lookout for Vision dialect:
//	client := lookoutvision.New(lookoutvision.Options{BaseEndpoint: aws.String(s.AWS.Endpoint), Region: s.AWS.Region,
//		Credentials: credentials.NewStaticCredentialsProvider(s.AWS.AccessKeyID, s.AWS.SecretAccessKey, "")})
func NewServer(t testing.TB, opts ...ServerOption) *Server {
	t.Helper()
	cfg := serverConfig{principals: map[string]httpapi.Principal{}}
	for _, o := range opts {
		o(&cfg)
	}
	table := maps.Clone(httpapi.DemoCredentials().Principals)
	for name, p := range cfg.principals {
		if _, dup := table[name]; dup {
			t.Fatalf("registrytest: WithPrincipals: %q is a demo principal", name)
		}
		table[name] = p
	}
	creds, err := httpapi.NewCredentials(table)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	f := NewEmpty(t, append([]registry.Option{registry.WithAuthorizer(creds.Authorizer())}, cfg.regOpts...)...)
	hc := httpapi.Config{Registry: f.Registry, Credentials: creds}
	if cfg.demo {
		hc.ArtifactsAnonymous = httpapi.DemoGuest
	}
	h, err := httpapi.NewHandler(hc)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	s := &Server{Fixture: f, Credentials: creds,
		OpenMetadataToken:      httpapi.DemoAdminToken,
		ModelArts:              ModelArtsClient{Token: httpapi.DemoAdminToken, ProjectID: TestProject},
		ArtifactsAuthorization: httpapi.DemoAdminToken,
	}
	if cfg.demo {
		if s.Demo, err = httpapi.SeedDemo(context.Background(), h, f.Registry); err != nil {
			t.Fatalf("registrytest: %v", err)
		}
	}
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	s.AWS = AWSClient{Endpoint: s.URL, Region: lookout.DefaultRegion,
		AccessKeyID: httpapi.DemoAccessKeyID, SecretAccessKey: httpapi.DemoSecretAccessKey}
	return s
}

// Client returns an HTTP client for the server; its idle connections are
// closed with the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }
