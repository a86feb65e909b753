// Package apitest tests the native HTTP API (package httpapi/native)
// through the whole server, httpapi.NewHandler on a real listener, and
// validates every response the tests see against the API's OpenAPI
// document with kin-openapi.
//
// It is a module of its own so that kin-openapi, which only tests need
// (and which needs Go 1.25), stays out of the registry's go.mod. .ci/run
// runs it.
package apitest
