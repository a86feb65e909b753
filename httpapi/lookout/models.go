package lookout

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/modelreg/registry"
)

// modelName is the registry name of every model of a project; the model
// version is the artifact's version.
const modelName = "model"

// Endpoint is the registry endpoint a hosted model is deployed to.
const Endpoint = "lookoutvision-hosting"

// Labels this dialect keeps on a model artifact.
const (
	labelBucket   = labelPrefix + "outputBucket"
	labelPrefixS3 = labelPrefix + "outputPrefix"
	labelKmsKey   = labelPrefix + "kmsKeyId"
	labelMinUnits = labelPrefix + "minInferenceUnits"
	labelMaxUnits = labelPrefix + "maxInferenceUnits"
	labelTag      = labelPrefix + "tag:"
)

// Model statuses this dialect reports.
const (
	statusTraining = "TRAINING"
	statusTrained  = "TRAINED"
	statusStarting = "STARTING_HOSTING"
	statusHosted   = "HOSTED"
	statusStopping = "STOPPING_HOSTING"
)

type modelMetadata struct {
	CreationTimestamp epoch  `json:"CreationTimestamp"`
	ModelVersion      string `json:"ModelVersion"`
	ModelArn          string `json:"ModelArn"`
	Description       string `json:"Description,omitempty"`
	Status            string `json:"Status"`
	StatusMessage     string `json:"StatusMessage"`
}

type s3Location struct {
	Bucket string `json:"Bucket"`
	Prefix string `json:"Prefix,omitempty"`
}

type modelDescription struct {
	modelMetadata
	OutputConfig      struct{ S3Location s3Location } `json:"OutputConfig"`
	KmsKeyId          string                          `json:"KmsKeyId,omitempty"`
	MinInferenceUnits int                             `json:"MinInferenceUnits,omitempty"`
	MaxInferenceUnits int                             `json:"MaxInferenceUnits,omitempty"`
}

func status(a registry.Artifact) (string, string) {
	if a.IsDeployed() {
		return statusHosted, "Model is hosted."
	}
	return statusTrained, "Training completed."
}

func (c *call) modelMetadata(a registry.Artifact) modelMetadata {
	st, msg := status(a)
	return modelMetadata{CreationTimestamp: epoch(a.CreatedAt), ModelVersion: a.Version,
		ModelArn: c.modelARN(a.Namespace, a.Version), Description: a.Description, Status: st, StatusMessage: msg}
}

// versionNumber is a model version as a number, 0 when it is not one.
func versionNumber(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// models returns every model of the project, soft-deleted ones too.
func (c *call) models(project string) ([]registry.Artifact, *apiError) {
	all, err := c.listAll(registry.Filter{Namespace: project, Name: modelName, Kind: registry.KindModel, Include: registry.IncludeAll})
	if err != nil {
		return nil, fromRegistry(err, resProject, project)
	}
	return all, nil
}

// model resolves a project's model version ("latest" is the newest live
// one) to its artifact.
func (c *call) model(project, version string) (registry.Artifact, *apiError) {
	if _, e := c.project(project); e != nil {
		return registry.Artifact{}, e
	}
	if version == "latest" {
		all, e := c.models(project)
		if e != nil {
			return registry.Artifact{}, e
		}
		var newest registry.Artifact
		for _, a := range all {
			if !a.Deleted && versionNumber(a.Version) > versionNumber(newest.Version) {
				newest = a
			}
		}
		if newest.ID == "" {
			return newest, notFound(resModel, version, "project %s has no models", project)
		}
		return newest, nil
	}
	a, err := c.h.opts.Registry.GetVersion(c.ctx, project, modelName, version)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return a, notFound(resModel, version, "model %s of project %s does not exist", version, project)
		}
		return a, fromRegistry(err, resModel, version)
	}
	return a, nil
}

// modelPath checks the project name and model version of a model's path.
func (c *call) modelPath(versionPattern func(string) *apiError) (project, version string, e *apiError) {
	project, version = c.segs[0], c.segs[2]
	if e := checkProjectName(project); e != nil {
		return "", "", e
	}
	if e := versionPattern(version); e != nil {
		return "", "", e
	}
	return project, version, nil
}

type createModelInput struct {
	Description  *string
	KmsKeyId     *string
	OutputConfig *struct {
		S3Location *struct {
			Bucket *string
			Prefix *string
		}
	}
	Tags []struct {
		Key   *string
		Value *string
	}
}

// labels checks the input and returns the labels it stores.
func (in *createModelInput) labels() (map[string]string, *apiError) {
	l := map[string]string{}
	if in.OutputConfig == nil {
		return nil, validation("OutputConfig is required")
	}
	if in.OutputConfig.S3Location == nil {
		return nil, validation("OutputConfig.S3Location is required")
	}
	s3 := in.OutputConfig.S3Location
	if s3.Bucket == nil {
		return nil, validation("OutputConfig.S3Location.Bucket is required")
	}
	if e := checkPattern("outputConfig.s3Location.bucket", *s3.Bucket, 3, 63, bucketPattern); e != nil {
		return nil, e
	}
	l[labelBucket] = *s3.Bucket
	if s3.Prefix != nil {
		if e := checkPattern("outputConfig.s3Location.prefix", *s3.Prefix, 0, maxPrefix, prefixPattern); e != nil {
			return nil, e
		}
		l[labelPrefixS3] = *s3.Prefix
	}
	if in.Description != nil {
		if e := checkPattern("description", *in.Description, 1, maxDescription, descriptionPattern); e != nil {
			return nil, e
		}
	}
	if in.KmsKeyId != nil {
		if e := checkPattern("kmsKeyId", *in.KmsKeyId, 1, maxKmsKeyID, kmsKeyPattern); e != nil {
			return nil, e
		}
		l[labelKmsKey] = *in.KmsKeyId
	}
	if len(in.Tags) > maxTags {
		return nil, validation("Tags has %d members; this server keeps at most %d", len(in.Tags), maxTags)
	}
	for i, t := range in.Tags {
		if t.Key == nil || t.Value == nil {
			return nil, validation("tags.%d: Key and Value are required", i+1)
		}
		if e := checkPattern(sprintf("tags.%d.member.key", i+1), *t.Key, 1, maxTagKey, tagKeyPattern); e != nil {
			return nil, e
		}
		if strings.HasPrefix(*t.Key, "aws:") {
			return nil, validation("tags.%d.member.key: the aws: prefix is reserved", i+1)
		}
		if e := checkPattern(sprintf("tags.%d.member.value", i+1), *t.Value, 0, maxTagValue, tagValuePattern); e != nil {
			return nil, e
		}
		if _, dup := l[labelTag+*t.Key]; dup {
			return nil, validation("tag key %q is given twice", clip(*t.Key))
		}
		l[labelTag+*t.Key] = *t.Value
	}
	return l, nil
}

func (c *call) createModel() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	project := c.segs[0]
	if e := checkProjectName(project); e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	var in createModelInput
	if e := c.decode(&in); e != nil {
		return e
	}
	labels, e := in.labels()
	if e != nil {
		return e
	}
	p, e := c.project(project)
	if e != nil {
		return e
	}
	all, e := c.models(project)
	if e != nil {
		return e
	}
	if token != "" {
		canon, _ := json.Marshal(in)
		m := c.newMark(token, "CreateModel", project, string(canon))
		if old, found, same := c.findMark(all, "CreateModel", m); found {
			if !same {
				return tokenConflict(resModel, old.Version, token)
			}
			md := c.modelMetadata(old)
			md.Status, md.StatusMessage = statusTraining, "Training started."
			writeOK(c.w, c.r, http.StatusAccepted, map[string]any{"ModelMetadata": md})
			return nil
		}
		labels[tokenLabel("CreateModel")] = m.label()
	}
	a := registry.Artifact{Kind: registry.KindModel, Namespace: project, Name: modelName, Parent: p.ID, Labels: labels}
	if in.Description != nil {
		a.Description = *in.Description
	}
	// Versions count 1, 2, … per project and are never reused while the
	// registry keeps a deleted one. A concurrent CreateModel may take the
	// number first: then count again.
	var err error
	for try := 0; try < 16; try++ {
		if try > 0 {
			if all, e = c.models(project); e != nil {
				return e
			}
		}
		next := 0
		for _, m := range all {
			next = max(next, versionNumber(m.Version))
		}
		a.Version = strconv.Itoa(next + 1)
		var m registry.Artifact
		if m, err = c.h.opts.Registry.Register(c.ctx, a); err == nil {
			md := c.modelMetadata(m)
			md.Status, md.StatusMessage = statusTraining, "Training started."
			writeOK(c.w, c.r, http.StatusAccepted, map[string]any{"ModelMetadata": md})
			return nil
		}
		if !errors.Is(err, registry.ErrAlreadyExists) {
			break
		}
	}
	return fromRegistry(err, resModel, a.Version)
}

func (c *call) describeModel() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	project, version, e := c.modelPath(checkModelVersion)
	if e != nil {
		return e
	}
	a, e := c.model(project, version)
	if e != nil {
		return e
	}
	d := modelDescription{modelMetadata: c.modelMetadata(a), KmsKeyId: a.Labels[labelKmsKey]}
	d.OutputConfig.S3Location = s3Location{Bucket: a.Labels[labelBucket], Prefix: a.Labels[labelPrefixS3]}
	if a.IsDeployed() {
		d.MinInferenceUnits = versionNumber(a.Labels[labelMinUnits])
		d.MaxInferenceUnits = versionNumber(a.Labels[labelMaxUnits])
	}
	writeOK(c.w, c.r, http.StatusOK, map[string]any{"ModelDescription": d})
	return nil
}

func (c *call) listModels() *apiError {
	project := c.segs[0]
	if e := checkProjectName(project); e != nil {
		return e
	}
	next, limit, e := c.pageParams()
	if e != nil {
		return e
	}
	cur, e := cursor(next)
	if e != nil {
		return e
	}
	if _, e := c.project(project); e != nil {
		return e
	}
	page, err := c.h.opts.Registry.List(c.ctx, registry.Filter{Namespace: project, Name: modelName, Kind: registry.KindModel, Limit: limit, Cursor: cur})
	if err != nil {
		if errors.Is(err, registry.ErrInvalid) {
			return validation("NextToken is not one this API returned for this list")
		}
		return fromRegistry(err, resProject, project)
	}
	out := struct {
		Models    []modelMetadata `json:"Models"`
		NextToken string          `json:"NextToken,omitempty"`
	}{Models: []modelMetadata{}, NextToken: nextToken(page.Next)}
	for _, m := range page.Items {
		out.Models = append(out.Models, c.modelMetadata(m))
	}
	writeOK(c.w, c.r, http.StatusOK, out)
	return nil
}

// replayOrConflict answers a retry of op with the same token: the same
// answer when the request is the same, a ConflictException otherwise.
func (c *call) replayOrConflict(project, op string, m mark, answer string) (done bool, e *apiError) {
	all, e := c.models(project)
	if e != nil {
		return false, e
	}
	old, found, same := c.findMark(all, op, m)
	if !found {
		return false, nil
	}
	if !same {
		return true, tokenConflict(resModel, old.Version, m.Token)
	}
	writeOK(c.w, c.r, http.StatusAccepted, map[string]string{"Status": answer})
	return true, nil
}

func (c *call) startModel() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	project, version, e := c.modelPath(checkModelVersion)
	if e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	var in struct {
		MinInferenceUnits *int
		MaxInferenceUnits *int
	}
	if e := c.decode(&in); e != nil {
		return e
	}
	if in.MinInferenceUnits == nil {
		return validation("MinInferenceUnits is required")
	}
	if *in.MinInferenceUnits < 1 {
		return validation("Value '%d' at 'minInferenceUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.MinInferenceUnits)
	}
	maxUnits := *in.MinInferenceUnits
	if in.MaxInferenceUnits != nil {
		if *in.MaxInferenceUnits < 1 {
			return validation("Value '%d' at 'maxInferenceUnits' failed to satisfy constraint: Member must have value greater than or equal to 1", *in.MaxInferenceUnits)
		}
		if *in.MaxInferenceUnits < *in.MinInferenceUnits {
			return validation("MaxInferenceUnits %d is less than MinInferenceUnits %d", *in.MaxInferenceUnits, *in.MinInferenceUnits)
		}
		maxUnits = *in.MaxInferenceUnits
	}
	a, e := c.model(project, version)
	if e != nil {
		return e
	}
	labels := maps.Clone(a.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	if token != "" {
		m := c.newMark(token, "StartModel", project, a.Version, strconv.Itoa(*in.MinInferenceUnits), strconv.Itoa(maxUnits))
		if done, e := c.replayOrConflict(project, "StartModel", m, statusStarting); done || e != nil {
			return e
		}
		labels[tokenLabel("StartModel")] = m.label()
	}
	labels[labelMinUnits] = strconv.Itoa(*in.MinInferenceUnits)
	labels[labelMaxUnits] = strconv.Itoa(maxUnits)
	a.Labels = labels
	if _, err := c.h.opts.Registry.Update(c.ctx, a); err != nil {
		return fromRegistry(err, resModel, a.Version)
	}
	if err := c.h.opts.Registry.Deploy(c.ctx, a.ID, Endpoint); err != nil {
		return fromRegistry(err, resModel, a.Version)
	}
	writeOK(c.w, c.r, http.StatusAccepted, map[string]string{"Status": statusStarting})
	return nil
}

func (c *call) stopModel() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	project, version, e := c.modelPath(checkModelVersion)
	if e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	a, e := c.model(project, version)
	if e != nil {
		return e
	}
	if token != "" {
		m := c.newMark(token, "StopModel", project, a.Version)
		if done, e := c.replayOrConflict(project, "StopModel", m, statusStopping); done || e != nil {
			return e
		}
		if !a.IsDeployed() {
			return conflict(resModel, a.Version, "model %s of project %s is not hosted", a.Version, project)
		}
		a.Labels = maps.Clone(a.Labels)
		a.Labels[tokenLabel("StopModel")] = m.label()
		if _, err := c.h.opts.Registry.Update(c.ctx, a); err != nil {
			return fromRegistry(err, resModel, a.Version)
		}
	}
	if err := c.h.opts.Registry.Undeploy(c.ctx, a.ID, Endpoint); err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return conflict(resModel, a.Version, "model %s of project %s is not hosted", a.Version, project)
		}
		return fromRegistry(err, resModel, a.Version)
	}
	writeOK(c.w, c.r, http.StatusAccepted, map[string]string{"Status": statusStopping})
	return nil
}

func (c *call) deleteModel() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	project, version, e := c.modelPath(func(v string) *apiError {
		return checkPattern("modelVersion", v, 1, maxModelVersion, deleteVersionPat)
	})
	if e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	_, err := c.h.opts.Registry.DeleteByFQN(c.ctx, registry.BuildFQN(project, modelName, version),
		registry.DeleteOptions{ClientToken: token})
	if err != nil {
		switch {
		case errors.Is(err, registry.ErrNotFound):
			if _, e := c.project(project); e != nil {
				return e
			}
			return notFound(resModel, version, "model %s of project %s does not exist", version, project)
		case errors.Is(err, registry.ErrDeployed):
			return conflict(resModel, version, "model %s is hosted; stop it first", version)
		case errors.Is(err, registry.ErrIdempotencyMismatch):
			return tokenConflict(resModel, version, token)
		}
		return fromRegistry(err, resModel, version)
	}
	writeOK(c.w, c.r, http.StatusAccepted, map[string]string{"ModelArn": c.modelARN(project, version)})
	return nil
}
