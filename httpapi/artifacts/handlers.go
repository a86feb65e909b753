package artifacts

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// Metadata is the spec's ArtifactMetadata.
type Metadata struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Data is the spec's ArtifactData; Name is accepted on input only.
type Data struct {
	URL         *string `json:"url"`
	Name        *string `json:"name,omitempty"`
	DownloadURL *string `json:"download_url,omitempty"`
}

// Artifact is the spec's Artifact.
type Artifact struct {
	Metadata *Metadata `json:"metadata"`
	Data     *Data     `json:"data"`
}

func view(a registry.Artifact) Artifact {
	u := ""
	if len(a.StorageURIs) > 0 {
		u = a.StorageURIs[0]
	}
	return Artifact{Metadata: &Metadata{Name: a.Name, ID: a.ID, Type: string(a.Kind)}, Data: &Data{URL: &u, DownloadURL: &u}}
}

func metadata(a registry.Artifact) Metadata {
	return Metadata{Name: a.Name, ID: a.ID, Type: string(a.Kind)}
}

// checkURL validates an artifact URL: an absolute URI with a scheme and a
// host (or an opaque part), within the registry's limit.
func checkURL(s string) string {
	if s == "" {
		return "url is empty."
	}
	if len(s) > registry.MaxURILength {
		return fmt.Sprintf("url is longer than %d bytes.", registry.MaxURILength)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") {
		return "url must be an absolute URI, like https://huggingface.co/org/model."
	}
	return ""
}

// nameFromURL is the last non-empty path segment of the URL, else its host.
func nameFromURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	p := strings.TrimRight(u.Path, "/")
	if p != "" {
		if b := path.Base(p); b != "/" && b != "." {
			return b
		}
	}
	return u.Host
}

// checkName validates an ArtifactName.
func checkName(name string) string {
	switch {
	case name == "":
		return "name is empty."
	case name == "*":
		return "name \"*\" is reserved."
	case len([]rune(name)) > registry.MaxNameLength:
		return fmt.Sprintf("name is longer than %d characters.", registry.MaxNameLength)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '"' {
			return "name has a control character or a double quote."
		}
	}
	return ""
}

func (h *handler) create(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	k, ok := kind(r.PathValue("artifact_type"))
	if !ok {
		writeError(w, http.StatusBadRequest, "artifact_type must be model, dataset or code.")
		return
	}
	var d Data
	if err := httpx.DecodeJSON(w, r, h.limit, &d, true); err != nil {
		bodyError(w, err)
		return
	}
	if d.URL == nil {
		writeError(w, http.StatusBadRequest, "url is required.")
		return
	}
	if msg := checkURL(*d.URL); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	name := nameFromURL(*d.URL)
	if d.Name != nil {
		name = *d.Name
	}
	if msg := checkName(name); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	a, err := h.reg.Register(ctx, registry.Artifact{Kind: k, Namespace: h.ns, Name: name, Version: string(k),
		StorageURIs: []string{*d.URL}})
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, view(a))
}

func (h *handler) get(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	a, ok := h.target(w, r, ctx)
	if !ok {
		return
	}
	httpx.WriteJSON(w, http.StatusOK, view(a))
}

func (h *handler) update(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	k, ok := kind(r.PathValue("artifact_type"))
	if !ok {
		writeError(w, http.StatusBadRequest, "artifact_type must be model, dataset or code.")
		return
	}
	var body Artifact
	if err := httpx.DecodeJSON(w, r, h.limit, &body, true); err != nil {
		bodyError(w, err)
		return
	}
	switch {
	case body.Metadata == nil:
		writeError(w, http.StatusBadRequest, "metadata is required.")
		return
	case body.Data == nil || body.Data.URL == nil:
		writeError(w, http.StatusBadRequest, "data.url is required.")
		return
	case body.Data.Name != nil:
		writeError(w, http.StatusBadRequest, "data.name is not a field of Artifact; the name is metadata.name.")
		return
	case body.Metadata.ID != r.PathValue("id"):
		writeError(w, http.StatusBadRequest, "metadata.id must be the id of the path.")
		return
	case body.Metadata.Type != string(k):
		writeError(w, http.StatusBadRequest, "metadata.type must be the artifact_type of the path.")
		return
	}
	if msg := checkURL(*body.Data.URL); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	a, ok := h.target(w, r, ctx)
	if !ok {
		return
	}
	if body.Metadata.Name != a.Name {
		writeError(w, http.StatusBadRequest, "metadata.name must be the artifact's name.")
		return
	}
	a.StorageURIs = []string{*body.Data.URL}
	a, err := h.reg.Update(ctx, a)
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, view(a))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	a, ok := h.target(w, r, ctx)
	if !ok {
		return
	}
	if _, err := h.reg.Delete(ctx, a.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach}); err != nil {
		h.registryError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "deleted", "id": a.ID})
}

// LineageNode is a node of the spec's ArtifactLineageGraph.
type LineageNode struct {
	ArtifactID string         `json:"artifact_id"`
	Name       string         `json:"name"`
	Source     string         `json:"source"`
	Metadata   map[string]any `json:"metadata,omitempty"`
}

// LineageEdge is an edge of the spec's ArtifactLineageGraph, upstream →
// downstream.
type LineageEdge struct {
	From         string `json:"from_node_artifact_id"`
	To           string `json:"to_node_artifact_id"`
	Relationship string `json:"relationship"`
}

// LineageGraph is the spec's ArtifactLineageGraph.
type LineageGraph struct {
	Nodes []LineageNode `json:"nodes"`
	Edges []LineageEdge `json:"edges"`
}

func lineageNode(a registry.Artifact) LineageNode {
	md := map[string]any{"type": string(a.Kind)}
	if len(a.DeletedUpstreams) > 0 {
		md["deleted_upstreams"] = a.DeletedUpstreams
	}
	return LineageNode{ArtifactID: a.ID, Name: a.Name, Source: "registry", Metadata: md}
}

func (h *handler) lineage(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	a, ok := h.target(w, r, ctx)
	if !ok {
		return
	}
	g, err := h.reg.Lineage(ctx, a.ID, registry.Both, registry.MaxLineageDepth)
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	out := LineageGraph{Nodes: []LineageNode{lineageNode(g.Root)}, Edges: []LineageEdge{}}
	in := map[string]bool{g.Root.ID: true}
	for _, n := range g.Nodes {
		if n.Namespace == h.ns {
			in[n.ID] = true
			out.Nodes = append(out.Nodes, lineageNode(n))
		}
	}
	for _, e := range g.Edges {
		if in[e.Upstream] && in[e.Downstream] {
			out.Edges = append(out.Edges, LineageEdge{From: e.Upstream, To: e.Downstream, Relationship: "lineage"})
		}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// all lists every live artifact of the namespace, in (name, type) order;
// with name, only that name.
func (h *handler) all(ctx context.Context, name string) ([]registry.Artifact, error) {
	var out []registry.Artifact
	f := registry.Filter{Namespace: h.ns, Name: name, Limit: 1000}
	for {
		p, err := h.reg.List(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		f.Cursor = p.Next
	}
}

func (h *handler) byName(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	name := r.PathValue("name")
	if msg := checkName(name); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	list, err := h.all(ctx, name)
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	if len(list) == 0 {
		writeError(w, http.StatusNotFound, "No such artifact.")
		return
	}
	out := make([]Metadata, 0, len(list))
	for _, a := range list {
		out = append(out, metadata(a))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// maxRegex bounds a byRegEx pattern; Go's regexp runs in linear time, so a
// pattern cannot make the server spin.
const maxRegex = 1000

func (h *handler) byRegEx(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	var body struct {
		Regex *string `json:"regex"`
	}
	if err := httpx.DecodeJSON(w, r, h.limit, &body, true); err != nil {
		bodyError(w, err)
		return
	}
	if body.Regex == nil || *body.Regex == "" {
		writeError(w, http.StatusBadRequest, "regex is required.")
		return
	}
	if len(*body.Regex) > maxRegex {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("regex is longer than %d bytes.", maxRegex))
		return
	}
	re, err := regexp.Compile(*body.Regex)
	if err != nil {
		writeError(w, http.StatusBadRequest, "regex is not a valid regular expression: "+err.Error())
		return
	}
	list, err := h.all(ctx, "")
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	out := []Metadata{}
	for _, a := range list {
		if re.MatchString(a.Name) {
			out = append(out, metadata(a))
		}
	}
	if len(out) == 0 {
		writeError(w, http.StatusNotFound, "No artifact found under this regex.")
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// Query is the spec's ArtifactQuery.
type Query struct {
	Name  *string  `json:"name"`
	Types []string `json:"types,omitempty"`
}

func (h *handler) query(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	offset := 0
	if s, ok := r.URL.Query()["offset"]; ok {
		n, err := strconv.Atoi(s[0])
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "offset must be a page index, an integer from 0.")
			return
		}
		offset = n
	}
	var qs []Query
	if err := httpx.DecodeJSON(w, r, h.limit, &qs, true); err != nil {
		bodyError(w, err)
		return
	}
	if len(qs) == 0 {
		writeError(w, http.StatusBadRequest, "give at least one ArtifactQuery.")
		return
	}
	for i, q := range qs {
		if q.Name == nil || *q.Name == "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("query %d: name is required.", i))
			return
		}
		for _, t := range q.Types {
			if _, ok := kind(t); !ok {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("query %d: type %q must be model, dataset or code.", i, t))
				return
			}
		}
	}
	list, err := h.all(ctx, "")
	if err != nil {
		h.registryError(w, r, err)
		return
	}
	var out []Metadata
	for _, a := range list {
		if slices.ContainsFunc(qs, func(q Query) bool {
			return (*q.Name == "*" || *q.Name == a.Name) && (len(q.Types) == 0 || slices.Contains(q.Types, string(a.Kind)))
		}) {
			out = append(out, metadata(a))
		}
	}
	page := []Metadata{}
	if offset <= len(out)/PageSize {
		page = out[min(offset*PageSize, len(out)):min((offset+1)*PageSize, len(out))]
	}
	w.Header().Set("offset", strconv.Itoa(min(offset, len(out)/PageSize+1)+1))
	httpx.WriteJSON(w, http.StatusOK, page)
}

func (h *handler) reset(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if err := h.reg.Reset(ctx); err != nil {
		if errors.Is(err, registry.ErrForbidden) {
			writeError(w, http.StatusUnauthorized, "You do not have permission to reset the registry.")
			return
		}
		h.registryError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "reset"})
}
