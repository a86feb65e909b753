package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/modelreg/registry"
)

func TestErrorsMatchTheirSentinelAndStatus(t *testing.T) {
	cases := []struct {
		code     string
		sentinel error
		status   int
	}{
		{registry.CodeNotFound, registry.ErrNotFound, http.StatusNotFound},
		{registry.CodeInvalid, registry.ErrInvalid, http.StatusBadRequest},
		{registry.CodeForbidden, registry.ErrForbidden, http.StatusForbidden},
		{registry.CodeAlreadyExists, registry.ErrAlreadyExists, http.StatusConflict},
		{registry.CodeNotEmpty, registry.ErrNotEmpty, http.StatusConflict},
		{registry.CodeDeployed, registry.ErrDeployed, http.StatusConflict},
		{registry.CodeHasDependents, registry.ErrHasDependents, http.StatusConflict},
		{registry.CodeNotDeleted, registry.ErrNotDeleted, http.StatusConflict},
		{registry.CodeParentDeleted, registry.ErrParentDeleted, http.StatusConflict},
		{registry.CodeIdempotencyMismatch, registry.ErrIdempotencyMismatch, http.StatusConflict},
		{registry.CodePurgeProtected, registry.ErrPurgeProtected, http.StatusConflict},
		{registry.CodePreconditionFailed, registry.ErrPreconditionFailed, http.StatusPreconditionFailed},
	}
	all := []error{}
	for _, c := range cases {
		all = append(all, c.sentinel)
	}
	for _, c := range cases {
		t.Run(c.code, func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &registry.Error{Code: c.code, ID: "x", Message: "m"})
			for _, s := range all {
				assert.Equal(t, s == c.sentinel, errors.Is(err, s), "errors.Is(%s, %v)", c.code, s)
			}
			var e *registry.Error
			assert.True(t, errors.As(err, &e))
			assert.Equal(t, c.code, e.Code)
			assert.Equal(t, c.status, registry.HTTPStatus(err))
			assert.Equal(t, c.status, registry.HTTPStatus(c.sentinel))
			assert.Equal(t, c.code, registry.ErrorCode(err))
		})
	}
}

func TestHTTPStatusOfOtherErrors(t *testing.T) {
	assert.Equal(t, http.StatusOK, registry.HTTPStatus(nil))
	assert.Equal(t, 499, registry.HTTPStatus(context.Canceled))
	assert.Equal(t, http.StatusGatewayTimeout, registry.HTTPStatus(fmt.Errorf("x: %w", context.DeadlineExceeded)))
	assert.Equal(t, http.StatusInternalServerError, registry.HTTPStatus(errors.New("boom")))
	assert.Equal(t, "", registry.ErrorCode(errors.New("boom")))
}

func TestErrorMessageNamesThePackage(t *testing.T) {
	err := &registry.Error{Code: registry.CodeNotFound, Message: "artifact x does not exist"}
	assert.Equal(t, "registry: artifact x does not exist", err.Error())
}
