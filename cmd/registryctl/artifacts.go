package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/modelreg/registry"
)

// artifactInput is the API's ArtifactInput: what register and update send.
type artifactInput struct {
	ID          string            `json:"id,omitempty"`
	Kind        string            `json:"kind,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Name        string            `json:"name,omitempty"`
	Version     string            `json:"version,omitempty"`
	Parent      string            `json:"parent,omitempty"`
	DisplayName string            `json:"displayName,omitempty"`
	Description string            `json:"description,omitempty"`
	Algorithm   string            `json:"algorithm,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Owners      []string          `json:"owners,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	StorageURIs []string          `json:"storageUris,omitempty"`
}

// metadataFlags are the flags of an artifact's metadata, shared by
// register and update.
type metadataFlags struct {
	displayName, description, algorithm string
	tags, owners, storage               []string
	labels                              map[string]string
}

func (m *metadataFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&m.displayName, "display-name", "", "DisplayName")
	fs.StringVar(&m.description, "description", "", "Description")
	fs.StringVar(&m.algorithm, "algorithm", "", "Algorithm")
	fs.StringSliceVar(&m.tags, "tag", nil, "Tags (repeat, or comma-separated)")
	fs.StringSliceVar(&m.owners, "owner", nil, "Owners (repeat, or comma-separated)")
	fs.StringArrayVar(&m.storage, "storage-uri", nil, "StorageURIs (repeat; a URI may hold a comma)")
	fs.StringToStringVar(&m.labels, "label", nil, "Labels as key=value (repeat)")
}

// apply sets the metadata fields whose flags were given.
func (m *metadataFlags) apply(fs *pflag.FlagSet, in *artifactInput) {
	if fs.Changed("display-name") {
		in.DisplayName = m.displayName
	}
	if fs.Changed("description") {
		in.Description = m.description
	}
	if fs.Changed("algorithm") {
		in.Algorithm = m.algorithm
	}
	if fs.Changed("tag") {
		in.Tags = m.tags
	}
	if fs.Changed("owner") {
		in.Owners = m.owners
	}
	if fs.Changed("storage-uri") {
		in.StorageURIs = m.storage
	}
	if fs.Changed("label") {
		in.Labels = m.labels
	}
}

// readJSONFile reads a JSON file ("-" for standard input) strictly into v.
func (a *app) readJSONFile(path string, v any) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(a.in)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("%s: %v", path, err)
	}
	return nil
}

func registerCmd(a *app) *cobra.Command {
	var in artifactInput
	var meta metadataFlags
	var file, batch string
	cmd := &cobra.Command{
		Use:   "register [--kind K --namespace NS --name N [--version V] … | --file artifact.json | --batch batch.json]",
		Short: "Register an artifact (Register), or several in one transaction (RegisterBatch)",
		Long: `Register an artifact from flags or from a JSON file (--file, "-" for standard
input) in the API's ArtifactInput shape; flags given beside --file override
its fields. --batch registers every artifact of a file, all or none: either
{"items": [...]} or a JSON array of ArtifactInput.`,
		Example: `  registryctl register --kind model --namespace svc --name churn --version 3 --storage-uri s3://m/churn/3
  registryctl register --file churn.json
  registryctl register --batch models.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if batch != "" {
				var others []string
				cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
					if f.Changed && f.Name != "batch" {
						others = append(others, "--"+f.Name)
					}
				})
				if len(others) > 0 {
					return invalidf("--batch takes every field from its file; %s do not go with it", strings.Join(others, ", "))
				}
				var items []artifactInput
				if err := a.readBatch(batch, &items); err != nil {
					return err
				}
				var out struct {
					Items []registry.Artifact `json:"items"`
				}
				if _, err := a.c.do(ctx, request{method: http.MethodPost, path: "/v1/artifacts/batch",
					body: map[string]any{"items": items}}, &out); err != nil {
					return err
				}
				return a.print(out, func(w io.Writer) { artifactTable(w, out.Items) })
			}
			body := artifactInput{}
			if file != "" {
				if err := a.readJSONFile(file, &body); err != nil {
					return err
				}
			}
			fs := cmd.Flags()
			for _, f := range []struct {
				flag     string
				dst, src *string
			}{{"id", &body.ID, &in.ID}, {"kind", &body.Kind, &in.Kind}, {"namespace", &body.Namespace, &in.Namespace},
				{"name", &body.Name, &in.Name}, {"version", &body.Version, &in.Version}, {"parent", &body.Parent, &in.Parent}} {
				if fs.Changed(f.flag) {
					*f.dst = *f.src
				}
			}
			meta.apply(fs, &body)
			var out registry.Artifact
			if _, err := a.c.do(ctx, request{method: http.MethodPost, path: "/v1/artifacts", body: body}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) { artifactDetail(w, out) })
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&in.ID, "id", "", "ID (a UUID; assigned when absent)")
	fs.StringVar(&in.Kind, "kind", "", "Kind: model, dataset or code")
	fs.StringVar(&in.Namespace, "namespace", "", "Namespace")
	fs.StringVar(&in.Name, "name", "", "Name")
	fs.StringVar(&in.Version, "version", "", "Version (empty for an unversioned artifact)")
	fs.StringVar(&in.Parent, "parent", "", "Parent: the ID of the artifact that contains it")
	meta.add(fs)
	fs.StringVarP(&file, "file", "f", "", `an ArtifactInput JSON file ("-": standard input)`)
	fs.StringVar(&batch, "batch", "", `a JSON file of artifacts to register in one transaction ("-": standard input)`)
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion("model", "dataset", "code"))
	return cmd
}

// readBatch reads {"items": [...]} or a bare array.
func (a *app) readBatch(path string, items *[]artifactInput) error {
	var raw json.RawMessage
	if err := a.readJSONFile(path, &raw); err != nil {
		return err
	}
	dec := func(data []byte, v any) error {
		d := json.NewDecoder(bytes.NewReader(data))
		d.DisallowUnknownFields()
		return d.Decode(v)
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := dec(t, items); err != nil {
			return invalidf("%s: %v", path, err)
		}
		return nil
	}
	var wrapped struct {
		Items []artifactInput `json:"items"`
	}
	if err := dec(raw, &wrapped); err != nil {
		return invalidf("%s: %v", path, err)
	}
	*items = wrapped.Items
	return nil
}

// target is how a command names one artifact: an ID argument, --fqn, or
// --namespace/--name/--version.
type target struct {
	fqn, namespace, name, version string
}

func (t *target) addFQN(fs *pflag.FlagSet) {
	fs.StringVar(&t.fqn, "fqn", "", "the artifact's fully qualified name instead of its ID")
}

func (t *target) addVersion(fs *pflag.FlagSet) {
	fs.StringVar(&t.namespace, "namespace", "", "with --name and --version: the artifact by namespace, name and version")
	fs.StringVar(&t.name, "name", "", "see --namespace")
	fs.StringVar(&t.version, "version", "", "see --namespace (absent: the unversioned artifact)")
}

// path is the API path of the artifact named by args or the flags.
func (t *target) path(cmd *cobra.Command, args []string) (string, error) {
	fs := cmd.Flags()
	byVersion := fs.Lookup("namespace") != nil && (fs.Changed("namespace") || fs.Changed("name") || fs.Changed("version"))
	n := len(args)
	if fs.Changed("fqn") {
		n++
	}
	if byVersion {
		n++
	}
	if n != 1 {
		how := "an ID argument or --fqn"
		if fs.Lookup("namespace") != nil {
			how = "an ID argument, --fqn, or --namespace and --name (and --version)"
		}
		return "", invalidf("name the artifact one way: %s", how)
	}
	switch {
	case len(args) == 1:
		return "/v1/artifacts/" + seg(args[0]), nil
	case fs.Changed("fqn"):
		return "/v1/fqn/" + seg(t.fqn), nil
	}
	if t.namespace == "" || t.name == "" {
		return "", invalidf("--namespace and --name go together")
	}
	p := "/v1/namespaces/" + seg(t.namespace) + "/names/" + seg(t.name)
	if fs.Changed("version") {
		p += "/versions/" + seg(t.version)
	}
	return p, nil
}

// includeFlag adds --include.
func includeFlag(cmd *cobra.Command, include *string) {
	cmd.Flags().StringVar(include, "include", "", "non-deleted (default), deleted or all")
	_ = cmd.RegisterFlagCompletionFunc("include", fixedCompletion("non-deleted", "deleted", "all"))
}

func includeQuery(include string) (url.Values, error) {
	q := url.Values{}
	switch include {
	case "":
	case "non-deleted", "deleted", "all":
		q.Set("include", include)
	default:
		return nil, invalidf("--include %q is not non-deleted, deleted or all", include)
	}
	return q, nil
}

func getCmd(a *app) *cobra.Command {
	var t target
	var include string
	cmd := &cobra.Command{
		Use:   "get [ID | --fqn FQN | --namespace NS --name N [--version V]]",
		Short: "Get an artifact (Get, GetByFQN, GetVersion)",
		Example: `  registryctl get 0b6f0f0e-5d43-4a4b-9f57-2b2b3f6a3f11
  registryctl get --fqn 'svc."churn.v2".3' --include all
  registryctl get --namespace svc --name churn --version 3 -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := t.path(cmd, args)
			if err != nil {
				return err
			}
			q, err := includeQuery(include)
			if err != nil {
				return err
			}
			var out registry.Artifact
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodGet, path: p, query: q}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) { artifactDetail(w, out) })
		},
	}
	t.addFQN(cmd.Flags())
	t.addVersion(cmd.Flags())
	includeFlag(cmd, &include)
	return cmd
}

// page is the API's ArtifactPage.
type page struct {
	Data   []registry.Artifact `json:"data"`
	After  string              `json:"after,omitempty"`
	Before string              `json:"before,omitempty"`
	Next   string              `json:"next,omitempty"`
	Prev   string              `json:"prev,omitempty"`
}

func listCmd(a *app) *cobra.Command {
	var namespace, name, kind, parent, include, cursor, before string
	var limit int
	var all bool
	cmd := &cobra.Command{
		Use:   "list [--namespace NS] [--name N] [--kind K] [--parent ID] [--include I] [--limit N] [--cursor C | --all]",
		Short: "List artifacts (List), ordered by namespace, name, version",
		Long: `List one page of artifacts; --cursor continues after a page's cursor (its
"after"), --before gives the page before one. --all follows every next page and
prints them as one list.`,
		Example: `  registryctl list --namespace svc --kind model
  registryctl list --namespace svc --name churn --include all --all -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := includeQuery(include)
			if err != nil {
				return err
			}
			for k, v := range map[string]string{"namespace": namespace, "name": name, "kind": kind,
				"parent": parent, "cursor": cursor, "before": before} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if cmd.Flags().Changed("limit") {
				if limit < 1 {
					return invalidf("--limit %d is not positive", limit)
				}
				q.Set("limit", strconv.Itoa(limit))
			}
			if all && (cursor != "" || before != "") {
				return invalidf("--all starts at the first page; it excludes --cursor and --before")
			}
			var p page
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodGet, path: "/v1/artifacts", query: q}, &p); err != nil {
				return err
			}
			if all {
				items := p.Data
				for p.Next != "" {
					u, err := a.c.resolve(p.Next)
					if err != nil {
						return err
					}
					p = page{}
					if _, err := a.c.doURL(cmd.Context(), http.MethodGet, u, nil, nil, &p); err != nil {
						return err
					}
					items = append(items, p.Data...)
				}
				p = page{Data: items}
			}
			if p.Data == nil {
				p.Data = []registry.Artifact{}
			}
			return a.print(p, func(w io.Writer) {
				artifactTable(w, p.Data)
				if p.After != "" && p.Next != "" {
					fmt.Fprintf(a.err, "more: --cursor %s\n", p.After)
				}
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&namespace, "namespace", "", "Filter.Namespace")
	fs.StringVar(&name, "name", "", "Filter.Name (exact)")
	fs.StringVar(&kind, "kind", "", "Filter.Kind: model, dataset or code")
	fs.StringVar(&parent, "parent", "", "only the direct children of this artifact")
	includeFlag(cmd, &include)
	fs.IntVar(&limit, "limit", 0, "page size (the server's default when absent)")
	fs.StringVar(&cursor, "cursor", "", "continue after this cursor (a page's after)")
	fs.StringVar(&before, "before", "", "the page that ends before this cursor (a page's before)")
	fs.BoolVar(&all, "all", false, "follow every next page")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion("model", "dataset", "code"))
	return cmd
}

// ifMatch turns --if-match (a revision, an ETag or "*") into the header.
func ifMatch(v string) (http.Header, error) {
	if v == "" {
		return nil, nil
	}
	if v != "*" {
		r := strings.Trim(v, `"`)
		if _, err := strconv.ParseUint(r, 10, 63); err != nil {
			return nil, invalidf("--if-match %q is not a revision (like 3, or \"3\"), or *", v)
		}
		v = `"` + r + `"`
	}
	return http.Header{"If-Match": {v}}, nil
}

func updateCmd(a *app) *cobra.Command {
	var t target
	var meta metadataFlags
	var file, match string
	cmd := &cobra.Command{
		Use:   "update [ID | --fqn FQN] [metadata flags | --file artifact.json] [--if-match REV]",
		Short: "Change an artifact's metadata (Update)",
		Long: `Change the metadata of a live artifact. With flags, the artifact is read,
the fields given are changed and the rest kept; the write is conditional on the
revision read (or --if-match), so a concurrent change fails with exit code 6
rather than being lost. With --file the file's metadata replaces the stored
metadata (an absent field empties it), as the API's PUT does.`,
		Example: `  registryctl update --fqn svc.churn.3 --description "retrained weekly" --tag prod
  registryctl update 0b6f0f0e-5d43-4a4b-9f57-2b2b3f6a3f11 --file churn.json --if-match 4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := t.path(cmd, args)
			if err != nil {
				return err
			}
			h, err := ifMatch(match)
			if err != nil {
				return err
			}
			var cur registry.Artifact
			if _, err := a.c.do(ctx, request{method: http.MethodGet, path: p}, &cur); err != nil {
				return err
			}
			var body artifactInput
			if file != "" {
				if err := a.readJSONFile(file, &body); err != nil {
					return err
				}
			} else {
				body = artifactInput{DisplayName: cur.DisplayName, Description: cur.Description, Algorithm: cur.Algorithm,
					Tags: cur.Tags, Owners: cur.Owners, Labels: cur.Labels, StorageURIs: cur.StorageURIs}
				if h == nil {
					h, _ = ifMatch(strconv.FormatInt(cur.Revision, 10))
				}
			}
			meta.apply(cmd.Flags(), &body)
			var out registry.Artifact
			if _, err := a.c.do(ctx, request{method: http.MethodPut, path: "/v1/artifacts/" + seg(cur.ID),
				body: body, header: h}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) { artifactDetail(w, out) })
		},
	}
	fs := cmd.Flags()
	t.addFQN(fs)
	meta.add(fs)
	fs.StringVarP(&file, "file", "f", "", `an ArtifactInput JSON file whose metadata replaces the stored ("-": standard input)`)
	fs.StringVar(&match, "if-match", "", "only if the artifact is at this revision (412, exit code 6, otherwise)")
	return cmd
}

func linkCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "link UPSTREAM-ID DOWNSTREAM-ID",
		Short:   "Add the lineage edge upstream → downstream (Link)",
		Example: "  registryctl link <dataset ID> <model ID>   # the dataset trained the model",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]string{"upstream": args[0], "downstream": args[1]}
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodPost, path: "/v1/lineage", body: body}, nil); err != nil {
				return err
			}
			return a.print(body, func(w io.Writer) { fmt.Fprintf(w, "linked %s -> %s\n", args[0], args[1]) })
		},
	}
}

func unlinkCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "unlink UPSTREAM-ID DOWNSTREAM-ID",
		Short: "Remove the lineage edge upstream → downstream (Unlink)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodDelete,
				path: "/v1/lineage/" + seg(args[0]) + "/" + seg(args[1])}, nil); err != nil {
				return err
			}
			body := map[string]string{"upstream": args[0], "downstream": args[1]}
			return a.print(body, func(w io.Writer) { fmt.Fprintf(w, "unlinked %s -> %s\n", args[0], args[1]) })
		},
	}
}

func lineageCmd(a *app) *cobra.Command {
	var direction, include string
	var depth int
	cmd := &cobra.Command{
		Use:     "lineage ID [--direction upstream|downstream|both] [--depth N]",
		Short:   "The lineage graph around an artifact (Lineage)",
		Example: "  registryctl lineage <model ID> --direction upstream --depth 3",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := includeQuery(include)
			if err != nil {
				return err
			}
			switch registry.Direction(direction) {
			case registry.Upstream, registry.Downstream, registry.Both:
				q.Set("direction", direction)
			default:
				return invalidf("--direction %q is not upstream, downstream or both", direction)
			}
			if depth < 1 || depth > registry.MaxLineageDepth {
				return invalidf("--depth %d is not within 1 and %d", depth, registry.MaxLineageDepth)
			}
			q.Set("depth", strconv.Itoa(depth))
			var g registry.LineageGraph
			if _, err := a.c.do(cmd.Context(), request{method: http.MethodGet,
				path: "/v1/artifacts/" + seg(args[0]) + "/lineage", query: q}, &g); err != nil {
				return err
			}
			return a.print(g, func(w io.Writer) { lineageTable(w, g) })
		},
	}
	cmd.Flags().StringVar(&direction, "direction", "both", "upstream, downstream or both")
	cmd.Flags().IntVar(&depth, "depth", 1, "how many edges away")
	includeFlag(cmd, &include)
	_ = cmd.RegisterFlagCompletionFunc("direction", fixedCompletion("upstream", "downstream", "both"))
	return cmd
}

func deployCmd(a *app) *cobra.Command   { return deploymentCmd(a, true) }
func undeployCmd(a *app) *cobra.Command { return deploymentCmd(a, false) }

func deploymentCmd(a *app, deploy bool) *cobra.Command {
	var match string
	cmd := &cobra.Command{
		Use:   "deploy ID ENDPOINT",
		Short: "Record that an artifact serves on an endpoint (Deploy)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := ifMatch(match)
			if err != nil {
				return err
			}
			method := http.MethodPut
			if !deploy {
				method = http.MethodDelete
			}
			var out registry.Artifact
			if _, err := a.c.do(cmd.Context(), request{method: method,
				path: "/v1/artifacts/" + seg(args[0]) + "/deployments/" + seg(args[1]), header: h}, &out); err != nil {
				return err
			}
			return a.print(out, func(w io.Writer) { artifactDetail(w, out) })
		},
	}
	if !deploy {
		cmd.Use = "undeploy ID ENDPOINT"
		cmd.Short = "Remove an artifact from an endpoint (Undeploy)"
	}
	cmd.Flags().StringVar(&match, "if-match", "", "only if the artifact is at this revision (412, exit code 6, otherwise)")
	return cmd
}
