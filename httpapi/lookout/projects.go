package lookout

import (
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/modelreg/registry"
)

// projectName is the registry name of a project's artifact; ':' cannot
// appear in a project name, so no model or other artifact of the project's
// namespace that this dialect makes can take it.
const projectName = "::project"

type projectMetadata struct {
	ProjectArn        string `json:"ProjectArn"`
	ProjectName       string `json:"ProjectName"`
	CreationTimestamp epoch  `json:"CreationTimestamp"`
}

type datasetMetadata struct {
	DatasetType       string `json:"DatasetType"`
	CreationTimestamp epoch  `json:"CreationTimestamp"`
	Status            string `json:"Status"`
	StatusMessage     string `json:"StatusMessage"`
}

type projectDescription struct {
	projectMetadata
	Datasets []datasetMetadata `json:"Datasets"`
}

func (c *call) projectMetadata(a registry.Artifact) projectMetadata {
	return projectMetadata{ProjectArn: c.projectARN(a.Namespace), ProjectName: a.Namespace, CreationTimestamp: epoch(a.CreatedAt)}
}

// project returns the live project artifact, or ResourceNotFoundException.
func (c *call) project(name string) (registry.Artifact, *apiError) {
	p, err := c.h.opts.Registry.GetVersion(c.ctx, name, projectName, "")
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return p, notFound(resProject, name, "project %s does not exist", name)
		}
		return p, fromRegistry(err, resProject, name)
	}
	return p, nil
}

// listAll returns every artifact the filter selects, page after page.
func (c *call) listAll(f registry.Filter) ([]registry.Artifact, error) {
	var all []registry.Artifact
	f.Limit = 1000
	for {
		page, err := c.h.opts.Registry.List(c.ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all, nil
		}
		f.Cursor = page.Next
	}
}

func (c *call) createProject() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	var in struct {
		ProjectName *string
	}
	if e := c.decode(&in); e != nil {
		return e
	}
	if in.ProjectName == nil {
		return validation("ProjectName is required")
	}
	name := *in.ProjectName
	if e := checkProjectName(name); e != nil {
		return e
	}
	a := registry.Artifact{Kind: registry.KindDataset, Namespace: name, Name: projectName}
	if token != "" {
		m := c.newMark(token, "CreateProject", name)
		all, err := c.listAll(registry.Filter{Name: projectName, Kind: registry.KindDataset, Include: registry.IncludeAll})
		if err != nil {
			return fromRegistry(err, resProject, name)
		}
		if old, found, same := c.findMark(all, "CreateProject", m); found {
			if !same {
				return tokenConflict(resProject, name, token)
			}
			writeOK(c.w, c.r, http.StatusOK, map[string]any{"ProjectMetadata": c.projectMetadata(old)})
			return nil
		}
		a.Labels = map[string]string{tokenLabel("CreateProject"): m.label()}
	}
	p, err := c.h.opts.Registry.Register(c.ctx, a)
	if err != nil {
		if errors.Is(err, registry.ErrAlreadyExists) {
			return conflict(resProject, name, "project %s already exists", name)
		}
		return fromRegistry(err, resProject, name)
	}
	writeOK(c.w, c.r, http.StatusOK, map[string]any{"ProjectMetadata": c.projectMetadata(p)})
	return nil
}

func (c *call) describeProject() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	name := c.segs[0]
	if e := checkProjectName(name); e != nil {
		return e
	}
	p, e := c.project(name)
	if e != nil {
		return e
	}
	writeOK(c.w, c.r, http.StatusOK, map[string]any{"ProjectDescription": projectDescription{
		projectMetadata: c.projectMetadata(p), Datasets: []datasetMetadata{}}})
	return nil
}

// cursor turns a NextToken back into the registry's cursor.
func cursor(next string) (string, *apiError) {
	if next == "" {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(next)
	if err != nil || len(b) == 0 {
		return "", validation("NextToken %q is not one this API returned", clip(next))
	}
	return string(b), nil
}

func nextToken(c string) string {
	if c == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(c))
}

func (c *call) listProjects() *apiError {
	next, limit, e := c.pageParams()
	if e != nil {
		return e
	}
	cur, e := cursor(next)
	if e != nil {
		return e
	}
	page, err := c.h.opts.Registry.List(c.ctx, registry.Filter{Name: projectName, Kind: registry.KindDataset, Limit: limit, Cursor: cur})
	if err != nil {
		if errors.Is(err, registry.ErrInvalid) {
			return validation("NextToken is not one this API returned for this list")
		}
		return fromRegistry(err, resProject, "")
	}
	out := struct {
		Projects  []projectMetadata `json:"Projects"`
		NextToken string            `json:"NextToken,omitempty"`
	}{Projects: []projectMetadata{}, NextToken: nextToken(page.Next)}
	for _, p := range page.Items {
		out.Projects = append(out.Projects, c.projectMetadata(p))
	}
	writeOK(c.w, c.r, http.StatusOK, out)
	return nil
}

func (c *call) deleteProject() *apiError {
	if e := c.noQuery(); e != nil {
		return e
	}
	name := c.segs[0]
	if e := checkProjectName(name); e != nil {
		return e
	}
	token, e := c.clientToken()
	if e != nil {
		return e
	}
	_, err := c.h.opts.Registry.DeleteByFQN(c.ctx, registry.BuildFQN(name, projectName, ""),
		registry.DeleteOptions{Hard: true, ClientToken: token})
	if err != nil {
		switch {
		case errors.Is(err, registry.ErrNotFound):
			return notFound(resProject, name, "project %s does not exist", name)
		case errors.Is(err, registry.ErrNotEmpty):
			return conflict(resProject, name, "project %s still has models; delete them first", name)
		case errors.Is(err, registry.ErrIdempotencyMismatch):
			return tokenConflict(resProject, name, token)
		}
		return fromRegistry(err, resProject, name)
	}
	writeOK(c.w, c.r, http.StatusOK, map[string]string{"ProjectArn": c.projectARN(name)})
	return nil
}
