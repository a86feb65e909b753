package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/native"
)

// timed runs fn and returns how long it took.
func timeCall(b *testing.B, fn func() error) time.Duration {
	start := time.Now()
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func httpCall(c *http.Client, method, url string, want int) func() error {
	return func() error {
		req, err := http.NewRequest(method, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return &statusError{resp.StatusCode}
		}
		return nil
	}
}

type statusError struct{ status int }

func (e *statusError) Error() string { return http.StatusText(e.status) }

// BenchmarkNativeGet times one artifact read through the whole server
// (NewHandler on a loopback listener, keep-alive) against the library's
// Get in the same process, and the server with its metrics against the
// native handler alone: http-µs, library-µs, http/library and
// instrumented/bare.
func BenchmarkNativeGet(b *testing.B) {
	f, srv := newServer(b)
	bare, err := native.New(native.Options{Registry: f.Registry, Authenticate: func(string) (string, bool) { return "admin", true }})
	require.NoError(b, err)
	bareSrv := httptest.NewServer(bare)
	b.Cleanup(bareSrv.Close)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	full := httpCall(c, "GET", srv.URL+"/v1/artifacts/"+f.Code.ID, 200)
	alone := httpCall(c, "GET", bareSrv.URL+"/v1/artifacts/"+f.Code.ID, 200)
	lib := func() error { _, err := f.Get(f.Ctx, f.Code.ID); return err }
	var h, l, a time.Duration
	b.ResetTimer()
	for range b.N {
		h += timeCall(b, full)
		l += timeCall(b, lib)
		a += timeCall(b, alone)
	}
	b.ReportMetric(float64(h.Microseconds())/float64(b.N), "http-µs")
	b.ReportMetric(float64(l.Nanoseconds())/1e3/float64(b.N), "library-µs")
	b.ReportMetric(float64(h)/float64(l), "http/library")
	b.ReportMetric(float64(h)/float64(a), "instrumented/bare")
}

// BenchmarkNativeDeleteRestore times a soft delete and its restore through
// the whole server against the same two library calls.
func BenchmarkNativeDeleteRestore(b *testing.B) {
	f, srv := newServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	url := srv.URL + "/v1/artifacts/" + f.Code.ID
	del, res := httpCall(c, "DELETE", url, 200), httpCall(c, "POST", url+"/restore", 200)
	lib := func() error {
		if _, err := f.Delete(f.Ctx, f.Code.ID); err != nil {
			return err
		}
		_, err := f.Restore(f.Ctx, f.Code.ID)
		return err
	}
	var h, l time.Duration
	b.ResetTimer()
	for range b.N {
		h += timeCall(b, del) + timeCall(b, res)
		l += timeCall(b, lib)
	}
	b.ReportMetric(float64(h.Microseconds())/float64(b.N), "http-µs")
	b.ReportMetric(float64(l.Nanoseconds())/1e3/float64(b.N), "library-µs")
	b.ReportMetric(float64(h)/float64(l), "http/library")
	_, err := f.Get(f.Ctx, f.Code.ID, registry.IncludeAll)
	require.NoError(b, err)
}
