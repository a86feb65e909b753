package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modelreg/registry/benchmarks"
	"github.com/modelreg/registry/internal/benchworld"
)

// Report is everything one run measured; it is written as results.json.
type Report struct {
	Machine   benchmarks.Machine `json:"machine"`
	Sizes     []int              `json:"sizes"`
	Stores    []string           `json:"stores"`
	Ops       []OpInfo           `json:"ops"`
	Benchtime string             `json:"benchtime"`
	Count     int                `json:"count"`
	// Metric is what the ratios and targets compare: "cpu" (process CPU
	// time per op) or "wall" (ns/op).
	Metric   string   `json:"metric"`
	Duration string   `json:"duration"`
	Results  []Result `json:"results"`
	Memory   []Memory `json:"memory"`
	// EdgesElsewhere are HardDelete in worlds with no edge elsewhere and
	// with many.
	EdgesElsewhere []Result `json:"edgesElsewhere"`
	// Floor are the go-memdb floor's registrations (benchmarks.Floor): Op
	// is "Register", "Group8" or "Group64", ns/op per registration.
	Floor   []Result `json:"floor,omitempty"`
	Targets []Target `json:"targets"`
}

// OpInfo describes an operation.
type OpInfo struct {
	Name   string `json:"name"`
	Desc   string `json:"desc"`
	Single bool   `json:"single"`
}

// Result is one benchmark: an operation on a store at a world size.
type Result struct {
	Op    string `json:"op"`
	Store string `json:"store"`
	Size  int    `json:"size"`
	N     int    `json:"n"`
	// WallNsPerOp is go test's ns/op; CPUNsPerOp the process's CPU time
	// per op (every thread, GC included) while the timer ran.
	WallNsPerOp float64 `json:"wallNsPerOp"`
	CPUNsPerOp  float64 `json:"cpuNsPerOp"`
	BytesPerOp  int64   `json:"bytesPerOp"`
	AllocsPerOp int64   `json:"allocsPerOp"`
	Edges       int     `json:"edges,omitempty"`
}

// Memory is what a store holds once a world is loaded.
type Memory struct {
	Store string `json:"store"`
	Size  int    `json:"size"`
	Edges int    `json:"edges"`
	// HeapPerArtifact is the Go heap after GC, per artifact.
	HeapPerArtifact float64 `json:"heapPerArtifact"`
	// OutsidePerArtifact is the SQLite database's pages, per artifact.
	OutsidePerArtifact float64 `json:"outsidePerArtifact"`
	LoadSeconds        float64 `json:"loadSeconds"`
}

// Target is one performance target and its status in this run.
type Target struct {
	Name   string  `json:"name"`
	Size   int     `json:"size,omitempty"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	Unit   string  `json:"unit"`
	Status string  `json:"status"` // PASS, FAIL, NOT RUN, INFO
	Note   string  `json:"note,omitempty"`
}

// Ns is the time per op the run compares (see Report.Metric).
func (x Result) Ns() float64 {
	if metric == "cpu" {
		return x.CPUNsPerOp
	}
	return x.WallNsPerOp
}

// mergeReports makes one report of several runs of the same stores: a long
// run split by size (10k and 100k, then 1M), or some operations run again
// after a change. It keeps the machine, benchtime and metric of the first;
// a later run's results replace an earlier run's for the same operation,
// store and size (and its memory figures for the same store and size), so
// every ratio still compares runs made minutes apart in one process. Runs
// must share -count, -benchtime and -metric, so that one sentence
// describes the table.
func mergeReports(reps []*Report) (*Report, error) {
	out := *reps[0]
	out.Sizes = slices.Clone(out.Sizes)
	out.Ops = slices.Clone(out.Ops)
	out.Results = slices.Clone(out.Results)
	out.Memory = slices.Clone(out.Memory)
	out.EdgesElsewhere = slices.Clone(out.EdgesElsewhere)
	durations := []string{out.Duration}
	for _, r := range reps[1:] {
		if !slices.Equal(r.Stores, out.Stores) {
			return nil, fmt.Errorf("runs of different stores (%v, %v) cannot be merged", out.Stores, r.Stores)
		}
		if r.Count != out.Count || r.Benchtime != out.Benchtime || r.Metric != out.Metric {
			return nil, fmt.Errorf("runs with different -count, -benchtime or -metric cannot be merged")
		}
		for _, n := range r.Sizes {
			if !slices.Contains(out.Sizes, n) {
				out.Sizes = append(out.Sizes, n)
			}
		}
		for _, op := range r.Ops {
			if !slices.ContainsFunc(out.Ops, func(o OpInfo) bool { return o.Name == op.Name }) {
				out.Ops = append(out.Ops, op)
			}
		}
		out.Results = slices.DeleteFunc(out.Results, func(x Result) bool {
			return slices.ContainsFunc(r.Results, func(y Result) bool { return x.Op == y.Op && x.Store == y.Store && x.Size == y.Size })
		})
		out.Results = append(out.Results, r.Results...)
		out.Memory = slices.DeleteFunc(out.Memory, func(x Memory) bool {
			return slices.ContainsFunc(r.Memory, func(y Memory) bool { return x.Store == y.Store && x.Size == y.Size })
		})
		out.Memory = append(out.Memory, r.Memory...)
		if len(r.EdgesElsewhere) > 0 {
			out.EdgesElsewhere = slices.Clone(r.EdgesElsewhere)
		}
		out.Floor = slices.DeleteFunc(slices.Clone(out.Floor), func(x Result) bool {
			return slices.ContainsFunc(r.Floor, func(y Result) bool { return x.Op == y.Op && x.Size == y.Size })
		})
		out.Floor = append(out.Floor, r.Floor...)
		durations = append(durations, r.Duration)
		out.Machine.Date += " and " + r.Machine.Date
	}
	slices.Sort(out.Sizes)
	out.Duration = strings.Join(durations, " + ")
	return &out, nil
}

func (r *Report) result(op, store string, n int) (Result, bool) {
	for _, x := range r.Results {
		if x.Op == op && x.Store == store && x.Size == n {
			return x, true
		}
	}
	return Result{}, false
}

func (r *Report) ratio(op, store string, n int) (float64, bool) {
	a, ok1 := r.result(op, "registry", n)
	b, ok2 := r.result(op, store, n)
	if !ok1 || !ok2 || b.Ns() == 0 {
		return 0, false
	}
	return a.Ns() / b.Ns(), true
}

func status(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

const mattn = "sqlite-mattn"

// evaluate checks every target the issue sets against this run.
func evaluate(r *Report) []Target {
	var ts []Target
	largest := r.Sizes[len(r.Sizes)-1]
	const big = 1_000_000
	for _, n := range r.Sizes {
		for _, op := range []string{"Get", "GetByFQN", "GetVersion"} {
			if v, ok := r.ratio(op, mattn, n); ok {
				ts = append(ts, Target{Name: op + " registry/SQLite(mattn)", Size: n, Value: v, Limit: 0.25, Unit: "×", Status: status(v <= 0.25)})
			}
			if v, ok := r.ratio(op, "map", n); ok {
				ts = append(ts, Target{Name: op + " registry/map", Size: n, Value: v, Limit: 10, Unit: "×", Status: status(v <= 10)})
			}
		}
		// Issue 14: writes and whole-subtree operations at least as fast
		// as SQLite in memory.
		for _, t := range []struct {
			op    string
			limit float64
		}{
			{"Register", 1}, {"SoftDelete", 1}, {"Restore", 1},
			{"HardDelete", 0.5}, {"Cascade20", 0.5},
			{"RecursiveHardDelete10k", 1}, {"RecursiveHardDelete100k", 1}, {"RestoreSubtree10k", 1},
		} {
			if v, ok := r.ratio(t.op, mattn, n); ok {
				ts = append(ts, Target{Name: t.op + " registry/SQLite(mattn)", Size: n, Value: v, Limit: t.limit, Unit: "×", Status: status(v <= t.limit)})
			}
		}
		for _, op := range []string{"RegisterConcurrent8", "RegisterConcurrent64"} {
			x, ok1 := r.result(op, "registry", n)
			y, ok2 := r.result(op, mattn, n)
			if ok1 && ok2 && x.WallNsPerOp > 0 && y.WallNsPerOp > 0 {
				v := y.WallNsPerOp / x.WallNsPerOp
				ts = append(ts, Target{Name: op + " throughput registry/SQLite(mattn)", Size: n, Value: v, Limit: 2, Unit: "×", Status: status(v >= 2),
					Note: fmt.Sprintf("wall clock: registry %.0f ops/s, SQLite %.0f ops/s", 1e9/x.WallNsPerOp, 1e9/y.WallNsPerOp)})
			}
		}
		if x, ok := r.result("RecursiveHardDelete100k", "registry", n); ok {
			v := x.Ns() / 1e6
			ts = append(ts, Target{Name: "RecursiveHardDelete100k time", Size: n, Value: v, Limit: 2000, Unit: "ms", Status: status(v < 2000)})
		}
		if x, ok := r.result("RestoreSubtree10k", "registry", n); ok {
			v := x.Ns() / 1e6
			ts = append(ts, Target{Name: "RestoreSubtree10k time", Size: n, Value: v, Limit: 200, Unit: "ms", Status: status(v < 200)})
		}
		g, ok1 := r.result("Get", "registry", n)
		gp, ok2 := r.result("GetParallel", "registry", n)
		if ok1 && ok2 && gp.WallNsPerOp > 0 {
			v := g.WallNsPerOp / gp.WallNsPerOp
			ts = append(ts, Target{Name: fmt.Sprintf("GetParallel speedup on %d procs", r.Machine.GOMAXPROCS), Size: n, Value: v, Limit: 1.6, Unit: "×", Status: status(v >= 1.6),
				Note: "throughput of Get from GOMAXPROCS goroutines over one goroutine"})
		}
	}
	// Targets at 1M.
	at := func(name string, limit float64, unit string, pass func(v float64) bool, value func(n int) (float64, bool)) {
		if v, ok := value(big); ok {
			ts = append(ts, Target{Name: name, Size: big, Value: v, Limit: limit, Unit: unit, Status: status(pass(v))})
			return
		}
		if v, ok := value(largest); ok {
			ts = append(ts, Target{Name: name, Size: largest, Value: v, Limit: limit, Unit: unit, Status: "NOT RUN",
				Note: fmt.Sprintf("the target is at 1M; this run's largest world is %s", benchworld.SizeLabel(largest))})
		}
	}
	at("Heap per artifact at 1M", 2048, "B", func(v float64) bool { return v <= 2048 }, func(n int) (float64, bool) {
		for _, m := range r.Memory {
			if m.Store == "registry" && m.Size == n {
				return m.HeapPerArtifact, true
			}
		}
		return 0, false
	})
	if slices.Contains(r.Sizes, 10_000) {
		for _, op := range r.Ops {
			if !op.Single {
				continue
			}
			at("Growth "+op.Name+" (1M / 10k)", 2, "×", func(v float64) bool { return v <= 2 }, func(n int) (float64, bool) {
				a, ok1 := r.result(op.Name, "registry", 10_000)
				b, ok2 := r.result(op.Name, "registry", n)
				if !ok1 || !ok2 || n == 10_000 || a.Ns() == 0 {
					return 0, false
				}
				return b.Ns() / a.Ns(), true
			})
		}
	}
	var none, dense float64
	for _, x := range r.EdgesElsewhere {
		if x.Store == "registry" {
			switch x.Op {
			case "HardDelete/edges=none":
				none = x.Ns()
			case "HardDelete/edges=dense":
				dense = x.Ns()
			}
		}
	}
	if none > 0 && dense > 0 {
		v := dense / none
		ts = append(ts, Target{Name: "HardDelete with many edges elsewhere / with none", Size: 10_000, Value: v, Limit: 1.5, Unit: "×", Status: status(v <= 1.5),
			Note: "\"does not depend\": within 1.5× (noise allowance of this harness)"})
	}
	return ts
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtBytes(b int64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	case b >= 10<<10:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}

func fmtRatio(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	switch {
	case v >= 10:
		return fmt.Sprintf("%.0f×", v)
	case v < 1:
		return fmt.Sprintf("%.3f×", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintf(&b, "Machine: %s, %d CPUs (GOMAXPROCS %d), %.0f GiB, %s %s/%s. Run %s, %s per benchmark, median of %d, took %s.\n\n",
		m.CPU, m.CPUs, m.GOMAXPROCS, m.MemGiB, m.GoVersion, m.OS, m.Arch, m.Date, r.Benchtime, r.Count, r.Duration)
	others := r.Stores[1:]
	what, other := "wall-clock ns/op (go test's)", "CPU"
	if r.Metric == "cpu" {
		what, other = "CPU time per op (the process's, every thread and the GC included, while the benchmark timer ran)", "wall"
	}
	fmt.Fprintf(&b, "Times and ratios are %s; the last column is registry/%s in %s time, as a cross-check. B/op and allocs/op count Go heap allocations only (SQLite's own C allocations are not seen).\n\n", what, mattn, other)
	for _, n := range r.Sizes {
		if _, ok := r.result(r.Ops[0].Name, "registry", n); !ok {
			continue // not run (yet)
		}
		fmt.Fprintf(&b, "### World of %s artifacts\n\n", benchworld.SizeLabel(n))
		b.WriteString("| operation | registry | B/op | allocs/op |")
		for _, s := range others {
			fmt.Fprintf(&b, " %s | B/op |", s)
		}
		for _, s := range others {
			fmt.Fprintf(&b, " registry/%s |", s)
		}
		fmt.Fprintf(&b, " registry/%s %s |", mattn, other)
		b.WriteString("\n|---|--:|--:|--:|")
		b.WriteString(strings.Repeat("--:|--:|", len(others)))
		b.WriteString(strings.Repeat("--:|", len(others)+1))
		b.WriteString("\n")
		for _, op := range r.Ops {
			reg, ok := r.result(op.Name, "registry", n)
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d |", op.Name, fmtNs(reg.Ns()), fmtBytes(reg.BytesPerOp), reg.AllocsPerOp)
			for _, s := range others {
				if x, ok := r.result(op.Name, s, n); ok {
					fmt.Fprintf(&b, " %s | %s |", fmtNs(x.Ns()), fmtBytes(x.BytesPerOp))
				} else {
					b.WriteString(" – | – |")
				}
			}
			for _, s := range others {
				v, ok := r.ratio(op.Name, s, n)
				fmt.Fprintf(&b, " %s |", fmtRatio(v, ok))
			}
			if x, ok := r.result(op.Name, mattn, n); ok && x.WallNsPerOp > 0 && x.CPUNsPerOp > 0 {
				v := reg.CPUNsPerOp / x.CPUNsPerOp
				if r.Metric == "cpu" {
					v = reg.WallNsPerOp / x.WallNsPerOp
				}
				fmt.Fprintf(&b, " %s |", fmtRatio(v, true))
			} else {
				b.WriteString(" – |")
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("### Memory once loaded\n\n| world | store | edges | Go heap per artifact | SQLite pages per artifact | load time |\n|--:|---|--:|--:|--:|--:|\n")
	for _, x := range r.Memory {
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f B | %.0f B | %.1f s |\n", benchworld.SizeLabel(x.Size), x.Store, x.Edges, x.HeapPerArtifact, x.OutsidePerArtifact, x.LoadSeconds)
	}
	if len(r.EdgesElsewhere) > 0 {
		b.WriteString("\n### Hard delete with few or many lineage edges elsewhere (10k artifacts)\n\n| store | no edge elsewhere | ~5.4 edges per artifact | many / none |\n|---|--:|--:|--:|\n")
		for _, s := range r.Stores {
			var none, dense float64
			for _, x := range r.EdgesElsewhere {
				if x.Store == s {
					if strings.HasSuffix(x.Op, "none") {
						none = x.Ns()
					} else {
						dense = x.Ns()
					}
				}
			}
			if none > 0 && dense > 0 {
				fmt.Fprintf(&b, "| %s | %s | %s | %.2f× |\n", s, fmtNs(none), fmtNs(dense), dense/none)
			}
		}
	}
	if len(r.Floor) > 0 {
		b.WriteString("\n### The go-memdb floor\n\nA bare go-memdb table with the registry's two artifact indexes, registrations and nothing else (benchmarks.Floor), per registration, against the registration of the registry and of SQLite (mattn) in the same run: one per transaction against Register, 8 and 64 per transaction against RegisterConcurrent8 and RegisterConcurrent64 (a group commit of that many calls at best).\n\n| world | floor | ns/op | B/op | allocs/op | registry / floor | SQLite / floor |\n|--:|---|--:|--:|--:|--:|--:|\n")
		against := map[string]string{"Register": "Register", "Group8": "RegisterConcurrent8", "Group64": "RegisterConcurrent64"}
		for _, x := range r.Floor {
			reg, ok1 := r.result(against[x.Op], "registry", x.Size)
			sql, ok2 := r.result(against[x.Op], mattn, x.Size)
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %s |\n", benchworld.SizeLabel(x.Size), x.Op, fmtNs(x.Ns()), fmtBytes(x.BytesPerOp), x.AllocsPerOp,
				fmtRatio(reg.Ns()/x.Ns(), ok1 && x.Ns() > 0), fmtRatio(sql.Ns()/x.Ns(), ok2 && x.Ns() > 0))
		}
	}
	b.WriteString("\n### Targets\n\n| target | world | measured | limit | status |\n|---|--:|--:|--:|---|\n")
	for _, t := range r.Targets {
		world := "–"
		if t.Size > 0 {
			world = benchworld.SizeLabel(t.Size)
		}
		limit := "–"
		if t.Limit > 0 {
			limit = fmtValue(t.Limit, t.Unit)
		}
		st := t.Status
		if t.Note != "" {
			st += " (" + t.Note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", t.Name, world, fmtValue(t.Value, t.Unit), limit, st)
	}
	return b.String()
}

func fmtValue(v float64, unit string) string {
	switch unit {
	case "×":
		return fmtRatio(v, true)
	case "ms":
		return fmt.Sprintf("%.0f ms", v)
	case "B":
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.0f %s", v, unit)
}

// Write writes results.json, results.md and latency.png to dir.
func (r *Report) Write(dir, md string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return err
	}
	return r.Chart(filepath.Join(dir, "latency.png"))
}
