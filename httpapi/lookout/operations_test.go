package lookout_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry/httpapi/lookout"
)

const (
	projects  = "/2020-11-20/projects"
	lineA     = projects + "/line-a"
	modelsA   = lineA + "/models"
	outConfig = `{"OutputConfig":{"S3Location":{"Bucket":"out-bucket","Prefix":"line/"}}}`
	arnProj   = "arn:aws:lookoutvision:us-east-1:123456789012:project/line-a"
	arnModel  = "arn:aws:lookoutvision:us-east-1:123456789012:model/line-a/"
)

// TestOperations walks every operation through its success and error
// paths, in order, on one registry: status, X-Amzn-ErrorType, and the body's
// members.
func TestOperations(t *testing.T) {
	e := newEnv(t)
	epoch := float64(e.f.Clock.Now().UnixMilli()) / 1000
	steps := []struct {
		name   string
		req    req
		status int
		errTyp string
		check  func(t *testing.T, body map[string]any)
	}{
		{"ListProjects empty", req{path: projects}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Projects": []any{}}, b)
		}},
		{"CreateProject", req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ProjectMetadata": map[string]any{
				"ProjectArn": arnProj, "ProjectName": "line-a", "CreationTimestamp": epoch}}, b)
		}},
		{"CreateProject exists", req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`}, 409, "ConflictException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "line-a", b["ResourceId"])
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"CreateProject no name", req{method: "POST", path: projects, body: `{}`}, 400, "ValidationException", nil},
		{"CreateProject outside principal's projects", req{method: "POST", path: projects, body: `{"ProjectName":"line-c"}`}, 403, "AccessDeniedException", nil},
		{"DescribeProject", req{path: lineA}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ProjectDescription": map[string]any{
				"ProjectArn": arnProj, "ProjectName": "line-a", "CreationTimestamp": epoch, "Datasets": []any{}}}, b)
		}},
		{"DescribeProject missing", req{path: projects + "/line-b"}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "line-b", b["ResourceId"])
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"ListProjects", req{path: projects}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Projects": []any{map[string]any{
				"ProjectArn": arnProj, "ProjectName": "line-a", "CreationTimestamp": epoch}}}, b)
		}},
		{"ListModels empty", req{path: modelsA}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Models": []any{}}, b)
		}},
		{"ListModels missing project", req{path: projects + "/line-b/models"}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"CreateModel", req{method: "POST", path: modelsA, token: "create-1",
			body: `{"OutputConfig":{"S3Location":{"Bucket":"out-bucket","Prefix":"line/"}},"Description":"first.model","KmsKeyId":"alias/key","Tags":[{"Key":"team","Value":"qa"}]}`}, 202, "",
			func(t *testing.T, b map[string]any) {
				assert.Equal(t, map[string]any{"ModelMetadata": map[string]any{
					"CreationTimestamp": epoch, "ModelVersion": "1", "ModelArn": arnModel + "1",
					"Description": "first.model", "Status": "TRAINING", "StatusMessage": "Training started."}}, b)
			}},
		{"CreateModel 2", req{method: "POST", path: modelsA, body: outConfig}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "2", b["ModelMetadata"].(map[string]any)["ModelVersion"])
		}},
		{"CreateModel without OutputConfig", req{method: "POST", path: modelsA, body: `{}`}, 400, "ValidationException", nil},
		{"CreateModel missing project", req{method: "POST", path: projects + "/line-b/models", body: outConfig}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"DescribeModel", req{path: modelsA + "/1"}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ModelDescription": map[string]any{
				"CreationTimestamp": epoch, "ModelVersion": "1", "ModelArn": arnModel + "1",
				"Description": "first.model", "Status": "TRAINED", "StatusMessage": "Training completed.",
				"OutputConfig": map[string]any{"S3Location": map[string]any{"Bucket": "out-bucket", "Prefix": "line/"}},
				"KmsKeyId":     "alias/key"}}, b)
		}},
		{"DescribeModel latest", req{path: modelsA + "/latest"}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "2", b["ModelDescription"].(map[string]any)["ModelVersion"])
		}},
		{"DescribeModel missing", req{path: modelsA + "/9"}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "9", b["ResourceId"])
			assert.Equal(t, "MODEL", b["ResourceType"])
		}},
		{"ListModels", req{path: modelsA}, 200, "", func(t *testing.T, b map[string]any) {
			models := b["Models"].([]any)
			require.Len(t, models, 2)
			assert.Equal(t, "1", models[0].(map[string]any)["ModelVersion"])
			assert.Equal(t, "TRAINED", models[1].(map[string]any)["Status"])
		}},
		{"StartModel", req{method: "POST", path: modelsA + "/1/start", body: `{"MinInferenceUnits":1,"MaxInferenceUnits":2}`}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Status": "STARTING_HOSTING"}, b)
		}},
		{"StartModel without MinInferenceUnits", req{method: "POST", path: modelsA + "/1/start", body: `{}`}, 400, "ValidationException", nil},
		{"StartModel missing model", req{method: "POST", path: modelsA + "/9/start", body: `{"MinInferenceUnits":1}`}, 404, "ResourceNotFoundException", nil},
		{"DescribeModel hosted", req{path: modelsA + "/1"}, 200, "", func(t *testing.T, b map[string]any) {
			d := b["ModelDescription"].(map[string]any)
			assert.Equal(t, "HOSTED", d["Status"])
			assert.Equal(t, 1.0, d["MinInferenceUnits"])
			assert.Equal(t, 2.0, d["MaxInferenceUnits"])
		}},
		{"DeleteModel hosted", req{method: "DELETE", path: modelsA + "/1", token: "del-1"}, 409, "ConflictException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Message": "model 1 is hosted; stop it first", "ResourceId": "1", "ResourceType": "MODEL"}, b)
		}},
		{"DeleteProject with models", req{method: "DELETE", path: lineA}, 409, "ConflictException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"StopModel", req{method: "POST", path: modelsA + "/1/stop"}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Status": "STOPPING_HOSTING"}, b)
		}},
		{"StopModel not hosted", req{method: "POST", path: modelsA + "/1/stop"}, 409, "ConflictException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "MODEL", b["ResourceType"])
		}},
		{"DescribeModel stopped", req{path: modelsA + "/1"}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "TRAINED", b["ModelDescription"].(map[string]any)["Status"])
		}},
		{"DeleteModel", req{method: "DELETE", path: modelsA + "/1", token: "del-1"}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ModelArn": arnModel + "1"}, b)
		}},
		{"DeleteModel retried", req{method: "DELETE", path: modelsA + "/1", token: "del-1"}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ModelArn": arnModel + "1"}, b)
		}},
		{"DeleteModel same token other model", req{method: "DELETE", path: modelsA + "/2", token: "del-1"}, 409, "ConflictException", nil},
		{"DeleteModel again without token", req{method: "DELETE", path: modelsA + "/1"}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "MODEL", b["ResourceType"])
		}},
		{"DescribeModel deleted", req{path: modelsA + "/1"}, 404, "ResourceNotFoundException", nil},
		{"DeleteModel latest refused", req{method: "DELETE", path: modelsA + "/latest"}, 400, "ValidationException", nil},
		{"DeleteModel missing project", req{method: "DELETE", path: projects + "/line-b/models/1"}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"CreateModel after delete takes 3", req{method: "POST", path: modelsA, body: outConfig}, 202, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "3", b["ModelMetadata"].(map[string]any)["ModelVersion"])
		}},
		{"DeleteModel 2", req{method: "DELETE", path: modelsA + "/2"}, 202, "", nil},
		{"DeleteModel 3", req{method: "DELETE", path: modelsA + "/3"}, 202, "", nil},
		{"ListModels after deletes", req{path: modelsA}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Models": []any{}}, b)
		}},
		{"DeleteProject of another principal", req{method: "DELETE", path: lineA, key: "AKIDBOB"}, 403, "AccessDeniedException", nil},
		{"DeleteProject", req{method: "DELETE", path: lineA, token: "dp-1"}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ProjectArn": arnProj}, b)
		}},
		{"DeleteProject retried", req{method: "DELETE", path: lineA, token: "dp-1"}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"ProjectArn": arnProj}, b)
		}},
		{"DeleteProject missing", req{method: "DELETE", path: lineA}, 404, "ResourceNotFoundException", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "PROJECT", b["ResourceType"])
		}},
		{"ListProjects after delete", req{path: projects}, 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, map[string]any{"Projects": []any{}}, b)
		}},
	}
	for _, s := range steps {
		out := e.do(s.req)
		if !assert.Equal(t, s.status, out.status, "%s: %s", s.name, out.raw) {
			continue
		}
		assert.NotEmpty(t, out.header.Get("X-Amzn-RequestId"), s.name)
		assert.Equal(t, "application/json", out.header.Get("Content-Type"), s.name)
		assert.Equal(t, s.errTyp, out.header.Get("X-Amzn-ErrorType"), s.name)
		if s.errTyp != "" {
			assert.NotEmpty(t, out.body["Message"], s.name)
		}
		if s.check != nil {
			t.Run(s.name, func(t *testing.T) { s.check(t, out.body) })
		}
	}
	require.NoError(t, e.f.Check())
}

// TestSeedDeleteModel sends seed 004's DeleteModel request and DIALECTS
// §4's example verbatim (host and IDs substituted).
func TestSeedDeleteModel(t *testing.T) {
	e := newEnv(t)
	e.createProject("line-a")
	for range 3 {
		e.createModel("line-a")
	}
	e.must(202, req{method: "POST", path: modelsA + "/3/start", body: `{"MinInferenceUnits":1}`})

	// DIALECTS §4: DELETE …/models/3 with a token while HOSTED → 409.
	out := e.must(409, req{method: "DELETE", path: modelsA + "/3", token: "7f0c"})
	assert.Equal(t, "ConflictException", out.header.Get("X-Amzn-ErrorType"))
	assert.Equal(t, map[string]any{"Message": "model 3 is hosted; stop it first", "ResourceId": "3", "ResourceType": "MODEL"}, out.body)

	e.must(202, req{method: "POST", path: modelsA + "/3/stop"})
	out = e.must(202, req{method: "DELETE", path: modelsA + "/3", token: "7f0c"})
	assert.Equal(t, map[string]any{"ModelArn": "arn:aws:lookoutvision:us-east-1:123456789012:model/line-a/3"}, out.body)
	assert.Equal(t, "application/json", out.header.Get("Content-Type"))

	// Seed 004: "DELETE /2020-11-20/projects/projectName/models/modelVersion
	// HTTP/1.1, X-Amzn-Client-Token: ClientToken" → 202 {"ModelArn"}; the
	// seed's errors: a running model is ConflictException 409, a missing
	// one ResourceNotFoundException 404, a bad version ValidationException
	// 400.
	out = e.must(202, req{method: "DELETE", path: modelsA + "/2", token: "ClientToken"})
	assert.Equal(t, map[string]any{"ModelArn": arnModel + "2"}, out.body)
	e.must(404, req{method: "DELETE", path: modelsA + "/2"})
	e.must(400, req{method: "DELETE", path: modelsA + "/0"})

	// The token is active for 8 hours: a retry replays, then it is forgotten.
	e.f.Clock.Advance(7 * time.Hour)
	e.must(202, req{method: "DELETE", path: modelsA + "/2", token: "ClientToken"})
	e.f.Clock.Advance(2 * time.Hour)
	e.must(404, req{method: "DELETE", path: modelsA + "/2", token: "ClientToken"})
}

// TestClientTokens: CreateProject, CreateModel, StartModel and StopModel
// happen once per token for 8 hours, and refuse the token with another
// request; tokens are per principal.
func TestClientTokens(t *testing.T) {
	e := newEnv(t)
	p := req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`, token: "tok-p"}
	first := e.must(200, p)
	assert.Equal(t, first.body, e.must(200, p).body, "a retry answers as the first call")
	e.must(409, req{method: "POST", path: projects, body: `{"ProjectName":"line-b"}`, token: "tok-p"})
	// Admin's same token is another token: line-a exists, so a conflict
	// of name, not of token.
	out := e.must(409, req{method: "POST", path: projects, body: `{"ProjectName":"line-a"}`, token: "tok-p", key: "AKIDADMIN"})
	assert.Contains(t, out.body["Message"], "already exists")

	m := req{method: "POST", path: modelsA, body: outConfig, token: "tok-m"}
	first = e.must(202, m)
	before := e.dump()
	assert.Equal(t, first.body, e.must(202, m).body)
	assert.Equal(t, before, e.dump(), "a retry changes nothing")
	out = e.must(409, req{method: "POST", path: modelsA, body: `{"OutputConfig":{"S3Location":{"Bucket":"other"}}}`, token: "tok-m"})
	assert.Equal(t, "MODEL", out.body["ResourceType"])
	assert.Equal(t, "1", out.body["ResourceId"])

	s := req{method: "POST", path: modelsA + "/1/start", body: `{"MinInferenceUnits":1}`, token: "tok-s"}
	e.must(202, s)
	e.must(202, req{method: "POST", path: modelsA + "/1/stop", token: "tok-x"})
	before = e.dump()
	e.must(202, s) // a retry of the start does not start the model again
	assert.Equal(t, before, e.dump())
	e.must(409, req{method: "POST", path: modelsA + "/1/start", body: `{"MinInferenceUnits":2}`, token: "tok-s"})
	e.must(202, req{method: "POST", path: modelsA + "/1/stop", token: "tok-x"})
	e.must(409, req{method: "POST", path: modelsA + "/1/stop", token: "tok-s"})

	// After 8 hours the token is forgotten: the same call acts again.
	e.f.Clock.Advance(lookout.TokenTTL + time.Minute)
	out = e.must(202, m)
	assert.Equal(t, "2", out.body["ModelMetadata"].(map[string]any)["ModelVersion"])
}

// TestPagination pages ListProjects and ListModels with maxResults and
// NextToken.
func TestPagination(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"line-a", "line-b"} {
		e.createProject(p)
	}
	e.must(200, req{method: "POST", path: projects, body: `{"ProjectName":"line-c"}`, key: "AKIDBOB"})
	for range 3 {
		e.createModel("line-a")
	}
	collect := func(path, field string) []string {
		var got []string
		next := ""
		for range 10 {
			p := path + "?maxResults=1"
			if next != "" {
				p += "&nextToken=" + next
			}
			out := e.must(200, req{path: p})
			items := out.body[field].([]any)
			require.Len(t, items, 1)
			for k, v := range items[0].(map[string]any) {
				if k == "ProjectName" || k == "ModelVersion" {
					got = append(got, v.(string))
				}
			}
			n, ok := out.body["NextToken"].(string)
			if !ok {
				return got
			}
			assert.Regexp(t, `^[a-zA-Z0-9/+=]+$`, n)
			next = url.QueryEscape(n)
		}
		t.Fatal("pagination does not end")
		return nil
	}
	assert.Equal(t, []string{"line-a", "line-b", "line-c"}, collect(projects, "Projects"))
	assert.Equal(t, []string{"1", "2", "3"}, collect(modelsA, "Models"))
	for _, bad := range []string{"a", "Pz8/", "AAAA"} {
		out := e.must(http.StatusBadRequest, req{path: modelsA + "?nextToken=" + url.QueryEscape(bad)})
		assert.Equal(t, "ValidationException", out.header.Get("X-Amzn-ErrorType"), bad)
	}
}
