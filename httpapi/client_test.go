package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/modelreg/registry/httpapi/lookout"
)

// client is one caller of the load test and the benchmarks: its own HTTP
// connections and credentials.
type client struct {
	base      string
	http      *http.Client
	token     string      // bearer token of the three token dialects
	key, sec  string      // AWS key pair
	lastError string      // the last unexpected answer
	statuses  map[int]int // every status answered
}

func newClient(base, token, key, secret string) *client {
	return &client{base: base, token: token, key: key, sec: secret, statuses: map[int]int{},
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}}
}

// answer is a response: its status and JSON body.
type answer struct {
	status int
	header http.Header
	raw    []byte
}

func (a answer) field(path ...string) string {
	var v any
	if json.Unmarshal(a.raw, &v) != nil {
		return ""
	}
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (a answer) strings(key string) []string {
	var m map[string]json.RawMessage
	var out []string
	if json.Unmarshal(a.raw, &m) == nil {
		_ = json.Unmarshal(m[key], &out)
	}
	return out
}

// do sends one request; header is "" for none, "aws" to sign it. It fails
// only when no answer came.
func (c *client) do(method, path, header, body string) (answer, error) {
	var rd io.Reader = http.NoBody
	if body != "" {
		rd = bytes.NewReader([]byte(body))
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	switch header {
	case "":
	case "aws":
		if err := lookout.Sign(req, []byte(body), c.key, c.sec, lookout.DefaultRegion, time.Now()); err != nil {
			return answer{}, err
		}
	case "Authorization":
		req.Header.Set(header, "Bearer "+c.token)
	default:
		req.Header.Set(header, c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	c.statuses[res.StatusCode]++
	return answer{status: res.StatusCode, header: res.Header, raw: data}, nil
}

// expect sends a request and returns an error unless the status is one of
// want.
func (c *client) expect(method, path, header, body string, want ...int) (answer, error) {
	a, err := c.do(method, path, header, body)
	if err != nil {
		return a, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for _, w := range want {
		if a.status == w {
			return a, nil
		}
	}
	c.lastError = fmt.Sprintf("%s %s: status %d, want %v: %s", method, path, a.status, want, bytes.TrimSpace(a.raw))
	return a, fmt.Errorf("%s", c.lastError)
}
