package interop

import (
	"testing"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/service/lookoutforvision"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry/registrytest"
)

// TestRegistrytestServerAWS: registrytest.NewServer's AWS configuration,
// passed as is to the AWS SDK for Go v1, reaches the Lookout for Vision
// dialect, and the demo's hosted model refuses a delete.
func TestRegistrytestServerAWS(t *testing.T) {
	s := registrytest.NewServer(t, registrytest.WithDemo())
	c := goV1Client(t, s.AWS.Endpoint, s.AWS.AccessKeyID, s.AWS.SecretAccessKey)
	require.Equal(t, s.AWS.Region, aws.StringValue(c.Config.Region))

	projects, err := c.ListProjects(nil)
	require.NoError(t, err)
	require.Len(t, projects.Projects, 1)
	project := projects.Projects[0].ProjectName

	_, err = c.DeleteModel(&lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String(s.Demo.LookoutHostedVersion), ClientToken: aws.String("t-1")})
	assert.Equal(t, "ConflictException", code(t, err))
	_, err = c.DeleteModel(&lookoutforvision.DeleteModelInput{ProjectName: project, ModelVersion: aws.String(s.Demo.LookoutStoppedVersion), ClientToken: aws.String("t-2")})
	require.NoError(t, err)
}
