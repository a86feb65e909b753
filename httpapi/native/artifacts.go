package native

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// artifactInput is what register and update take: the identity and the
// metadata of an artifact, nothing the registry keeps itself.
type artifactInput struct {
	ID          string            `json:"id,omitempty"`
	Kind        registry.Kind     `json:"kind,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Name        string            `json:"name,omitempty"`
	Version     string            `json:"version,omitempty"`
	Parent      string            `json:"parent,omitempty"`
	DisplayName string            `json:"displayName,omitempty"`
	Description string            `json:"description,omitempty"`
	Algorithm   string            `json:"algorithm,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Owners      []string          `json:"owners,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	StorageURIs []string          `json:"storageUris,omitempty"`
}

func (in artifactInput) artifact() registry.Artifact {
	return registry.Artifact{ID: in.ID, Kind: in.Kind, Namespace: in.Namespace, Name: in.Name, Version: in.Version,
		Parent: in.Parent, DisplayName: in.DisplayName, Description: in.Description, Algorithm: in.Algorithm,
		Tags: in.Tags, Owners: in.Owners, Labels: in.Labels, StorageURIs: in.StorageURIs}
}

// maxBatch is the most artifacts one batch registers.
const maxBatch = 1000

type artifactList struct {
	Items []registry.Artifact `json:"items"`
}

// artifactPage is registry.Page with links to the neighbouring pages.
type artifactPage struct {
	registry.Page
	NextLink string `json:"next,omitempty"`
	PrevLink string `json:"prev,omitempty"`
}

func artifactURL(id string) string { return "/v1/artifacts/" + url.PathEscape(id) }

// writeArtifact answers one artifact with its ETag.
func writeArtifact(w http.ResponseWriter, status int, a registry.Artifact) {
	w.Header().Set("ETag", etag(a))
	httpx.WriteJSON(w, status, a)
}

func (h *handler) register(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	var in artifactInput
	if err := h.decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := h.Registry.Register(ctx, in.artifact())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", artifactURL(a.ID))
	writeArtifact(w, http.StatusCreated, a)
}

func (h *handler) registerBatch(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	var in struct {
		Items []artifactInput `json:"items"`
	}
	if err := h.decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	if len(in.Items) == 0 || len(in.Items) > maxBatch {
		h.writeError(w, r, invalid("items", fmt.Sprintf("items holds %d artifacts; a batch holds 1 to %d", len(in.Items), maxBatch)))
		return
	}
	batch := make([]registry.Artifact, len(in.Items))
	for i, x := range in.Items {
		batch[i] = x.artifact()
	}
	out, err := h.Registry.RegisterBatch(ctx, batch)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, artifactList{Items: out})
}

// read answers GET of one artifact found by find.
func (h *handler) read(w http.ResponseWriter, r *http.Request, find func(registry.Include) (registry.Artifact, error)) {
	p, ok := h.query(w, r, "include")
	if !ok {
		return
	}
	inc, err := p.include()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := find(inc)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeArtifact(w, http.StatusOK, a)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.read(w, r, func(inc registry.Include) (registry.Artifact, error) {
		return h.Registry.Get(ctx, r.PathValue("id"), inc)
	})
}

func (h *handler) getByFQN(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.read(w, r, func(inc registry.Include) (registry.Artifact, error) {
		return h.Registry.GetByFQN(ctx, r.PathValue("fqn"), inc)
	})
}

func (h *handler) getUnversioned(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.read(w, r, func(inc registry.Include) (registry.Artifact, error) {
		return h.Registry.GetVersion(ctx, r.PathValue("namespace"), r.PathValue("name"), "", inc)
	})
}

func (h *handler) getVersion(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.read(w, r, func(inc registry.Include) (registry.Artifact, error) {
		return h.Registry.GetVersion(ctx, r.PathValue("namespace"), r.PathValue("name"), r.PathValue("version"), inc)
	})
}

func (h *handler) update(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	rev, err := ifMatch(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in artifactInput
	if err := h.decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if in.ID != "" && in.ID != id {
		h.writeError(w, r, invalid("id", fmt.Sprintf("the body's id %q is not the path's %q; leave it out or give the same", clip(in.ID), clip(id))))
		return
	}
	if rev < 0 {
		h.unmatchable(w, r)
		return
	}
	a := in.artifact()
	a.ID = id
	out, err := h.Registry.Update(ctx, a, registry.UpdateOptions{IfRevision: rev})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeArtifact(w, http.StatusOK, out)
}

// unmatchable answers an If-Match that names no revision (a weak or a
// foreign tag): it can never match, so the precondition fails.
func (h *handler) unmatchable(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, &problem{Status: http.StatusPreconditionFailed, Code: registry.CodePreconditionFailed, Field: "If-Match",
		Detail: fmt.Sprintf("If-Match %q names no revision of this registry (a weak tag never matches); give the ETag you read", clip(r.Header.Get("If-Match")))})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	p, ok := h.query(w, r, "namespace", "name", "kind", "parent", "include", "limit", "cursor", "before")
	if !ok {
		return
	}
	f := registry.Filter{Namespace: p.str("namespace"), Name: p.str("name"), Kind: registry.Kind(p.str("kind")), Parent: p.str("parent")}
	h.page(w, r, ctx, p, f)
}

func (h *handler) listVersions(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	p, ok := h.query(w, r, "include", "limit", "cursor", "before")
	if !ok {
		return
	}
	h.page(w, r, ctx, p, registry.Filter{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")})
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, ctx context.Context, p params, f registry.Filter) {
	var err error
	if f.Include, err = p.include(); err != nil {
		h.writeError(w, r, err)
		return
	}
	limit, err := p.integer("limit", 1, 1000)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if f.Kind != "" && f.Kind != registry.KindModel && f.Kind != registry.KindDataset && f.Kind != registry.KindCode {
		h.writeError(w, r, invalid("kind", fmt.Sprintf("kind must be model, dataset or code, not %q", clip(string(f.Kind)))))
		return
	}
	f.Limit, f.Cursor, f.Before = int(limit), p.str("cursor"), p.str("before")
	if p.has("cursor") && f.Cursor == "" || p.has("before") && f.Before == "" {
		h.writeError(w, r, invalid("cursor", "an empty cursor names no page; leave the parameter out for the first page"))
		return
	}
	pg, err := h.Registry.List(ctx, f)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if pg.Items == nil {
		pg.Items = []registry.Artifact{}
	}
	out := artifactPage{Page: pg}
	link := func(set, drop, cursor string) string {
		q := r.URL.Query()
		q.Del(drop)
		q.Set(set, cursor)
		return r.URL.Path + "?" + q.Encode()
	}
	var links []string
	if pg.Next != "" {
		out.NextLink = link("cursor", "before", pg.Next)
		links = append(links, "<"+out.NextLink+`>; rel="next"`)
	}
	if pg.Prev != "" {
		out.PrevLink = link("before", "cursor", pg.Prev)
		links = append(links, "<"+out.PrevLink+`>; rel="prev"`)
	}
	for _, l := range links {
		w.Header().Add("Link", l)
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) lineage(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	p, ok := h.query(w, r, "direction", "depth", "include")
	if !ok {
		return
	}
	dir := registry.Direction(p.str("direction"))
	switch dir {
	case "":
		dir = registry.Both
	case registry.Upstream, registry.Downstream, registry.Both:
	default:
		h.writeError(w, r, invalid("direction", fmt.Sprintf("direction must be upstream, downstream or both, not %q", clip(string(dir)))))
		return
	}
	depth, err := p.integer("depth", 1, registry.MaxLineageDepth)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if depth == 0 {
		depth = 1
	}
	inc, err := p.include()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	g, err := h.Registry.Lineage(ctx, r.PathValue("id"), dir, int(depth), inc)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if g.Nodes == nil {
		g.Nodes = []registry.Artifact{}
	}
	if g.Edges == nil {
		g.Edges = []registry.Edge{}
	}
	httpx.WriteJSON(w, http.StatusOK, g)
}

func (h *handler) deploy(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.deployment(w, r, ctx, h.Registry.Deploy)
}

func (h *handler) undeploy(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.deployment(w, r, ctx, h.Registry.Undeploy)
}

func (h *handler) deployment(w http.ResponseWriter, r *http.Request, ctx context.Context, call func(context.Context, string, string) error) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	id := r.PathValue("id")
	if err := call(ctx, id, r.PathValue("endpoint")); err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := h.Registry.Get(ctx, id, registry.IncludeAll)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeArtifact(w, http.StatusOK, a)
}

type edgeInput struct {
	Upstream   string `json:"upstream"`
	Downstream string `json:"downstream"`
}

func (h *handler) link(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	var in edgeInput
	if err := h.decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.Registry.Link(ctx, in.Upstream, in.Downstream); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/lineage/"+url.PathEscape(in.Upstream)+"/"+url.PathEscape(in.Downstream))
	httpx.WriteJSON(w, http.StatusCreated, in)
}

func (h *handler) unlink(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	if err := h.Registry.Unlink(ctx, r.PathValue("upstream"), r.PathValue("downstream")); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
