package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/modelreg/registry"
)

// deleteFlags are the DeleteOptions as flags.
type deleteFlags struct {
	hard, recursive, cascade, atomic, dryRun bool
	cascadeLimit                             int
	lineage, reason, key, match              string
}

// lineageFlag adds --lineage.
func lineageFlag(cmd *cobra.Command, v *string) {
	cmd.Flags().StringVar(v, "lineage", "", "Lineage: the policy for live dependents of a hard or cascade delete: restrict (default), detach or cascade")
	_ = cmd.RegisterFlagCompletionFunc("lineage", fixedCompletion("restrict", "detach", "cascade"))
}

func checkLineage(v string) error {
	switch v {
	case "", "restrict", "detach", "cascade":
		return nil
	}
	return invalidf("--lineage %q is not restrict, detach or cascade", v)
}

func deleteCmd(a *app) *cobra.Command {
	var f deleteFlags
	var t target
	var allVersions bool
	cmd := &cobra.Command{
		Use:   "delete [ID | --fqn FQN | --all-versions --namespace NS --name N] [flags]",
		Short: "Delete artifacts (Delete, DeleteByFQN, DeleteAllVersions)",
		Long: `Delete an artifact by ID or FQN, or every version of a name (--all-versions,
which implies --cascade). Without options the delete is soft and restorable.

The result is a tree of what went (or, with --dry-run, would go): each
artifact under its parent with the order it is deleted in, FAILED items with
their code and message, SKIPPED versions past the cascade limit, and the
dependents a hard delete DETACHED. A delete of several items in which some
failed exits with code 5; a single artifact that cannot be deleted exits
with its error's code (3 not found, 4 refused, 6 precondition failed).`,
		Example: `  registryctl delete --fqn svc.churn.3                                  # soft, restorable
  registryctl delete --fqn svc.churn.3 --hard --recursive --dry-run     # preview the tree
  registryctl delete --all-versions --namespace svc --name churn --hard --lineage detach --idempotency-key retire-churn`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkLineage(f.lineage); err != nil {
				return err
			}
			h, err := ifMatch(f.match)
			if err != nil {
				return err
			}
			if f.key != "" {
				if h == nil {
					h = http.Header{}
				}
				h.Set("Idempotency-Key", f.key)
			}
			q := url.Values{}
			set := func(k string, on bool) {
				if on {
					q.Set(k, "true")
				}
			}
			set("hard", f.hard)
			set("recursive", f.recursive)
			set("atomic", f.atomic)
			set("dryRun", f.dryRun)
			if f.lineage != "" {
				q.Set("lineage", f.lineage)
			}
			if f.reason != "" {
				q.Set("reason", f.reason)
			}
			if cmd.Flags().Changed("cascade-limit") {
				q.Set("cascadeLimit", strconv.Itoa(f.cascadeLimit))
			}
			var p string
			if allVersions {
				if len(args) > 0 || t.fqn != "" {
					return invalidf("--all-versions names the artifacts by --namespace and --name, not by an ID or --fqn")
				}
				if t.namespace == "" || t.name == "" {
					return invalidf("--all-versions needs --namespace and --name")
				}
				if f.match != "" {
					return invalidf("--if-match names one artifact's revision; it does not go with --all-versions")
				}
				p = "/v1/namespaces/" + seg(t.namespace) + "/names/" + seg(t.name) + "/versions"
			} else {
				if cmd.Flags().Changed("namespace") || cmd.Flags().Changed("name") {
					return invalidf("--namespace and --name go with --all-versions; name one artifact by ID or --fqn")
				}
				if p, err = t.path(cmd, args); err != nil {
					return err
				}
				set("cascade", f.cascade)
			}
			var res registry.Result
			what := "deleting"
			if f.dryRun {
				what = "planning the delete"
			}
			err = a.withProgress(cmd.Context(), what, func(ctx context.Context) error {
				_, err := a.c.do(ctx, request{method: http.MethodDelete, path: p, query: q, header: h}, &res)
				return err
			})
			if err != nil {
				return err
			}
			return a.printResult(cmd.Context(), "delete", res)
		},
	}
	fs := cmd.Flags()
	t.addFQN(fs)
	fs.BoolVar(&allVersions, "all-versions", false, "delete every version of --namespace and --name (cascade implied)")
	fs.StringVar(&t.namespace, "namespace", "", "with --all-versions: the namespace")
	fs.StringVar(&t.name, "name", "", "with --all-versions: the name")
	fs.BoolVar(&f.hard, "hard", false, "Hard: remove for good; otherwise a soft, restorable delete")
	fs.BoolVar(&f.recursive, "recursive", false, "Recursive: take the containment subtree too, children first")
	fs.BoolVar(&f.cascade, "cascade", false, "Cascade: take the other versions of the same namespace and name")
	fs.IntVar(&f.cascadeLimit, "cascade-limit", 0, "CascadeLimit: at most this many versions (default 20); the rest are skipped")
	lineageFlag(cmd, &f.lineage)
	fs.BoolVar(&f.atomic, "atomic", false, "Atomic: any failed item fails the call and changes nothing")
	fs.BoolVar(&f.dryRun, "dry-run", false, "DryRun: print what would happen and change nothing")
	fs.StringVar(&f.reason, "reason", "", "Reason: recorded on soft-deleted artifacts and in events")
	fs.StringVar(&f.key, "idempotency-key", "", "ClientToken: a retry with the same key and request returns the first result")
	fs.StringVar(&f.match, "if-match", "", "only if the artifact is at this revision (412, exit code 6, otherwise)")
	return cmd
}

// printResult prints a delete's or a purge's result and says whether some
// items failed (exit code 5).
func (a *app) printResult(ctx context.Context, call string, res registry.Result) error {
	var parents map[string]string
	if a.output == "table" {
		parents = a.parents(ctx, res)
	}
	if err := a.print(res, func(w io.Writer) { resultTree(w, call, res, parents) }); err != nil {
		return err
	}
	if n := len(res.Failed); n > 0 {
		verb := "were not deleted"
		if res.DryRun {
			verb = "would fail"
		}
		return &codeError{exitPartial, fmt.Errorf("partial: %d of %d items %s", n, n+len(res.Deleted), verb)}
	}
	return nil
}

// maxTreeLookups bounds the reads that find the parents of a result's
// items; a larger result prints as a flat list in the order of deletion.
const maxTreeLookups = 1000

// parents maps each item of res still readable (soft deleted, live, or
// only planned) to its parent, by reading it (include=all), eight reads at a
// time. An item the server no longer knows (hard deleted) or hides has
// none, so a hard delete that was carried out prints flat, in the order of
// deletion.
func (a *app) parents(ctx context.Context, res registry.Result) map[string]string {
	var ids []string
	if !res.Hard || res.DryRun { // what a hard delete took is gone
		for _, it := range res.DeletedItems {
			ids = append(ids, it.ID)
		}
	}
	for _, f := range res.Failed {
		if f.ID != "" {
			ids = append(ids, f.ID)
		}
	}
	ids = append(ids, res.Skipped...)
	if len(ids) == 0 || len(ids) > maxTreeLookups {
		return nil
	}
	out := make([]string, len(ids))
	sem := make(chan struct{}, 8)
	done := make(chan struct{})
	for i, id := range ids {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem; done <- struct{}{} }()
			var x registry.Artifact
			if _, err := a.c.do(ctx, request{method: http.MethodGet, path: "/v1/artifacts/" + seg(id),
				query: url.Values{"include": {"all"}}}, &x); err == nil {
				out[i] = x.Parent
			}
		}()
	}
	for range ids {
		<-done
	}
	m := make(map[string]string, len(ids))
	for i, id := range ids {
		if out[i] != "" {
			m[id] = out[i]
		}
	}
	return m
}

func restoreCmd(a *app) *cobra.Command {
	var t target
	var operation, reason, key string
	cmd := &cobra.Command{
		Use:   "restore [ID | --fqn FQN | --operation OP]",
		Short: "Undo a soft delete (Restore, RestoreByFQN, RestoreOperation)",
		Long: `Restore a soft-deleted artifact and what its delete took with it, by ID or
FQN; or, with --operation, everything one delete call soft deleted that is
still deleted by it (the operation a delete printed).`,
		Example: `  registryctl restore --fqn svc.churn.3
  registryctl restore --operation 6f1c2f5e-0d7a-4c56-8a8e-0c1a7a9d2b10`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if reason != "" {
				q.Set("reason", reason)
			}
			var h http.Header
			if key != "" {
				h = http.Header{"Idempotency-Key": {key}}
			}
			if cmd.Flags().Changed("operation") {
				if len(args) > 0 || cmd.Flags().Changed("fqn") {
					return invalidf("name what to restore one way: an ID argument, --fqn or --operation")
				}
				var out struct {
					Items []registry.Artifact `json:"items"`
				}
				if _, err := a.c.do(cmd.Context(), request{method: http.MethodPost,
					path: "/v1/operations/" + seg(operation) + "/restore", query: q, header: h}, &out); err != nil {
					return err
				}
				return a.print(out, func(w io.Writer) { artifactTable(w, out.Items) })
			}
			p, err := t.path(cmd, args)
			if err != nil {
				return err
			}
			var out registry.Artifact
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodPost, path: p + "/restore", query: q, header: h}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) { artifactDetail(w, out) })
		},
	}
	fs := cmd.Flags()
	t.addFQN(fs)
	fs.StringVar(&operation, "operation", "", "restore everything this delete operation soft deleted")
	fs.StringVar(&reason, "reason", "", "recorded in the events")
	fs.StringVar(&key, "idempotency-key", "", "a retry with the same key returns the first result")
	return cmd
}

func purgeCmd(a *app) *cobra.Command {
	var olderThan, lineage, reason string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "purge --older-than DURATION [--lineage P] [--dry-run] [--reason R]",
		Short: "Hard delete what was soft deleted at least a duration ago (Purge)",
		Long: `Hard delete every artifact soft deleted at least --older-than ago, under the
checks of a hard delete. The result prints as a delete's does; some items
failing exits with code 5.`,
		Example: "  registryctl purge --older-than 720h --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := time.ParseDuration(olderThan); err != nil {
				return invalidf("--older-than %q is not a duration like 720h or 90m", olderThan)
			}
			if err := checkLineage(lineage); err != nil {
				return err
			}
			body := map[string]any{"olderThan": olderThan}
			if lineage != "" {
				body["lineage"] = lineage
			}
			if dryRun {
				body["dryRun"] = true
			}
			if reason != "" {
				body["reason"] = reason
			}
			var res registry.Result
			what := "purging"
			if dryRun {
				what = "planning the purge"
			}
			err := a.withProgress(cmd.Context(), what, func(ctx context.Context) error {
				_, err := a.c.do(ctx, request{method: http.MethodPost, path: "/v1/purge", body: body}, &res)
				return err
			})
			if err != nil {
				return err
			}
			return a.printResult(cmd.Context(), "purge", res)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&olderThan, "older-than", "", `soft deleted at least this long ago ("720h", "90m", "0s")`)
	_ = cmd.MarkFlagRequired("older-than")
	lineageFlag(cmd, &lineage)
	fs.BoolVar(&dryRun, "dry-run", false, "print what would be purged and change nothing")
	fs.StringVar(&reason, "reason", "", "recorded in the events")
	return cmd
}
