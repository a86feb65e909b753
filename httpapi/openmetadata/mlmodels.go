package openmetadata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// modelFields are the values MlModelResource accepts in fields.
var modelFields = []string{"owners", "dashboard", "followers", "tags", "usageSummary", "extension", "domains", "sourceHash"}

// service returns the artifact of the named service, in any state.
func (h *handler) service(ctx context.Context, name string) (registry.Artifact, error) {
	if name == "" || strings.Contains(name, "::") {
		return registry.Artifact{}, registry.ErrNotFound
	}
	svc, err := h.reg.GetVersion(ctx, name, serviceName, "", registry.IncludeAll)
	if err != nil {
		if errors.Is(err, registry.ErrInvalid) {
			return registry.Artifact{}, registry.ErrNotFound
		}
		return registry.Artifact{}, err
	}
	if !isService(svc) {
		return registry.Artifact{}, registry.ErrNotFound
	}
	return svc, nil
}

func isService(a registry.Artifact) bool {
	return a.Kind == registry.KindModel && a.Name == serviceName && a.Version == "" && a.Parent == ""
}

// asModel returns the service of a if a is an ML model of this dialect: a
// model-kind, unversioned artifact directly inside its namespace's service.
func (h *handler) asModel(ctx context.Context, a registry.Artifact) (registry.Artifact, error) {
	if a.Kind != registry.KindModel || a.Version != "" || a.Name == serviceName || a.Parent == "" {
		return registry.Artifact{}, registry.ErrNotFound
	}
	svc, err := h.service(ctx, a.Namespace)
	if err != nil {
		return registry.Artifact{}, err
	}
	if svc.ID != a.Parent {
		return registry.Artifact{}, registry.ErrNotFound
	}
	return svc, nil
}

// modelByID finds a model by ID under the include; a malformed ID is not
// found, as OpenMetadata's UUID path parameter answers.
func (h *handler) modelByID(ctx context.Context, id string, inc registry.Include) (a, svc registry.Artifact, err error) {
	if _, perr := uuid.Parse(id); perr != nil || len(id) != 36 {
		return a, svc, registry.ErrNotFound
	}
	if a, err = h.reg.Get(ctx, id, inc); err != nil {
		return a, svc, err
	}
	svc, err = h.asModel(ctx, a)
	return a, svc, err
}

// modelByFQN finds a model by its FQN, service.name.
func (h *handler) modelByFQN(ctx context.Context, fqn string, inc registry.Include) (a, svc registry.Artifact, err error) {
	ns, name, version, perr := registry.ParseFQN(fqn)
	if perr != nil || version != "" {
		return a, svc, registry.ErrNotFound
	}
	if a, err = h.reg.GetVersion(ctx, ns, name, "", inc); err != nil {
		if errors.Is(err, registry.ErrInvalid) {
			err = registry.ErrNotFound
		}
		return a, svc, err
	}
	svc, err = h.asModel(ctx, a)
	return a, svc, err
}

func (h *handler) getModel(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.readModel(w, r, ctx, r.PathValue("id"), h.modelByID)
}

// getModelPair serves the two GET routes of two segments, which one
// pattern each would make ambiguous for /name/versions: /name/{fqn} and
// /{id}/versions.
func (h *handler) getModelPair(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	first, second := r.PathValue("first"), r.PathValue("second")
	switch {
	case first == "name":
		h.readModel(w, r, ctx, second, h.modelByFQN)
	case second == "versions":
		h.modelVersions(w, r, ctx, first)
	default:
		writeError(w, r, http.StatusNotFound, "HTTP 404 Not Found")
	}
}

type modelFinder func(ctx context.Context, key string, inc registry.Include) (a, svc registry.Artifact, err error)

func (h *handler) readModel(w http.ResponseWriter, r *http.Request, ctx context.Context, key string, find modelFinder) {
	if err := fieldsParam(r, modelFields); err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	inc, err := includeParam(r, registry.IncludeNonDeleted)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	a, svc, err := find(ctx, key, inc)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, renderModel(a, svc, baseURL(r)))
}

// decodeCreateModel reads and validates a CreateMlModel.
func (h *handler) decodeCreateModel(w http.ResponseWriter, r *http.Request) (*createMlModel, error) {
	var c createMlModel
	if err := h.decodeStrict(w, r, &c); err != nil {
		return nil, err
	}
	var missing []string
	if err := checkEntityName("name", c.Name); err != nil {
		missing = append(missing, strings.Trim(err.Error(), "[]"))
	}
	if c.Algorithm == nil {
		missing = append(missing, "algorithm must not be null")
	}
	if c.Service == nil {
		missing = append(missing, "service must not be null")
	}
	if len(missing) > 0 {
		return nil, invalidf("[" + strings.Join(missing, ", ") + "]")
	}
	return &c, nil
}

func (h *handler) createModel(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	c, err := h.decodeCreateModel(w, r)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	svc, err := h.liveService(ctx, *c.Service)
	if err != nil {
		h.fail(w, r, ctx, err, typeService, *c.Service)
		return
	}
	a, err := modelArtifact(c, svc, nil)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	if a, err = h.reg.Register(ctx, a); err != nil {
		h.fail(w, r, ctx, err, typeModel, *c.Name)
		return
	}
	m := renderModel(a, svc, baseURL(r))
	w.Header().Set("Location", m.Href)
	httpx.WriteJSON(w, http.StatusCreated, m)
}

// liveService finds the service a CreateMlModel names by its FQN.
func (h *handler) liveService(ctx context.Context, fqn string) (registry.Artifact, error) {
	svc, err := h.service(ctx, unquoteService(fqn))
	if err == nil && svc.Deleted {
		err = registry.ErrNotFound
	}
	return svc, err
}

// upsertModel is PUT /api/v1/mlmodels: create, update, or restore and
// update a soft-deleted model of the same FQN.
func (h *handler) upsertModel(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	c, err := h.decodeCreateModel(w, r)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	svc, err := h.liveService(ctx, *c.Service)
	if err != nil {
		h.fail(w, r, ctx, err, typeService, *c.Service)
		return
	}
	fqn := registry.BuildFQN(svc.Namespace, *c.Name, "")
	old, err := h.reg.GetVersion(ctx, svc.Namespace, *c.Name, "", registry.IncludeAll)
	if errors.Is(err, registry.ErrNotFound) {
		a, err := modelArtifact(c, svc, nil)
		if err == nil {
			a, err = h.reg.Register(ctx, a)
		}
		if err != nil {
			h.fail(w, r, ctx, err, typeModel, fqn)
			return
		}
		m := renderModel(a, svc, baseURL(r))
		w.Header().Set("Location", m.Href)
		w.Header().Set(ChangeHeader, "entityCreated")
		httpx.WriteJSON(w, http.StatusCreated, m)
		return
	}
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, fqn)
		return
	}
	if old.Parent != svc.ID || old.Kind != registry.KindModel {
		// Another dialect's artifact holds the name.
		h.fail(w, r, ctx, registry.ErrAlreadyExists, typeModel, fqn)
		return
	}
	a, err := modelArtifact(c, svc, old.Labels)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, fqn)
		return
	}
	a.ID, a.Parent = old.ID, ""
	change := "entityUpdated"
	if old.Deleted {
		// Restore and Update are two calls: check the update first, so
		// that a bad request never leaves the model restored.
		if err := validate(a); err != nil {
			h.fail(w, r, ctx, err, typeModel, fqn)
			return
		}
		if _, err := h.reg.Restore(ctx, old.ID); err != nil {
			h.fail(w, r, ctx, err, typeModel, fqn)
			return
		}
	}
	updated, err := h.reg.Update(ctx, a)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, fqn)
		return
	}
	if !old.Deleted && updated.Revision == old.Revision {
		change = "entityNoChange"
	}
	w.Header().Set(ChangeHeader, change)
	httpx.WriteJSON(w, http.StatusOK, renderModel(updated, svc, baseURL(r)))
}

func (h *handler) deleteModel(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.removeModel(w, r, ctx, r.PathValue("id"), h.modelByID)
}

func (h *handler) deleteModelByName(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.removeModel(w, r, ctx, r.PathValue("fqn"), h.modelByFQN)
}

// deleteParams reads hardDelete and recursive.
func deleteParams(r *http.Request) (registry.DeleteOptions, error) {
	hard, err := boolParam(r, "hardDelete")
	if err != nil {
		return registry.DeleteOptions{}, err
	}
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return registry.DeleteOptions{}, err
	}
	// Atomic: an OpenMetadata delete either happens or fails; it never
	// reports a half-done subtree.
	return registry.DeleteOptions{Hard: hard, Recursive: recursive, Atomic: true}, nil
}

// removeModel deletes a model. A soft delete answers 200 with the entity
// (a second soft delete too, as OpenMetadata finds the target with
// include=all); a hard delete answers 204 with no body, as seed 000 says.
func (h *handler) removeModel(w http.ResponseWriter, r *http.Request, ctx context.Context, key string, find modelFinder) {
	opts, err := deleteParams(r)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	a, svc, err := find(ctx, key, registry.IncludeAll)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	if !opts.Hard && a.Deleted {
		w.Header().Set(ChangeHeader, "entitySoftDeleted")
		httpx.WriteJSON(w, http.StatusOK, renderModel(a, svc, baseURL(r)))
		return
	}
	if _, err := h.reg.Delete(ctx, a.ID, opts); err != nil {
		h.fail(w, r, ctx, err, typeModel, key)
		return
	}
	if opts.Hard {
		w.Header().Set(ChangeHeader, "entityDeleted")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if now, err := h.reg.Get(ctx, a.ID, registry.IncludeAll); err == nil {
		a = now
	} else {
		a.Deleted = true
	}
	w.Header().Set(ChangeHeader, "entitySoftDeleted")
	httpx.WriteJSON(w, http.StatusOK, renderModel(a, svc, baseURL(r)))
}

// restoreEntity is RestoreEntity: {"id": "<uuid>"}.
type restoreEntity struct {
	ID *string `json:"id"`
}

func (h *handler) restoreModel(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	var body restoreEntity
	if err := h.decodeStrict(w, r, &body); err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	if body.ID == nil {
		h.fail(w, r, ctx, invalidf("[id must not be null]"), typeModel, "")
		return
	}
	a, svc, err := h.modelByID(ctx, *body.ID, registry.IncludeAll)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, *body.ID)
		return
	}
	if a, err = h.reg.Restore(ctx, a.ID); err != nil {
		h.fail(w, r, ctx, err, typeModel, *body.ID)
		return
	}
	w.Header().Set(ChangeHeader, "entityRestored")
	httpx.WriteJSON(w, http.StatusOK, renderModel(a, svc, baseURL(r)))
}

// entityHistory is EntityHistory: the versions of an entity, newest first,
// each the entity's JSON as a string.
type entityHistory struct {
	EntityType string   `json:"entityType"`
	Versions   []string `json:"versions"`
}

// history returns the versions of a model the registry can tell, newest
// first: the current one, and before it every version that differs from
// the next only by what a soft delete, a restore, a deploy or an undeploy
// changes (deleted, updatedAt, updatedBy), read from the registry's audit
// log (Events). It stops at the first change that replaced metadata, or
// whose event the bounded audit log no longer holds. It reads the whole
// audit log: time linear in its size (10,000 events by default).
func (h *handler) history(ctx context.Context, a registry.Artifact) ([]registry.Artifact, error) {
	byRev := map[int64]registry.Event{}
	var after uint64
	for {
		evs, err := h.reg.Events(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, ev := range evs {
			if ev.ArtifactID == a.ID {
				byRev[ev.Revision] = ev
			}
		}
		if len(evs) < 1000 {
			break
		}
		after = evs[len(evs)-1].Seq
	}
	out := []registry.Artifact{a}
	next := a
	for rev := a.Revision - 1; rev >= 1; rev-- {
		change, ok := byRev[rev+1]
		at, known := byRev[rev]
		if !ok || !known || at.Type == registry.EventDeleted {
			break
		}
		prev := next
		switch change.Type {
		case registry.EventSoftDeleted:
			prev.Deleted = false
		case registry.EventRestored:
			prev.Deleted = true
		case registry.EventDeployed, registry.EventUndeployed:
		default:
			return out, nil
		}
		prev.Revision, prev.UpdatedAt, prev.UpdatedBy = rev, at.Time, at.Principal
		out = append(out, prev)
		next = prev
	}
	return out, nil
}

// modelVersions lists the versions history finds, newest first, each the
// entity's JSON as a string.
func (h *handler) modelVersions(w http.ResponseWriter, r *http.Request, ctx context.Context, id string) {
	a, svc, err := h.modelByID(ctx, id, registry.IncludeAll)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, id)
		return
	}
	versions, err := h.history(ctx, a)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, id)
		return
	}
	out := entityHistory{EntityType: typeModel, Versions: make([]string, 0, len(versions))}
	for _, v := range versions {
		data, err := json.Marshal(renderModel(v, svc, baseURL(r)))
		if err != nil {
			h.fail(w, r, ctx, err, typeModel, id)
			return
		}
		out.Versions = append(out.Versions, string(data))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) modelVersion(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	id, v := r.PathValue("id"), r.PathValue("version")
	var want registry.EntityVersion
	if err := want.UnmarshalJSON([]byte(v)); err != nil {
		h.fail(w, r, ctx, invalidf(fmt.Sprintf("[version %q is not a number like 0.1 or 1.0]", clipped(v))), typeModel, id)
		return
	}
	a, svc, err := h.modelByID(ctx, id, registry.IncludeAll)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, id)
		return
	}
	versions, err := h.history(ctx, a)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, id)
		return
	}
	for _, ver := range versions {
		if ver.EntityVersion() == want {
			httpx.WriteJSON(w, http.StatusOK, renderModel(ver, svc, baseURL(r)))
			return
		}
	}
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("%s instance for %s and version %s not found", typeModel, id, clipped(v)))
}

// listModels is GET /api/v1/mlmodels: the models of one service (service=)
// or of every service, in (service, name) order.
func (h *handler) listModels(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	q, err := listParams(r, modelFields)
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	svcName := unquoteService(r.URL.Query().Get("service"))
	services := map[string]registry.Artifact{} // by namespace
	var l lister
	total := 0
	if svcName != "" {
		svc, err := h.service(ctx, svcName)
		if errors.Is(err, registry.ErrNotFound) {
			httpx.WriteJSON(w, http.StatusOK, resultList[mlModel]{Data: []mlModel{}})
			return
		}
		if err != nil {
			h.fail(w, r, ctx, err, typeModel, "")
			return
		}
		services[svc.Namespace] = svc
		l = lister{reg: h.reg, ctx: ctx, base: registry.Filter{Namespace: svc.Namespace, Kind: registry.KindModel, Parent: svc.ID, Include: q.include}}
		if total, err = h.reg.Count(ctx, l.base); err != nil {
			h.fail(w, r, ctx, err, typeModel, "")
			return
		}
	} else {
		if services, err = h.allServices(ctx); err != nil {
			h.fail(w, r, ctx, err, typeModel, "")
			return
		}
		for _, svc := range services {
			n, err := h.reg.Count(ctx, registry.Filter{Namespace: svc.Namespace, Kind: registry.KindModel, Parent: svc.ID, Include: q.include})
			if err != nil {
				h.fail(w, r, ctx, err, typeModel, "")
				return
			}
			total += n
		}
		l = lister{reg: h.reg, ctx: ctx, base: registry.Filter{Kind: registry.KindModel, Include: q.include},
			keep: func(a registry.Artifact) bool {
				svc, ok := services[a.Namespace]
				return ok && a.Parent == svc.ID && a.Version == "" && a.Name != serviceName
			}}
	}
	pos := func(cursor string) (string, error) {
		fqn, ok := decodeCursor(cursor)
		ns, name, version, err := registry.ParseFQN(fqn)
		if !ok || err != nil || version != "" || (svcName != "" && ns != svcName) {
			return "", invalidf(fmt.Sprintf("[cursor %q is not one this server gave]", clipped(cursor)))
		}
		return registry.CursorAt(ns, name, ""), nil
	}
	items, pg, err := q.page(l, pos, func(a registry.Artifact) string { return registry.BuildFQN(a.Namespace, a.Name, "") })
	if err != nil {
		h.fail(w, r, ctx, err, typeModel, "")
		return
	}
	pg.Total = total
	out := resultList[mlModel]{Data: make([]mlModel, 0, len(items)), Paging: pg}
	base := baseURL(r)
	for _, a := range items {
		out.Data = append(out.Data, renderModel(a, services[a.Namespace], base))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// allServices returns every service artifact, in any state, by namespace.
func (h *handler) allServices(ctx context.Context) (map[string]registry.Artifact, error) {
	out := map[string]registry.Artifact{}
	f := registry.Filter{Name: serviceName, Kind: registry.KindModel, Include: registry.IncludeAll, Limit: maxChunk}
	for {
		p, err := h.reg.List(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range p.Items {
			if isService(a) {
				out[a.Namespace] = a
			}
		}
		if p.Next == "" {
			return out, nil
		}
		f.Cursor = p.Next
	}
}

// listQuery is what every list takes: fields, include, limit, before or
// after.
type listQuery struct {
	include       registry.Include
	limit         int
	before, after string
}

func listParams(r *http.Request, fields []string) (listQuery, error) {
	var q listQuery
	if err := fieldsParam(r, fields); err != nil {
		return q, err
	}
	var err error
	if q.include, err = includeParam(r, registry.IncludeNonDeleted); err != nil {
		return q, err
	}
	if q.limit, err = limitParam(r); err != nil {
		return q, err
	}
	q.before, q.after = r.URL.Query().Get("before"), r.URL.Query().Get("after")
	if q.before != "" && q.after != "" {
		return q, invalidf("Only one of before or after query parameter allowed")
	}
	return q, nil
}

// page reads the page the query asks for; pos turns an OpenMetadata cursor
// into a registry position and fqn an item into the FQN its cursor holds.
func (q listQuery) page(l lister, pos func(string) (string, error), fqn func(registry.Artifact) string) ([]registry.Artifact, paging, error) {
	var pg paging
	if q.limit == 0 {
		return nil, pg, nil
	}
	var items []registry.Artifact
	var hasPrev, hasNext bool
	var err error
	if q.before != "" {
		at, perr := pos(q.before)
		if perr != nil {
			return nil, pg, perr
		}
		items, hasPrev, hasNext, err = l.before(at, q.limit)
	} else {
		at := ""
		if q.after != "" {
			if at, err = pos(q.after); err != nil {
				return nil, pg, err
			}
		}
		items, hasPrev, hasNext, err = l.after(at, q.limit)
	}
	if err != nil {
		return nil, pg, err
	}
	if len(items) > 0 {
		if hasPrev {
			pg.Before = encodeCursor(fqn(items[0]))
		}
		if hasNext {
			pg.After = encodeCursor(fqn(items[len(items)-1]))
		}
	}
	return items, pg, nil
}

// validate checks an artifact with the registry's own rules, by
// registering a copy in an empty registry of its own: the registry exports
// no validation call, and a copy of its rules here would drift.
func validate(a registry.Artifact) error {
	scratch, err := registry.New(registry.WithAuditLogSize(1))
	if err != nil {
		return err
	}
	a.Parent = ""
	_, err = scratch.Register(context.Background(), a)
	return err
}

// unquoteService turns a service FQN into its name: "a.b" is a.b.
func unquoteService(fqn string) string {
	if len(fqn) > 2 && fqn[0] == '"' && fqn[len(fqn)-1] == '"' && strings.Contains(fqn, ".") {
		return fqn[1 : len(fqn)-1]
	}
	return fqn
}
