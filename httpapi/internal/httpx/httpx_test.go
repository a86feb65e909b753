package httpx

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	Bucket string `json:"bucket"`
}

type Embedded struct {
	Shared string `json:"shared"`
}

type body struct {
	Embedded
	Name   string            `json:"name"`
	Count  int               `json:"count,omitempty"`
	Where  *inner            `json:"where,omitempty"`
	List   []inner           `json:"list,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	Plain  string
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		strict bool
		status int // 0: accepted
		msg    string
	}{
		{"object", `{"name":"a","count":2,"where":{"bucket":"b"},"list":[{"bucket":"c"}],"labels":{"Any":"key"},"shared":"s","Plain":"p"}`, true, 0, ""},
		{"empty", ``, false, 400, "empty"},
		{"spaces", "  \n", false, 400, "empty"},
		{"truncated", `{"name":"a"`, false, 400, "truncated"},
		{"not JSON", `{name}`, false, 400, "not valid JSON"},
		{"trailing data", `{"name":"a"} {"name":"b"}`, false, 400, "after its JSON value"},
		{"trailing garbage", `{"name":"a"} x`, false, 400, ""},
		{"wrong type", `{"count":"two"}`, false, 400, "count must be int"},
		{"unknown field, lenient", `{"name":"a","extra":1}`, false, 0, ""},
		{"unknown field, strict", `{"name":"a","extra":1}`, true, 400, `unknown field "extra"`},
		{"case differs, strict", `{"NAME":"a"}`, true, 400, `unknown field "NAME"`},
		{"case differs in a nested object, strict", `{"where":{"Bucket":"b"}}`, true, 400, `unknown field "Bucket" in where`},
		{"case differs in a list, strict", `{"list":[{"bucket":"x"},{"BUCKET":"y"}]}`, true, 400, `in list[1]`},
		{"too large", `{"name":"` + strings.Repeat("x", 2000) + `"}`, false, 413, "larger than 1024 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
			var v body
			err := DecodeJSON(httptest.NewRecorder(), r, 1024, &v, c.strict)
			if c.status == 0 {
				require.NoError(t, err)
				return
			}
			var be *BodyError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, c.status, be.Status)
			assert.Contains(t, be.Message, c.msg)
		})
	}
}

func TestRequestID(t *testing.T) {
	var seen string
	h := RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestIDFrom(r.Context()) }))
	for _, c := range []struct {
		name, in string
		kept     bool
	}{{"none", "", false}, {"sane", "req-42", true}, {"with a space", "a b", false}, {"too long", strings.Repeat("a", 129), false}} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if c.in != "" {
				r.Header.Set(RequestIDHeader, c.in)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get(RequestIDHeader)
			require.NotEmpty(t, got)
			assert.Equal(t, seen, got, "the context and the response carry the same ID")
			if c.kept {
				assert.Equal(t, c.in, got)
			} else {
				assert.NotEqual(t, c.in, got)
				assert.Len(t, got, 36, "a new UUID")
			}
		})
	}
}

func TestServeRecoversAndLogs(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	writeErr := func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
		WriteJSON(w, status, map[string]any{"shape": "dialect", "message": msg})
	}
	h := RequestID(Serve(log, "test", writeErr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		WriteJSON(w, http.StatusTeapot, map[string]string{"ok": "yes"})
	})))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/panic", nil))
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Contains(t, w.Body.String(), `"shape":"dialect"`, "answered in the dialect's shape")
	assert.Contains(t, w.Body.String(), w.Header().Get(RequestIDHeader), "the message gives the request ID")
	assert.Contains(t, logs.String(), `"panic":"boom"`)
	assert.Contains(t, logs.String(), `"stack"`)

	logs.Reset()
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/fine", nil))
	assert.Equal(t, http.StatusTeapot, w.Code)
	assert.Contains(t, logs.String(), `"status":418`, "one access line per request")
	assert.Contains(t, logs.String(), `"dialect":"test"`)
}
