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

// ServicePrefix starts the registry name of a service artifact; ModelArts
// names cannot contain ':', so no model meets it.
const ServicePrefix = "::service:"

// Label keys of a service artifact.
const (
	labelServiceStatus = labelPrefix + "service.status"
	labelInferType     = labelPrefix + "service.infer_type"
	labelServiceOwner  = labelPrefix + "service.owner"
	labelServiceWS     = labelPrefix + "service.workspace_id"
	labelConfigPrefix  = labelPrefix + "service.config."
)

// maxServiceModels bounds a deploy's config list.
const maxServiceModels = 20

var serviceNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Endpoint is the registry endpoint a service deploys its models to.
func Endpoint(project, serviceID string) string {
	return "modelarts:" + project + "/services/" + serviceID
}

// configItem is one model of a service, as a deploy gives it and as the
// service's label keeps it.
type configItem struct {
	ModelID       *string        `json:"model_id"`
	Specification *string        `json:"specification"`
	InstanceCount *int           `json:"instance_count"`
	Weight        *int           `json:"weight,omitempty"`
	Envs          map[string]any `json:"envs,omitempty"`
	CustomSpec    map[string]any `json:"custom_spec,omitempty"`
}

type deployRequest struct {
	ServiceName *string      `json:"service_name"`
	InferType   *string      `json:"infer_type"`
	Config      []configItem `json:"config"`
	Description *string      `json:"description"`
	WorkspaceID *string      `json:"workspace_id"`
}

func (d *deployRequest) check() *badValue {
	switch {
	case d.ServiceName == nil:
		return missing("service_name")
	case d.InferType == nil:
		return missing("infer_type")
	case d.Config == nil:
		return missing("config")
	}
	if !serviceNameRE.MatchString(*d.ServiceName) {
		return invalid("service_name %q is invalid: want 1 to 64 letters, digits, '-' or '_'", clip(*d.ServiceName))
	}
	realTime := *d.InferType == "real-time"
	if !realTime && *d.InferType != "batch" {
		return invalid("infer_type %q is invalid: want real-time or batch", clip(*d.InferType))
	}
	if len(d.Config) == 0 || len(d.Config) > maxServiceModels {
		return invalid("config has %d models; give 1 to %d", len(d.Config), maxServiceModels)
	}
	if !realTime && len(d.Config) != 1 {
		return invalid("a batch service deploys exactly one model; config has %d", len(d.Config))
	}
	if d.Description != nil {
		if bad := checkDescription(*d.Description); bad != nil {
			return bad
		}
	}
	if d.WorkspaceID != nil && *d.WorkspaceID == "" {
		return invalid("workspace_id is empty; omit it for the default workspace \"0\"")
	}
	seen := map[string]bool{}
	weights := 0
	for i, c := range d.Config {
		switch {
		case c.ModelID == nil:
			return missing(fmt.Sprintf("config[%d].model_id", i))
		case c.Specification == nil:
			return missing(fmt.Sprintf("config[%d].specification", i))
		case c.InstanceCount == nil:
			return missing(fmt.Sprintf("config[%d].instance_count", i))
		case realTime && c.Weight == nil:
			return missing(fmt.Sprintf("config[%d].weight", i))
		}
		if !uuidRE.MatchString(*c.ModelID) {
			return invalid("config[%d].model_id %q is invalid: want a UUID", i, clip(*c.ModelID))
		}
		id := strings.ToLower(*c.ModelID)
		if seen[id] {
			return invalid("config[%d].model_id %s is listed twice", i, id)
		}
		seen[id] = true
		if s := *c.Specification; s == "" || len(s) > 64 {
			return invalid("config[%d].specification must be 1 to 64 characters, like modelarts.vm.cpu.2u or custom", i)
		}
		if *c.Specification == "custom" && c.CustomSpec == nil {
			return missing(fmt.Sprintf("config[%d].custom_spec", i))
		}
		if n := *c.InstanceCount; n < 1 || n > 5 {
			return invalid("config[%d].instance_count is %d; want 1 to 5", i, n)
		}
		if c.Weight != nil {
			if *c.Weight < 0 || *c.Weight > 100 {
				return invalid("config[%d].weight is %d; want 0 to 100", i, *c.Weight)
			}
			weights += *c.Weight
		}
	}
	if realTime && weights != 100 {
		return invalid("the weights of config sum to %d; they must sum to 100", weights)
	}
	return nil
}

func (h *handler) createService(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	var req deployRequest
	if err := httpx.DecodeJSON(w, r, h.limit, &req, false); err != nil {
		bodyError(w, r, err)
		return
	}
	if bad := req.check(); bad != nil {
		bad.write(w, r)
		return
	}
	svc := registry.Artifact{Kind: registry.KindCode, Namespace: project, Name: ServicePrefix + *req.ServiceName,
		Labels: map[string]string{labelServiceStatus: "running", labelInferType: *req.InferType,
			labelServiceOwner: registry.PrincipalFrom(ctx), labelServiceWS: "0"}}
	if req.Description != nil {
		svc.Description = *req.Description
	}
	if req.WorkspaceID != nil {
		svc.Labels[labelServiceWS] = *req.WorkspaceID
	}
	var models []string
	for i, c := range req.Config {
		id := strings.ToLower(*c.ModelID)
		*c.ModelID = id
		if _, ok := h.lookupModel(w, r, ctx, project, id, "ModelArts.3507"); !ok {
			return
		}
		data, err := json.Marshal(c)
		if err != nil || len(data) > maxLabelJSON {
			writeError(w, r, http.StatusBadRequest, "ModelArts.0104", fmt.Sprintf("config[%d] is over %d bytes as compact JSON; this server keeps at most that", i, maxLabelJSON))
			return
		}
		svc.Labels[labelConfigPrefix+strconv.Itoa(i)] = string(data)
		models = append(models, id)
	}
	stored, err := h.reg.Register(ctx, svc)
	if err != nil {
		if errors.Is(err, registry.ErrAlreadyExists) {
			writeError(w, r, http.StatusConflict, "ModelArts.3503", fmt.Sprintf("service %s already exists", *req.ServiceName))
			return
		}
		h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
		return
	}
	if err := h.deployAll(ctx, project, stored.ID, models); err != nil {
		// Undo: nothing of a failed deploy stays.
		if _, derr := h.reg.Delete(context.WithoutCancel(ctx), stored.ID, registry.DeleteOptions{Hard: true}); derr != nil {
			h.log.Error("undoing a failed deploy", "dialect", "modelarts", "service", stored.ID, "error", derr)
		}
		h.registryError(w, r, err, "ModelArts.3507", "ModelArts.3503")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"service_id": stored.ID, "resource_ids": []string{stored.ID}})
}

// deployAll deploys every model to the service's endpoint; on a failure it
// undeploys those it deployed and returns the failure.
func (h *handler) deployAll(ctx context.Context, project, serviceID string, models []string) error {
	ep := Endpoint(project, serviceID)
	for i, id := range models {
		m, err := h.reg.Get(ctx, id)
		if err == nil && !isModel(m, project) {
			err = registry.ErrNotFound
		}
		if err == nil && slices.Contains(m.Endpoints, ep) {
			continue
		}
		if err == nil {
			err = h.reg.Deploy(ctx, id, ep)
		}
		if err != nil {
			h.undeployAll(context.WithoutCancel(ctx), project, serviceID, models[:i])
			return err
		}
	}
	return nil
}

// undeployAll undeploys every model from the service's endpoint; a model
// not deployed there is skipped.
func (h *handler) undeployAll(ctx context.Context, project, serviceID string, models []string) error {
	ep := Endpoint(project, serviceID)
	for _, id := range models {
		if err := h.reg.Undeploy(ctx, id, ep); err != nil && !errors.Is(err, registry.ErrNotFound) {
			return err
		}
	}
	return nil
}

// serviceModels reads a service's config items in order.
func serviceModels(svc registry.Artifact) []configItem {
	var items []configItem
	for i := 0; ; i++ {
		s, ok := svc.Labels[labelConfigPrefix+strconv.Itoa(i)]
		if !ok {
			return items
		}
		var c configItem
		if json.Unmarshal([]byte(s), &c) == nil && c.ModelID != nil {
			items = append(items, c)
		}
	}
}

func modelIDs(items []configItem) []string {
	ids := make([]string, 0, len(items))
	for _, c := range items {
		ids = append(ids, *c.ModelID)
	}
	return ids
}

func isService(a registry.Artifact, project string) bool {
	return a.Kind == registry.KindCode && a.Namespace == project && strings.HasPrefix(a.Name, ServicePrefix)
}

func (h *handler) lookupService(w http.ResponseWriter, r *http.Request, ctx context.Context, project, id string) (registry.Artifact, bool) {
	if !uuidRE.MatchString(id) {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("invalid service_id %q: want a UUID", clip(id)))
		return registry.Artifact{}, false
	}
	svc, err := h.reg.Get(ctx, id)
	if err == nil && !isService(svc, project) {
		err = registry.ErrNotFound
	}
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			writeError(w, r, http.StatusNotFound, "ModelArts.3502", fmt.Sprintf("service %s does not exist", id))
			return registry.Artifact{}, false
		}
		h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
		return registry.Artifact{}, false
	}
	return svc, true
}

// serviceView renders a service as a list item or, with detail, with its
// config (each model's name and version looked up).
func (h *handler) serviceView(ctx context.Context, svc registry.Artifact, detail bool) map[string]any {
	l := svc.Labels
	v := map[string]any{
		"service_id": svc.ID, "service_name": strings.TrimPrefix(svc.Name, ServicePrefix),
		"description": svc.Description, "tenant": svc.Namespace, "project": svc.Namespace,
		"owner": l[labelServiceOwner], "publish_at": svc.CreatedAt.UnixMilli(), "update_time": svc.UpdatedAt.UnixMilli(),
		"infer_type": l[labelInferType], "status": l[labelServiceStatus], "progress": 100,
		"workspace_id": cmp.Or(l[labelServiceWS], "0"), "is_shared": false, "invocation_times": 0, "failed_times": 0,
	}
	if !detail {
		return v
	}
	cfg := []map[string]any{}
	for _, c := range serviceModels(svc) {
		item := map[string]any{"model_id": *c.ModelID, "specification": c.Specification, "instance_count": c.InstanceCount,
			"status": l[labelServiceStatus]}
		if c.Weight != nil {
			item["weight"] = *c.Weight
		}
		if c.Envs != nil {
			item["envs"] = c.Envs
		}
		if c.CustomSpec != nil {
			item["custom_spec"] = c.CustomSpec
		}
		if m, err := h.reg.Get(ctx, *c.ModelID); err == nil {
			item["model_name"], item["model_version"] = m.Name, m.Version
		}
		cfg = append(cfg, item)
	}
	v["config"] = cfg
	v["error_msg"] = ""
	v["access_address"] = ""
	return v
}

func (h *handler) getService(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	svc, ok := h.lookupService(w, r, ctx, project, r.PathValue("service_id"))
	if !ok {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, h.serviceView(ctx, svc, true))
}

var serviceStatuses = []string{"deploying", "running", "concerning", "failed", "stopped", "finished"}

func (h *handler) listServices(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	q := r.URL.Query()
	offset, limit, msg := paging(q)
	if msg != "" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", msg)
		return
	}
	modelID, name, status, infer := strings.ToLower(q.Get("model_id")), q.Get("service_name"), q.Get("status"), q.Get("infer_type")
	if status != "" && !slices.Contains(serviceStatuses, status) {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("status %q is invalid: want one of %s", clip(status), strings.Join(serviceStatuses, ", ")))
		return
	}
	if infer != "" && infer != "real-time" && infer != "batch" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("infer_type %q is invalid: want real-time or batch", clip(infer)))
		return
	}
	sortBy, order := cmp.Or(q.Get("sort_by"), "publish_at"), cmp.Or(q.Get("order"), "desc")
	if sortBy != "publish_at" && sortBy != "service_name" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("sort_by %q is invalid: want publish_at or service_name", clip(sortBy)))
		return
	}
	if order != "asc" && order != "desc" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0101", fmt.Sprintf("order %q is invalid: want asc or desc", clip(order)))
		return
	}
	all, err := h.allOfKind(ctx, project, registry.KindCode)
	if err != nil {
		h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
		return
	}
	var out []registry.Artifact
	for _, s := range all {
		if !isService(s, project) {
			continue
		}
		sname := strings.TrimPrefix(s.Name, ServicePrefix)
		switch {
		case name != "" && !strings.Contains(strings.ToLower(sname), strings.ToLower(name)),
			status != "" && s.Labels[labelServiceStatus] != status,
			infer != "" && s.Labels[labelInferType] != infer,
			modelID != "" && !slices.Contains(modelIDs(serviceModels(s)), modelID):
			continue
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b registry.Artifact) int {
		c := 0
		if sortBy == "service_name" {
			c = strings.Compare(a.Name, b.Name)
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
	for _, s := range page(out, offset, limit) {
		items = append(items, h.serviceView(ctx, s, false))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"services": items, "total_count": len(out), "count": len(items)})
}

type updateRequest struct {
	Status      *string         `json:"status"`
	Description *string         `json:"description"`
	Config      json.RawMessage `json:"config"`
}

func (h *handler) updateService(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	var req updateRequest
	if err := httpx.DecodeJSON(w, r, h.limit, &req, false); err != nil {
		bodyError(w, r, err)
		return
	}
	if req.Config != nil {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0104", "this server does not change a service's config; delete the service and deploy again")
		return
	}
	if req.Status == nil && req.Description == nil {
		writeError(w, r, http.StatusBadRequest, "ModelArts.3036", "give status (running or stopped) or description")
		return
	}
	if req.Status != nil && *req.Status != "running" && *req.Status != "stopped" {
		writeError(w, r, http.StatusBadRequest, "ModelArts.0104", fmt.Sprintf("status %q is invalid: want running or stopped", clip(*req.Status)))
		return
	}
	if req.Description != nil {
		if bad := checkDescription(*req.Description); bad != nil {
			bad.write(w, r)
			return
		}
	}
	svc, ok := h.lookupService(w, r, ctx, project, r.PathValue("service_id"))
	if !ok {
		return
	}
	models := modelIDs(serviceModels(svc))
	if req.Status != nil {
		var err error
		if *req.Status == "running" {
			err = h.deployAll(ctx, project, svc.ID, models)
		} else {
			err = h.undeployAll(ctx, project, svc.ID, models)
		}
		if err != nil {
			h.registryError(w, r, err, "ModelArts.3507", "ModelArts.3503")
			return
		}
		svc.Labels[labelServiceStatus] = *req.Status
	}
	if req.Description != nil {
		svc.Description = *req.Description
	}
	if _, err := h.reg.Update(ctx, svc); err != nil {
		h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}

func (h *handler) deleteServices(w http.ResponseWriter, r *http.Request, ctx context.Context, project string) {
	var svcs []registry.Artifact
	for _, id := range strings.Split(r.PathValue("service_id"), ",") {
		id = strings.TrimSpace(id)
		svc, ok := h.lookupService(w, r, ctx, project, id)
		if !ok {
			return
		}
		if !slices.ContainsFunc(svcs, func(s registry.Artifact) bool { return s.ID == svc.ID }) {
			svcs = append(svcs, svc)
		}
	}
	for _, svc := range svcs {
		if err := h.undeployAll(ctx, project, svc.ID, modelIDs(serviceModels(svc))); err != nil {
			h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
			return
		}
		if _, err := h.reg.Delete(ctx, svc.ID, registry.DeleteOptions{Hard: true}); err != nil && !errors.Is(err, registry.ErrNotFound) {
			h.registryError(w, r, err, "ModelArts.3502", "ModelArts.3503")
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, struct{}{})
}
