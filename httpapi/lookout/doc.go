// Package lookout serves AWS Lookout for Vision's projects and models
// (REST-JSON, API version 2020-11-20, under /2020-11-20/projects) over a
// *registry.Registry, so that the AWS SDKs' Lookout for Vision clients work
// against it unchanged. Every request is signed with AWS Signature Version
// 4; the handler verifies it with the AWS SDK for Go v2's signer.
//
// # Operations
//
//	CreateProject   POST   /2020-11-20/projects                            200 {ProjectMetadata}
//	DescribeProject GET    /2020-11-20/projects/{projectName}              200 {ProjectDescription}
//	ListProjects    GET    /2020-11-20/projects?nextToken=&maxResults=     200 {Projects, NextToken}
//	DeleteProject   DELETE /2020-11-20/projects/{projectName}              200 {ProjectArn}
//	CreateModel     POST   /2020-11-20/projects/{projectName}/models       202 {ModelMetadata}
//	DescribeModel   GET    …/models/{modelVersion}                         200 {ModelDescription}
//	ListModels      GET    …/models?nextToken=&maxResults=                 200 {Models, NextToken}
//	StartModel      POST   …/models/{modelVersion}/start                   202 {Status}
//	StopModel       POST   …/models/{modelVersion}/stop                    202 {Status}
//	DeleteModel     DELETE …/models/{modelVersion}                         202 {ModelArn}
//
// Timestamps are JSON numbers of epoch seconds with milliseconds. ARNs are
// arn:aws:lookoutvision:<region>:<account>:project/<name> and
// …:model/<project>/<version>.
//
// # Mapping onto the registry
//
// A project is the artifact {Kind: dataset, Namespace: <project name>,
// Name: "::project"} (a project name cannot contain ':', so nothing else
// of the dialect takes that name). The namespace is the project, so the
// registry's Authorizer keeps each principal in its projects.
//
// A model is {Kind: model, Namespace: <project>, Name: "model", Version:
// "1", "2", …, Parent: <project artifact ID>}; its Description is the
// artifact's, and its OutputConfig, KmsKeyId, Tags (lookout.tag:<key>) and
// inference units are labels. Versions count from 1 per project: a new
// model takes one more than the highest version the registry holds, deleted
// ones included. A model is HOSTED when it is deployed to the registry
// endpoint Endpoint (StartModel is registry.Deploy, StopModel
// registry.Undeploy), and TRAINED otherwise.
//
// DeleteModel is a soft delete by FQN with the request's client token as
// registry.DeleteOptions.ClientToken: a hosted model is the registry's
// ErrDeployed, a ConflictException. DeleteProject is a hard delete by FQN,
// also with the token: a project with live models is ErrNotEmpty, a
// ConflictException, and its deleted models go with it.
//
// CreateProject, CreateModel, StartModel and StopModel keep their client
// token in a label of the artifact they create or change (lookout.token.<Op>:
// the token, a digest of the principal, a digest of the request and the
// time). A retry with the same token within TokenTTL finds that label (in
// the projects, or in the project's models) and answers as the first call
// did without acting; the same token with another request is a
// ConflictException. Nothing is kept outside the registry.
//
// # Errors
//
// Every error has its status, X-Amzn-ErrorType: <Name>, X-Amzn-RequestId and
// a body {"Message": …} with ResourceId and ResourceType for
// ResourceNotFoundException (404) and ConflictException (409).
// ValidationException is 400, AccessDeniedException (the registry's
// ErrForbidden) 403, InternalServerException 500. A refused signature is
// answered as AWS's front end does: MissingAuthenticationTokenException 403
// (no Authorization header), IncompleteSignatureException 400 (a malformed
// header, a missing X-Amz-Date, host or x-amz-date not signed),
// UnrecognizedClientException 403 (an unknown access key, a session token),
// InvalidSignatureException 403 (a wrong signature, a date more than
// MaxClockSkew away, a credential scope with another date, region or service).
//
// # Where this differs from the service
//
//   - Training and hosting take no time: CreateModel answers TRAINING and the
//     model is TRAINED when next described; StartModel answers
//     STARTING_HOSTING and StopModel STOPPING_HOSTING, and the model is
//     HOSTED or TRAINED at once. No model has Performance, evaluation results
//     or datasets; DescribeProject lists no datasets.
//   - A token reused with another request is a ConflictException (the
//     service's error type is not documented). A token is found only where
//     its call could have acted: among all projects for CreateProject, among
//     the project's models for the model operations; only the latest
//     StartModel and StopModel token of each model is kept; a token of a
//     project or model that was hard deleted since is forgotten. Two
//     concurrent first calls with the same token may both act.
//   - Request bodies are strict: an unknown member is a ValidationException.
//     A body larger than Options.MaxBodyBytes is a ValidationException.
//   - At most 50 tags per model (the service allows 200) and a KmsKeyId of at
//     most 1024 characters (2048): the registry keeps at most 64 labels of
//     1024 characters per artifact.
//   - StopModel of a model that is not hosted is a ConflictException.
//     StartModel refuses a MaxInferenceUnits below MinInferenceUnits.
//   - ListModels lists versions in byte order ("10" before "2"), the
//     registry's order; NextToken is the registry's cursor in standard
//     Base64.
//   - A path that names no operation is 404 UnknownOperationException.
//   - Only header signatures with X-Amz-Date are accepted: no presigned
//     URLs, no Date header, no session tokens.
package lookout
