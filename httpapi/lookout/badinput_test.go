package lookout_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadInput sends malformed paths, parameters, bodies, client tokens,
// credentials and signatures to every operation: each is answered with its
// 4xx in the API's shape, and the registry is unchanged.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.createProject("line-a")
	e.createModel("line-a")
	e.createModel("line-a")
	e.must(202, req{method: "POST", path: modelsA + "/1/start", body: `{"MinInferenceUnits":1}`})
	e.must(200, req{method: "POST", path: projects, body: `{"ProjectName":"line-c"}`, key: "AKIDBOB"})

	long := func(n int, c string) string { return strings.Repeat(c, n) }
	const vx = "ValidationException"
	start := modelsA + "/2/start"
	cases := []struct {
		name   string
		req    req
		status int
		typ    string
	}{
		// Paths.
		{"project name with a space", req{path: projects + "/line%20a"}, 400, vx},
		{"project name starts with -", req{path: projects + "/-line"}, 400, vx},
		{"project name of 256", req{path: projects + "/" + long(256, "a")}, 400, vx},
		{"project name with escaped slash", req{path: projects + "/a%2Fb/models"}, 400, vx},
		{"project name non-ASCII", req{method: "DELETE", path: projects + "/l%C3%A9"}, 400, vx},
		{"empty project segment", req{method: "POST", path: projects + "//models", body: outConfig}, 400, vx},
		{"model version 0", req{path: modelsA + "/0"}, 400, vx},
		{"model version leading zero", req{path: modelsA + "/01"}, 400, vx},
		{"model version of 11", req{path: modelsA + "/" + long(11, "1")}, 400, vx},
		{"model version word", req{method: "POST", path: modelsA + "/first/start", body: `{"MinInferenceUnits":1}`}, 400, vx},
		{"model version negative", req{method: "POST", path: modelsA + "/-1/stop"}, 400, vx},
		{"delete latest", req{method: "DELETE", path: modelsA + "/latest"}, 400, vx},
		{"delete version with a dot", req{method: "DELETE", path: modelsA + "/1.0"}, 400, vx},
		{"unknown operation", req{path: lineA + "/datasets"}, 404, "UnknownOperationException"},
		{"wrong method", req{method: "PUT", path: modelsA + "/1"}, 404, "UnknownOperationException"},
		{"GET start", req{path: modelsA + "/1/start"}, 404, "UnknownOperationException"},
		{"dot segment", req{path: lineA + "/./models"}, 404, "UnknownOperationException"},
		{"outside the API", req{path: "/2020-11-20/projectsx"}, 404, "UnknownOperationException"},
		{"too deep", req{method: "POST", path: modelsA + "/1/start/now", body: `{}`}, 404, "UnknownOperationException"},
		// Parameters.
		{"maxResults 0", req{path: projects + "?maxResults=0"}, 400, vx},
		{"maxResults 101", req{path: modelsA + "?maxResults=101"}, 400, vx},
		{"maxResults word", req{path: projects + "?maxResults=ten"}, 400, vx},
		{"maxResults twice", req{path: projects + "?maxResults=1&maxResults=2"}, 400, vx},
		{"nextToken bad character", req{path: projects + "?nextToken=ab_c"}, 400, vx},
		{"nextToken of 2049", req{path: modelsA + "?nextToken=" + long(2049, "A")}, 400, vx},
		{"nextToken not ours", req{path: modelsA + "?nextToken=Pz8%2F"}, 400, vx},
		{"unknown list parameter", req{path: projects + "?foo=1"}, 400, vx},
		{"parameter on describe", req{path: modelsA + "/1?maxResults=1"}, 400, vx},
		{"malformed query", req{path: projects, rawQuery: "maxResults=%zz"}, 400, vx},
		// Bodies.
		{"CreateProject truncated", req{method: "POST", path: projects, body: `{"ProjectName":"line-b"`}, 400, vx},
		{"CreateProject empty", req{method: "POST", path: projects}, 400, vx},
		{"CreateProject array", req{method: "POST", path: projects, body: `[]`}, 400, vx},
		{"CreateProject wrong type", req{method: "POST", path: projects, body: `{"ProjectName":5}`}, 400, vx},
		{"CreateProject unknown field", req{method: "POST", path: projects, body: `{"ProjectName":"line-b","Extra":1}`}, 400, vx},
		{"CreateProject trailing data", req{method: "POST", path: projects, body: `{"ProjectName":"line-b"} {}`}, 400, vx},
		{"CreateProject bad name", req{method: "POST", path: projects, body: `{"ProjectName":"line b"}`}, 400, vx},
		{"CreateProject empty name", req{method: "POST", path: projects, body: `{"ProjectName":""}`}, 400, vx},
		{"CreateProject huge", req{method: "POST", path: projects, body: `{"ProjectName":"` + long(70<<10, "a") + `"}`}, 400, vx},
		{"CreateModel no S3Location", req{method: "POST", path: modelsA, body: `{"OutputConfig":{}}`}, 400, vx},
		{"CreateModel no Bucket", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{}}}`}, 400, vx},
		{"CreateModel short bucket", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"ab"}}}`}, 400, vx},
		{"CreateModel bucket chars", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"a b c"}}}`}, 400, vx},
		{"CreateModel prefix starting with /", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc","Prefix":"/x"}}}`}, 400, vx},
		{"CreateModel description with space", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Description":"a b"}`}, 400, vx},
		{"CreateModel description of 501", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Description":"` + long(501, "d") + `"}`}, 400, vx},
		{"CreateModel bad KmsKeyId", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"KmsKeyId":"-key"}`}, 400, vx},
		{"CreateModel aws: tag", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Tags":[{"Key":"aws:x","Value":"v"}]}`}, 400, vx},
		{"CreateModel tag without value", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Tags":[{"Key":"k"}]}`}, 400, vx},
		{"CreateModel duplicate tag", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Tags":[{"Key":"k","Value":"1"},{"Key":"k","Value":"2"}]}`}, 400, vx},
		{"CreateModel 51 tags", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc"}},"Tags":[` + strings.TrimSuffix(strings.Repeat(`{"Key":"k","Value":"v"},`, 51), ",") + `]}`}, 400, vx},
		{"CreateModel wrong type", req{method: "POST", path: modelsA, body: `{"OutputConfig":"s3://x"}`}, 400, vx},
		{"CreateModel unknown field", req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"abc","Region":"x"}}}`}, 400, vx},
		{"StartModel MinInferenceUnits 0", req{method: "POST", path: start, body: `{"MinInferenceUnits":0}`}, 400, vx},
		{"StartModel MinInferenceUnits string", req{method: "POST", path: start, body: `{"MinInferenceUnits":"1"}`}, 400, vx},
		{"StartModel MinInferenceUnits fraction", req{method: "POST", path: start, body: `{"MinInferenceUnits":1.5}`}, 400, vx},
		{"StartModel MinInferenceUnits huge", req{method: "POST", path: start, body: `{"MinInferenceUnits":1e40}`}, 400, vx},
		{"StartModel Max below Min", req{method: "POST", path: start, body: `{"MinInferenceUnits":3,"MaxInferenceUnits":2}`}, 400, vx},
		{"StartModel truncated", req{method: "POST", path: start, body: `{"MinInferenceUnits":`}, 400, vx},
		{"StartModel empty", req{method: "POST", path: start}, 400, vx},
		// Client tokens.
		{"token with underscore", req{method: "DELETE", path: modelsA + "/2", token: "tok_1"}, 400, vx},
		{"token of 65", req{method: "POST", path: modelsA, body: outConfig, token: long(65, "t")}, 400, vx},
		{"token empty", req{method: "POST", path: projects, body: `{"ProjectName":"line-b"}`, header: map[string]string{"X-Amzn-Client-Token": ""}}, 400, vx},
		{"token with space", req{method: "POST", path: modelsA + "/1/stop", token: "a b"}, 400, vx},
		// Conflicts and refusals that change nothing.
		{"delete hosted", req{method: "DELETE", path: modelsA + "/1"}, 409, "ConflictException"},
		{"delete project with models", req{method: "DELETE", path: lineA}, 409, "ConflictException"},
		{"other principal's project", req{method: "DELETE", path: projects + "/line-c"}, 403, "AccessDeniedException"},
		{"other principal's model", req{method: "POST", path: modelsA + "/1/stop", key: "AKIDBOB"}, 403, "AccessDeniedException"},
		// Credentials and signatures.
		{"no signature", req{method: "DELETE", path: modelsA + "/2", unsigned: true}, 403, "MissingAuthenticationTokenException"},
		{"bearer token", req{method: "DELETE", path: modelsA + "/2", unsigned: true, header: map[string]string{"Authorization": "Bearer abc"}}, 400, "IncompleteSignatureException"},
		{"no Credential", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"}}, 400, "IncompleteSignatureException"},
		{"pair without =", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential AKIDALICE/20260102/us-east-1/lookoutvision/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}}, 400, "IncompleteSignatureException"},
		{"credential of 3 parts", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDALICE/20260102/us-east-1, SignedHeaders=host;x-amz-date, Signature=00"}}, 400, "IncompleteSignatureException"},
		{"host not signed", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDALICE/20260102/us-east-1/lookoutvision/aws4_request, SignedHeaders=x-amz-date, Signature=00"}}, 400, "IncompleteSignatureException"},
		{"no X-Amz-Date", req{method: "DELETE", path: modelsA + "/2", drop: []string{"X-Amz-Date"}}, 400, "IncompleteSignatureException"},
		{"X-Amz-Date malformed", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"X-Amz-Date": "2026-01-02T03:04:05Z"}}, 400, "IncompleteSignatureException"},
		{"unknown access key", req{method: "DELETE", path: modelsA + "/2", key: "AKIDNOBODY", secret: "x"}, 403, "UnrecognizedClientException"},
		{"session token", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"X-Amz-Security-Token": "t"}}, 403, "UnrecognizedClientException"},
		{"wrong secret", req{method: "DELETE", path: modelsA + "/2", secret: "not-alice-secret"}, 403, "InvalidSignatureException"},
		{"wrong region", req{method: "DELETE", path: modelsA + "/2", region: "eu-west-1"}, 403, "InvalidSignatureException"},
		{"wrong service", req{method: "DELETE", path: modelsA + "/2", service: "s3"}, 403, "InvalidSignatureException"},
		{"signed 16 minutes ago", req{method: "DELETE", path: modelsA + "/2", at: e.f.Clock.Now().Add(-16 * time.Minute)}, 403, "InvalidSignatureException"},
		{"signed 16 minutes ahead", req{method: "DELETE", path: modelsA + "/2", at: e.f.Clock.Now().Add(16 * time.Minute)}, 403, "InvalidSignatureException"},
		{"X-Amz-Date changed after signing", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"X-Amz-Date": e.f.Clock.Now().Add(time.Second).Format("20060102T150405Z")}}, 403, "InvalidSignatureException"},
		{"X-Amz-Date of another day than the scope", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"X-Amz-Date": e.f.Clock.Now().Add(24 * time.Hour).Format("20060102T150405Z")}}, 403, "InvalidSignatureException"},
		{"body changed after signing", req{method: "POST", path: projects, body: `{"ProjectName":"line-b"}`, tamperBody: `{"ProjectName":"line-x"}`}, 403, "InvalidSignatureException"},
		{"path changed after signing", req{method: "DELETE", path: modelsA + "/2", tamperPath: "/2020-11-20/projects/line-a/models/1"}, 403, "InvalidSignatureException"},
		{"empty Authorization header", req{method: "DELETE", path: modelsA + "/2", header: map[string]string{"Authorization": ""}, unsigned: true}, 403, "MissingAuthenticationTokenException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.dump()
			out := e.do(c.req)
			assert.Equal(t, c.status, out.status, out.raw)
			assert.Equal(t, c.typ, out.header.Get("X-Amzn-ErrorType"), out.raw)
			assert.NotEmpty(t, out.header.Get("X-Amzn-RequestId"))
			if assert.NotNil(t, out.body, out.raw) {
				assert.NotEmpty(t, out.body["Message"])
			}
			require.Equal(t, before, e.dump(), "the registry changed")
		})
	}
}
