package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/modelreg/registry"
)

// print writes v as --output says: table (by the function given), json or
// yaml.
func (a *app) print(v any, table func(w io.Writer)) error {
	switch a.output {
	case "json":
		return writeJSON(a.out, v, "  ")
	case "yaml":
		return writeYAML(a.out, v)
	}
	table(a.out)
	return nil
}

func writeJSON(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeYAML writes v as YAML with the field names and order of its JSON
// (the API's documents), in block style.
func writeYAML(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return err
	}
	blockStyle(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return err
	}
	return enc.Close()
}

// blockStyle drops the flow style and quotes that JSON text parses into.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// newTable is a tabwriter for aligned columns.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// stamp formats a time for tables.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joined(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ",")
}

func state(a registry.Artifact) string {
	if a.Deleted {
		return "deleted"
	}
	return "live"
}

// artifactTable lists artifacts one a line.
func artifactTable(w io.Writer, items []registry.Artifact) {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tKIND\tFQN\tREVISION\tSTATE\tENDPOINTS\tUPDATED")
	for _, x := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", x.ID, x.Kind, registry.BuildFQN(x.Namespace, x.Name, x.Version),
			x.Revision, state(x), joined(x.Endpoints), stamp(x.UpdatedAt))
	}
	tw.Flush()
}

// artifactDetail shows one artifact, a field a line.
func artifactDetail(w io.Writer, x registry.Artifact) {
	tw := newTable(w)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("ID", x.ID)
	row("Kind", string(x.Kind))
	row("FQN", registry.BuildFQN(x.Namespace, x.Name, x.Version))
	row("Namespace", x.Namespace)
	row("Name", x.Name)
	row("Version", dash(x.Version))
	row("Parent", dash(x.Parent))
	row("State", state(x))
	row("Revision", fmt.Sprint(x.Revision))
	if x.DisplayName != "" {
		row("Display name", x.DisplayName)
	}
	if x.Description != "" {
		row("Description", x.Description)
	}
	if x.Algorithm != "" {
		row("Algorithm", x.Algorithm)
	}
	if len(x.Tags) > 0 {
		row("Tags", joined(x.Tags))
	}
	if len(x.Owners) > 0 {
		row("Owners", joined(x.Owners))
	}
	for _, k := range slices.Sorted(maps.Keys(x.Labels)) {
		row("Label "+k, x.Labels[k])
	}
	if len(x.StorageURIs) > 0 {
		row("Storage", joined(x.StorageURIs))
	}
	row("Endpoints", joined(x.Endpoints))
	if len(x.DeletedUpstreams) > 0 {
		row("Deleted upstreams", joined(x.DeletedUpstreams))
	}
	row("Created", stamp(x.CreatedAt))
	row("Updated", stamp(x.UpdatedAt)+" by "+x.UpdatedBy)
	if x.Deleted {
		row("Deleted", stamp(x.DeletedAt)+" by "+x.DeletedBy)
		row("Delete operation", x.DeleteOperation)
		if x.DeleteReason != "" {
			row("Delete reason", x.DeleteReason)
		}
	}
	tw.Flush()
}

// lineageTable shows a lineage graph: its nodes, then its edges.
func lineageTable(w io.Writer, g registry.LineageGraph) {
	names := map[string]string{g.Root.ID: registry.BuildFQN(g.Root.Namespace, g.Root.Name, g.Root.Version)}
	for _, n := range g.Nodes {
		names[n.ID] = registry.BuildFQN(n.Namespace, n.Name, n.Version)
	}
	fmt.Fprintf(w, "Lineage of %s (%s)\n\n", names[g.Root.ID], g.Root.ID)
	artifactTable(w, g.Nodes)
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "UPSTREAM\t\tDOWNSTREAM\tCREATED")
	for _, e := range g.Edges {
		fmt.Fprintf(tw, "%s\t->\t%s\t%s by %s\n", first(names[e.Upstream], e.Upstream), first(names[e.Downstream], e.Downstream),
			stamp(e.CreatedAt), e.CreatedBy)
	}
	tw.Flush()
}

// cleanupTable lists pending storage cleanups.
func cleanupTable(w io.Writer, items []registry.Cleanup) {
	tw := newTable(w)
	fmt.Fprintln(tw, "URI\tARTIFACT\tOPERATION\tQUEUED\tATTEMPTS\tLAST ERROR")
	for _, c := range items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", c.URI, c.ArtifactID, c.Operation, stamp(c.QueuedAt), c.Attempts, dash(c.LastError))
	}
	tw.Flush()
}

// eventLine is one event as a table row, without a header: events
// stream.
func eventLine(w io.Writer, e registry.Event) {
	what := first(e.FQN, e.ArtifactID)
	switch {
	case e.Upstream != "":
		what = e.Upstream + " -> " + e.Downstream
	case e.Endpoint != "":
		what += " @ " + e.Endpoint
	case e.Missed > 0:
		what = fmt.Sprintf("%d events missed", e.Missed)
	}
	line := fmt.Sprintf("%d\t%s\t%s\t%s", e.Seq, stamp(e.Time), e.Type, dash(what))
	if e.Revision > 0 {
		line += fmt.Sprintf("\trev %d", e.Revision)
	}
	line += "\tby " + e.Principal
	if e.Reason != "" {
		line += fmt.Sprintf("\treason %q", e.Reason)
	}
	fmt.Fprintln(w, strings.ReplaceAll(line, "\t", "  "))
}
