package openmetadata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/modelreg/registry"
)

// serviceName is the registry name of the artifact that stands for an ML
// model service in its namespace. OpenMetadata names cannot contain "::",
// so no model of the service can take it.
const serviceName = "::service"

// Entity types as OpenMetadata names them.
const (
	typeModel   = "mlmodel"
	typeService = "mlmodelService"
)

// Label keys this dialect keeps on its artifacts. Every key it owns starts
// with labelPrefix; a PUT keeps the labels it does not own.
const (
	labelPrefix      = "om."
	labelServiceType = "om.serviceType"
	labelDocPrefix   = "om.doc." // om.doc.00, om.doc.01, ...: the JSON of the fields the artifact has no place for
	docChunk         = 1000      // characters per om.doc label (the registry allows 1024)
)

// serviceTypes are the values of mlmodelService.json's serviceType.
var serviceTypes = []string{"Mlflow", "Sklearn", "CustomMlModel", "SageMaker", "VertexAI"}

// entityRef is OpenMetadata's EntityReference.
type entityRef struct {
	ID                 string `json:"id"`
	Type               string `json:"type"`
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	DisplayName        string `json:"displayName,omitempty"`
	Description        string `json:"description,omitempty"`
	Deleted            *bool  `json:"deleted,omitempty"`
	Inherited          *bool  `json:"inherited,omitempty"`
	Href               string `json:"href,omitempty"`
}

// tagLabel is OpenMetadata's TagLabel.
type tagLabel struct {
	TagFQN      string          `json:"tagFQN"`
	Name        string          `json:"name,omitempty"`
	DisplayName string          `json:"displayName,omitempty"`
	Description string          `json:"description,omitempty"`
	Style       json.RawMessage `json:"style,omitempty"`
	Source      string          `json:"source"`
	LabelType   string          `json:"labelType"`
	State       string          `json:"state"`
	Href        string          `json:"href,omitempty"`
	Reason      string          `json:"reason,omitempty"`
}

// createMlModel is CreateMlModel (additionalProperties: false).
type createMlModel struct {
	Name              *string           `json:"name"`
	DisplayName       string            `json:"displayName"`
	Description       string            `json:"description"`
	Algorithm         *string           `json:"algorithm"`
	MlFeatures        []json.RawMessage `json:"mlFeatures"`
	Target            string            `json:"target"`
	MlHyperParameters []json.RawMessage `json:"mlHyperParameters"`
	Dashboard         string            `json:"dashboard"`
	MlStore           *mlStore          `json:"mlStore"`
	Server            string            `json:"server"`
	Tags              []tagLabel        `json:"tags"`
	Owners            []entityRef       `json:"owners"`
	Service           *string           `json:"service"`
	Extension         json.RawMessage   `json:"extension"`
	SourceURL         string            `json:"sourceUrl"`
	Domains           []string          `json:"domains"`
	DataProducts      []string          `json:"dataProducts"`
	LifeCycle         json.RawMessage   `json:"lifeCycle"`
	SourceHash        string            `json:"sourceHash"`
}

// mlStore is MlStore: where the model's files and image live.
type mlStore struct {
	Storage         string `json:"storage,omitempty"`
	ImageRepository string `json:"imageRepository,omitempty"`
}

// createService is CreateMlModelService (additionalProperties: false).
type createService struct {
	Name            *string         `json:"name"`
	DisplayName     string          `json:"displayName"`
	Description     string          `json:"description"`
	ServiceType     *string         `json:"serviceType"`
	Connection      json.RawMessage `json:"connection"`
	Tags            []tagLabel      `json:"tags"`
	Owners          []entityRef     `json:"owners"`
	DataProducts    []string        `json:"dataProducts"`
	Domain          string          `json:"domain"`
	Domains         []string        `json:"domains"`
	IngestionRunner json.RawMessage `json:"ingestionRunner"`
}

// doc holds what an entity has and its artifact has no field for. It is
// stored as JSON in the artifact's om.doc.* labels, so that it lives in the
// registry with the artifact.
type doc struct {
	MlFeatures        []json.RawMessage    `json:"mlFeatures,omitempty"`
	Target            string               `json:"target,omitempty"`
	MlHyperParameters []json.RawMessage    `json:"mlHyperParameters,omitempty"`
	Dashboard         string               `json:"dashboard,omitempty"`
	MlStore           *mlStore             `json:"mlStore,omitempty"`
	Server            string               `json:"server,omitempty"`
	Extension         json.RawMessage      `json:"extension,omitempty"`
	SourceURL         string               `json:"sourceUrl,omitempty"`
	Domains           []string             `json:"domains,omitempty"`
	DataProducts      []string             `json:"dataProducts,omitempty"`
	LifeCycle         json.RawMessage      `json:"lifeCycle,omitempty"`
	SourceHash        string               `json:"sourceHash,omitempty"`
	Connection        json.RawMessage      `json:"connection,omitempty"`
	IngestionRunner   json.RawMessage      `json:"ingestionRunner,omitempty"`
	TagLabels         map[string]tagLabel  `json:"tagLabels,omitempty"` // by tagFQN, when not the defaults
	OwnerRefs         map[string]entityRef `json:"ownerRefs,omitempty"` // by the owner string kept in Artifact.Owners
}

// mlModel is the MlModel entity as this dialect answers it.
type mlModel struct {
	ID                 string                 `json:"id"`
	Name               string                 `json:"name"`
	FullyQualifiedName string                 `json:"fullyQualifiedName"`
	DisplayName        string                 `json:"displayName,omitempty"`
	Description        string                 `json:"description,omitempty"`
	Algorithm          string                 `json:"algorithm"`
	MlFeatures         []json.RawMessage      `json:"mlFeatures,omitempty"`
	Target             string                 `json:"target,omitempty"`
	MlHyperParameters  []json.RawMessage      `json:"mlHyperParameters,omitempty"`
	MlStore            *mlStore               `json:"mlStore,omitempty"`
	Server             string                 `json:"server,omitempty"`
	SourceURL          string                 `json:"sourceUrl,omitempty"`
	Dashboard          *entityRef             `json:"dashboard,omitempty"`
	Version            registry.EntityVersion `json:"version"`
	UpdatedAt          int64                  `json:"updatedAt"`
	UpdatedBy          string                 `json:"updatedBy"`
	Href               string                 `json:"href,omitempty"`
	Service            entityRef              `json:"service"`
	ServiceType        string                 `json:"serviceType,omitempty"`
	Deleted            bool                   `json:"deleted"`
	Owners             []entityRef            `json:"owners"`
	Tags               []tagLabel             `json:"tags"`
	Domains            []entityRef            `json:"domains"`
	DataProducts       []entityRef            `json:"dataProducts,omitempty"`
	Extension          json.RawMessage        `json:"extension,omitempty"`
	LifeCycle          json.RawMessage        `json:"lifeCycle,omitempty"`
	SourceHash         string                 `json:"sourceHash,omitempty"`
}

// mlModelService is the MlModelService entity as this dialect answers it.
type mlModelService struct {
	ID                 string                 `json:"id"`
	Name               string                 `json:"name"`
	FullyQualifiedName string                 `json:"fullyQualifiedName"`
	DisplayName        string                 `json:"displayName,omitempty"`
	Description        string                 `json:"description,omitempty"`
	ServiceType        string                 `json:"serviceType"`
	Connection         json.RawMessage        `json:"connection,omitempty"`
	IngestionRunner    json.RawMessage        `json:"ingestionRunner,omitempty"`
	Version            registry.EntityVersion `json:"version"`
	UpdatedAt          int64                  `json:"updatedAt"`
	UpdatedBy          string                 `json:"updatedBy"`
	Href               string                 `json:"href,omitempty"`
	Deleted            bool                   `json:"deleted"`
	Owners             []entityRef            `json:"owners"`
	Tags               []tagLabel             `json:"tags"`
	Domains            []entityRef            `json:"domains"`
	DataProducts       []entityRef            `json:"dataProducts,omitempty"`
}

// quotePart quotes an FQN part that contains a '.', as OpenMetadata does.
func quotePart(s string) string {
	if strings.Contains(s, ".") {
		return `"` + s + `"`
	}
	return s
}

// serviceFQN is a service's FQN: its name, quoted if it holds a '.'.
func serviceFQN(name string) string { return quotePart(name) }

// refID names an entity this dialect does not keep (a user, a domain)
// with a stable UUID, since an EntityReference needs one.
func refID(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("openmetadata:"+kind+":"+name)).String()
}

func nameRef(kind, name string) entityRef {
	return entityRef{ID: refID(kind, name), Type: kind, Name: name, FullyQualifiedName: name}
}

// invalidf is a 400 with OpenMetadata's validation message shape.
type invalidf string

func (e invalidf) Error() string { return string(e) }

// checkEntityName checks a name as OpenMetadata's entityName does: 1–256
// characters without "::".
func checkEntityName(field string, s *string) error {
	switch {
	case s == nil:
		return invalidf(fmt.Sprintf("[%s must not be null]", field))
	case utf8.RuneCountInString(*s) < 1 || utf8.RuneCountInString(*s) > 256:
		return invalidf(fmt.Sprintf("[%s size must be between 1 and 256]", field))
	case strings.Contains(*s, "::"):
		return invalidf(fmt.Sprintf(`[%s must match "^((?!::).)*$"]`, field))
	}
	return nil
}

// ownersAndTags maps owner references and tag labels onto the artifact's
// Owners and Tags, keeping what does not fit in d.
func ownersAndTags(a *registry.Artifact, d *doc, owners []entityRef, tags []tagLabel) error {
	for i, o := range owners {
		if o.ID == "" || o.Type == "" {
			return invalidf(fmt.Sprintf("[owners[%d].id and owners[%d].type must not be null]", i, i))
		}
		key := o.Name
		if key == "" {
			key = o.Type + ":" + o.ID
		}
		if slices.Contains(a.Owners, key) {
			continue
		}
		a.Owners = append(a.Owners, key)
		if o != nameRef(o.Type, o.Name) || o.Type != "user" {
			if d.OwnerRefs == nil {
				d.OwnerRefs = map[string]entityRef{}
			}
			d.OwnerRefs[key] = o
		}
	}
	for i, t := range tags {
		if t.TagFQN == "" {
			return invalidf(fmt.Sprintf("[tags[%d].tagFQN must not be null]", i))
		}
		if slices.Contains(a.Tags, t.TagFQN) {
			continue
		}
		a.Tags = append(a.Tags, t.TagFQN)
		if t.Source == "" {
			t.Source = "Classification"
		}
		if t.LabelType == "" {
			t.LabelType = "Manual"
		}
		if t.State == "" {
			t.State = "Confirmed"
		}
		if len(t.Style) > 0 || t.Name != "" || t.DisplayName != "" || t.Description != "" || t.Href != "" || t.Reason != "" ||
			t.Source != "Classification" || t.LabelType != "Manual" || t.State != "Confirmed" {
			if d.TagLabels == nil {
				d.TagLabels = map[string]tagLabel{}
			}
			d.TagLabels[t.TagFQN] = t
		}
	}
	return nil
}

func defaultTag(fqn string) tagLabel {
	return tagLabel{TagFQN: fqn, Source: "Classification", LabelType: "Manual", State: "Confirmed"}
}

// renderOwnersTags renders an artifact's Owners and Tags, with what d kept.
func renderOwnersTags(a registry.Artifact, d doc) ([]entityRef, []tagLabel) {
	owners := make([]entityRef, 0, len(a.Owners))
	for _, o := range a.Owners {
		if ref, ok := d.OwnerRefs[o]; ok {
			owners = append(owners, ref)
			continue
		}
		owners = append(owners, nameRef("user", o))
	}
	tags := make([]tagLabel, 0, len(a.Tags))
	for _, t := range a.Tags {
		if l, ok := d.TagLabels[t]; ok {
			tags = append(tags, l)
			continue
		}
		tags = append(tags, defaultTag(t))
	}
	return owners, tags
}

func refs(kind string, names []string) []entityRef {
	out := make([]entityRef, 0, len(names))
	for _, n := range names {
		out = append(out, nameRef(kind, n))
	}
	return out
}

// setDoc stores d in labels (replacing the dialect's own labels, keeping
// every other label).
func setDoc(a *registry.Artifact, old map[string]string, d doc, extra map[string]string) error {
	labels := map[string]string{}
	for k, v := range old {
		if !strings.HasPrefix(k, labelPrefix) {
			labels[k] = v
		}
	}
	maps.Copy(labels, extra)
	data, err := json.Marshal(d)
	if err != nil {
		return invalidf("request could not be stored: " + err.Error())
	}
	room := registry.MaxListEntries - len(labels)
	if string(data) != "{}" {
		s := string(data)
		for i := 0; s != ""; i++ {
			n, runes := 0, 0
			for n < len(s) && runes < docChunk {
				_, size := utf8.DecodeRuneInString(s[n:])
				n += size
				runes++
			}
			labels[fmt.Sprintf("%s%02d", labelDocPrefix, i)] = s[:n]
			s = s[n:]
		}
	}
	if len(labels) > registry.MaxListEntries {
		return invalidf(fmt.Sprintf("[the entity's optional fields take %d bytes of JSON; this server keeps at most about %d]",
			len(data), room*docChunk))
	}
	if len(labels) == 0 {
		labels = nil
	}
	a.Labels = labels
	return nil
}

// getDoc reads what setDoc stored; labels it cannot read give an empty doc.
func getDoc(a registry.Artifact) doc {
	var d doc
	var buf bytes.Buffer
	for i := 0; ; i++ {
		v, ok := a.Labels[fmt.Sprintf("%s%02d", labelDocPrefix, i)]
		if !ok {
			break
		}
		buf.WriteString(v)
	}
	if buf.Len() > 0 {
		_ = json.Unmarshal(buf.Bytes(), &d)
	}
	return d
}

// modelArtifact maps a CreateMlModel onto the artifact of a model of svc,
// keeping the labels of old that this dialect does not own.
func modelArtifact(c *createMlModel, svc registry.Artifact, old map[string]string) (registry.Artifact, error) {
	a := registry.Artifact{Kind: registry.KindModel, Namespace: svc.Namespace, Name: *c.Name, Parent: svc.ID,
		DisplayName: c.DisplayName, Description: c.Description, Algorithm: *c.Algorithm}
	d := doc{MlFeatures: c.MlFeatures, Target: c.Target, MlHyperParameters: c.MlHyperParameters,
		Dashboard: c.Dashboard, MlStore: c.MlStore, Server: c.Server, Extension: nullToEmpty(c.Extension),
		SourceURL: c.SourceURL, Domains: c.Domains, DataProducts: c.DataProducts,
		LifeCycle: nullToEmpty(c.LifeCycle), SourceHash: c.SourceHash}
	if c.MlStore != nil && c.MlStore.Storage != "" {
		a.StorageURIs = []string{c.MlStore.Storage}
	}
	if err := ownersAndTags(&a, &d, c.Owners, c.Tags); err != nil {
		return a, err
	}
	return a, setDoc(&a, old, d, nil)
}

// serviceArtifact maps a CreateMlModelService onto its artifact, keeping
// the labels of old that this dialect does not own.
func serviceArtifact(c *createService, old map[string]string) (registry.Artifact, error) {
	a := registry.Artifact{Kind: registry.KindModel, Namespace: *c.Name, Name: serviceName,
		DisplayName: c.DisplayName, Description: c.Description}
	domains := c.Domains
	if c.Domain != "" && !slices.Contains(domains, c.Domain) {
		domains = append(domains, c.Domain)
	}
	d := doc{Connection: nullToEmpty(c.Connection), IngestionRunner: nullToEmpty(c.IngestionRunner),
		Domains: domains, DataProducts: c.DataProducts}
	if err := ownersAndTags(&a, &d, c.Owners, c.Tags); err != nil {
		return a, err
	}
	return a, setDoc(&a, old, d, map[string]string{labelServiceType: *c.ServiceType})
}

func nullToEmpty(m json.RawMessage) json.RawMessage {
	if string(bytes.TrimSpace(m)) == "null" {
		return nil
	}
	return m
}

// renderModel renders a model artifact of service svc.
func renderModel(a, svc registry.Artifact, base string) mlModel {
	d := getDoc(a)
	owners, tags := renderOwnersTags(a, d)
	m := mlModel{
		ID: a.ID, Name: a.Name, FullyQualifiedName: registry.BuildFQN(a.Namespace, a.Name, ""),
		DisplayName: a.DisplayName, Description: a.Description, Algorithm: a.Algorithm,
		MlFeatures: d.MlFeatures, Target: d.Target, MlHyperParameters: d.MlHyperParameters,
		MlStore: d.MlStore, Server: d.Server, SourceURL: d.SourceURL,
		Version: a.EntityVersion(), UpdatedAt: a.UpdatedAt.UnixMilli(), UpdatedBy: a.UpdatedBy,
		Href:        base + modelsPath + "/" + a.ID,
		Service:     entityRef{ID: svc.ID, Type: typeService, Name: svc.Namespace, FullyQualifiedName: serviceFQN(svc.Namespace)},
		ServiceType: svc.Labels[labelServiceType], Deleted: a.Deleted,
		Owners: owners, Tags: tags, Domains: refs("domain", d.Domains),
		Extension: d.Extension, LifeCycle: d.LifeCycle, SourceHash: d.SourceHash,
	}
	if d.Dashboard != "" {
		ref := nameRef("dashboard", d.Dashboard)
		m.Dashboard = &ref
	}
	if len(d.DataProducts) > 0 {
		m.DataProducts = refs("dataProduct", d.DataProducts)
	}
	return m
}

// renderService renders a service artifact.
func renderService(a registry.Artifact, base string) mlModelService {
	d := getDoc(a)
	owners, tags := renderOwnersTags(a, d)
	s := mlModelService{
		ID: a.ID, Name: a.Namespace, FullyQualifiedName: serviceFQN(a.Namespace),
		DisplayName: a.DisplayName, Description: a.Description, ServiceType: a.Labels[labelServiceType],
		Connection: d.Connection, IngestionRunner: d.IngestionRunner,
		Version: a.EntityVersion(), UpdatedAt: a.UpdatedAt.UnixMilli(), UpdatedBy: a.UpdatedBy,
		Href: base + servicesPath + "/" + a.ID, Deleted: a.Deleted,
		Owners: owners, Tags: tags, Domains: refs("domain", d.Domains),
	}
	if len(d.DataProducts) > 0 {
		s.DataProducts = refs("dataProduct", d.DataProducts)
	}
	return s
}
