package openmetadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/modelreg/registry/httpapi/internal/httpx"
)

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// decodeStrict reads a request body as OpenMetadata's Jackson does with
// additionalProperties: false: at most the size limit, valid UTF-8 (Go
// would silently replace bad bytes), and field names matched exactly (Go
// matches them case-insensitively): any other field, at any depth of the
// typed parts, is 400 unknown field.
func (h *handler) decodeStrict(w http.ResponseWriter, r *http.Request, v any) error {
	var raw json.RawMessage
	if err := httpx.DecodeJSON(w, r, h.maxBody, &raw, false); err != nil {
		return err
	}
	if !utf8.Valid(raw) {
		return &httpx.BodyError{Status: http.StatusBadRequest, Message: "request body is not valid UTF-8"}
	}
	if err := exactKeys(raw, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) {
			field := typ.Field
			if field == "" {
				field = "the body"
			}
			return invalidf(fmt.Sprintf("[%s must be %s, not %s]", field, typ.Type, typ.Value))
		}
		return invalidf("request body is not valid: " + strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// exactKeys checks that every object key in data names a field of t
// exactly, recursing into typed fields; values of the wrong shape are left
// to the decoder to refuse.
func exactKeys(data []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == rawMessageType {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f.Type
			}
		}
		for k, v := range obj {
			ft, ok := fields[k]
			if !ok {
				return invalidf(fmt.Sprintf("unknown field %q%s", k, at(path)))
			}
			if err := exactKeys(v, ft, path+"."+k); err != nil {
				return err
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return nil
		}
		for i, it := range items {
			if err := exactKeys(it, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return nil
		}
		for k, v := range obj {
			if err := exactKeys(v, t.Elem(), path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}

func at(path string) string {
	if path == "" {
		return ""
	}
	return " in " + strings.TrimPrefix(path, ".")
}
