package lookout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// Prefix is the path every operation of the API lives under.
const Prefix = "/2020-11-20"

// Options configure New.
type Options struct {
	// Registry is served: a *registry.Registry, or a durable
	// replicated.Node; required.
	Registry registry.API
	// Keys returns the secret of an access key and the principal it belongs
	// to (httpapi.Credentials.AWSKey fits); required.
	Keys func(accessKeyID string) (secret, principal string, ok bool)
	// Region and Account make the ARNs; Region is also the only region a
	// signature's credential scope may name. Defaults us-east-1 and
	// 123456789012.
	Region, Account string
	// Logger receives one line per request and every handler panic; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies (default httpx.DefaultMaxBody).
	MaxBodyBytes int64
	// Clock tells the time a signature's X-Amz-Date is checked against, and
	// the age of client tokens; default time.Now.
	Clock func() time.Time
}

// Default values of Options.
const (
	DefaultRegion  = "us-east-1"
	DefaultAccount = "123456789012"
)

type handler struct {
	opts Options
}

// New returns the Lookout for Vision dialect: an http.Handler for the paths
// under Prefix. Mount it at Prefix+"/".
func New(o Options) (http.Handler, error) {
	if httpx.IsNil(o.Registry) {
		return nil, errors.New("lookout: Options.Registry is nil")
	}
	if o.Keys == nil {
		return nil, errors.New("lookout: Options.Keys is nil")
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.Account == "" {
		o.Account = DefaultAccount
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = httpx.DefaultMaxBody
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	h := &handler{opts: o}
	served := httpx.Serve(o.Logger, "lookout", writePlainError, http.HandlerFunc(h.serve))
	withID := httpx.RequestID(served)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if httpx.RequestIDFrom(r.Context()) == "" {
			withID.ServeHTTP(w, r) // mounted alone
			return
		}
		served.ServeHTTP(w, r)
	}), nil
}

// apiError is an error in the API's shape: a status, the X-Amzn-ErrorType
// and a body {"Message", members}.
type apiError struct {
	Status       int
	Type         string
	Message      string
	ResourceID   string
	ResourceType string
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func validation(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Type: "ValidationException", Message: sprintf(format, args...)}
}

func notFound(resourceType, id, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "ResourceNotFoundException", Message: sprintf(format, args...),
		ResourceID: id, ResourceType: resourceType}
}

func conflict(resourceType, id, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Type: "ConflictException", Message: sprintf(format, args...),
		ResourceID: id, ResourceType: resourceType}
}

// Resource types of ResourceNotFoundException and ConflictException.
const (
	resProject = "PROJECT"
	resModel   = "MODEL"
)

func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	body := map[string]string{"Message": e.Message}
	if e.ResourceID != "" || e.ResourceType != "" {
		body["ResourceId"], body["ResourceType"] = e.ResourceID, e.ResourceType
	}
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("X-Amzn-RequestId", httpx.RequestIDFrom(r.Context()))
	httpx.WriteJSON(w, e.Status, body)
}

// writePlainError is the error writer httpx.Serve answers a panic with.
func writePlainError(w http.ResponseWriter, r *http.Request, status int, message string) {
	typ := "InternalServerException"
	if status < 500 {
		typ = "ValidationException"
	}
	writeError(w, r, &apiError{Status: status, Type: typ, Message: message})
}

func writeOK(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("X-Amzn-RequestId", httpx.RequestIDFrom(r.Context()))
	httpx.WriteJSON(w, status, v)
}

// fromRegistry maps a registry error to the API's error, about the resource
// the call named.
func fromRegistry(err error, resourceType, id string) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	msg := err.Error()
	var re *registry.Error
	if errors.As(err, &re) {
		msg = re.Message
	}
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return notFound(resourceType, id, "%s", msg)
	case errors.Is(err, registry.ErrInvalid):
		return validation("%s", msg)
	case errors.Is(err, registry.ErrForbidden):
		return &apiError{Status: http.StatusForbidden, Type: "AccessDeniedException", Message: msg}
	case registry.HTTPStatus(err) == http.StatusConflict:
		return conflict(resourceType, id, "%s", msg)
	}
	return &apiError{Status: http.StatusInternalServerError, Type: "InternalServerException", Message: msg}
}

// call is one authenticated request.
type call struct {
	h         *handler
	w         http.ResponseWriter
	r         *http.Request
	ctx       context.Context
	principal string
	body      []byte
	segs      []string // path segments after /2020-11-20/projects
	query     url.Values
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, r, validation("request body is larger than %d bytes", h.opts.MaxBodyBytes))
			return
		}
		writeError(w, r, validation("request body could not be read: %v", err))
		return
	}
	principal, e := h.verify(r, body)
	if e != nil {
		writeError(w, r, e)
		return
	}
	c := &call{h: h, w: w, r: r, ctx: registry.WithPrincipal(r.Context(), principal), principal: principal, body: body}
	if e := c.route(); e != nil {
		writeError(w, r, e)
	}
}

// route parses the path itself, segment by segment, so that an unclean
// path is a ValidationException rather than a redirect.
func (c *call) route() *apiError {
	r := c.r
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), Prefix+"/projects")
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return unknownOperation(r)
	}
	if rest != "" {
		for _, s := range strings.Split(rest[1:], "/") {
			u, err := url.PathUnescape(s)
			if err != nil {
				return validation("path segment %q is not a valid escaped path segment", clip(s))
			}
			c.segs = append(c.segs, u)
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return validation("query string is malformed: %v", err)
	}
	c.query = q
	n, m := len(c.segs), r.Method
	switch {
	case n == 0 && m == http.MethodPost:
		return c.createProject()
	case n == 0 && m == http.MethodGet:
		return c.listProjects()
	case n == 1 && m == http.MethodGet:
		return c.describeProject()
	case n == 1 && m == http.MethodDelete:
		return c.deleteProject()
	case n == 2 && c.segs[1] == "models" && m == http.MethodPost:
		return c.createModel()
	case n == 2 && c.segs[1] == "models" && m == http.MethodGet:
		return c.listModels()
	case n == 3 && c.segs[1] == "models" && m == http.MethodGet:
		return c.describeModel()
	case n == 3 && c.segs[1] == "models" && m == http.MethodDelete:
		return c.deleteModel()
	case n == 4 && c.segs[1] == "models" && c.segs[3] == "start" && m == http.MethodPost:
		return c.startModel()
	case n == 4 && c.segs[1] == "models" && c.segs[3] == "stop" && m == http.MethodPost:
		return c.stopModel()
	}
	return unknownOperation(r)
}

func unknownOperation(r *http.Request) *apiError {
	return &apiError{Status: http.StatusNotFound, Type: "UnknownOperationException",
		Message: sprintf("no operation of Lookout for Vision is %s %s", r.Method, clip(r.URL.EscapedPath()))}
}

// decode reads the body as one JSON object into v, refusing unknown fields.
func (c *call) decode(v any) *apiError {
	r := c.r.Clone(c.ctx)
	r.Body = io.NopCloser(bytes.NewReader(c.body))
	if err := httpx.DecodeJSON(c.w, r, c.h.opts.MaxBodyBytes, v, true); err != nil {
		return validation("%v", err)
	}
	return nil
}

// clientToken returns the X-Amzn-Client-Token of an operation that takes
// one, checked for form; "" when the client sent none.
func (c *call) clientToken() (string, *apiError) {
	vals, ok := c.r.Header[http.CanonicalHeaderKey("X-Amzn-Client-Token")]
	if !ok {
		return "", nil
	}
	if len(vals) != 1 {
		return "", validation("X-Amzn-Client-Token is given %d times; give it once", len(vals))
	}
	return vals[0], checkClientToken(vals[0])
}

// noQuery refuses query parameters on operations that take none.
func (c *call) noQuery() *apiError {
	for k := range c.query {
		return validation("query parameter %q is not a parameter of this operation", clip(k))
	}
	return nil
}

func (c *call) projectARN(name string) string {
	return "arn:aws:lookoutvision:" + c.h.opts.Region + ":" + c.h.opts.Account + ":project/" + name
}

func (c *call) modelARN(project, version string) string {
	return "arn:aws:lookoutvision:" + c.h.opts.Region + ":" + c.h.opts.Account + ":model/" + project + "/" + version
}

// epoch marshals a time as Lookout for Vision's timestamps: a JSON number
// of seconds since the epoch, with milliseconds.
type epoch time.Time

// MarshalJSON writes seconds.milliseconds.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	return []byte(sprintf("%s%d.%03d", sign, ms/1000, ms%1000)), nil
}

var _ json.Marshaler = epoch{}
