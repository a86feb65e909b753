package benchmarks

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// The durable stores: every write is on disk (fsynced) before the call
// returns, and a store reopened on the same directory finds what was
// written. They run the durability benchmarks (durbench.go); the
// in-memory stores of StoreNames run the rest.

// DurableStoreNames lists the durable stores compared, the registry first.
// sqlite-mattn-wal-pool is not in it: it is the record of what a pool of
// writers left to SQLite's busy handler does (see OpenSQLiteFile), run on
// request.
var DurableStoreNames = []string{"registry-raft", "sqlite-mattn-wal", "sqlite-modernc-wal"}

// durableDrivers maps the durable SQLite stores to their drivers and to the
// DSN that opens a file in WAL mode with synchronous=FULL (each commit
// fsyncs the WAL), a busy timeout, and BEGIN IMMEDIATE transactions: a
// write transaction takes the write lock when it begins, so two writers
// never both read and then deadlock upgrading (which SQLite reports as
// SQLITE_BUSY at once, whatever the timeout). pool says whether writers
// contend inside SQLite rather than queue in Go.
var durableDrivers = map[string]struct {
	driver, params string
	pool           bool
}{
	"sqlite-mattn-wal":      {"sqlite3", mattnWAL, false},
	"sqlite-modernc-wal":    {"sqlite", "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate", false},
	"sqlite-mattn-wal-pool": {"sqlite3", mattnWAL, true},
}

const mattnWAL = "_journal_mode=WAL&_synchronous=FULL&_busy_timeout=10000&_txlock=immediate"

// MaxWriters is the largest number of concurrent writers the durability
// benchmarks run, and the size of a durable SQLite store's connection pool.
const MaxWriters = 64

// OpenDurable opens the named durable store on dir: empty if dir is empty,
// else as the store left it (a restart).
func OpenDurable(name, dir string) (Store, error) {
	if name == "registry-raft" {
		return OpenRaftStore(dir)
	}
	return OpenSQLiteFile(name, dir)
}

// sqliteFile is the database file of a durable SQLite store in dir.
const sqliteFile = "registry.db"

// OpenSQLiteFile opens the durable SQLite store name (see durableDrivers)
// on the file registry.db in dir, creating the tables if the file is new.
// It is SQLStore's schema and statements as a careful engineer would share
// one file among concurrent writers: one *sql.DB whose pool keeps up to
// MaxWriters connections open (idle ones too: reopening a connection costs
// more than a write), each connection set up by the DSN and by connSchema.
//
// SQLite lets one writer at a time hold the write lock; the others wait in
// its busy handler, which polls by sleeping 1, 2, 5, 10 ... 100 ms. With
// many writers that sleeping is most of the time: measured here, 64
// writers through the pool alone commit about a fifth of what one writer
// does, with a p99 of seconds. So the stores queue their write transactions
// on a mutex in Go, as careful engineers do (one writer, many readers),
// and SQLite's lock is never contended; reads still use the whole pool.
// sqlite-mattn-wal-pool leaves the mutex out, for the record.
func OpenSQLiteFile(name, dir string) (*SQLStore, error) {
	d, ok := durableDrivers[name]
	if !ok {
		return nil, fmt.Errorf("unknown durable SQLite store %q", name)
	}
	path := filepath.Join(dir, sqliteFile)
	_, err := os.Stat(path)
	fresh := errors.Is(err, fs.ErrNotExist)
	probe, err := sql.Open(d.driver, "")
	if err != nil {
		return nil, err
	}
	drv := probe.Driver()
	probe.Close()
	db := sql.OpenDB(initConnector{drv: drv, dsn: "file:" + path + "?" + d.params, init: connSchema})
	db.SetMaxOpenConns(MaxWriters)
	db.SetMaxIdleConns(MaxWriters)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &SQLStore{name: name, db: db, st: map[string]*sql.Stmt{}}
	if !d.pool {
		s.writeMu = new(sync.Mutex)
	}
	if fresh {
		for _, q := range schema {
			if _, err := db.Exec(q); err != nil {
				db.Close()
				return nil, fmt.Errorf("%s: %w", q, err)
			}
		}
	}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// initConnector opens connections with a driver and a DSN, and runs init on
// each new connection before the pool hands it out.
type initConnector struct {
	drv  driver.Driver
	dsn  string
	init []string
}

// Connect implements driver.Connector.
func (c initConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("%T cannot run statements without a transaction", conn)
	}
	for _, q := range c.init {
		if _, err := ex.ExecContext(ctx, q, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	return conn, nil
}

// Driver implements driver.Connector.
func (c initConnector) Driver() driver.Driver { return c.drv }

// DirBytes returns the bytes of the files under dir.
func DirBytes(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		n += info.Size()
		return nil
	})
	return n, err
}
