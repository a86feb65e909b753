package apitest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/native"
	"github.com/modelreg/registry/registrytest"
)

// sse is one message of an event stream: an event, or a comment.
type sse struct{ id, event, data, comment string }

// stream opens GET path as an event stream and delivers its messages
// until the test ends, which closes it.
func stream(t *testing.T, c *http.Client, url, token string, headers ...string) (*http.Response, <-chan sse) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	out := make(chan sse, 4096)
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	go func() {
		defer close(done)
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var m sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m != (sse{}) {
					out <- m
				}
				m = sse{}
			case strings.HasPrefix(line, ":"):
				out <- sse{comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	return resp, out
}

// next returns the next event, skipping comments, or fails after 5 s.
func next(t *testing.T, ch <-chan sse) sse {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			require.True(t, ok, "the stream ended")
			if m.comment != "" {
				continue
			}
			schema := "Event"
			if m.event == "dropped" {
				schema = "Dropped"
			}
			validateSchema(t, schema, []byte(m.data))
			return m
		case <-timeout:
			t.Fatal("no event within 5 s")
		}
	}
}

func (m sse) event_(t *testing.T) registry.Event {
	t.Helper()
	var e registry.Event
	require.NoError(t, json.Unmarshal([]byte(m.data), &e))
	return e
}

func auditLog(t *testing.T, e *env) []registry.Event {
	t.Helper()
	evs, err := e.f.Events(admin(), 0, 1000)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	return evs
}

func TestEventsResume(t *testing.T) {
	for _, c := range []struct {
		name    string
		path    string
		headers []string
	}{
		{"Last-Event-ID", "/v1/events", []string{"Last-Event-ID", "{seq}"}},
		{"after", "/v1/events?after={seq}", nil},
		{"Last-Event-ID wins over after", "/v1/events?after=1", []string{"Last-Event-ID", "{seq}"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			log := auditLog(t, e)
			seq := strconv.FormatUint(log[2].Seq, 10)
			path := strings.ReplaceAll(c.path, "{seq}", seq)
			for i := range c.headers {
				c.headers[i] = strings.ReplaceAll(c.headers[i], "{seq}", seq)
			}
			resp, ch := stream(t, e.c, e.srv.URL+path, adminToken, c.headers...)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
			for _, want := range log[3:] {
				m := next(t, ch)
				assert.Equal(t, strconv.FormatUint(want.Seq, 10), m.id)
				assert.Equal(t, string(want.Type), m.event)
				assert.Equal(t, want, m.event_(t))
			}
			// Then live: a change made now arrives once, after the replay.
			r := e.do("DELETE", "/v1/artifacts/"+e.f.Code.ID, adminToken, "")
			require.Equal(t, 200, r.status)
			m := next(t, ch)
			assert.Equal(t, "soft-deleted", m.event)
			assert.Equal(t, e.f.Code.ID, m.event_(t).ArtifactID)
			assert.Equal(t, log[len(log)-1].Seq+1, m.event_(t).Seq)
		})
	}
}

func TestEventsFromTheStart(t *testing.T) {
	e := newEnv(t)
	log := auditLog(t, e)
	_, ch := stream(t, e.c, e.srv.URL+"/v1/events", adminToken)
	first := next(t, ch)
	assert.Equal(t, "1", first.id, "no position: from the oldest event, no dropped notice")
	assert.Equal(t, log[0], first.event_(t))
}

func TestEventsDropped(t *testing.T) {
	e := newEnv(t, registry.WithAuditLogSize(4))
	oldest, nxt := e.f.EventSpan()
	require.Greater(t, oldest, uint64(2), "the seed wrote more than the log holds")
	_, ch := stream(t, e.c, e.srv.URL+"/v1/events", adminToken, "Last-Event-ID", "1")
	m := next(t, ch)
	require.Equal(t, "dropped", m.event)
	assert.Empty(t, m.id, "a notice, not an event to resume from")
	assert.JSONEq(t, fmt.Sprintf(`{"after":1,"oldest":%d,"dropped":%d}`, oldest, oldest-2), m.data)
	for seq := oldest; seq < nxt; seq++ {
		assert.Equal(t, strconv.FormatUint(seq, 10), next(t, ch).id)
	}
}

func TestEventsPositionOfAnotherRegistry(t *testing.T) {
	e := newEnv(t)
	oldest, _ := e.f.EventSpan()
	_, ch := stream(t, e.c, e.srv.URL+"/v1/events", adminToken, "Last-Event-ID", "999999")
	m := next(t, ch)
	require.Equal(t, "dropped", m.event)
	assert.JSONEq(t, fmt.Sprintf(`{"after":999999,"oldest":%d,"dropped":0,"restarted":true}`, oldest), m.data)
	assert.Equal(t, strconv.FormatUint(oldest, 10), next(t, ch).id, "then from the oldest held")
}

func TestEventsBadRequests(t *testing.T) {
	runCases(t, []tcase{
		{name: "Last-Event-ID not a number", method: "GET", path: "/v1/events", headers: []string{"Last-Event-ID", "abc"}, status: 400, code: "INVALID_ARGUMENT"},
		{name: "after negative", method: "GET", path: "/v1/events?after=-1", status: 400, code: "INVALID_ARGUMENT"},
		{name: "unknown parameter", method: "GET", path: "/v1/events?since=3", status: 400, code: "INVALID_ARGUMENT"},
		{name: "no credential", method: "GET", path: "/v1/events", token: "-", status: 401, code: "UNAUTHENTICATED"},
	})
}

// TestEventsIsolation streams to a principal under read authorization:
// events about artifacts it may not read never reach it.
func TestEventsIsolation(t *testing.T) {
	e := newEnv(t, registry.WithReadAuthorization())
	_, ch := stream(t, e.c, e.srv.URL+"/v1/events", bobToken)
	r := e.do("DELETE", "/v1/artifacts/"+e.f.Code.ID, adminToken, "") // mlflow_svc: not bob's
	require.Equal(t, 200, r.status)
	r = e.do("POST", "/v1/artifacts", bobToken, `{"kind":"model","namespace":"other_svc","name":"mine"}`)
	require.Equal(t, 201, r.status)
	m := next(t, ch)
	assert.Equal(t, "created", m.event, "the first event bob sees is his own")
	assert.Equal(t, "other_svc.mine", m.event_(t).FQN)
}

// nativeServer serves the native API alone, with options NewHandler does
// not expose.
func nativeServer(t *testing.T, f *registrytest.Fixture, o native.Options) *httptest.Server {
	t.Helper()
	o.Registry = f.Registry
	o.Authenticate = func(token string) (string, bool) { return "admin", token == adminToken }
	h, err := native.New(o)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestEventsHeartbeat(t *testing.T) {
	f := registrytest.New(t)
	srv := nativeServer(t, f, native.Options{Heartbeat: 20 * time.Millisecond})
	c := &http.Client{Transport: validating{t: t, next: http.DefaultTransport}}
	_, ch := stream(t, c, srv.URL+"/v1/events?after="+strconv.FormatUint(nextSeq(f)-1, 10), adminToken)
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-ch:
			if m.comment == "heartbeat" {
				return
			}
		case <-timeout:
			t.Fatal("no heartbeat within 5 s")
		}
	}
}

func nextSeq(f *registrytest.Fixture) uint64 {
	_, n := f.EventSpan()
	return n
}

// TestEventsFallingBehind gives each stream a subscription of one event
// and commits fifty at once: the stream falls behind, catches up from the
// audit log, and says missed only for what the log no longer holds.
func TestEventsFallingBehind(t *testing.T) {
	batch := func(t *testing.T, f *registrytest.Fixture, n int) {
		as := make([]registry.Artifact, n)
		for i := range as {
			as[i] = registry.Artifact{Kind: registry.KindCode, Namespace: "burst", Name: fmt.Sprint("a", i)}
		}
		_, err := f.RegisterBatch(f.Ctx, as)
		require.NoError(t, err)
	}
	for _, c := range []struct {
		name    string
		logSize int
		missed  bool
	}{{"the log holds them", 1000, false}, {"the log lost some", 8, true}} {
		t.Run(c.name, func(t *testing.T) {
			f := registrytest.New(t, registry.WithAuditLogSize(c.logSize))
			metrics := prometheus.NewRegistry()
			srv := nativeServer(t, f, native.Options{EventBuffer: 1, Metrics: metrics})
			c2 := &http.Client{Transport: validating{t: t, next: http.DefaultTransport}}
			start := nextSeq(f)
			_, ch := stream(t, c2, srv.URL+"/v1/events?after="+strconv.FormatUint(start-1, 10), adminToken)
			// The stream is live once its opening comment came.
			require.Equal(t, "registry events", (<-ch).comment)
			batch(t, f, 50)
			last, lost, got := start-1, uint64(0), uint64(0)
			for last < start+49 {
				m := next(t, ch)
				ev := m.event_(t)
				if m.event == "missed" {
					lost += ev.Missed
					last += ev.Missed
					continue
				}
				assert.Equal(t, last+1, ev.Seq, "in order, no gap, no repeat")
				last = ev.Seq
				got++
			}
			assert.Equal(t, c.missed, lost > 0)
			assert.Equal(t, uint64(50), got+lost, "every event delivered or counted missed")
			assert.GreaterOrEqual(t, got, uint64(8), "what the log held was delivered")
			mf, err := metrics.Gather()
			require.NoError(t, err)
			for _, fam := range mf {
				if fam.GetName() == "registry_events_dropped_total" {
					assert.Equal(t, float64(lost), fam.GetMetric()[0].GetCounter().GetValue())
				}
			}
		})
	}
}

// TestEventsOutliveWriteTimeout serves the stream from a server whose
// write timeout is far shorter than the stream: the stream clears it and
// keeps delivering.
func TestEventsOutliveWriteTimeout(t *testing.T) {
	f := registrytest.New(t)
	h, err := native.New(native.Options{Registry: f.Registry, Heartbeat: 50 * time.Millisecond,
		Authenticate: func(token string) (string, bool) { return "admin", token == adminToken }})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = 200 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: validating{t: t, next: http.DefaultTransport}}
	_, ch := stream(t, c, srv.URL+"/v1/events?after="+strconv.FormatUint(nextSeq(f)-1, 10), adminToken)
	time.Sleep(600 * time.Millisecond)
	_, err = f.Register(f.Ctx, registry.Artifact{Kind: registry.KindCode, Namespace: "late", Name: "x"})
	require.NoError(t, err)
	m := next(t, ch)
	assert.Equal(t, "created", m.event, "delivered three write timeouts later")
}

func TestEventsHead(t *testing.T) {
	e := newEnv(t)
	r := e.do("HEAD", "/v1/events", adminToken, "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "text/event-stream", r.header.Get("Content-Type"))
}
