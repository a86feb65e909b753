// Package httpx holds what every dialect of httpapi shares: request IDs,
// panic recovery, access logs, bounded JSON bodies and the principal a
// credential maps to. It knows no dialect's wire shapes; each dialect passes
// its own error writer.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxBody is the largest request body a dialect reads unless told
// otherwise: 1 MiB, far above any request of the four APIs.
const DefaultMaxBody = 1 << 20

// ErrorWriter writes an error in a dialect's own shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, message string)

type requestIDKey struct{}

// RequestIDHeader carries the request ID on every response (and is taken
// from the request when a client sends a sane one).
const RequestIDHeader = "X-Request-Id"

// RequestID gives every request an ID: the client's X-Request-Id when it is
// 1–128 printable ASCII characters, else a new UUID. The ID is on the
// response's X-Request-Id header and in the request's context.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !saneID(id) {
			id = uuid.NewString()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// RequestIDFrom returns the request ID RequestID stored in ctx.
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush passes flushes through, for streaming responses.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Serve wraps a dialect's handler with what every request gets: a panic in
// the handler is logged with its stack and answered 500 in the dialect's
// shape (if nothing was written yet), and every request is logged once with
// its method, path, status, duration and request ID. RequestID must run
// before it.
func Serve(log *slog.Logger, dialect string, writeErr ErrorWriter, next http.Handler) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("handler panicked", "dialect", dialect, "method", r.Method, "path", r.URL.Path,
					"requestId", RequestIDFrom(r.Context()), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if sw.status == 0 {
					writeErr(sw, r, http.StatusInternalServerError, "internal error; the request ID is "+RequestIDFrom(r.Context()))
				}
			}
			log.Info("request", "dialect", dialect, "method", r.Method, "path", r.URL.Path, "status", sw.status,
				"bytes", sw.bytes, "duration", time.Since(start), "requestId", RequestIDFrom(r.Context()))
		}()
		next.ServeHTTP(sw, r)
	})
}

// BodyError is a request body that could not be read as the endpoint's
// JSON: too large (413) or malformed (400).
type BodyError struct {
	Status  int
	Message string
}

func (e *BodyError) Error() string { return e.Message }

// DecodeJSON reads r's body, at most limit bytes (DefaultMaxBody when 0),
// as one JSON value into v. Strict refuses fields v does not have, and
// matches field names exactly (encoding/json alone ignores case). Trailing
// data after the value is refused. The error is a *BodyError.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, strict bool) error {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &BodyError{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", limit)}
		}
		return &BodyError{Status: http.StatusBadRequest, Message: "request body could not be read: " + err.Error()}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &BodyError{Status: http.StatusBadRequest, Message: "request body is empty; want a JSON object"}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return &BodyError{Status: http.StatusBadRequest, Message: describeJSONError(err)}
	}
	if dec.More() {
		return &BodyError{Status: http.StatusBadRequest, Message: "request body has data after its JSON value"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &BodyError{Status: http.StatusBadRequest, Message: "request body has data after its JSON value"}
	}
	if strict {
		// encoding/json matches names regardless of case, so that even with
		// DisallowUnknownFields {"NAME":…} fills name; a strict schema is
		// case-sensitive.
		var tree any
		tdec := json.NewDecoder(bytes.NewReader(data))
		tdec.UseNumber()
		if err := tdec.Decode(&tree); err == nil {
			if msg := checkKeys(tree, reflect.TypeOf(v), ""); msg != "" {
				return &BodyError{Status: http.StatusBadRequest, Message: msg}
			}
		}
	}
	return nil
}

// checkKeys walks a decoded JSON value beside the Go type it filled and
// names the first object key that is not exactly one of the type's JSON
// field names.
func checkKeys(v any, t reflect.Type, at string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		switch t.Kind() {
		case reflect.Map:
			for k, sub := range x {
				if msg := checkKeys(sub, t.Elem(), at+"."+k); msg != "" {
					return msg
				}
			}
		case reflect.Struct:
			fields := map[string]reflect.Type{}
			jsonFields(t, fields)
			for k, sub := range x {
				ft, ok := fields[k]
				if !ok {
					return fmt.Sprintf("unknown field %q%s", k, where(at))
				}
				if msg := checkKeys(sub, ft, at+"."+k); msg != "" {
					return msg
				}
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return ""
		}
		for i, sub := range x {
			if msg := checkKeys(sub, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// jsonFields collects the JSON names of t's fields, embedded structs'
// fields included, as encoding/json names them.
func jsonFields(t reflect.Type, into map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		ft := f.Type
		if f.Anonymous && name == "" {
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, into)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		into[name] = f.Type
	}
}

func where(at string) string {
	if at == "" {
		return ""
	}
	return " in " + strings.TrimPrefix(at, ".")
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("request body is not valid JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s must be %s, not %s", field, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "request body is truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "request body is not valid JSON: " + err.Error()
}

// WriteJSON writes v as JSON with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"message":"internal error: response could not be encoded"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(data, '\n'))
}

// Authenticator maps a credential (a token) to the principal it belongs to.
type Authenticator func(credential string) (principal string, ok bool)

type routeKey struct{}

type routeHolder struct{ pattern string }

// WithRoute returns a context in which a handler can record, with
// SetRoute, the route pattern it matched, and a function that reads it
// (empty when none was recorded). Metrics label requests with it rather
// than with the raw path.
func WithRoute(ctx context.Context) (context.Context, func() string) {
	h := &routeHolder{}
	return context.WithValue(ctx, routeKey{}, h), func() string { return h.pattern }
}

// SetRoute records the route pattern of the request whose context ctx is,
// for WithRoute's reader; without WithRoute it does nothing.
func SetRoute(ctx context.Context, pattern string) {
	if h, ok := ctx.Value(routeKey{}).(*routeHolder); ok {
		h.pattern = pattern
	}
}

// IsNil reports whether v is nil, or an interface holding a nil pointer
// (a nil *registry.Registry given as a registry.API), so that a door
// refuses it when it is built instead of panicking on the first request.
func IsNil(v any) bool {
	if v == nil {
		return true
	}
	r := reflect.ValueOf(v)
	return r.Kind() == reflect.Pointer && r.IsNil()
}
