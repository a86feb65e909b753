package native

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/httpapi/internal/httpx"
)

// deleteParams are the query parameters of every delete; all versions
// takes them but cascade, which it implies.
var deleteParams = []string{"hard", "recursive", "cascade", "cascadeLimit", "lineage", "atomic", "dryRun", "reason"}

// deleteOptions reads a delete's options from its query and headers.
func deleteOptions(r *http.Request, p params) (registry.DeleteOptions, error) {
	var o registry.DeleteOptions
	var err error
	for _, b := range []struct {
		name string
		to   *bool
	}{{"hard", &o.Hard}, {"recursive", &o.Recursive}, {"cascade", &o.Cascade}, {"atomic", &o.Atomic}, {"dryRun", &o.DryRun}} {
		if *b.to, err = p.boolean(b.name); err != nil {
			return o, err
		}
	}
	limit, err := p.integer("cascadeLimit", 1, 1_000_000)
	if err != nil {
		return o, err
	}
	o.CascadeLimit = int(limit)
	if o.Lineage, err = p.lineage("lineage"); err != nil {
		return o, err
	}
	o.Reason = p.str("reason")
	if o.ClientToken, err = idempotencyKey(r); err != nil {
		return o, err
	}
	return o, nil
}

func (h *handler) deleteByID(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	id := r.PathValue("id")
	h.delete(w, r, deleteParams, true, func(o registry.DeleteOptions) (registry.Result, error) {
		return h.Registry.Delete(ctx, id, o)
	})
}

func (h *handler) deleteByFQN(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	fqn := r.PathValue("fqn")
	h.delete(w, r, deleteParams, true, func(o registry.DeleteOptions) (registry.Result, error) {
		return h.Registry.DeleteByFQN(ctx, fqn, o)
	})
}

func (h *handler) deleteAllVersions(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	ns, name := r.PathValue("namespace"), r.PathValue("name")
	names := []string{"hard", "recursive", "cascadeLimit", "lineage", "atomic", "dryRun", "reason"}
	h.delete(w, r, names, false, func(o registry.DeleteOptions) (registry.Result, error) {
		return h.Registry.DeleteAllVersions(ctx, ns, name, o)
	})
}

// delete answers a delete: 200 with the Result (a dry run too), or a
// problem that carries the Result of a failed atomic or single-target
// delete. conditional says whether If-Match applies.
func (h *handler) delete(w http.ResponseWriter, r *http.Request, names []string, conditional bool, call func(registry.DeleteOptions) (registry.Result, error)) {
	p, ok := h.query(w, r, names...)
	if !ok {
		return
	}
	o, err := deleteOptions(r, p)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if conditional {
		rev, err := ifMatch(r)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		if rev < 0 {
			h.unmatchable(w, r)
			return
		}
		o.IfRevision = rev
	} else if len(r.Header.Values("If-Match")) > 0 {
		h.writeError(w, r, invalid("If-Match", "a delete of every version has no single revision to match; delete a version by ID or FQN"))
		return
	}
	mode := "soft"
	if o.Hard {
		mode = "hard"
	}
	res, err := call(o)
	if err != nil {
		h.deletes.WithLabelValues(mode, "failed").Inc()
		if len(res.Failed) > 0 || len(res.Deleted) > 0 {
			res = fill(res)
			h.writeErrorWith(w, r, err, &res)
			return
		}
		h.writeError(w, r, err)
		return
	}
	outcome := "deleted"
	switch {
	case res.Replayed:
		outcome = "replayed"
	case res.DryRun:
		outcome = "dry-run"
	case len(res.Failed) > 0 || len(res.Skipped) > 0:
		outcome = "partial"
	}
	h.deletes.WithLabelValues(mode, outcome).Inc()
	httpx.WriteJSON(w, http.StatusOK, fill(res))
}

// fill gives a Result's required lists their empty value rather than null.
func fill(res registry.Result) registry.Result {
	if res.Deleted == nil {
		res.Deleted = []string{}
	}
	if res.DeletedItems == nil {
		res.DeletedItems = []registry.Item{}
	}
	if res.Failed == nil {
		res.Failed = []registry.Failure{}
	}
	return res
}

// writeErrorWith is writeError with the delete's Result as the problem's
// result member.
func (h *handler) writeErrorWith(w http.ResponseWriter, r *http.Request, err error, res *registry.Result) {
	var e *registry.Error
	if !errors.As(err, &e) {
		h.writeError(w, r, err)
		return
	}
	writeProblem(w, r, &problem{Status: registry.HTTPStatus(err), Code: e.Code, ID: e.ID, Field: e.Field,
		Detail: e.Message, Result: res})
}

// restoreOptions reads a restore's reason and Idempotency-Key.
func (h *handler) restoreOptions(w http.ResponseWriter, r *http.Request) (registry.RestoreOptions, bool) {
	p, ok := h.query(w, r, "reason")
	if !ok {
		return registry.RestoreOptions{}, false
	}
	key, err := idempotencyKey(r)
	if err != nil {
		h.writeError(w, r, err)
		return registry.RestoreOptions{}, false
	}
	return registry.RestoreOptions{Reason: p.str("reason"), ClientToken: key}, true
}

func (h *handler) restoreByID(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.restore(w, r, func(o registry.RestoreOptions) (registry.Artifact, error) {
		return h.Registry.Restore(ctx, r.PathValue("id"), o)
	})
}

func (h *handler) restoreByFQN(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	h.restore(w, r, func(o registry.RestoreOptions) (registry.Artifact, error) {
		return h.Registry.RestoreByFQN(ctx, r.PathValue("fqn"), o)
	})
}

func (h *handler) restore(w http.ResponseWriter, r *http.Request, call func(registry.RestoreOptions) (registry.Artifact, error)) {
	o, ok := h.restoreOptions(w, r)
	if !ok {
		return
	}
	a, err := call(o)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeArtifact(w, http.StatusOK, a)
}

func (h *handler) restoreOperation(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	o, ok := h.restoreOptions(w, r)
	if !ok {
		return
	}
	out, err := h.Registry.RestoreOperation(ctx, r.PathValue("operation"), o)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, artifactList{Items: out})
}

type purgeInput struct {
	OlderThan string `json:"olderThan"`
	Lineage   string `json:"lineage,omitempty"`
	DryRun    bool   `json:"dryRun,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

func (h *handler) purge(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	var in purgeInput
	if err := h.decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	age, err := time.ParseDuration(in.OlderThan)
	if err != nil || age < 0 {
		h.writeError(w, r, invalid("olderThan", fmt.Sprintf("olderThan must be a duration of at least 0 such as \"720h\" or \"0s\", not %q", clip(in.OlderThan))))
		return
	}
	policy, err := params{"lineage": {in.Lineage}}.lineage("lineage")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	res, err := h.Registry.Purge(ctx, age, registry.PurgeOptions{Lineage: policy, DryRun: in.DryRun, Reason: in.Reason})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, fill(res))
}

func (h *handler) cleanups(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	list, err := h.Registry.PendingCleanups(ctx)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if list == nil {
		list = []registry.Cleanup{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": list})
}

func (h *handler) retryCleanups(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	rep, err := h.Registry.RetryCleanups(ctx)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if rep.Cleaned == nil {
		rep.Cleaned = []string{}
	}
	if rep.Failed == nil {
		rep.Failed = []registry.Cleanup{}
	}
	httpx.WriteJSON(w, http.StatusOK, rep)
}

func (h *handler) check(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	if principal := registry.PrincipalFrom(ctx); h.Admin != nil && !h.Admin(principal) {
		writeProblem(w, r, &problem{Status: http.StatusForbidden, Code: registry.CodeForbidden,
			Detail: principal + " may not check the registry: its report names artifacts of every namespace"})
		return
	}
	problems := []string{}
	if err := h.Registry.Check(); err != nil {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			for _, e := range joined.Unwrap() {
				problems = append(problems, e.Error())
			}
		} else {
			problems = append(problems, err.Error())
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"consistent": len(problems) == 0, "problems": problems})
}

func (h *handler) reset(w http.ResponseWriter, r *http.Request, ctx context.Context) {
	if _, ok := h.query(w, r); !ok {
		return
	}
	if err := h.Registry.Reset(ctx); err != nil {
		h.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
