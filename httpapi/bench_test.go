package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/registrytest"
)

// BenchmarkDialects measures, per dialect, a representative mix of
// operations sent over HTTP to the whole server (registrytest.NewServer:
// httpapi.NewHandler on an httptest server at 127.0.0.1, one client with
// keep-alive) and the same operations made directly on the library, in
// the same process and interleaved iteration by iteration, so that both
// see the same machine and the same registry size. Reported:
//
//	req/s    requests per second over HTTP (one client, one at a time)
//	p50-µs   median latency of a request over HTTP
//	p99-µs   99th percentile latency of a request over HTTP
//	lib-µs   mean time of the same operation on the library
//	overhead HTTP time / library time: what the HTTP layer (transport,
//	         routing, authentication, JSON, the dialect's own reads) adds
//
// The mixes, one iteration each:
//
//	modelarts     import 3 versions, get one, delete with cascade=true    (5 requests)
//	artifacts     create, get, delete                                     (3 requests)
//	lookout       CreateModel, DescribeModel, StartModel, StopModel,
//	              DeleteModel (SigV4 signed, with a client token)         (5 requests)
//	openmetadata  create, get, soft delete, restore, hard delete          (5 requests)
func BenchmarkDialects(b *testing.B) {
	for _, m := range mixes {
		b.Run(m.name, func(b *testing.B) {
			s := registrytest.NewServer(b)
			c := newClient(s.URL, s.OpenMetadataToken, s.AWS.AccessKeyID, s.AWS.SecretAccessKey)
			b.Cleanup(c.http.CloseIdleConnections)
			ctx := s.Fixture.Ctx
			if m.setup != nil {
				if err := m.setup(c, s.Fixture.Registry, ctx); err != nil {
					b.Fatal(err)
				}
			}
			var httpTime, libTime time.Duration
			lat := make([]time.Duration, 0, b.N*m.requests)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if err := m.library(s.Fixture.Registry, ctx, i); err != nil {
					b.Fatal(err)
				}
				libTime += time.Since(start)
				start = time.Now()
				if err := m.http(c, i, &lat); err != nil {
					b.Fatal(err)
				}
				httpTime += time.Since(start)
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/httpTime.Seconds(), "req/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(libTime.Microseconds())/float64(b.N*m.requests), "lib-µs")
			b.ReportMetric(float64(httpTime)/float64(libTime), "overhead")
		})
	}
}

// mix is one dialect's operations, over HTTP and on the library.
type mix struct {
	name     string
	requests int // per iteration
	setup    func(c *client, reg *registry.Registry, ctx context.Context) error
	http     func(c *client, i int, lat *[]time.Duration) error
	library  func(reg *registry.Registry, ctx context.Context, i int) error
}

// timed sends a request expecting one of want and records its latency.
func timed(c *client, lat *[]time.Duration, method, path, header, body string, want ...int) (answer, error) {
	start := time.Now()
	a, err := c.expect(method, path, header, body, want...)
	*lat = append(*lat, time.Since(start))
	return a, err
}

const benchProject = "bench"

var mixes = []mix{
	{
		name: "modelarts", requests: 5,
		http: func(c *client, i int, lat *[]time.Duration) error {
			name := "http-" + strconv.Itoa(i)
			var first string
			for v := 1; v <= 3; v++ {
				a, err := timed(c, lat, "POST", "/v1/"+benchProject+"/models", "X-Auth-Token",
					`{"model_name":"`+name+`","model_version":"1.1.`+strconv.Itoa(v)+`","model_type":"PyTorch","source_location":"obs://b/`+name+`/"}`, 200)
				if err != nil {
					return err
				}
				if v == 1 {
					first = a.field("model_id")
				}
			}
			if _, err := timed(c, lat, "GET", "/v1/"+benchProject+"/models/"+first, "X-Auth-Token", "", 200); err != nil {
				return err
			}
			a, err := timed(c, lat, "DELETE", "/v1/"+benchProject+"/models/"+first+"?cascade=true", "X-Auth-Token", "", 200)
			if err == nil && len(a.strings("delete_success_list")) != 3 {
				err = fmt.Errorf("cascade deleted %s", a.raw)
			}
			return err
		},
		library: func(reg *registry.Registry, ctx context.Context, i int) error {
			name := "lib-" + strconv.Itoa(i)
			var first string
			for v := 1; v <= 3; v++ {
				a, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: benchProject, Name: name, Version: "1.1." + strconv.Itoa(v),
					Labels: map[string]string{"modelarts.model_type": "PyTorch", "modelarts.owner": registrytest.Principal, "modelarts.workspace_id": "0",
						"modelarts.source_location": "obs://b/" + name + "/", "modelarts.install_type": "real-time,batch"}})
				if err != nil {
					return err
				}
				if v == 1 {
					first = a.ID
				}
			}
			if _, err := reg.Get(ctx, first); err != nil {
				return err
			}
			_, err := reg.Delete(ctx, first, registry.DeleteOptions{Hard: true, Cascade: true})
			return err
		},
	},
	{
		name: "artifacts", requests: 3,
		http: func(c *client, i int, lat *[]time.Duration) error {
			a, err := timed(c, lat, "POST", "/artifact/model", "X-Authorization", `{"url":"https://huggingface.co/bench/http-`+strconv.Itoa(i)+`"}`, 201)
			if err != nil {
				return err
			}
			id := a.field("metadata", "id")
			if _, err := timed(c, lat, "GET", "/artifacts/model/"+id, "X-Authorization", "", 200); err != nil {
				return err
			}
			_, err = timed(c, lat, "DELETE", "/artifacts/model/"+id, "X-Authorization", "", 200)
			return err
		},
		library: func(reg *registry.Registry, ctx context.Context, i int) error {
			url := "https://huggingface.co/bench/lib-" + strconv.Itoa(i)
			a, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "artifacts", Name: "lib-" + strconv.Itoa(i),
				Version: "model", StorageURIs: []string{url}})
			if err != nil {
				return err
			}
			if _, err := reg.Get(ctx, a.ID); err != nil {
				return err
			}
			_, err = reg.Delete(ctx, a.ID, registry.DeleteOptions{Hard: true, Lineage: registry.LineageDetach})
			return err
		},
	},
	{
		name: "lookout", requests: 5,
		setup: func(c *client, reg *registry.Registry, ctx context.Context) error {
			if _, err := c.expect("POST", "/2020-11-20/projects", "aws", `{"ProjectName":"`+benchProject+`"}`, 200); err != nil {
				return err
			}
			_, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindDataset, Namespace: "lib-" + benchProject, Name: "::project"})
			return err
		},
		http: func(c *client, i int, lat *[]time.Duration) error {
			p := "/2020-11-20/projects/" + benchProject + "/models"
			a, err := timed(c, lat, "POST", p, "aws", `{"OutputConfig":{"S3Location":{"Bucket":"bench-bucket","Prefix":"p/"}}}`, 202)
			if err != nil {
				return err
			}
			m := p + "/" + a.field("ModelMetadata", "ModelVersion")
			if _, err := timed(c, lat, "GET", m, "aws", "", 200); err != nil {
				return err
			}
			if _, err := timed(c, lat, "POST", m+"/start", "aws", `{"MinInferenceUnits":1}`, 202); err != nil {
				return err
			}
			if _, err := timed(c, lat, "POST", m+"/stop", "aws", "", 202); err != nil {
				return err
			}
			_, err = timed(c, lat, "DELETE", m, "aws", "", 202)
			return err
		},
		library: func(reg *registry.Registry, ctx context.Context, i int) error {
			ns := "lib-" + benchProject
			p, err := reg.GetByFQN(ctx, registry.BuildFQN(ns, "::project", ""))
			if err != nil {
				return err
			}
			a, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: ns, Name: "model", Version: strconv.Itoa(i + 1),
				Parent: p.ID, Labels: map[string]string{"lookout.s3.bucket": "bench-bucket", "lookout.s3.prefix": "p/"}})
			if err != nil {
				return err
			}
			if _, err := reg.Get(ctx, a.ID); err != nil {
				return err
			}
			if err := reg.Deploy(ctx, a.ID, "lookoutvision"); err != nil {
				return err
			}
			if err := reg.Undeploy(ctx, a.ID, "lookoutvision"); err != nil {
				return err
			}
			_, err = reg.DeleteByFQN(ctx, a.FQN(), registry.DeleteOptions{ClientToken: "lib-" + strconv.Itoa(i)})
			return err
		},
	},
	{
		name: "openmetadata", requests: 5,
		setup: func(c *client, reg *registry.Registry, ctx context.Context) error {
			if _, err := c.expect("POST", "/api/v1/services/mlmodelServices", "Authorization", `{"name":"`+benchProject+`","serviceType":"Mlflow"}`, 201); err != nil {
				return err
			}
			_, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: "lib-" + benchProject, Name: "::service"})
			return err
		},
		http: func(c *client, i int, lat *[]time.Duration) error {
			a, err := timed(c, lat, "POST", "/api/v1/mlmodels", "Authorization", `{"name":"http-`+strconv.Itoa(i)+`","service":"`+benchProject+`","algorithm":"KMeans"}`, 201)
			if err != nil {
				return err
			}
			id := a.field("id")
			if _, err := timed(c, lat, "GET", "/api/v1/mlmodels/"+id, "Authorization", "", 200); err != nil {
				return err
			}
			if _, err := timed(c, lat, "DELETE", "/api/v1/mlmodels/"+id, "Authorization", "", 200); err != nil {
				return err
			}
			if _, err := timed(c, lat, "PUT", "/api/v1/mlmodels/restore", "Authorization", `{"id":"`+id+`"}`, 200); err != nil {
				return err
			}
			_, err = timed(c, lat, "DELETE", "/api/v1/mlmodels/"+id+"?hardDelete=true", "Authorization", "", 204)
			return err
		},
		library: func(reg *registry.Registry, ctx context.Context, i int) error {
			ns := "lib-" + benchProject
			svc, err := reg.GetByFQN(ctx, registry.BuildFQN(ns, "::service", ""))
			if err != nil {
				return err
			}
			a, err := reg.Register(ctx, registry.Artifact{Kind: registry.KindModel, Namespace: ns, Name: "lib-" + strconv.Itoa(i),
				Parent: svc.ID, Algorithm: "KMeans"})
			if err != nil {
				return err
			}
			if _, err := reg.Get(ctx, a.ID); err != nil {
				return err
			}
			if _, err := reg.Delete(ctx, a.ID); err != nil {
				return err
			}
			if _, err := reg.Restore(ctx, a.ID); err != nil {
				return err
			}
			_, err = reg.Delete(ctx, a.ID, registry.DeleteOptions{Hard: true})
			return err
		},
	},
}
