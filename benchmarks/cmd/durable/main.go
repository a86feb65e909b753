// Command durable runs the durability benchmarks of issue 12 in one
// process: durable Register, SoftDelete+Restore and HardDelete from 1, 8
// and 64 concurrent writers on the durable registry (a raft node on disk,
// package replicated) and on SQLite in a file (WAL, synchronous=FULL)
// through both drivers, with the in-memory registry beside them as the
// embedded baseline; then the time each durable store takes to restart on a
// loaded directory, and the bytes it keeps on disk per artifact. It prints
// the table with each target's status and writes out/durable.json and
// out/durable.md (with -publish, results/ too).
//
//	go run ./cmd/durable                          # 10k world; recovery at 10k and 100k
//	go run ./cmd/durable -recovery=10000          # recovery at 10k only
//	BENCH_1M=1 go run ./cmd/durable               # recovery at 1M too
//	go run ./cmd/durable -profile=prof            # CPU profile per registry-raft run
//	go run ./cmd/durable -render results/durable.json   # the table of a run
//
// Operations run in rounds over the stores, so that the runs of one
// operation are close in time; on a shared machine whose disk others use
// too, the ratios are what count.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
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
	size := flag.Int("size", 10_000, "world size of the write benchmarks")
	storesFlag := flag.String("stores", strings.Join(append(slices.Clone(benchmarks.DurableStoreNames), "registry"), ","),
		"stores, comma-separated: registry-raft first; sqlite-mattn-wal-pool is SQLite's pool without a write queue; registry is the in-memory registry")
	opsFlag := flag.String("ops", "", "operations, comma-separated (default all)")
	writersFlag := flag.String("writers", "1,8,64", "concurrent writers, comma-separated")
	recoveryFlag := flag.String("recovery", "10000,100000", "world sizes of the recovery benchmark, comma-separated (empty: none); BENCH_1M=1 adds 1000000")
	benchtime := flag.String("benchtime", "1s", "time (or NNx iterations) per benchmark, as go test -benchtime")
	count := flag.Int("count", 1, "runs per benchmark, in rounds over the stores; the median ops/s is kept")
	outDir := flag.String("out", "out", "directory for durable.json and durable.md")
	publish := flag.Bool("publish", false, "also write the results to results/ (committed, shown by BENCHMARKS.md)")
	profileDir := flag.String("profile", "", "write a CPU profile of each registry-raft run to this directory")
	render := flag.String("render", "", "render the table and targets of an earlier run's durable.json instead of running")
	flag.Parse()
	if *render != "" {
		b, err := os.ReadFile(*render)
		if err != nil {
			log.Fatal(err)
		}
		rep := new(Report)
		if err := json.Unmarshal(b, rep); err != nil {
			log.Fatalf("%s: %v", *render, err)
		}
		fmt.Print(rep.Markdown())
		rep.write(*outDir, *publish)
		return
	}
	if err := flag.Set("test.benchtime", *benchtime); err != nil {
		log.Fatalf("benchtime: %v", err)
	}
	stores := strings.Split(*storesFlag, ",")
	if stores[0] != "registry-raft" {
		log.Fatal("-stores must start with registry-raft")
	}
	var ops []benchmarks.DurableOp
	if *opsFlag == "" {
		ops = benchmarks.DurableOps
	} else {
		for _, name := range strings.Split(*opsFlag, ",") {
			op, ok := benchmarks.DurableOpByName(name)
			if !ok {
				log.Fatalf("unknown op %q", name)
			}
			ops = append(ops, op)
		}
	}
	writers := ints(*writersFlag)
	recovery := ints(*recoveryFlag)
	if os.Getenv("BENCH_1M") != "" && !slices.Contains(recovery, 1_000_000) {
		recovery = append(recovery, 1_000_000)
	}

	rep := &Report{Machine: benchmarks.ThisMachine(), Size: *size, Stores: stores, Writers: writers, Benchtime: *benchtime, Count: *count}
	for _, op := range ops {
		rep.Ops = append(rep.Ops, OpInfo{Name: op.Name, Desc: op.Desc, Writes: op.Writes})
	}
	start := time.Now()
	runWrites(rep, *size, stores, ops, writers, *count, *profileDir)
	rep.write(*outDir, false)
	for _, n := range recovery {
		runRecovery(rep, n, stores)
		rep.write(*outDir, false)
	}
	rep.Duration = time.Since(start).Round(time.Second).String()
	fmt.Print(rep.Markdown())
	rep.write(*outDir, *publish)
}

func ints(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			log.Fatalf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out
}

// runWrites loads the world into every store, each durable one on a
// directory of its own, and runs every operation with every number of
// writers on each store in turn.
func runWrites(rep *Report, n int, stores []string, ops []benchmarks.DurableOp, writers []int, count int, profileDir string) {
	log.Printf("n=%d: generating the world", n)
	w := benchworld.New(n, benchworld.Chain)
	envs := map[string]*benchmarks.Env{}
	for _, name := range stores {
		dir, err := os.MkdirTemp("", "durable-"+name+"-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
		t0 := time.Now()
		env, err := benchmarks.LoadDurable(name, dir, w)
		if err != nil {
			log.Fatal(err)
		}
		envs[name] = env
		log.Printf("n=%d %-22s loaded in %v", n, name, time.Since(t0).Round(time.Millisecond))
	}
	defer func() {
		for _, env := range envs {
			env.S.Close()
		}
	}()
	for _, op := range ops {
		for _, k := range writers {
			runs := map[string][]testing.BenchmarkResult{}
			for range max(1, count) {
				for _, name := range stores {
					stop := startProfile(profileDir, name, op.Name, k)
					r := testing.Benchmark(func(b *testing.B) { op.Run(b, envs[name], k) })
					stop()
					if r.N == 0 {
						log.Fatalf("%s on %s with %d writers failed (see the log above)", op.Name, name, k)
					}
					runs[name] = append(runs[name], r)
				}
			}
			for _, name := range stores {
				rs := runs[name]
				sort.Slice(rs, func(i, j int) bool { return rs[i].Extra["ops/s"] < rs[j].Extra["ops/s"] })
				m := rs[len(rs)/2]
				res := Result{Op: op.Name, Store: name, Writers: k, N: m.N, OpsPerSec: m.Extra["ops/s"],
					P50us: m.Extra["p50-µs"], P99us: m.Extra["p99-µs"], CPUusPerWrite: m.Extra["cpu-ns/op"] / 1e3 / float64(op.Writes)}
				rep.Results = append(rep.Results, res)
				log.Printf("%-18s writers=%-3d %-22s %10.0f ops/s  p50 %9.0f µs  p99 %9.0f µs  cpu %7.0f µs/write (N=%d)",
					op.Name, k, name, res.OpsPerSec, res.P50us, res.P99us, res.CPUusPerWrite, res.N)
			}
		}
	}
}

// runRecovery loads a world of n artifacts into each durable store, closes
// it, and times its restart.
func runRecovery(rep *Report, n int, stores []string) {
	log.Printf("recovery n=%d: generating the world", n)
	w := benchworld.New(n, benchworld.Chain)
	for _, name := range stores {
		if !slices.Contains(benchmarks.DurableStoreNames, name) && name != "sqlite-mattn-wal-pool" {
			continue
		}
		dir, err := os.MkdirTemp("", "recovery-"+name+"-")
		if err != nil {
			log.Fatal(err)
		}
		disk, err := benchmarks.Prepare(name, dir, w)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("recovery n=%d %-22s loaded in %v, %.0f B/artifact on disk", n, name, disk.Load.Round(time.Millisecond), float64(disk.Bytes)/float64(n))
		r := testing.Benchmark(func(b *testing.B) { benchmarks.Recover(b, name, disk, w) })
		if r.N == 0 {
			log.Fatalf("recovery of %s at n=%d failed (see the log above)", name, n)
		}
		rec := Recovery{Store: name, Size: n, Seconds: r.Extra["s/op"], N: r.N, DiskBytes: disk.Bytes,
			DiskPerArtifact: float64(disk.Bytes) / float64(n), LoadSeconds: disk.Load.Seconds(), Snapshot: disk.Snapshot}
		rep.Recovery = append(rep.Recovery, rec)
		log.Printf("recovery n=%d %-22s %8.3f s (N=%d)", n, name, rec.Seconds, r.N)
		os.RemoveAll(dir)
		runtime.GC()
	}
}

// startProfile starts a CPU profile of a registry-raft run when -profile
// is set.
func startProfile(dir, store, op string, writers int) (stop func()) {
	if dir == "" || store != "registry-raft" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("durable-%s-w%d.prof", op, writers)))
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

func (r *Report) write(outDir string, publish bool) {
	r.Targets = evaluate(r)
	md := r.Markdown()
	dirs := []string{outDir}
	if publish {
		dirs = append(dirs, "results")
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		js, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "durable.json"), append(js, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "durable.md"), []byte(md), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %s", dir)
	}
}
