package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (not the process-wide default, so that two servers in one process, as in
// tests, never collide).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(r registry.API) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "registry_http_requests_total",
		Help: "HTTP requests by dialect, route pattern, method and status.",
	}, []string{"dialect", "route", "method", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "registry_http_request_duration_seconds",
		Help:    "HTTP request latency by dialect, route pattern and method (an event stream counts its whole life).",
		Buckets: prometheus.DefBuckets,
	}, []string{"dialect", "route", "method"})
	// Computed at scrape time: Count walks the registry (linear in its
	// size, copying nothing) and PendingCleanups lists the queue. They run
	// with no principal: under WithReadAuthorization they count what an
	// anonymous caller may read.
	count := func(inc registry.Include) func() float64 {
		return func() float64 {
			n, err := r.Count(context.Background(), registry.Filter{Include: inc})
			if err != nil {
				return 0
			}
			return float64(n)
		}
	}
	m.reg.MustRegister(m.requests, m.duration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "registry_artifacts", Help: "Artifacts in the registry by state.",
			ConstLabels: prometheus.Labels{"state": "live"}}, count(registry.IncludeNonDeleted)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "registry_artifacts", Help: "Artifacts in the registry by state.",
			ConstLabels: prometheus.Labels{"state": "soft-deleted"}}, count(registry.IncludeDeleted)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "registry_pending_cleanups", Help: "Storage URIs waiting to be cleaned."},
			func() float64 {
				list, err := r.PendingCleanups(context.Background())
				if err != nil {
					return 0
				}
				return float64(len(list))
			}),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// handler serves the metrics in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// methods bounds the method label: anything else is OTHER.
var methods = map[string]bool{http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// instrument counts and times every request to h, labelled with the route
// pattern the dialect recorded (httpx.SetRoute) or else the pattern h is
// mounted on: never the raw path, whose values are unbounded.
func (m *metrics) instrument(dialect, pattern string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, route := httpx.WithRoute(r.Context())
		rec := &recorder{ResponseWriter: w}
		start := time.Now()
		defer func() {
			rt := route()
			if rt == "" {
				rt = pattern
			}
			method := r.Method
			if !methods[method] {
				method = "OTHER"
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			m.requests.WithLabelValues(dialect, rt, method, strconv.Itoa(status)).Inc()
			m.duration.WithLabelValues(dialect, rt, method).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// recorder records the status a handler wrote, and passes flushes and
// http.ResponseController's calls through.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
