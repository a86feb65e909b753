package modelarts

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// Label keys of a model artifact.
const (
	labelPrefix         = "modelarts."
	labelModelType      = labelPrefix + "model_type"
	labelSourceLocation = labelPrefix + "source_location"
	labelOwner          = labelPrefix + "owner"
	labelWorkspace      = labelPrefix + "workspace_id"
	labelInstallType    = labelPrefix + "install_type"
)

// scalarFields are the optional string fields of an import kept as labels
// under their own names.
var scalarFields = []string{"source_job_id", "source_job_version", "source_type", "runtime",
	"model_algorithm", "execution_code", "source_copy"}

// jsonFields are the structured optional fields kept as compact JSON.
var jsonFields = []string{"apis", "input_params", "output_params", "dependencies", "model_metrics",
	"initial_config", "model_docs", "template"}

// maxLabelJSON is the registry's label value limit.
const maxLabelJSON = registry.MaxLabelValueLength

var (
	modelNameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	modelVersionRE = regexp.MustCompile(`^[1-9][0-9]?\.[1-9][0-9]?\.[1-9][0-9]?$`)
	uuidRE         = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// ModelTypes are the model types an import accepts: the 2024 list and
	// the 2022 additions.
	modelTypes   = []string{"TensorFlow", "MXNet", "Caffe", "Spark_MLlib", "Scikit_Learn", "XGBoost", "Image", "PyTorch", "Template", "MindSpore"}
	installTypes = []string{"real-time", "batch", "edge"}
)

// createModelRequest is the import body. Pointers tell a missing field from
// an empty one; RawMessage fields are type-checked by their Go type.
type createModelRequest struct {
	ModelName        *string  `json:"model_name"`
	ModelVersion     *string  `json:"model_version"`
	SourceLocation   *string  `json:"source_location"`
	ModelType        *string  `json:"model_type"`
	Description      *string  `json:"description"`
	WorkspaceID      *string  `json:"workspace_id"`
	InstallType      []string `json:"install_type"`
	SourceJobID      *string  `json:"source_job_id"`
	SourceJobVersion *string  `json:"source_job_version"`
	SourceType       *string  `json:"source_type"`
	Runtime          *string  `json:"runtime"`
	ModelAlgorithm   *string  `json:"model_algorithm"`
	ExecutionCode    *string  `json:"execution_code"`
	SourceCopy       *string  `json:"source_copy"`

	Apis          []json.RawMessage `json:"apis"`
	InputParams   []json.RawMessage `json:"input_params"`
	OutputParams  []json.RawMessage `json:"output_params"`
	Dependencies  []json.RawMessage `json:"dependencies"`
	ModelMetrics  *string           `json:"model_metrics"`
	InitialConfig map[string]any    `json:"initial_config"`
	ModelDocs     []json.RawMessage `json:"model_docs"`
	Template      map[string]any    `json:"template"`
}

func (c *createModelRequest) scalars() map[string]*string {
	return map[string]*string{"source_job_id": c.SourceJobID, "source_job_version": c.SourceJobVersion,
		"source_type": c.SourceType, "runtime": c.Runtime, "model_algorithm": c.ModelAlgorithm,
		"execution_code": c.ExecutionCode, "source_copy": c.SourceCopy}
}

func (c *createModelRequest) structured() map[string]any {
	m := map[string]any{}
	add := func(name string, present bool, v any) {
		if present {
			m[name] = v
		}
	}
	add("apis", c.Apis != nil, c.Apis)
	add("input_params", c.InputParams != nil, c.InputParams)
	add("output_params", c.OutputParams != nil, c.OutputParams)
	add("dependencies", c.Dependencies != nil, c.Dependencies)
	add("model_metrics", c.ModelMetrics != nil, c.ModelMetrics)
	add("initial_config", c.InitialConfig != nil, c.InitialConfig)
	add("model_docs", c.ModelDocs != nil, c.ModelDocs)
	add("template", c.Template != nil, c.Template)
	return m
}

// badValue is a field whose value breaks its rule (400 ModelArts.0104) or,
// with missing, a required field that is absent (400 ModelArts.3036).
type badValue struct {
	missing bool
	msg     string
}

func (b *badValue) write(w http.ResponseWriter, r *http.Request) {
	if b.missing {
		writeError(w, r, http.StatusBadRequest, "ModelArts.3036", b.msg)
		return
	}
	writeError(w, r, http.StatusBadRequest, "ModelArts.0104", b.msg)
}

func missing(field string) *badValue {
	return &badValue{missing: true, msg: "required parameter " + field + " is missing"}
}

func invalid(format string, args ...any) *badValue {
	return &badValue{msg: fmt.Sprintf(format, args...)}
}

func checkDescription(d string) *badValue {
	if n := len([]rune(d)); n > 100 {
		return invalid("description has %d characters; at most 100 are allowed", n)
	}
	if i := strings.IndexAny(d, "&!'\"<>="); i >= 0 {
		return invalid("description contains %q; the characters &!'\"<>= are not allowed", d[i:i+1])
	}
	return nil
}

// toArtifact validates the import and builds its artifact.
func (c *createModelRequest) toArtifact(project, principal string) (registry.Artifact, *badValue) {
	switch {
	case c.ModelName == nil:
		return registry.Artifact{}, missing("model_name")
	case c.ModelVersion == nil:
		return registry.Artifact{}, missing("model_version")
	case c.ModelType == nil:
		return registry.Artifact{}, missing("model_type")
	}
	if !modelNameRE.MatchString(*c.ModelName) {
		return registry.Artifact{}, invalid("model_name %q is invalid: want 1 to 64 letters, digits, '-' or '_'", clip(*c.ModelName))
	}
	if !modelVersionRE.MatchString(*c.ModelVersion) {
		return registry.Artifact{}, invalid("model_version %q is invalid: want Digit.Digit.Digit, each part 1 to 99 without a leading zero, like 1.1.1", clip(*c.ModelVersion))
	}
	if !slices.Contains(modelTypes, *c.ModelType) {
		return registry.Artifact{}, invalid("model_type %q is invalid: want one of %s", clip(*c.ModelType), strings.Join(modelTypes, ", "))
	}
	if *c.ModelType != "Template" {
		if c.SourceLocation == nil {
			return registry.Artifact{}, missing("source_location")
		}
		if *c.SourceLocation == "" {
			return registry.Artifact{}, invalid("source_location is empty; give the OBS path or SWR image of the model")
		}
	}
	a := registry.Artifact{Kind: registry.KindModel, Namespace: project, Name: *c.ModelName, Version: *c.ModelVersion,
		Labels: map[string]string{labelModelType: *c.ModelType, labelOwner: principal, labelWorkspace: "0"}}
	if c.Description != nil {
		if bad := checkDescription(*c.Description); bad != nil {
			return registry.Artifact{}, bad
		}
		a.Description = *c.Description
	}
	if c.SourceLocation != nil && *c.SourceLocation != "" {
		a.Labels[labelSourceLocation] = *c.SourceLocation
	}
	if c.WorkspaceID != nil {
		if *c.WorkspaceID == "" {
			return registry.Artifact{}, invalid("workspace_id is empty; omit it for the default workspace \"0\"")
		}
		a.Labels[labelWorkspace] = *c.WorkspaceID
	}
	it := []string{"real-time", "batch"}
	if c.InstallType != nil {
		for _, t := range c.InstallType {
			if !slices.Contains(installTypes, t) {
				return registry.Artifact{}, invalid("install_type %q is invalid: want real-time, batch or edge", clip(t))
			}
		}
		it = c.InstallType
	}
	a.Labels[labelInstallType] = strings.Join(it, ",")
	for name, v := range c.scalars() {
		if v != nil {
			a.Labels[labelPrefix+name] = *v
		}
	}
	for name, v := range c.structured() {
		data, err := json.Marshal(v)
		if err != nil {
			return registry.Artifact{}, invalid("%s cannot be stored: %v", name, err)
		}
		if len(data) > maxLabelJSON {
			return registry.Artifact{}, invalid("%s is %d bytes as compact JSON; this server keeps at most %d", name, len(data), maxLabelJSON)
		}
		a.Labels[labelPrefix+name] = string(data)
	}
	return a, nil
}

func clip(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:61] + "..."
}

func (h *handler) createModel(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	var req createModelRequest
	if err := httpx.DecodeJSON(w, r, h.limit, &req, false); err != nil {
		bodyError(w, r, err)
		return
	}
	a, bad := req.toArtifact(project, registry.PrincipalFrom(ctx))
	if bad != nil {
		bad.write(w, r)
		return
	}
	m, err := h.reg.Register(ctx, a)
	if err != nil {
		if errors.Is(err, registry.ErrAlreadyExists) {
			writeError(w, r, http.StatusConflict, "ModelArts.3002",
				fmt.Sprintf("model %s of version %s already exists", a.Name, a.Version))
			return
		}
		h.registryError(w, r, err, "ModelArts.3001", "ModelArts.3002")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"model_id": m.ID})
}

// isModel reports whether a is a model of the project that this dialect can
// show.
func isModel(a registry.Artifact, project string) bool {
	return a.Kind == registry.KindModel && a.Namespace == project
}

// lookupModel finds a live model of the project, answering 404 (with the
// given code) when there is none.
func (h *handler) lookupModel(w http.ResponseWriter, r *http.Request, ctx context.Context, project, id, notFound string) (registry.Artifact, bool) {
	if !uuidRE.MatchString(id) {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("invalid model_id %q: want a UUID", clip(id)))
		return registry.Artifact{}, false
	}
	m, err := h.reg.Get(ctx, id)
	if err == nil && !isModel(m, project) {
		err = registry.ErrNotFound
	}
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			writeError(w, r, http.StatusNotFound, notFound, fmt.Sprintf("model %s does not exist", id))
			return registry.Artifact{}, false
		}
		h.registryError(w, r, err, notFound, "ModelArts.3002")
		return registry.Artifact{}, false
	}
	return m, true
}

func (h *handler) getModel(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	m, ok := h.lookupModel(w, r, ctx, project, r.PathValue("model_id"), "ModelArts.3001")
	if !ok {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, modelView(m, true))
}

// modelView renders a model as ModelArts' list item or, with detail, as
// its detail.
func modelView(m registry.Artifact, detail bool) map[string]any {
	l := m.Labels
	install := []string{}
	if s := l[labelInstallType]; s != "" {
		install = strings.Split(s, ",")
	}
	v := map[string]any{
		"model_id": m.ID, "model_name": m.Name, "model_version": m.Version,
		"model_type": l[labelModelType], "model_status": "published", "model_size": 0,
		"create_at": m.CreatedAt.UnixMilli(), "description": m.Description,
		"owner": cmp.Or(l[labelOwner], m.UpdatedBy), "project": m.Namespace, "tenant": m.Namespace,
		"workspace_id": cmp.Or(l[labelWorkspace], "0"), "source_type": l[labelPrefix+"source_type"],
		"model_source": "custom", "install_type": install, "market_flag": false, "tunable": false,
		"publishable_flag": true, "specification": map[string]any{},
	}
	if !detail {
		return v
	}
	v["source_location"] = l[labelSourceLocation]
	v["update_at"] = m.UpdatedAt.UnixMilli()
	for _, name := range scalarFields {
		if s, ok := l[labelPrefix+name]; ok {
			v[name] = s
		}
	}
	for _, name := range jsonFields {
		if s, ok := l[labelPrefix+name]; ok {
			v[name] = json.RawMessage(s)
		}
	}
	return v
}

// allOfKind lists every live artifact of a kind in the project.
func (h *handler) allOfKind(ctx context.Context, project string, kind registry.Kind) ([]registry.Artifact, error) {
	var out []registry.Artifact
	f := registry.Filter{Namespace: project, Kind: kind, Limit: 1000}
	for {
		page, err := h.reg.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out, nil
		}
		f.Cursor = page.Next
	}
}

// paging reads offset (a page index) and limit.
func paging(q map[string][]string) (offset, limit int, bad string) {
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	offset, limit = 0, 1000
	if s, ok := get("offset"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, 0, fmt.Sprintf("offset %q is invalid: want a page index, an integer from 0", clip(s))
		}
		offset = n
	}
	if s, ok := get("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return 0, 0, fmt.Sprintf("limit %q is invalid: want an integer from 1 to 1000", clip(s))
		}
		limit = n
	}
	return offset, limit, ""
}

// page cuts the page at index offset of size limit.
func page[T any](items []T, offset, limit int) []T {
	if offset > len(items)/limit {
		return []T{}
	}
	start := offset * limit
	if start >= len(items) {
		return []T{}
	}
	return items[start:min(start+limit, len(items))]
}

// versionParts reads D.D.D for sorting; anything else sorts as zeros.
func versionParts(v string) [3]int {
	var p [3]int
	for i, s := range strings.SplitN(v, ".", 3) {
		p[i], _ = strconv.Atoi(s)
	}
	return p
}

var modelStatuses = []string{"publishing", "published", "failed", "building", "building_failed"}

func (h *handler) listModels(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	q := r.URL.Query()
	offset, limit, msg := paging(q)
	if msg != "" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", msg)
		return
	}
	exact := false
	if s := q.Get("exact_match"); s != "" {
		switch s {
		case "true":
			exact = true
		case "false":
		default:
			writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("exact_match %q is invalid: want true or false", clip(s)))
			return
		}
	}
	name, version, status, desc := q.Get("model_name"), q.Get("model_version"), q.Get("model_status"), q.Get("description")
	mtype, notType := q.Get("model_type"), q.Get("not_model_type")
	workspace := cmp.Or(q.Get("workspace_id"), "0")
	if mtype != "" && notType != "" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", "give model_type or not_model_type, not both")
		return
	}
	if status != "" && !slices.Contains(modelStatuses, status) {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("model_status %q is invalid: want one of %s", clip(status), strings.Join(modelStatuses, ", ")))
		return
	}
	sortBy, order := cmp.Or(q.Get("sort_by"), "create_at"), cmp.Or(q.Get("order"), "desc")
	if !slices.Contains([]string{"create_at", "model_version", "model_size"}, sortBy) {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("sort_by %q is invalid: want create_at, model_version or model_size", clip(sortBy)))
		return
	}
	if order != "asc" && order != "desc" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("order %q is invalid: want asc or desc", clip(order)))
		return
	}
	all, err := h.allOfKind(ctx, project, registry.KindModel)
	if err != nil {
		h.registryError(w, r, err, "ModelArts.3001", "ModelArts.3002")
		return
	}
	var out []registry.Artifact
	for _, m := range all {
		switch {
		case name != "" && exact && m.Name != name,
			name != "" && !exact && !strings.Contains(strings.ToLower(m.Name), strings.ToLower(name)),
			version != "" && m.Version != version,
			status != "" && status != "published",
			desc != "" && !strings.Contains(strings.ToLower(m.Description), strings.ToLower(desc)),
			mtype != "" && m.Labels[labelModelType] != mtype,
			notType != "" && m.Labels[labelModelType] == notType,
			cmp.Or(m.Labels[labelWorkspace], "0") != workspace:
			continue
		}
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b registry.Artifact) int {
		c := 0
		if sortBy == "model_version" {
			va, vb := versionParts(a.Version), versionParts(b.Version)
			c = slices.Compare(va[:], vb[:])
		}
		if c == 0 {
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if order == "desc" {
			c = -c
		}
		return c
	})
	items := []map[string]any{}
	for _, m := range page(out, offset, limit) {
		items = append(items, modelView(m, false))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"models": items, "total_count": len(out), "count": len(items)})
}

// failedItem is one item of delete_failed_list, with the message under
// both names the seeds use.
type failedItem struct {
	ModelID      string `json:"model_id"`
	ErrorCode    string `json:"error_code"`
	ErrorMsg     string `json:"error_msg"`
	ErrorMessage string `json:"error_message"`
}

type deleteReport struct {
	Success []string     `json:"delete_success_list"`
	Failed  []failedItem `json:"delete_failed_list"`
}

func failure(id, code, msg string) failedItem {
	switch code {
	case registry.CodeDeployed:
		return failedItem{id, "ModelArts.3009", fmt.Sprintf("Failed to delete model, model (%s) already deploy service.", id), ""}
	case registry.CodeForbidden:
		return failedItem{id, "ModelArts.3010", msg, ""}
	case registry.CodeNotFound:
		return failedItem{id, "ModelArts.3001", msg, ""}
	}
	return failedItem{id, "ModelArts.0105", msg, ""}
}

func (h *handler) deleteModel(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	cascade := false
	if s, ok := r.URL.Query()["cascade"]; ok {
		switch v := strings.ToLower(s[0]); v {
		case "true":
			cascade = true
		case "false", "":
		default:
			writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("cascade %q is invalid: want true or false", clip(s[0])))
			return
		}
	}
	m, ok := h.lookupModel(w, r, ctx, project, r.PathValue("model_id"), "ModelArts.3001")
	if !ok {
		return
	}
	res, err := h.reg.Delete(ctx, m.ID, registry.DeleteOptions{Hard: true, Cascade: cascade})
	var re *registry.Error
	if err != nil && !(errors.As(err, &re) && re.Code != registry.CodeInvalid && re.Code != registry.CodeNotFound && re.Code != registry.CodeForbidden) {
		h.registryError(w, r, err, "ModelArts.3001", "ModelArts.3002")
		return
	}
	report := deleteReport{Success: []string{}, Failed: []failedItem{}}
	report.Success = append(report.Success, res.Deleted...)
	for _, f := range res.Failed {
		report.Failed = append(report.Failed, failure(f.ID, f.Code, f.Message))
	}
	if err != nil && len(report.Failed) == 0 {
		report.Failed = append(report.Failed, failure(m.ID, re.Code, re.Message))
	}
	if len(report.Success) == 0 {
		for _, f := range res.Failed {
			if f.ID == m.ID && f.Code == registry.CodeForbidden {
				writeError(w, r, http.StatusForbidden, "ModelArts.3010", f.Message)
				return
			}
		}
	}
	for i := range report.Failed {
		report.Failed[i].ErrorMessage = report.Failed[i].ErrorMsg
	}
	httpx.WriteJSON(w, http.StatusOK, report)
}
