package artifacts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// decodeStrict reads the body into v, refusing any object key that is not
// exactly a field's JSON name. encoding/json alone matches names without
// regard to case, so that even with DisallowUnknownFields {"URL":…} would
// fill url; this API's schemas are case-sensitive.
func decodeStrict(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, limit, &raw, false); err != nil {
		return err
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return &httpx.BodyError{Status: http.StatusBadRequest, Message: "request body is not valid JSON: " + err.Error()}
	}
	if msg := checkKeys(tree, reflect.TypeOf(v).Elem(), ""); msg != "" {
		return &httpx.BodyError{Status: http.StatusBadRequest, Message: msg}
	}
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			field := typ.Field
			if field == "" {
				field = "the body"
			}
			return &httpx.BodyError{Status: http.StatusBadRequest, Message: fmt.Sprintf("%s must be %s, not %s", field, typ.Type, typ.Value)}
		}
		return &httpx.BodyError{Status: http.StatusBadRequest, Message: "request body does not fit the schema: " + err.Error()}
	}
	return nil
}

// checkKeys walks a decoded JSON value beside the Go type it will fill and
// names the first object key that is not exactly one of the type's fields.
func checkKeys(v any, t reflect.Type, at string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return ""
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, sub := range x {
			ft, ok := fields[k]
			if !ok {
				return fmt.Sprintf("unknown field %q%s", k, where(at))
			}
			if msg := checkKeys(sub, ft, at+"."+k); msg != "" {
				return msg
			}
		}
	case []any:
		if t.Kind() != reflect.Slice {
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

func where(at string) string {
	if at == "" {
		return ""
	}
	return " in " + strings.TrimPrefix(at, ".")
}
