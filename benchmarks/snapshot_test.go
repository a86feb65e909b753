package benchmarks

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/benchworld"
)

// BenchmarkSnapshot puts the registry's snapshot beside SQLite's backup of
// the same world, in one run so that the ratios are fair (10k; 100k and 1M
// with REGISTRY_BENCH_LARGE=1):
//
//		go test -run '^$' -bench Snapshot -benchtime 5x
//
//	  - registry-save: SaveSnapshot to a file (temporary file, fsync, rename,
//	    fsync of the directory);
//	  - sqlite-backup: VACUUM INTO a file of mattn's in-memory database, then
//	    an fsync of the file (VACUUM INTO does not sync);
//	  - registry-load: LoadFile, which reads, verifies and indexes everything;
//	  - sqlite-reopen: open the file and run a first query (a get by ID):
//	    SQLite reads pages lazily, so this is the cost of being ready to
//	    serve, not of reading the world;
//	  - sqlite-reopen-scan: open and read every row of both tables, the
//	    closest SQLite counterpart of a load.
//
// Each reports the file's bytes per artifact.
func BenchmarkSnapshot(b *testing.B) {
	sizes := []int{10_000}
	if os.Getenv("REGISTRY_BENCH_LARGE") == "1" {
		sizes = append(sizes, 100_000, 1_000_000)
	}
	for _, n := range sizes {
		w := benchworld.New(n, benchworld.Chain)
		regEnv, err := Load("registry", w)
		if err != nil {
			b.Fatal(err)
		}
		sqlEnv, err := Load("sqlite-mattn", w)
		if err != nil {
			b.Fatal(err)
		}
		reg := regEnv.S.(*RegistryStore).R
		db := sqlEnv.S.(*SQLStore).db
		dir := b.TempDir()
		regPath, sqlPath := filepath.Join(dir, "registry.snap"), filepath.Join(dir, "sqlite.db")
		perArtifact := func(b *testing.B, path string) {
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(st.Size())/float64(n), "B/artifact")
		}
		label := "n=" + benchworld.SizeLabel(n)
		b.Run(label+"/registry-save", func(b *testing.B) {
			for b.Loop() {
				if _, err := reg.SaveSnapshot(regPath); err != nil {
					b.Fatal(err)
				}
			}
			perArtifact(b, regPath)
		})
		b.Run(label+"/sqlite-backup", func(b *testing.B) {
			for b.Loop() {
				if err := os.Remove(sqlPath); err != nil && !os.IsNotExist(err) {
					b.Fatal(err)
				}
				if _, err := db.Exec(`VACUUM INTO ?`, sqlPath); err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(sqlPath)
				if err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			perArtifact(b, sqlPath)
		})
		b.Run(label+"/registry-load", func(b *testing.B) {
			for b.Loop() {
				r, err := registry.LoadFile(regPath)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Get(Ctx, w.Sample[0].ID); err != nil {
					b.Fatal(err)
				}
			}
			perArtifact(b, regPath)
		})
		reopen := func(b *testing.B, query func(db *sql.DB) error) {
			for b.Loop() {
				rdb, err := sql.Open("sqlite3", "file:"+sqlPath+"?mode=ro")
				if err != nil {
					b.Fatal(err)
				}
				if err := query(rdb); err != nil {
					b.Fatal(err)
				}
				rdb.Close()
			}
			perArtifact(b, sqlPath)
		}
		b.Run(label+"/sqlite-reopen", func(b *testing.B) {
			reopen(b, func(db *sql.DB) error {
				var name string
				return db.QueryRow(`SELECT name FROM artifacts WHERE id = ?`, w.Sample[0].ID).Scan(&name)
			})
		})
		b.Run(label+"/sqlite-reopen-scan", func(b *testing.B) {
			reopen(b, func(db *sql.DB) error {
				var rows, size, edges int64
				if err := db.QueryRow(`SELECT count(*), sum(length(id) + length(namespace) + length(name) + length(description) + length(labels))
					FROM artifacts`).Scan(&rows, &size); err != nil {
					return err
				}
				return db.QueryRow(`SELECT count(*) FROM edges`).Scan(&edges)
			})
		})
		regEnv.S.Close()
		sqlEnv.S.Close()
	}
}
