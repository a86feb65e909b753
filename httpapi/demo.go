package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/artifacts"
	"github.com/modelreg/registry/httpapi/lookout"
)

// The demo credentials (DemoCredentials). They are public: use them only on
// a server that listens on a loopback address.
const (
	// DemoAdmin may act in every namespace.
	DemoAdmin = "admin"
	// DemoAdminToken is DemoAdmin's bearer token: OpenMetadata's
	// Authorization: Bearer, ModelArts' X-Auth-Token, the artifact
	// registry's X-Authorization.
	DemoAdminToken = "demo-admin-token"
	// DemoAccessKeyID and DemoSecretAccessKey are DemoAdmin's AWS key pair,
	// AWS's documented example key.
	DemoAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	DemoSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	// DemoMLflow may act only in the OpenMetadata service mlflow_svc.
	DemoMLflow = "mlflow"
	// DemoMLflowToken is DemoMLflow's bearer token.
	DemoMLflowToken = "demo-mlflow-token"
	// DemoGuest is the principal of artifact registry requests without
	// X-Authorization on a demo server (Config.ArtifactsAnonymous); it may
	// act only in the artifact registry's namespace and has no credential.
	DemoGuest = "guest"
)

// Demo namespaces and names: what SeedDemo creates.
const (
	DemoOMService        = "mlflow_svc"            // seed 000's service
	DemoOMModel          = "customer_segmentation" // seed 000's model
	DemoModelArtsProject = "demo-project"          // seeds 001 and 002
	DemoModelArtsModel   = "churn_predictor"
	DemoModelArtsService = "churn-service"
	DemoLookoutProject   = "circuit-boards" // seed 004
)

// DemoCredentials returns the demo table: DemoAdmin with every namespace,
// DemoAdminToken and the AWS key pair DemoAccessKeyID/DemoSecretAccessKey;
// DemoMLflow with DemoMLflowToken, scoped to mlflow_svc; and DemoGuest,
// scoped to the artifact registry's namespace, with no credential.
func DemoCredentials() *Credentials {
	c, err := NewCredentials(map[string]Principal{
		DemoAdmin: {Namespaces: []string{"*"}, Tokens: []string{DemoAdminToken},
			AWSKeys: []AWSKey{{AccessKeyID: DemoAccessKeyID, SecretAccessKey: DemoSecretAccessKey}}},
		DemoMLflow: {Namespaces: []string{DemoOMService}, Tokens: []string{DemoMLflowToken}},
		DemoGuest:  {Namespaces: []string{artifacts.DefaultNamespace}},
	})
	if err != nil {
		panic("httpapi: the demo credentials are invalid: " + err.Error()) // a constant table
	}
	return c
}

// Demo is what SeedDemo created: the IDs to substitute in the seeds'
// example requests.
type Demo struct {
	// OpenMetadata: the service mlflow_svc and its model
	// customer_segmentation (seed 000's FQN mlflow_svc.customer_segmentation).
	OMServiceID, OMModelID string
	// ModelArts (seeds 001 and 002): DemoModelArtsModel in versions 1.1.1,
	// 1.1.2 and 1.1.3 in project DemoModelArtsProject; the last version is
	// deployed by ModelArtsServiceID, so a cascade delete of the first
	// deletes two and reports one failed item, ModelArts.3009.
	ModelArtsModelIDs  []string
	ModelArtsServiceID string
	// Artifacts (seed 003): a dataset and a code artifact, both upstream
	// (lineage) of the model.
	ArtifactModelID, ArtifactDatasetID, ArtifactCodeID string
	// Lookout for Vision (seed 004): in project DemoLookoutProject, model 1
	// is hosted (a delete is a ConflictException) and model 2 is stopped (a
	// delete is 202).
	LookoutHostedVersion, LookoutStoppedVersion string
}

// SeedDemo seeds the registry that h serves (h from NewHandler with
// DemoCredentials and the default AWS region) with the demo of Demo, through each dialect's own
// requests sent to h in process, as DemoAdmin; lineage, which no dialect
// links, is made on reg. It fails if any request does.
func SeedDemo(ctx context.Context, h http.Handler, reg registry.API) (*Demo, error) {
	s := &seeder{ctx: ctx, h: h}
	d := &Demo{}

	// Seed 000: OpenMetadata.
	var err error
	if d.OMServiceID, err = s.expect(http.MethodPost, "/api/v1/services/mlmodelServices", "Authorization", "Bearer "+DemoAdminToken,
		`{"name":"`+DemoOMService+`","serviceType":"Mlflow"}`, http.StatusCreated, "id"); err != nil {
		return nil, fmt.Errorf("openmetadata: create service: %w", err)
	}
	if d.OMModelID, err = s.expect(http.MethodPost, "/api/v1/mlmodels", "Authorization", "Bearer "+DemoAdminToken,
		`{"name":"`+DemoOMModel+`","displayName":"Customer Segmentation Model","service":"`+DemoOMService+`","algorithm":"KMeans"}`,
		http.StatusCreated, "id"); err != nil {
		return nil, fmt.Errorf("openmetadata: create model: %w", err)
	}

	// Seeds 001 and 002: ModelArts.
	base := "/v1/" + DemoModelArtsProject
	for _, v := range []string{"1.1.1", "1.1.2", "1.1.3"} {
		id, err := s.expect(http.MethodPost, base+"/models", "X-Auth-Token", DemoAdminToken,
			`{"model_name":"`+DemoModelArtsModel+`","model_version":"`+v+`","model_type":"PyTorch",`+
				`"source_location":"https://demo-bucket.obs.example.com/churn/`+v+`/","description":"churn model `+v+`"}`,
			http.StatusOK, "model_id")
		if err != nil {
			return nil, fmt.Errorf("modelarts: import %s: %w", v, err)
		}
		d.ModelArtsModelIDs = append(d.ModelArtsModelIDs, id)
	}
	if d.ModelArtsServiceID, err = s.expect(http.MethodPost, base+"/services", "X-Auth-Token", DemoAdminToken,
		`{"service_name":"`+DemoModelArtsService+`","infer_type":"real-time","config":[{"model_id":"`+d.ModelArtsModelIDs[2]+
			`","specification":"modelarts.vm.cpu.2u","instance_count":1,"weight":100}]}`,
		http.StatusOK, "service_id"); err != nil {
		return nil, fmt.Errorf("modelarts: deploy: %w", err)
	}

	// Seed 003: the artifact registry, with lineage dataset → model ← code.
	for _, a := range []struct {
		typ, url string
		id       *string
	}{
		{"dataset", "https://huggingface.co/datasets/demo/customers", &d.ArtifactDatasetID},
		{"code", "https://github.com/demo/train-churn", &d.ArtifactCodeID},
		{"model", "https://huggingface.co/demo/churn", &d.ArtifactModelID},
	} {
		if *a.id, err = s.expect(http.MethodPost, "/artifact/"+a.typ, artifacts.AuthHeader, DemoAdminToken,
			`{"url":"`+a.url+`"}`, http.StatusCreated, "metadata", "id"); err != nil {
			return nil, fmt.Errorf("artifacts: create %s: %w", a.typ, err)
		}
	}
	admin := registry.WithPrincipal(ctx, DemoAdmin)
	for _, up := range []string{d.ArtifactDatasetID, d.ArtifactCodeID} {
		if err := reg.Link(admin, up, d.ArtifactModelID); err != nil {
			return nil, fmt.Errorf("artifacts: lineage: %w", err)
		}
	}

	// Seed 004: Lookout for Vision, signed with the demo key.
	lv := lookout.Prefix + "/projects"
	if _, err := s.expectSigned(http.MethodPost, lv, `{"ProjectName":"`+DemoLookoutProject+`"}`, http.StatusOK); err != nil {
		return nil, fmt.Errorf("lookout: create project: %w", err)
	}
	for _, v := range []*string{&d.LookoutHostedVersion, &d.LookoutStoppedVersion} {
		out, err := s.expectSigned(http.MethodPost, lv+"/"+DemoLookoutProject+"/models",
			`{"OutputConfig":{"S3Location":{"Bucket":"demo-bucket","Prefix":"circuit-boards/"}}}`, http.StatusAccepted)
		if err != nil {
			return nil, fmt.Errorf("lookout: create model: %w", err)
		}
		if *v, err = out.field(http.StatusAccepted, http.StatusAccepted, "ModelMetadata", "ModelVersion"); err != nil {
			return nil, fmt.Errorf("lookout: create model: %w", err)
		}
		path := lv + "/" + DemoLookoutProject + "/models/" + *v
		if _, err := s.expectSigned(http.MethodPost, path+"/start", `{"MinInferenceUnits":1}`, http.StatusAccepted); err != nil {
			return nil, fmt.Errorf("lookout: start model %s: %w", *v, err)
		}
	}
	if _, err := s.expectSigned(http.MethodPost, lv+"/"+DemoLookoutProject+"/models/"+d.LookoutStoppedVersion+"/stop", "", http.StatusAccepted); err != nil {
		return nil, fmt.Errorf("lookout: stop model: %w", err)
	}
	return d, nil
}

// Requests returns, for a server at base (like http://127.0.0.1:8585), the
// seeds' example requests as curl lines with the demo's IDs and
// credentials, for a person to paste.
func (d *Demo) Requests(base string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Seed 000, OpenMetadata (Authorization: Bearer %s; %s may act in %s only):", DemoAdminToken, DemoMLflowToken, DemoOMService)
	p("curl -X DELETE '%s/api/v1/mlmodels/name/%s.%s' -H 'Authorization: Bearer %s'", base, DemoOMService, DemoOMModel, DemoAdminToken)
	p("curl -X PUT '%s/api/v1/mlmodels/restore' -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{\"id\": \"%s\"}'", base, DemoAdminToken, d.OMModelID)
	p("curl -X DELETE '%s/api/v1/mlmodels/%s?hardDelete=true' -H 'Authorization: Bearer %s'", base, d.OMModelID, DemoAdminToken)
	p("# Seeds 001 and 002, ModelArts (X-Auth-Token: %s, project_id %s):", DemoAdminToken, DemoModelArtsProject)
	p("curl -X DELETE '%s/v1/%s/models/%s?cascade=true' -H 'X-Auth-Token: %s'", base, DemoModelArtsProject, d.ModelArtsModelIDs[0], DemoAdminToken)
	p("# Seed 003, the artifact registry (no credential needed on the demo server):")
	p("curl %s/artifact/model/%s/lineage", base, d.ArtifactModelID)
	p("curl -X DELETE %s/artifacts/model/%s", base, d.ArtifactModelID)
	p("# Seed 004, Lookout for Vision (AWS key %s / %s, region %s; an AWS SDK pointed at %s):", DemoAccessKeyID, DemoSecretAccessKey, lookout.DefaultRegion, base)
	p("aws lookoutvision delete-model --endpoint-url %s --project-name %s --model-version %s   # hosted: ConflictException", base, DemoLookoutProject, d.LookoutHostedVersion)
	p("aws lookoutvision delete-model --endpoint-url %s --project-name %s --model-version %s   # stopped: deleted", base, DemoLookoutProject, d.LookoutStoppedVersion)
	return b.String()
}

// seeder sends requests to a handler in process.
type seeder struct {
	ctx context.Context
	h   http.Handler
}

type answer struct{ raw []byte }

func (s *seeder) do(r *http.Request) (int, answer) {
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w.Code, answer{raw: w.Body.Bytes()}
}

func (s *seeder) request(method, path, body string) (*http.Request, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r, err := http.NewRequestWithContext(s.ctx, method, "http://registryd.demo"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	} else {
		r.Body = http.NoBody // as a server hands a handler
	}
	return r, nil
}

func (s *seeder) send(method, path, header, value, body string) (int, answer, error) {
	r, err := s.request(method, path, body)
	if err != nil {
		return 0, answer{}, err
	}
	r.Header.Set(header, value)
	status, a := s.do(r)
	return status, a, nil
}

// expect sends a request, wants status and returns the string at path in
// the JSON answer.
func (s *seeder) expect(method, path, header, value, body string, status int, field ...string) (string, error) {
	got, a, err := s.send(method, path, header, value, body)
	if err != nil {
		return "", err
	}
	return a.field(got, status, field...)
}

func (s *seeder) expectSigned(method, path, body string, status int) (answer, error) {
	r, err := s.request(method, path, body)
	if err != nil {
		return answer{}, err
	}
	if err := lookout.Sign(r, []byte(body), DemoAccessKeyID, DemoSecretAccessKey, lookout.DefaultRegion, time.Now()); err != nil {
		return answer{}, err
	}
	got, a := s.do(r)
	if got != status {
		return a, fmt.Errorf("status %d, want %d: %s", got, status, bytes.TrimSpace(a.raw))
	}
	return a, nil
}

// field checks the status and returns the string at path in the answer.
func (a answer) field(got, want int, path ...string) (string, error) {
	if got != want {
		return "", fmt.Errorf("status %d, want %d: %s", got, want, bytes.TrimSpace(a.raw))
	}
	var v any
	if err := json.Unmarshal(a.raw, &v); err != nil {
		return "", fmt.Errorf("answer is not JSON: %w", err)
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("answer has no %s: %s", strings.Join(path, "."), bytes.TrimSpace(a.raw))
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", errors.New("answer has no " + strings.Join(path, ".") + ": " + string(bytes.TrimSpace(a.raw)))
	}
	return s, nil
}
