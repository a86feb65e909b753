// Package interop drives the registry's HTTP dialects with the real
// clients of the services they imitate. It is a module of its own so that
// the registry does not depend on those clients.
package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/lookoutforvision"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
)

// server starts the whole httpapi.NewHandler on 127.0.0.1 over a registry
// whose credentials table has alice (project line-a) and bob (line-b).
func server(t *testing.T) (*httptest.Server, *registry.Registry) {
	t.Helper()
	creds, err := httpapi.NewCredentials(map[string]httpapi.Principal{
		"alice": {Namespaces: []string{"line-a"}, AWSKeys: []httpapi.AWSKey{{AccessKeyID: "AKIDALICE", SecretAccessKey: "alice-secret"}}},
		"bob":   {Namespaces: []string{"line-b"}, AWSKeys: []httpapi.AWSKey{{AccessKeyID: "AKIDBOB", SecretAccessKey: "bob-secret"}}},
	})
	require.NoError(t, err)
	reg, err := registry.New(registry.WithAuthorizer(creds.Authorizer()))
	require.NoError(t, err)
	h, err := httpapi.NewHandler(httpapi.Config{Registry: reg, Credentials: creds})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { assert.NoError(t, reg.Check()) })
	return srv, reg
}

// dump lists every artifact in any state.
func dump(t *testing.T, reg *registry.Registry) string {
	t.Helper()
	page, err := reg.List(registry.WithPrincipal(context.Background(), "alice"), registry.Filter{Include: registry.IncludeAll, Limit: 1000})
	require.NoError(t, err)
	b, err := json.Marshal(page)
	require.NoError(t, err)
	return string(b)
}

func goV1Client(t *testing.T, url, key, secret string) *lookoutforvision.LookoutForVision {
	t.Helper()
	sess, err := session.NewSession(&aws.Config{
		Region:      aws.String("us-east-1"),
		Endpoint:    aws.String(url),
		Credentials: credentials.NewStaticCredentials(key, secret, ""),
		MaxRetries:  aws.Int(0),
	})
	require.NoError(t, err)
	return lookoutforvision.New(sess)
}

// code returns the AWS error code of err.
func code(t *testing.T, err error) string {
	t.Helper()
	var ae awserr.Error
	require.True(t, errors.As(err, &ae), "want an awserr.Error, got %v", err)
	return ae.Code()
}

// TestAWSSDKGoV1 runs the whole lifecycle with the AWS SDK for Go v1's
// Lookout for Vision client, configured as for any local endpoint.
func TestAWSSDKGoV1(t *testing.T) {
	srv, reg := server(t)
	lv := goV1Client(t, srv.URL, "AKIDALICE", "alice-secret")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	project := aws.String("line-a")

	cp, err := lv.CreateProjectWithContext(ctx, &lookoutforvision.CreateProjectInput{ProjectName: project})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:lookoutvision:us-east-1:123456789012:project/line-a", aws.StringValue(cp.ProjectMetadata.ProjectArn))
	assert.WithinDuration(t, time.Now(), aws.TimeValue(cp.ProjectMetadata.CreationTimestamp), time.Minute)

	cm, err := lv.CreateModelWithContext(ctx, &lookoutforvision.CreateModelInput{
		ProjectName:  project,
		Description:  aws.String("first-model"),
		OutputConfig: &lookoutforvision.OutputConfig{S3Location: &lookoutforvision.S3Location{Bucket: aws.String("out-bucket"), Prefix: aws.String("line-a/")}},
		Tags:         []*lookoutforvision.Tag{{Key: aws.String("team"), Value: aws.String("qa")}},
	})
	require.NoError(t, err)
	assert.Equal(t, "1", aws.StringValue(cm.ModelMetadata.ModelVersion))
	assert.Equal(t, lookoutforvision.ModelStatusTraining, aws.StringValue(cm.ModelMetadata.Status))

	dm, err := lv.DescribeModelWithContext(ctx, &lookoutforvision.DescribeModelInput{ProjectName: project, ModelVersion: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, lookoutforvision.ModelStatusTrained, aws.StringValue(dm.ModelDescription.Status))
	assert.Equal(t, "out-bucket", aws.StringValue(dm.ModelDescription.OutputConfig.S3Location.Bucket))
	assert.Equal(t, "first-model", aws.StringValue(dm.ModelDescription.Description))

	st, err := lv.StartModelWithContext(ctx, &lookoutforvision.StartModelInput{ProjectName: project, ModelVersion: aws.String("1"), MinInferenceUnits: aws.Int64(1)})
	require.NoError(t, err)
	assert.Equal(t, lookoutforvision.ModelHostingStatusStartingHosting, aws.StringValue(st.Status))
	dm, err = lv.DescribeModelWithContext(ctx, &lookoutforvision.DescribeModelInput{ProjectName: project, ModelVersion: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, lookoutforvision.ModelStatusHosted, aws.StringValue(dm.ModelDescription.Status))

	// A hosted model is not deleted: a typed ConflictException.
	_, err = lv.DeleteModelWithContext(ctx, &lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String("1")})
	require.Error(t, err)
	assert.Equal(t, lookoutforvision.ErrCodeConflictException, code(t, err))
	var ce *lookoutforvision.ConflictException
	if assert.True(t, errors.As(err, &ce)) {
		assert.Equal(t, lookoutforvision.ResourceTypeModel, aws.StringValue(ce.ResourceType))
		assert.Equal(t, "1", aws.StringValue(ce.ResourceId))
		assert.Equal(t, 409, ce.StatusCode())
		assert.NotEmpty(t, ce.RequestID())
	}

	sp, err := lv.StopModelWithContext(ctx, &lookoutforvision.StopModelInput{ProjectName: project, ModelVersion: aws.String("1")})
	require.NoError(t, err)
	assert.Equal(t, lookoutforvision.ModelHostingStatusStoppingHosting, aws.StringValue(sp.Status))

	del := &lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String("1"), ClientToken: aws.String("delete-model-1")}
	dr, err := lv.DeleteModelWithContext(ctx, del)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:lookoutvision:us-east-1:123456789012:model/line-a/1", aws.StringValue(dr.ModelArn))

	_, err = lv.CreateModelWithContext(ctx, &lookoutforvision.CreateModelInput{ProjectName: project,
		OutputConfig: &lookoutforvision.OutputConfig{S3Location: &lookoutforvision.S3Location{Bucket: aws.String("out-bucket")}}})
	require.NoError(t, err)

	// A retry with the same token answers the same and deletes nothing more.
	before := dump(t, reg)
	dr2, err := lv.DeleteModelWithContext(ctx, del)
	require.NoError(t, err)
	assert.Equal(t, aws.StringValue(dr.ModelArn), aws.StringValue(dr2.ModelArn))
	assert.Equal(t, before, dump(t, reg))

	// The same token with another model is refused.
	_, err = lv.DeleteModelWithContext(ctx, &lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String("2"), ClientToken: aws.String("delete-model-1")})
	require.Error(t, err)
	assert.Equal(t, lookoutforvision.ErrCodeConflictException, code(t, err))
	assert.Equal(t, before, dump(t, reg))

	lm, err := lv.ListModelsWithContext(ctx, &lookoutforvision.ListModelsInput{ProjectName: project})
	require.NoError(t, err)
	require.Len(t, lm.Models, 1)
	assert.Equal(t, "2", aws.StringValue(lm.Models[0].ModelVersion))
	lp, err := lv.ListProjectsWithContext(ctx, &lookoutforvision.ListProjectsInput{MaxResults: aws.Int64(10)})
	require.NoError(t, err)
	require.Len(t, lp.Projects, 1)
	assert.Equal(t, "line-a", aws.StringValue(lp.Projects[0].ProjectName))

	// Not found, validation and access denied, each typed.
	_, err = lv.DescribeProjectWithContext(ctx, &lookoutforvision.DescribeProjectInput{ProjectName: aws.String("line-z")})
	var nf *lookoutforvision.ResourceNotFoundException
	if assert.True(t, errors.As(err, &nf), "%v", err) {
		assert.Equal(t, lookoutforvision.ResourceTypeProject, aws.StringValue(nf.ResourceType))
	}
	_, err = lv.DescribeModelWithContext(ctx, &lookoutforvision.DescribeModelInput{ProjectName: project, ModelVersion: aws.String("01")})
	assert.Equal(t, lookoutforvision.ErrCodeValidationException, code(t, err))
	_, err = lv.CreateProjectWithContext(ctx, &lookoutforvision.CreateProjectInput{ProjectName: aws.String("line-b")})
	assert.Equal(t, lookoutforvision.ErrCodeAccessDeniedException, code(t, err))

	// DeleteProject needs its models gone first.
	_, err = lv.DeleteProjectWithContext(ctx, &lookoutforvision.DeleteProjectInput{ProjectName: project})
	assert.Equal(t, lookoutforvision.ErrCodeConflictException, code(t, err))
	_, err = lv.DeleteModelWithContext(ctx, &lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String("2")})
	require.NoError(t, err)
	dp, err := lv.DeleteProjectWithContext(ctx, &lookoutforvision.DeleteProjectInput{ProjectName: project})
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:lookoutvision:us-east-1:123456789012:project/line-a", aws.StringValue(dp.ProjectArn))

	// A wrong secret or an unknown key is refused as AWS refuses them.
	_, err = goV1Client(t, srv.URL, "AKIDALICE", "not-the-secret").ListProjectsWithContext(ctx, &lookoutforvision.ListProjectsInput{})
	assert.Equal(t, "InvalidSignatureException", code(t, err))
	_, err = goV1Client(t, srv.URL, "AKIDNOBODY", "x").ListProjectsWithContext(ctx, &lookoutforvision.ListProjectsInput{})
	assert.Equal(t, "UnrecognizedClientException", code(t, err))
}

// TestAWSSDKJavaScriptV3 runs interop/js/scenario.mjs, the same lifecycle
// with the AWS SDK for JavaScript v3 (@aws-sdk/client-lookoutvision), under
// node. `npm ci` in interop/js installs the client.
func TestAWSSDKJavaScriptV3(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the JavaScript v3 scenario needs node 18 or later")
	}
	if _, err := os.Stat(filepath.Join("js", "node_modules", "@aws-sdk", "client-lookoutvision")); err != nil {
		t.Skip("interop/js/node_modules is missing; run `npm ci` in interop/js first")
	}
	srv, _ := server(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("js", "scenario.mjs"), srv.URL)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "scenario.mjs:\n%s", out)
	assert.Contains(t, string(out), "ok")
}
