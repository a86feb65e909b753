package main

// A stand-in for the native API (httpapi/native, not merged yet): the
// routes the tests use, after openapi.yaml, over the registry.

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi"
)

func init() { standIn = newStandIn }

func newStandIn(reg *registry.Registry, creds *httpapi.Credentials) http.Handler {
	mux := http.NewServeMux()
	problem := func(w http.ResponseWriter, err error) {
		code, status := "INTERNAL", 500
		var re *registry.Error
		if errors.As(err, &re) {
			code = re.Code
			status = map[string]int{"NOT_FOUND": 404, "INVALID_ARGUMENT": 400, "FORBIDDEN": 403}[code]
			if status == 0 {
				status = 409
			}
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://modelreg.dev/problems/" + strings.ReplaceAll(strings.ToLower(code), "_", "-"),
			"title": http.StatusText(status), "status": status, "detail": err.Error(), "code": code})
	}
	ok := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	bad := func(w http.ResponseWriter, msg string) {
		problem(w, &registry.Error{Code: "INVALID_ARGUMENT", Message: msg})
	}
	handle := func(pattern string, fn func(w http.ResponseWriter, r *http.Request)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			p, known := creds.Token(tok)
			if !found || !known {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(401)
				_ = json.NewEncoder(w).Encode(map[string]any{"status": 401, "code": "UNAUTHENTICATED", "detail": "missing or unknown bearer token", "title": "Unauthorized", "type": "x"})
				return
			}
			fn(w, r.WithContext(registry.WithPrincipal(r.Context(), p)))
		})
	}
	incl := func(r *http.Request) registry.Include {
		if v := r.URL.Query().Get("include"); v != "" {
			return registry.Include(v)
		}
		return registry.IncludeNonDeleted
	}
	bq := func(r *http.Request, k string) bool { v := r.URL.Query().Get(k); return v == "true" || v == "1" }
	delOpts := func(r *http.Request) (registry.DeleteOptions, error) {
		q := r.URL.Query()
		o := registry.DeleteOptions{Hard: bq(r, "hard"), Recursive: bq(r, "recursive"), Cascade: bq(r, "cascade"),
			Atomic: bq(r, "atomic"), DryRun: bq(r, "dryRun"), Reason: q.Get("reason"), ClientToken: r.Header.Get("Idempotency-Key")}
		if v := q.Get("cascadeLimit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, errors.New("cascadeLimit")
			}
			o.CascadeLimit = n
		}
		o.Lineage = map[string]registry.LineagePolicy{"": registry.LineageRestrict, "restrict": registry.LineageRestrict,
			"detach": registry.LineageDetach, "cascade": registry.LineageCascade}[q.Get("lineage")]
		return o, nil
	}
	precond := func(w http.ResponseWriter, r *http.Request, a registry.Artifact) bool {
		if m := r.Header.Get("If-Match"); m != "" && m != "*" && m != `"`+strconv.FormatInt(a.Revision, 10)+`"` {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(412)
			_ = json.NewEncoder(w).Encode(map[string]any{"status": 412, "code": "PRECONDITION_FAILED", "detail": "the artifact is at revision " + strconv.FormatInt(a.Revision, 10), "title": "Precondition Failed", "type": "x"})
			return false
		}
		return true
	}
	del := func(w http.ResponseWriter, r *http.Request, get func() (registry.Artifact, error), do func(registry.DeleteOptions) (registry.Result, error)) {
		o, err := delOpts(r)
		if err != nil {
			bad(w, err.Error())
			return
		}
		if r.Header.Get("If-Match") != "" {
			a, err := get()
			if err != nil {
				problem(w, err)
				return
			}
			if !precond(w, r, a) {
				return
			}
		}
		res, err := do(o)
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 200, res)
	}
	input := func(w http.ResponseWriter, r *http.Request, v any) bool {
		d := json.NewDecoder(r.Body)
		d.DisallowUnknownFields()
		if err := d.Decode(v); err != nil {
			bad(w, err.Error())
			return false
		}
		return true
	}
	handle("POST /v1/artifacts", func(w http.ResponseWriter, r *http.Request) {
		var a registry.Artifact
		if !input(w, r, &a) {
			return
		}
		out, err := reg.Register(r.Context(), a)
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 201, out)
	})
	handle("POST /v1/artifacts/batch", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Items []registry.Artifact }
		if !input(w, r, &in) {
			return
		}
		out, err := reg.RegisterBatch(r.Context(), in.Items)
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 201, map[string]any{"items": out})
	})
	handle("GET /v1/artifacts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		lim, _ := strconv.Atoi(q.Get("limit"))
		p, err := reg.List(r.Context(), registry.Filter{Namespace: q.Get("namespace"), Name: q.Get("name"), Kind: registry.Kind(q.Get("kind")),
			Parent: q.Get("parent"), Include: incl(r), Limit: lim, Cursor: q.Get("cursor"), Before: q.Get("before")})
		if err != nil {
			problem(w, err)
			return
		}
		out := map[string]any{"data": p.Items}
		if p.Items == nil {
			out["data"] = []any{}
		}
		if p.Next != "" {
			q.Set("cursor", p.Next)
			out["after"], out["next"] = p.Next, "/v1/artifacts?"+q.Encode()
		}
		ok(w, 200, out)
	})
	one := func(pattern string, get func(r *http.Request) (registry.Artifact, error)) {
		handle("GET "+pattern, func(w http.ResponseWriter, r *http.Request) {
			a, err := get(r)
			if err != nil {
				problem(w, err)
				return
			}
			w.Header().Set("ETag", `"`+strconv.FormatInt(a.Revision, 10)+`"`)
			ok(w, 200, a)
		})
	}
	one("/v1/artifacts/{id}", func(r *http.Request) (registry.Artifact, error) {
		return reg.Get(r.Context(), r.PathValue("id"), incl(r))
	})
	one("/v1/fqn/{fqn}", func(r *http.Request) (registry.Artifact, error) {
		return reg.GetByFQN(r.Context(), r.PathValue("fqn"), incl(r))
	})
	one("/v1/namespaces/{ns}/names/{name}/versions/{v}", func(r *http.Request) (registry.Artifact, error) {
		return reg.GetVersion(r.Context(), r.PathValue("ns"), r.PathValue("name"), r.PathValue("v"), incl(r))
	})
	handle("PUT /v1/artifacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		cur, err := reg.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			problem(w, err)
			return
		}
		if !precond(w, r, cur) {
			return
		}
		var a registry.Artifact
		if !input(w, r, &a) {
			return
		}
		a.ID, a.Kind, a.Namespace, a.Name, a.Version, a.Parent = cur.ID, cur.Kind, cur.Namespace, cur.Name, cur.Version, cur.Parent
		out, err := reg.Update(r.Context(), a)
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 200, out)
	})
	handle("DELETE /v1/artifacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		del(w, r, func() (registry.Artifact, error) { return reg.Get(r.Context(), id, registry.IncludeAll) },
			func(o registry.DeleteOptions) (registry.Result, error) { return reg.Delete(r.Context(), id, o) })
	})
	handle("DELETE /v1/fqn/{fqn}", func(w http.ResponseWriter, r *http.Request) {
		fqn := r.PathValue("fqn")
		del(w, r, func() (registry.Artifact, error) { return reg.GetByFQN(r.Context(), fqn, registry.IncludeAll) },
			func(o registry.DeleteOptions) (registry.Result, error) { return reg.DeleteByFQN(r.Context(), fqn, o) })
	})
	handle("DELETE /v1/namespaces/{ns}/names/{name}/versions", func(w http.ResponseWriter, r *http.Request) {
		del(w, r, nil, func(o registry.DeleteOptions) (registry.Result, error) {
			return reg.DeleteAllVersions(r.Context(), r.PathValue("ns"), r.PathValue("name"), o)
		})
	})
	restore := func(pattern string, fn func(r *http.Request, o registry.RestoreOptions) (registry.Artifact, error)) {
		handle("POST "+pattern, func(w http.ResponseWriter, r *http.Request) {
			a, err := fn(r, registry.RestoreOptions{ClientToken: r.Header.Get("Idempotency-Key"), Reason: r.URL.Query().Get("reason")})
			if err != nil {
				problem(w, err)
				return
			}
			ok(w, 200, a)
		})
	}
	restore("/v1/artifacts/{id}/restore", func(r *http.Request, o registry.RestoreOptions) (registry.Artifact, error) {
		return reg.Restore(r.Context(), r.PathValue("id"), o)
	})
	restore("/v1/fqn/{fqn}/restore", func(r *http.Request, o registry.RestoreOptions) (registry.Artifact, error) {
		return reg.RestoreByFQN(r.Context(), r.PathValue("fqn"), o)
	})
	handle("POST /v1/lineage", func(w http.ResponseWriter, r *http.Request) {
		var e struct{ Upstream, Downstream string }
		if !input(w, r, &e) {
			return
		}
		if err := reg.Link(r.Context(), e.Upstream, e.Downstream); err != nil {
			problem(w, err)
			return
		}
		ok(w, 201, map[string]string{"upstream": e.Upstream, "downstream": e.Downstream})
	})
	handle("DELETE /v1/lineage/{up}/{down}", func(w http.ResponseWriter, r *http.Request) {
		if err := reg.Unlink(r.Context(), r.PathValue("up"), r.PathValue("down")); err != nil {
			problem(w, err)
			return
		}
		w.WriteHeader(204)
	})
	handle("GET /v1/artifacts/{id}/lineage", func(w http.ResponseWriter, r *http.Request) {
		depth, _ := strconv.Atoi(r.URL.Query().Get("depth"))
		g, err := reg.Lineage(r.Context(), r.PathValue("id"), registry.Direction(r.URL.Query().Get("direction")), depth, incl(r))
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 200, g)
	})
	deploy := func(method string, fn func(r *http.Request) error) {
		handle(method+" /v1/artifacts/{id}/deployments/{ep}", func(w http.ResponseWriter, r *http.Request) {
			if err := fn(r); err != nil {
				problem(w, err)
				return
			}
			a, err := reg.Get(r.Context(), r.PathValue("id"))
			if err != nil {
				problem(w, err)
				return
			}
			ok(w, 200, a)
		})
	}
	deploy("PUT", func(r *http.Request) error { return reg.Deploy(r.Context(), r.PathValue("id"), r.PathValue("ep")) })
	deploy("DELETE", func(r *http.Request) error { return reg.Undeploy(r.Context(), r.PathValue("id"), r.PathValue("ep")) })
	handle("POST /v1/purge", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			OlderThan, Lineage, Reason string
			DryRun                     bool
		}
		if !input(w, r, &in) {
			return
		}
		d, err := time.ParseDuration(in.OlderThan)
		if err != nil {
			bad(w, err.Error())
			return
		}
		res, err := reg.Purge(r.Context(), d, registry.PurgeOptions{DryRun: in.DryRun, Reason: in.Reason,
			Lineage: map[string]registry.LineagePolicy{"detach": registry.LineageDetach, "cascade": registry.LineageCascade}[in.Lineage]})
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 200, res)
	})
	handle("GET /v1/cleanups", func(w http.ResponseWriter, r *http.Request) {
		c, err := reg.PendingCleanups(r.Context())
		if err != nil {
			problem(w, err)
			return
		}
		if c == nil {
			c = []registry.Cleanup{}
		}
		ok(w, 200, map[string]any{"items": c})
	})
	handle("POST /v1/cleanups/retry", func(w http.ResponseWriter, r *http.Request) {
		c, err := reg.RetryCleanups(r.Context())
		if err != nil {
			problem(w, err)
			return
		}
		ok(w, 200, c)
	})
	handle("GET /v1/check", func(w http.ResponseWriter, r *http.Request) {
		if err := reg.Check(); err != nil {
			ok(w, 200, map[string]any{"consistent": false, "problems": []string{err.Error()}})
			return
		}
		ok(w, 200, map[string]any{"consistent": true, "problems": []string{}})
	})
	handle("POST /v1/reset", func(w http.ResponseWriter, r *http.Request) {
		if err := reg.Reset(r.Context()); err != nil {
			problem(w, err)
			return
		}
		w.WriteHeader(204)
	})
	handle("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
		evs, err := reg.Events(r.Context(), after, 0)
		if err != nil {
			problem(w, err)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		for _, e := range evs {
			b, _ := json.Marshal(e)
			_, _ = w.Write([]byte("id: " + strconv.FormatUint(e.Seq, 10) + "\nevent: " + string(e.Type) + "\ndata: " + string(b) + "\n\n"))
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	return mux
}
