package registry

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind is the type of an artifact.
type Kind string

// The artifact kinds of the artifact-registry seed: model, dataset, code.
const (
	KindModel   Kind = "model"
	KindDataset Kind = "dataset"
	KindCode    Kind = "code"
)

func (k Kind) valid() bool { return k == KindModel || k == KindDataset || k == KindCode }

// Include selects artifacts by deletion state, with OpenMetadata's meaning.
// The zero value is IncludeNonDeleted.
type Include string

// The include values of OpenMetadata's `include` query parameter.
const (
	IncludeNonDeleted Include = "non-deleted"
	IncludeDeleted    Include = "deleted"
	IncludeAll        Include = "all"
)

// Input limits. Lengths of names count characters (runes); the description
// counts bytes. Text is valid UTF-8 without control characters (Unicode
// category Cc; the description may hold newlines and tabs). Identifiers
// (namespace, name, version, tags, owners, label keys, endpoints, the
// principal) are compared byte for byte, so they must also hold no format
// character (category Cf, such as U+202E RIGHT-TO-LEFT OVERRIDE, U+200B ZERO
// WIDTH SPACE or U+FEFF) and be in Unicode normalization form NFC ("café"
// with a precomposed é, not e followed by U+0301).
const (
	MaxNameLength        = 256   // namespace, name, display name, algorithm, tag, owner, label key, endpoint
	MaxVersionLength     = 64    // version; empty means unversioned
	MaxDescriptionLength = 65536 // description, in bytes
	MaxLabelValueLength  = 1024
	MaxURILength         = 2048
	MaxReasonLength      = 1024
	MaxListEntries       = 64 // tags, owners, labels, storage URIs, endpoints
)

// Artifact is one row of the registry: a model, a dataset or code.
//
// The identity fields (ID, Kind, Namespace, Name, Version, Parent) are fixed
// at registration. Namespace, Name and Version are identifiers: no control
// or format characters, NFC (see the input limits). The metadata fields are what Update changes. The
// bookkeeping fields are set by the registry; values given to Register or
// Update are ignored.
type Artifact struct {
	// ID is a UUID; Register assigns a time-ordered one when it is empty.
	ID        string `json:"id"`
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Version is empty for an unversioned artifact.
	Version string `json:"version,omitempty"`
	// Parent is the ID of the artifact that contains this one, if any.
	Parent string `json:"parent,omitempty"`

	DisplayName string            `json:"displayName,omitempty"`
	Description string            `json:"description,omitempty"`
	Algorithm   string            `json:"algorithm,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Owners      []string          `json:"owners,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	// StorageURIs are the objects the artifact owns; after a hard delete they
	// go to the cleaner.
	StorageURIs []string `json:"storageUris,omitempty"`

	// Endpoints the artifact is deployed to, in the order deployed. Changed
	// by Deploy and Undeploy only.
	Endpoints []string `json:"endpoints,omitempty"`
	// DeletedUpstreams lists upstream artifacts that were hard deleted while
	// this one depended on them: under the Detach lineage policy, or under
	// any policy when this one was soft deleted itself (a soft-deleted
	// dependent never blocks a hard delete; it loses the edge and keeps
	// this record of it).
	DeletedUpstreams []string `json:"deletedUpstreams,omitempty"`

	Deleted   bool      `json:"deleted"`
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
	// The soft delete that took the artifact: when, by whom, why, and the
	// operation ID (shared by every artifact one delete call took). Empty
	// while the artifact is live.
	DeletedAt       time.Time `json:"deletedAt,omitzero"`
	DeletedBy       string    `json:"deletedBy,omitempty"`
	DeleteOperation string    `json:"deleteOperation,omitempty"`
	DeleteReason    string    `json:"deleteReason,omitempty"`
}

// FQN returns the fully qualified name, namespace.name.version.
func (a Artifact) FQN() string { return BuildFQN(a.Namespace, a.Name, a.Version) }

// EntityVersion returns Revision as OpenMetadata's entity version: 0.1 for
// revision 1, 0.2 after the first change, 1.0 after the ninth.
func (a Artifact) EntityVersion() EntityVersion { return EntityVersion(a.Revision) }

// EntityVersion is a revision in OpenMetadata's notation, 0.1 × revision,
// always with one decimal: it prints and marshals revision 10 as 1.0, where
// a float64 would print 1.
type EntityVersion int64

// String renders the version with one decimal: 0.1, 0.9, 1.0, 1.1.
func (v EntityVersion) String() string {
	n := int64(v)
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return sign + strconv.FormatInt(n/10, 10) + "." + strconv.FormatInt(n%10, 10)
}

// Float64 returns the version as a number, 0.1 × revision.
func (v EntityVersion) Float64() float64 { return float64(v) / 10 }

// MarshalJSON writes the version as a JSON number with one decimal (1.0),
// as OpenMetadata's entity JSON has it.
func (v EntityVersion) MarshalJSON() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalJSON reads a non-negative JSON number with at most one decimal
// (0.1, 1, 1.0).
func (v *EntityVersion) UnmarshalJSON(b []byte) error {
	s := string(b)
	whole, frac, dot := strings.Cut(s, ".")
	bad := whole == "" || (dot && (len(frac) != 1 || frac[0] < '0' || frac[0] > '9'))
	for i := 0; i < len(whole) && !bad; i++ {
		bad = whole[i] < '0' || whole[i] > '9'
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if bad || err != nil || w > math.MaxInt64/10-1 {
		return invalid("version", "entity version %s is not a number like 0.1 or 1.0 (0.1 × revision, one decimal at most)", clip(s))
	}
	f := int64(0)
	if dot {
		f = int64(frac[0] - '0')
	}
	*v = EntityVersion(w*10 + f)
	return nil
}

// HasDeletedUpstream reports whether an upstream of this artifact was hard
// deleted while it depended on it (see DeletedUpstreams).
func (a Artifact) HasDeletedUpstream() bool { return len(a.DeletedUpstreams) > 0 }

// IsDeployed reports whether the artifact is deployed to any endpoint.
func (a Artifact) IsDeployed() bool { return len(a.Endpoints) > 0 }

// ReadOption is an option of the reads (Get, GetByFQN, GetVersion,
// Lineage): an Include. Options apply in order; the last include given wins.
type ReadOption interface{ applyRead(*readOptions) }

type readOptions struct{ include Include }

func (i Include) applyRead(o *readOptions) { o.include = i }

// resolveReadOptions resolves a read's options, checking the include.
func resolveReadOptions(opts []ReadOption) (Include, error) {
	var o readOptions
	for i, opt := range opts {
		if isNil(opt) {
			return "", invalid("options", "read option %d is nil", i)
		}
		opt.applyRead(&o)
	}
	return checkInclude(o.include)
}

func checkInclude(inc Include) (Include, error) {
	switch inc {
	case "", IncludeNonDeleted:
		return IncludeNonDeleted, nil
	case IncludeDeleted, IncludeAll:
		return inc, nil
	}
	return "", invalid("include", "include %q is not one of non-deleted, deleted, all", string(inc))
}

// checkID validates an artifact ID and returns its canonical lower-case form.
func checkID(field, id string) (string, error) {
	cid, _, err := parseID(field, id)
	if err != nil {
		return "", err
	}
	return cid, nil
}

// parseID validates an artifact ID and returns its canonical lower-case
// form and its index key.
func parseID(field, id string) (string, []byte, *Error) {
	if id == "" {
		return "", nil, invalid(field, "%s is empty", field)
	}
	if len(id) != 36 {
		return "", nil, invalid(field, "%s %q is not a UUID (want 36 characters like 6b04e1d8-b66d-4f78-ab21-beb5be2cf4f2)", field, clip(id))
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return "", nil, invalid(field, "%s %q is not a UUID: %v", field, clip(id), err)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c >= 'A' && c <= 'F' {
			id = u.String()
			break
		}
	}
	return id, u[:], nil
}

// checkName validates a namespace or name: 1–256 characters of valid UTF-8,
// an identifier (no control or format characters, NFC: identrules.go) and
// no double quote (it would break FQN quoting).
func checkName(field, s string) error {
	if s == "" {
		return invalid(field, "%s is empty", field)
	}
	return checkIdentText(field, s, MaxNameLength)
}

func checkVersion(v string) error {
	if v == "" {
		return nil
	}
	return checkIdentText("version", v, MaxVersionLength)
}

func checkIdentText(field, s string, max int) error {
	if err := checkIdentifier(field, s, max); err != nil {
		return err
	}
	if i := strings.IndexByte(s, '"'); i >= 0 {
		return invalid(field, "%s %q contains a double quote at byte %d; quotes are reserved for FQN quoting", field, clip(s), i)
	}
	return nil
}

// checkText checks UTF-8 validity, length in runes and control characters:
// the rules of free text. Identifiers add theirs (checkIdentifier).
func checkText(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return invalid(field, "%s is not valid UTF-8", field)
	}
	n := 0
	for i, r := range s {
		n++
		if n > max {
			return invalid(field, "%s is longer than %d characters", field, max)
		}
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return invalid(field, "%s contains control character %U at byte %d", field, r, i)
		}
	}
	return nil
}

// checkList checks a list's length and its entries: each plain text, or an
// identifier when ident is set.
func checkList(field string, list []string, max int, ident bool) error {
	if len(list) > MaxListEntries {
		return invalid(field, "%s has %d entries; at most %d are allowed", field, len(list), MaxListEntries)
	}
	for i, s := range list {
		if s == "" {
			return invalid(field, "%s[%d] is empty", field, i)
		}
		check := checkText(field, s, max, false)
		if ident {
			check = checkIdentifier(field, s, max)
		}
		if check != nil {
			return check
		}
	}
	return nil
}

// checkMetadata validates the fields Update may change.
func checkMetadata(a *Artifact) error {
	if err := checkText("displayName", a.DisplayName, MaxNameLength, false); err != nil {
		return err
	}
	if len(a.Description) > MaxDescriptionLength {
		return invalid("description", "description is %d bytes; at most %d are allowed", len(a.Description), MaxDescriptionLength)
	}
	if err := checkText("description", a.Description, MaxDescriptionLength, true); err != nil {
		return err
	}
	if err := checkText("algorithm", a.Algorithm, MaxNameLength, false); err != nil {
		return err
	}
	if err := checkList("tags", a.Tags, MaxNameLength, true); err != nil {
		return err
	}
	if err := checkList("owners", a.Owners, MaxNameLength, true); err != nil {
		return err
	}
	if len(a.Labels) > MaxListEntries {
		return invalid("labels", "labels has %d entries; at most %d are allowed", len(a.Labels), MaxListEntries)
	}
	for k, v := range a.Labels {
		if k == "" {
			return invalid("labels", "a label key is empty")
		}
		if err := checkIdentifier("labels", k, MaxNameLength); err != nil {
			return err
		}
		if err := checkText("labels", v, MaxLabelValueLength, false); err != nil {
			return err
		}
	}
	if err := checkList("storageUris", a.StorageURIs, MaxURILength, false); err != nil {
		return err
	}
	seen := make(map[string]struct{}, len(a.StorageURIs))
	for i, s := range a.StorageURIs {
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return invalid("storageUris", "storageUris[%d] %q is not an absolute URI with a scheme (like s3://bucket/key)", i, clip(s))
		}
		if _, dup := seen[s]; dup {
			return invalid("storageUris", "storageUris[%d] %q is listed twice", i, clip(s))
		}
		seen[s] = struct{}{}
	}
	return nil
}

func checkEndpoint(e string) error {
	if e == "" {
		return invalid("endpoint", "endpoint is empty")
	}
	return checkIdentifier("endpoint", e, MaxNameLength)
}

// clip shortens a bad input for an error message.
func clip(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:77] + "..."
}
