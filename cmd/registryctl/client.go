package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// client calls the native API of one server with one token.
type client struct {
	base  *url.URL // the server, without /v1
	token string
	http  *http.Client
}

func newClient(server, token string) (*client, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalidf("server %q is not an http:// or https:// URL", server)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &client{base: u, token: token, http: &http.Client{}}, nil
}

// problem is an RFC 9457 problem details object of the native API.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	ID        string `json:"id,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// apiError is an answer of the server other than 2xx.
type apiError struct {
	method, path string
	problem
}

func (e *apiError) Error() string {
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%s, HTTP %d)", msg, e.Code, e.Status)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// ExitCode maps the problem's code, or else its status, to an exit code.
func (e *apiError) ExitCode() int {
	switch e.Code {
	case "INVALID_ARGUMENT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE":
		return exitInvalid
	case "NOT_FOUND":
		return exitNotFound
	case "FORBIDDEN", "UNAUTHENTICATED", "ALREADY_EXISTS", "NOT_EMPTY", "DEPLOYED", "HAS_DEPENDENTS",
		"NOT_DELETED", "PARENT_DELETED", "IDEMPOTENCY_MISMATCH", "PURGE_PROTECTED":
		return exitRefused
	case "PRECONDITION_FAILED":
		return exitPrecondition
	case "INTERNAL", "TIMEOUT":
		return exitUnavailable
	}
	switch s := e.Status; {
	case s == http.StatusBadRequest, s == http.StatusRequestEntityTooLarge, s == http.StatusUnsupportedMediaType:
		return exitInvalid
	case s == http.StatusNotFound:
		return exitNotFound
	case s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusConflict:
		return exitRefused
	case s == http.StatusPreconditionFailed:
		return exitPrecondition
	case s >= 500:
		return exitUnavailable
	}
	return exitError
}

// request is one call of the native API.
type request struct {
	method string
	path   string     // under the server, starting with /v1
	query  url.Values // may be nil
	body   any        // sent as JSON when not nil
	header http.Header
}

// url is the request's absolute URL; path is escaped already (seg).
func (c *client) url(path string, q url.Values) string {
	s := c.base.String() + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// resolve makes a link of the API (a page's next) absolute.
func (c *client) resolve(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("the server's link %q: %w", link, err)
	}
	return c.base.ResolveReference(u).String(), nil
}

// do sends r and decodes a 2xx JSON answer into out (when not nil); any
// other answer is an *apiError.
func (c *client) do(ctx context.Context, r request, out any) (http.Header, error) {
	return c.doURL(ctx, r.method, c.url(r.path, r.query), r.body, r.header, out)
}

func (c *client) doURL(ctx context.Context, method, u string, body any, header http.Header, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &codeError{exitUnavailable, fmt.Errorf("cannot reach the server: %w", err)}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, &codeError{exitUnavailable, fmt.Errorf("reading the answer to %s %s: %w", method, req.URL.Path, err)}
	}
	if res.StatusCode/100 != 2 {
		e := &apiError{method: method, path: req.URL.Path}
		if json.Unmarshal(data, &e.problem) != nil || (e.Code == "" && e.Detail == "") {
			e.problem = problem{Detail: strings.TrimSpace(string(data))}
			if len(e.Detail) > 200 || e.Detail == "" {
				e.Detail = fmt.Sprintf("%s %s: %s", method, req.URL.Path, http.StatusText(res.StatusCode))
			}
		}
		e.Status = res.StatusCode
		return res.Header, e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return res.Header, fmt.Errorf("the answer to %s %s is not what the native API sends: %w", method, req.URL.Path, err)
		}
	}
	return res.Header, nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// isNotFound reports whether err is the server's 404.
func isNotFound(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}
