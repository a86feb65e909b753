package benchmarks

import (
	"os"
	"sync"
	"testing"

	"github.com/modelreg/registry/internal/benchworld"
)

// BenchmarkStores runs every operation on every store on a world of 10k
// artifacts (BENCH_SIZE overrides it), as cmd/compare does but through go
// test, for profiling one store and one operation:
//
//	go test -run '^$' -bench 'Stores/HardDelete/registry' -cpuprofile cpu.prof
func BenchmarkStores(b *testing.B) {
	n := 10_000
	if s := os.Getenv("BENCH_SIZE"); s != "" {
		var err error
		if n, err = atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, op := range Ops {
		b.Run(op.Name, func(b *testing.B) {
			for _, name := range StoreNames {
				b.Run(name, func(b *testing.B) {
					env := benchEnv(b, name, n)
					b.ReportAllocs()
					op.Run(b, env)
				})
			}
		})
	}
}

var (
	envMu   sync.Mutex
	envs    = map[string]*Env{}
	worldMu sync.Mutex
	worlds  = map[int]*benchworld.World{}
)

func benchEnv(b *testing.B, name string, n int) *Env {
	worldMu.Lock()
	w, ok := worlds[n]
	if !ok {
		w = benchworld.New(n, benchworld.Chain)
		worlds[n] = w
	}
	worldMu.Unlock()
	envMu.Lock()
	defer envMu.Unlock()
	key := name + "/" + itoa(int64(n))
	if e, ok := envs[key]; ok {
		return e
	}
	e, err := Load(name, w)
	if err != nil {
		b.Fatal(err)
	}
	envs[key] = e
	return e
}

func atoi(s string) (int, error) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, os.ErrInvalid
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}
