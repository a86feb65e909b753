// Command compare runs every benchmarked operation on every store at every
// world size in one process, prints a table of ns/op, B/op and allocs/op with
// the ratios registry/SQLite and registry/map, checks the performance
// targets, and writes out/results.json, out/results.md and out/latency.png
// (with -publish, results/ too: the copies BENCHMARKS.md shows).
//
//	go run ./cmd/compare                              # 10k, 100k and 1M
//	go run ./cmd/compare -sizes=10000,100000
//	go run ./cmd/compare -quick                       # 10k, short runs
//	go run ./cmd/compare -publish                     # also write results/
//	go run ./cmd/compare -render a.json,b.json        # one table of two runs
//
// For each size it loads the world into every store (measuring the heap
// each holds), then runs each operation on each store in turn, so that the
// runs of one operation are close in time: the ratios are what count on a
// shared machine, not the absolute times.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelreg/registry/benchmarks"
	"github.com/modelreg/registry/internal/benchworld"
)

func main() {
	testing.Init()
	sizesFlag := flag.String("sizes", "10000,100000,1000000", "world sizes, comma-separated")
	storesFlag := flag.String("stores", strings.Join(benchmarks.StoreNames, ","), "stores, comma-separated (registry first)")
	opsFlag := flag.String("ops", "", "operations, comma-separated (default all)")
	benchtime := flag.String("benchtime", "1s", "time (or NNx iterations) per benchmark, as go test -benchtime")
	count := flag.Int("count", 3, "runs per benchmark, in rounds over the stores; the median is kept")
	flag.IntVar(&heavyCount, "heavycount", 1, "runs per benchmark of the subtree operations (at most -count)")
	quick := flag.Bool("quick", false, "10k (unless -sizes is given), 200ms per benchmark (unless -benchtime is), no 100k subtree")
	outDir := flag.String("out", "out", "directory for results.json, results.md and latency.png")
	publish := flag.Bool("publish", false, "also write the results to results/ (committed, shown by BENCHMARKS.md)")
	profileDir := flag.String("profile", "", "write a CPU profile per registry operation and size to this directory")
	floor := flag.Bool("floor", true, "with Register, also measure the go-memdb floor (benchmarks.Floor) at each size")
	metricFlag := flag.String("metric", "wall", "what ratios and targets compare: wall (ns/op) or cpu (process CPU time per op)")
	render := flag.String("render", "", "render the table and chart of earlier runs' results.json files instead of running (comma-separated: merged, a later run's results replacing an earlier run's for the same operation, store and size)")
	flag.Parse()
	switch *metricFlag {
	case "cpu", "wall":
		metric = *metricFlag
	default:
		log.Fatalf("-metric must be cpu or wall")
	}

	if *render != "" {
		var reps []*Report
		for _, path := range strings.Split(*render, ",") {
			b, err := os.ReadFile(path)
			if err != nil {
				log.Fatal(err)
			}
			rep := new(Report)
			if err := json.Unmarshal(b, rep); err != nil {
				log.Fatalf("%s: %v", path, err)
			}
			reps = append(reps, rep)
		}
		rep, err := mergeReports(reps)
		if err != nil {
			log.Fatal(err)
		}
		if rep.Metric != "" && !flagSet("metric") {
			metric = rep.Metric
		}
		rep.Metric = metric
		rep.Targets = evaluate(rep) // of the merged runs
		fmt.Print(rep.Markdown())
		writeAll(rep, *outDir, *publish)
		return
	}
	if *quick {
		if !flagSet("sizes") {
			*sizesFlag = "10000"
		}
		if !flagSet("benchtime") {
			*benchtime = "200ms"
		}
	}
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		log.Fatalf("benchtime: %v", err)
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < benchworld.UnitSize*benchworld.Namespaces {
			log.Fatalf("bad size %q", s)
		}
		sizes = append(sizes, n)
	}
	sort.Ints(sizes)
	stores := strings.Split(*storesFlag, ",")
	if stores[0] != "registry" {
		log.Fatal("-stores must start with registry")
	}
	var ops []benchmarks.Op
	if *opsFlag == "" {
		ops = benchmarks.Ops
	} else {
		for _, name := range strings.Split(*opsFlag, ",") {
			op, ok := benchmarks.OpByName(name)
			if !ok {
				log.Fatalf("unknown op %q", name)
			}
			ops = append(ops, op)
		}
	}
	if *quick {
		ops = slices.DeleteFunc(slices.Clone(ops), func(op benchmarks.Op) bool { return op.Name == "RecursiveHardDelete100k" })
	}

	rep := &Report{Machine: benchmarks.ThisMachine(), Sizes: sizes, Stores: stores, Benchtime: *benchtime, Count: *count, Metric: metric}
	for _, op := range ops {
		rep.Ops = append(rep.Ops, OpInfo{Name: op.Name, Desc: op.Desc, Single: op.Single})
	}
	start := time.Now()
	for _, n := range sizes {
		runSize(rep, n, stores, ops, *count, *profileDir, *floor && hasOp(ops, "Register"))
		writeAll(rep, *outDir, false) // partial results, in case a later size fails
	}
	if slices.Contains(sizes, 10_000) && hasOp(ops, "HardDelete") {
		runEdgesElsewhere(rep, 10_000, stores, *count)
	}
	rep.Duration = time.Since(start).Round(time.Second).String()
	rep.Targets = evaluate(rep)

	fmt.Print(rep.Markdown())
	writeAll(rep, *outDir, *publish)
}

func writeAll(rep *Report, outDir string, publish bool) {
	rep.Targets = evaluate(rep)
	md := rep.Markdown()
	dirs := []string{outDir}
	if publish {
		dirs = append(dirs, "results")
	}
	for _, dir := range dirs {
		if err := rep.Write(dir, md); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", dir)
	}
}

// heavyCount bounds the runs of heavy (subtree) operations.
var heavyCount = 1

// metric is what ratios and targets compare: "cpu" or "wall".
var metric = "wall"

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func hasOp(ops []benchmarks.Op, name string) bool {
	return slices.ContainsFunc(ops, func(op benchmarks.Op) bool { return op.Name == name })
}

// runSize loads the world of n artifacts into every store and runs every
// operation on each store in turn.
func runSize(rep *Report, n int, stores []string, ops []benchmarks.Op, count int, profileDir string, floor bool) {
	log.Printf("n=%d: generating the world", n)
	w := benchworld.New(n, benchworld.Chain)
	envs := map[string]*benchmarks.Env{}
	for _, name := range stores {
		t0 := time.Now()
		env, heap, outside, err := benchmarks.HeapPerArtifact(name, w)
		if err != nil {
			log.Fatal(err)
		}
		load := time.Since(t0)
		envs[name] = env
		rep.Memory = append(rep.Memory, Memory{Store: name, Size: n, HeapPerArtifact: heap, OutsidePerArtifact: outside,
			LoadSeconds: load.Seconds(), Edges: w.EdgeCount()})
		log.Printf("n=%d %-15s loaded in %v: %.0f B/artifact on the Go heap, %.0f B/artifact outside", n, name, load.Round(time.Millisecond), heap, outside)
	}
	if floor {
		// With the stores loaded, as every operation runs: the garbage
		// collector marks the same heap.
		runFloor(rep, w, count)
	}
	for _, op := range ops {
		// Rounds over the stores, so that each store's runs spread over the
		// same stretch of time; the median of each store's runs is kept.
		runs := map[string][]testing.BenchmarkResult{}
		rounds := count
		if op.Heavy {
			rounds = min(count, heavyCount)
		}
		for range max(1, rounds) {
			for _, name := range stores {
				env := envs[name]
				stop := startProfile(profileDir, name, op.Name, n)
				r := testing.Benchmark(func(b *testing.B) {
					b.ReportAllocs()
					op.Run(b, env)
				})
				stop()
				if r.N == 0 {
					log.Fatalf("%s on %s at n=%d failed (see the log above)", op.Name, name, n)
				}
				runs[name] = append(runs[name], r)
			}
		}
		for _, name := range stores {
			r := median(op.Name, name, n, runs[name])
			rep.Results = append(rep.Results, r)
			log.Printf("n=%d %-24s %-15s %14.0f ns/op %14.0f cpu-ns/op %10d B/op %8d allocs/op (N=%d, %d runs)", n, op.Name, name, r.WallNsPerOp, r.CPUNsPerOp, r.BytesPerOp, r.AllocsPerOp, r.N, len(runs[name]))
		}
	}
	for name, env := range envs {
		env.S.Close()
		delete(envs, name)
	}
	w = nil
	runtime.GC()
	debug.FreeOSMemory()
}

// startProfile starts a CPU profile of the registry's runs of an
// operation when -profile is set; it appends to the operation's file over
// rounds by writing one file per round.
func startProfile(dir, store, op string, n int) (stop func()) {
	if dir == "" || store != "registry" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	profileRound++
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.prof", op, benchworld.SizeLabel(n), profileRound)))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

var profileRound int

// bench runs fn count times and keeps the run with the median time.
func bench(op, store string, n, count int, fn func(b *testing.B)) Result {
	var runs []testing.BenchmarkResult
	for range max(1, count) {
		r := testing.Benchmark(fn)
		if r.N == 0 {
			log.Fatalf("%s on %s at n=%d failed (see the log above)", op, store, n)
		}
		runs = append(runs, r)
	}
	return median(op, store, n, runs)
}

// median returns the run with the median time (see metric).
func median(op, store string, n int, runs []testing.BenchmarkResult) Result {
	key := func(r testing.BenchmarkResult) float64 {
		if metric == "cpu" {
			return r.Extra["cpu-ns/op"]
		}
		return nsPerOp(r)
	}
	sort.Slice(runs, func(i, j int) bool { return key(runs[i]) < key(runs[j]) })
	m := runs[len(runs)/2]
	return Result{Op: op, Store: store, Size: n, N: m.N, WallNsPerOp: nsPerOp(m), CPUNsPerOp: m.Extra["cpu-ns/op"],
		BytesPerOp: m.AllocedBytesPerOp(), AllocsPerOp: m.AllocsPerOp()}
}

func nsPerOp(r testing.BenchmarkResult) float64 {
	if r.N == 0 {
		return 0
	}
	return float64(r.T.Nanoseconds()) / float64(r.N)
}

// runEdgesElsewhere runs HardDelete in two worlds of n artifacts, one with
// no edge but the target's own and one with about 5.4 edges per artifact.
func runEdgesElsewhere(rep *Report, n int, stores []string, count int) {
	op, _ := benchmarks.OpByName("HardDelete")
	for _, shape := range []benchworld.Edges{benchworld.None, benchworld.Dense} {
		w := benchworld.New(n, shape)
		for _, name := range stores {
			env, err := benchmarks.Load(name, w)
			if err != nil {
				log.Fatal(err)
			}
			r := bench(op.Name, name, n, count, func(b *testing.B) {
				b.ReportAllocs()
				op.Run(b, env)
			})
			r.Op = "HardDelete/edges=" + shape.String()
			r.Edges = w.EdgeCount()
			rep.EdgesElsewhere = append(rep.EdgesElsewhere, r)
			log.Printf("n=%d %-24s %-15s %14.0f ns/op %14.0f cpu-ns/op (%d edges)", n, r.Op, name, r.WallNsPerOp, r.CPUNsPerOp, r.Edges)
			env.S.Close()
		}
		runtime.GC()
	}
}

// runFloor measures the go-memdb floor's registrations in a world like w
// (benchmarks.Floor), then drops it.
func runFloor(rep *Report, w *benchworld.World, count int) {
	f, err := benchmarks.NewFloor(w)
	if err != nil {
		log.Fatal(err)
	}
	for _, op := range benchmarks.FloorOps {
		r := bench(op.Name, "go-memdb", w.N, count, func(b *testing.B) {
			b.ReportAllocs()
			benchmarks.BenchFloor(b, f, w, op.Group)
		})
		rep.Floor = append(rep.Floor, r)
		log.Printf("n=%d floor %-8s %14.0f ns/op %14.0f cpu-ns/op %10d B/op %8d allocs/op", w.N, op.Name, r.WallNsPerOp, r.CPUNsPerOp, r.BytesPerOp, r.AllocsPerOp)
	}
	f = nil
	runtime.GC()
}
