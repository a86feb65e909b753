package benchmarks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/mattn/go-sqlite3" // driver "sqlite3" (cgo)
	"github.com/modelreg/registry"
	"github.com/modelreg/registry/internal/versions"
	_ "modernc.org/sqlite" // driver "sqlite" (pure Go)
)

// SQLStore is the registry's semantics on SQLite in memory, as a careful
// engineer would write it: one connection to a private in-memory database
// (no WAL, no file), every statement prepared once, one transaction per
// operation, and the indexes the queries need:
//
//   - artifacts: rowid table, primary key on id (TEXT, an automatic unique
//     index), unique index on (namespace, name, version) for FQN and
//     name/version lookups, List and cascades, and a partial index on parent
//     for containment;
//   - edges: WITHOUT ROWID, primary key (upstream, downstream) and an index
//     on (downstream, upstream), so both directions are index ranges.
//
// Lists (tags, owners, labels, storage URIs, endpoints) are stored as
// strings joined with the ASCII unit separator (names cannot hold control
// characters) rather than JSON, so that a read decodes nothing costly.
// Whole subtrees are collected by recursive CTEs into a temporary table and
// checked and deleted with set-based statements; one artifact and cascades
// go through the same planner as the map store, one indexed query per step.
// Those steps avoid joins and CTEs on purpose: profiled, a two-table join
// cost mattn's default build some 15 µs a call more than two indexed
// lookups, and a recursive CTE some 25 µs (modernc's build much less).
type SQLStore struct {
	name string
	db   *sql.DB
	st   map[string]*sql.Stmt
	// writeMu, when set, lets one write transaction at a time begin (see
	// OpenSQLiteFile).
	writeMu *sync.Mutex
}

// Drivers are the two SQLite drivers compared, by Store name.
var Drivers = map[string]string{
	"sqlite-mattn":   "sqlite3",
	"sqlite-modernc": "sqlite",
}

const artifactCols = `id, kind, namespace, name, version, COALESCE(parent, ''), display_name, description, algorithm,
	tags, owners, labels, storage_uris, endpoints, deleted, revision, created_at, updated_at, updated_by,
	COALESCE(deleted_at, 0), COALESCE(deleted_by, ''), COALESCE(delete_op, '')`

const nodeCols = `id, COALESCE(parent, ''), deleted, endpoints <> ''`

// connSchema is what every connection needs of its own: the temporary
// plan table lives in the connection, not in the database.
var connSchema = []string{
	`PRAGMA temp_store = MEMORY`,
	`CREATE TEMP TABLE IF NOT EXISTS plan (id TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID`,
}

// schema is the database's tables and indexes.
var schema = []string{
	`CREATE TABLE artifacts (
		id TEXT NOT NULL PRIMARY KEY,
		kind TEXT NOT NULL,
		namespace TEXT NOT NULL,
		name TEXT NOT NULL,
		version TEXT NOT NULL,
		parent TEXT,
		display_name TEXT NOT NULL,
		description TEXT NOT NULL,
		algorithm TEXT NOT NULL,
		tags TEXT NOT NULL,
		owners TEXT NOT NULL,
		labels TEXT NOT NULL,
		storage_uris TEXT NOT NULL,
		endpoints TEXT NOT NULL,
		deleted INTEGER NOT NULL DEFAULT 0,
		revision INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		updated_by TEXT NOT NULL,
		deleted_at INTEGER,
		deleted_by TEXT,
		delete_op TEXT)`,
	`CREATE UNIQUE INDEX artifacts_name ON artifacts (namespace, name, version)`,
	`CREATE INDEX artifacts_parent ON artifacts (parent) WHERE parent IS NOT NULL`,
	`CREATE TABLE edges (
		upstream TEXT NOT NULL,
		downstream TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (upstream, downstream)) WITHOUT ROWID`,
	`CREATE INDEX edges_downstream ON edges (downstream, upstream)`,
}

var statements = map[string]string{
	"insert": `INSERT INTO artifacts (id, kind, namespace, name, version, parent, display_name, description, algorithm,
		tags, owners, labels, storage_uris, endpoints, deleted, revision, created_at, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, 1, ?, ?, ?)`,
	"get":        `SELECT ` + artifactCols + ` FROM artifacts WHERE id = ?`,
	"getByName":  `SELECT ` + artifactCols + ` FROM artifacts WHERE namespace = ? AND name = ? AND version = ?`,
	"list":       `SELECT ` + artifactCols + ` FROM artifacts WHERE namespace = ? AND deleted = 0 ORDER BY namespace, name, version LIMIT ?`,
	"exists":     `SELECT deleted FROM artifacts WHERE id = ?`,
	"nameOwner":  `SELECT id, deleted FROM artifacts WHERE namespace = ? AND name = ? AND version = ?`,
	"node":       `SELECT ` + nodeCols + ` FROM artifacts WHERE id = ?`,
	"nodeName":   `SELECT ` + nodeCols + `, namespace, name FROM artifacts WHERE id = ?`,
	"children":   `SELECT ` + nodeCols + ` FROM artifacts WHERE parent = ?`,
	"downs":      `SELECT downstream FROM edges WHERE upstream = ?`,
	"versions":   `SELECT ` + nodeCols + `, version FROM artifacts WHERE namespace = ? AND name = ?`,
	"endpoints":  `SELECT deleted, endpoints FROM artifacts WHERE id = ?`,
	"deploy":     `UPDATE artifacts SET endpoints = ?, revision = revision + 1, updated_at = ? WHERE id = ?`,
	"edgeExists": `SELECT 1 FROM edges WHERE upstream = ? AND downstream = ?`,
	"reaches": `WITH RECURSIVE r(id) AS (SELECT ?1 UNION SELECT e.downstream FROM edges e JOIN r ON e.upstream = r.id)
		SELECT 1 FROM r WHERE id = ?2 LIMIT 1`,
	"link":        `INSERT INTO edges (upstream, downstream, created_at) VALUES (?, ?, ?)`,
	"softDelete":  `UPDATE artifacts SET deleted = 1, delete_op = ?, deleted_at = ?, deleted_by = ?, revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
	"restoreInfo": `SELECT deleted, COALESCE(delete_op, ''), COALESCE(parent, '') FROM artifacts WHERE id = ?`,
	"hasChild":    `SELECT 1 FROM artifacts WHERE parent = ? LIMIT 1`,
	"restoreOne": `UPDATE artifacts SET deleted = 0, delete_op = NULL, deleted_at = NULL, deleted_by = NULL,
			revision = revision + 1, updated_at = ?, updated_by = ? WHERE id = ?`,
	"restore": `WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL
			SELECT a.id FROM artifacts a JOIN sub ON a.parent = sub.id WHERE a.deleted = 1 AND a.delete_op = ?2)
		UPDATE artifacts SET deleted = 0, delete_op = NULL, deleted_at = NULL, deleted_by = NULL,
			revision = revision + 1, updated_at = ?3, updated_by = ?4
		WHERE id IN (SELECT id FROM sub)`,
	"delEdgesUp":   `DELETE FROM edges WHERE upstream = ?`,
	"delEdgesDown": `DELETE FROM edges WHERE downstream = ?`,
	"delArtifact":  `DELETE FROM artifacts WHERE id = ?`,
	// Whole subtrees, through the temporary plan table.
	"planClear": `DELETE FROM temp.plan`,
	"planAll": `INSERT INTO temp.plan (id) WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL
		SELECT a.id FROM artifacts a JOIN sub ON a.parent = sub.id) SELECT id FROM sub`,
	"planLive": `INSERT INTO temp.plan (id) WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL
		SELECT a.id FROM artifacts a JOIN sub ON a.parent = sub.id WHERE a.deleted = 0) SELECT id FROM sub`,
	"planCount":    `SELECT count(*) FROM temp.plan`,
	"planDeployed": `SELECT 1 FROM temp.plan p JOIN artifacts a ON a.id = p.id WHERE a.endpoints <> '' LIMIT 1`,
	"planDependents": `SELECT 1 FROM temp.plan p JOIN edges e ON e.upstream = p.id JOIN artifacts d ON d.id = e.downstream
		WHERE d.deleted = 0 AND NOT EXISTS (SELECT 1 FROM temp.plan q WHERE q.id = e.downstream) LIMIT 1`,
	"planDelEdgesUp":   `DELETE FROM edges WHERE upstream IN (SELECT id FROM temp.plan)`,
	"planDelEdgesDown": `DELETE FROM edges WHERE downstream IN (SELECT id FROM temp.plan)`,
	"planDelArtifacts": `DELETE FROM artifacts WHERE id IN (SELECT id FROM temp.plan)`,
	"planSoftDelete": `UPDATE artifacts SET deleted = 1, delete_op = ?, deleted_at = ?, deleted_by = ?, revision = revision + 1, updated_at = ?, updated_by = ?
		WHERE id IN (SELECT id FROM temp.plan)`,
	"pageCount": `PRAGMA page_count`,
	"pageSize":  `PRAGMA page_size`,
}

// OpenSQLite opens an empty in-memory database with the driver of the
// named store ("sqlite-mattn" or "sqlite-modernc").
func OpenSQLite(name string) (*SQLStore, error) {
	driver, ok := Drivers[name]
	if !ok {
		return nil, fmt.Errorf("unknown SQLite store %q", name)
	}
	db, err := sql.Open(driver, ":memory:")
	if err != nil {
		return nil, err
	}
	// One connection, never closed: each :memory: connection is its own
	// database, which lives as long as the connection.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s := &SQLStore{name: name, db: db, st: map[string]*sql.Stmt{}}
	for _, q := range append(slices.Clone(connSchema), schema...) {
		if _, err := db.Exec(q); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	if err := s.prepare(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// prepare prepares every statement on the database.
func (s *SQLStore) prepare() error {
	for k, q := range statements {
		st, err := s.db.Prepare(q)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", k, err)
		}
		s.st[k] = st
	}
	return nil
}

// Name implements Store.
func (s *SQLStore) Name() string { return s.name }

// Close implements Store.
func (s *SQLStore) Close() error {
	for _, st := range s.st {
		st.Close()
	}
	return s.db.Close()
}

// Footprint implements Store: the database's pages, which live outside the
// Go heap (in C memory with mattn, in modernc's own allocator).
func (s *SQLStore) Footprint(ctx context.Context) (int64, error) {
	var pages, size int64
	if err := s.st["pageCount"].QueryRowContext(ctx).Scan(&pages); err != nil {
		return 0, err
	}
	if err := s.st["pageSize"].QueryRowContext(ctx).Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// txn is one transaction with the prepared statements bound to it.
type txn struct {
	ctx context.Context
	tx  *sql.Tx
	s   *SQLStore
	st  map[string]*sql.Stmt
}

func (t *txn) stmt(name string) *sql.Stmt {
	if st, ok := t.st[name]; ok {
		return st
	}
	st := t.tx.StmtContext(t.ctx, t.s.st[name])
	t.st[name] = st
	return st
}

func (t *txn) exec(name string, args ...any) (int64, error) {
	res, err := t.stmt(name).ExecContext(t.ctx, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return res.RowsAffected()
}

func (t *txn) nodes(name string, args ...any) ([]node, error) {
	rows, err := t.stmt(name).QueryContext(t.ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer rows.Close()
	var out []node
	for rows.Next() {
		var n node
		if err := rows.Scan(&n.ID, &n.Parent, &n.Deleted, &n.Deployed); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (t *txn) children(id string) ([]node, error) { return t.nodes("children", id) }

// downstreams reads the edges, then each dependent: two indexed lookups
// cost mattn's build less than the join (see SQLStore).
func (t *txn) downstreams(id string) ([]node, error) {
	rows, err := t.stmt("downs").QueryContext(t.ctx, id)
	if err != nil {
		return nil, fmt.Errorf("downs: %w", err)
	}
	var ids []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]node, 0, len(ids))
	for _, d := range ids {
		n, ok, err := t.node(d)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// node returns the artifact's planner view; ok is false if it does not
// exist.
func (t *txn) node(id string) (node, bool, error) {
	var n node
	err := t.stmt("node").QueryRowContext(t.ctx, id).Scan(&n.ID, &n.Parent, &n.Deleted, &n.Deployed)
	if errors.Is(err, sql.ErrNoRows) {
		return n, false, nil
	}
	return n, err == nil, err
}

// write runs fn in one transaction, committed when fn returns nil.
func (s *SQLStore) write(ctx context.Context, fn func(t *txn) error) error {
	if s.writeMu != nil {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	t := &txn{ctx: ctx, tx: tx, s: s, st: make(map[string]*sql.Stmt, 8)}
	if err := fn(t); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

const sep = "\x1f"

func join(list []string) string { return strings.Join(list, sep) }

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}

func joinLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(k)
		b.WriteByte('\x1e')
		b.WriteString(m[k])
	}
	return b.String()
}

func splitLabels(s string) map[string]string {
	if s == "" {
		return nil
	}
	m := make(map[string]string, 2)
	for kv := range strings.SplitSeq(s, sep) {
		k, v, _ := strings.Cut(kv, "\x1e")
		m[k] = v
	}
	return m
}

type scanner interface{ Scan(dest ...any) error }

func scanArtifact(r scanner) (registry.Artifact, error) {
	var a registry.Artifact
	var kind, tags, owners, labels, uris, endpoints string
	var created, updated, deletedAt int64
	err := r.Scan(&a.ID, &kind, &a.Namespace, &a.Name, &a.Version, &a.Parent, &a.DisplayName, &a.Description, &a.Algorithm,
		&tags, &owners, &labels, &uris, &endpoints, &a.Deleted, &a.Revision, &created, &updated, &a.UpdatedBy,
		&deletedAt, &a.DeletedBy, &a.DeleteOperation)
	if err != nil {
		return a, err
	}
	a.Kind = registry.Kind(kind)
	a.Tags, a.Owners, a.StorageURIs, a.Endpoints = split(tags), split(owners), split(uris), split(endpoints)
	a.Labels = splitLabels(labels)
	a.CreatedAt, a.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if deletedAt != 0 {
		a.DeletedAt = time.Unix(0, deletedAt).UTC()
	}
	return a, nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Register implements Store.
func (s *SQLStore) Register(ctx context.Context, a registry.Artifact) error {
	return s.RegisterBatch(ctx, []registry.Artifact{a})
}

// RegisterBatch implements Store.
func (s *SQLStore) RegisterBatch(ctx context.Context, batch []registry.Artifact) error {
	now := time.Now().UnixNano()
	return s.write(ctx, func(t *txn) error {
		in := make(map[string]bool, len(batch))
		for i := range batch {
			a := &batch[i]
			if a.Parent != "" && !in[a.Parent] {
				var deleted bool
				err := t.stmt("exists").QueryRowContext(ctx, a.Parent).Scan(&deleted)
				if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
					return errf(registry.ErrInvalid, "parent %s is not live", a.Parent)
				}
				if err != nil {
					return err
				}
			}
			_, err := t.stmt("insert").ExecContext(ctx, a.ID, string(a.Kind), a.Namespace, a.Name, a.Version, nullable(a.Parent),
				a.DisplayName, a.Description, a.Algorithm, join(a.Tags), join(a.Owners), joinLabels(a.Labels), join(a.StorageURIs),
				now, now, "bench")
			if err != nil {
				return t.explainInsert(a, err)
			}
			in[a.ID] = true
		}
		return nil
	})
}

// explainInsert turns a failed insert into ErrAlreadyExists when the ID or
// the name is taken, whatever the driver's error type.
func (t *txn) explainInsert(a *registry.Artifact, err error) error {
	var id string
	var deleted bool
	if e := t.stmt("nameOwner").QueryRowContext(t.ctx, a.Namespace, a.Name, a.Version).Scan(&id, &deleted); e == nil {
		if deleted {
			return errf(registry.ErrAlreadyExists, "%s is taken by soft-deleted %s", a.FQN(), id)
		}
		return errf(registry.ErrAlreadyExists, "%s", a.FQN())
	}
	if e := t.stmt("exists").QueryRowContext(t.ctx, a.ID).Scan(&deleted); e == nil {
		return errf(registry.ErrAlreadyExists, "ID %s", a.ID)
	}
	return err
}

// Link implements Store.
func (s *SQLStore) Link(ctx context.Context, up, down string) error {
	return s.write(ctx, func(t *txn) error { return t.link(up, down, time.Now().UnixNano()) })
}

// LinkBatch implements Store, in one transaction.
func (s *SQLStore) LinkBatch(ctx context.Context, edges [][2]string) error {
	now := time.Now().UnixNano()
	return s.write(ctx, func(t *txn) error {
		for _, e := range edges {
			if err := t.link(e[0], e[1], now); err != nil {
				return err
			}
		}
		return nil
	})
}

func (t *txn) link(up, down string, now int64) error {
	for _, id := range []string{up, down} {
		var deleted bool
		err := t.stmt("exists").QueryRowContext(t.ctx, id).Scan(&deleted)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
			return errf(registry.ErrNotFound, "%s", id)
		}
		if err != nil {
			return err
		}
	}
	var one int
	err := t.stmt("edgeExists").QueryRowContext(t.ctx, up, down).Scan(&one)
	if err == nil {
		return errf(registry.ErrAlreadyExists, "edge %s -> %s", up, down)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	err = t.stmt("reaches").QueryRowContext(t.ctx, down, up).Scan(&one)
	if err == nil {
		return errf(registry.ErrInvalid, "edge %s -> %s would close a cycle", up, down)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = t.exec("link", up, down, now)
	return err
}

// Deploy implements Store.
func (s *SQLStore) Deploy(ctx context.Context, id, endpoint string) error {
	return s.write(ctx, func(t *txn) error {
		var deleted bool
		var eps string
		err := t.stmt("endpoints").QueryRowContext(ctx, id).Scan(&deleted, &eps)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && deleted) {
			return errf(registry.ErrNotFound, "%s", id)
		}
		if err != nil {
			return err
		}
		list := split(eps)
		if slices.Contains(list, endpoint) {
			return nil
		}
		_, err = t.exec("deploy", join(append(list, endpoint)), time.Now().UnixNano(), id)
		return err
	})
}

func (s *SQLStore) one(ctx context.Context, key string, stmt string, args ...any) (registry.Artifact, error) {
	a, err := scanArtifact(s.st[stmt].QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Deleted) {
		return registry.Artifact{}, errf(registry.ErrNotFound, "%s", key)
	}
	return a, err
}

// Get implements Store.
func (s *SQLStore) Get(ctx context.Context, id string) (registry.Artifact, error) {
	return s.one(ctx, id, "get", id)
}

// GetByFQN implements Store.
func (s *SQLStore) GetByFQN(ctx context.Context, fqn string) (registry.Artifact, error) {
	ns, name, version, err := registry.ParseFQN(fqn)
	if err != nil {
		return registry.Artifact{}, err
	}
	return s.one(ctx, fqn, "getByName", ns, name, version)
}

// GetVersion implements Store.
func (s *SQLStore) GetVersion(ctx context.Context, namespace, name, version string) (registry.Artifact, error) {
	return s.one(ctx, namespace+"."+name+"."+version, "getByName", namespace, name, version)
}

// List implements Store.
func (s *SQLStore) List(ctx context.Context, namespace string, limit int) ([]registry.Artifact, error) {
	rows, err := s.st["list"].QueryContext(ctx, namespace, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]registry.Artifact, 0, limit)
	for rows.Next() {
		a, err := scanArtifact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func newOp() string {
	u, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return u.String()
}

// SoftDelete implements Store.
func (s *SQLStore) SoftDelete(ctx context.Context, id string, recursive bool) (Outcome, error) {
	var out Outcome
	err := s.write(ctx, func(t *txn) error {
		n, ok, err := t.node(id)
		if err != nil {
			return err
		}
		if !ok || n.Deleted {
			return errf(registry.ErrNotFound, "%s", id)
		}
		now := time.Now().UnixNano()
		op := newOp()
		if recursive {
			done, err := t.bulk("planLive", id)
			if err != nil {
				return err
			}
			if done {
				k, err := t.exec("planSoftDelete", op, now, "bench", now, "bench")
				out.Deleted = int(k)
				return err
			}
		}
		p, err := newPlan(t, []node{n}, false, recursive, false)
		if err != nil {
			return err
		}
		if err := p.failure(); err != nil && !recursive {
			return err
		}
		out = p.outcome()
		for _, x := range p.items {
			if x.fail == nil {
				if _, err := t.exec("softDelete", op, now, "bench", now, "bench", x.n.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}

// bulk fills the plan table with the subtree of root (fill is planAll or
// planLive) and reports whether set-based statements may take it whole:
// nothing in it is deployed and, for a hard delete (planAll), nothing in it
// has a live dependent outside it. Otherwise the planner decides item by
// item.
func (t *txn) bulk(fill, root string) (bool, error) {
	if _, err := t.exec("planClear"); err != nil {
		return false, err
	}
	if _, err := t.exec(fill, root); err != nil {
		return false, err
	}
	var one int
	err := t.stmt("planDeployed").QueryRowContext(t.ctx).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if fill == "planAll" {
		err = t.stmt("planDependents").QueryRowContext(t.ctx).Scan(&one)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return true, nil
}

// Restore implements Store.
func (s *SQLStore) Restore(ctx context.Context, id string) error {
	return s.write(ctx, func(t *txn) error {
		var deleted bool
		var op, parent string
		err := t.stmt("restoreInfo").QueryRowContext(ctx, id).Scan(&deleted, &op, &parent)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errf(registry.ErrNotFound, "%s", id)
		case err != nil:
			return err
		case !deleted:
			return errf(registry.ErrNotDeleted, "%s", id)
		}
		if parent != "" {
			var parentDeleted bool
			if err := t.stmt("exists").QueryRowContext(ctx, parent).Scan(&parentDeleted); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if parentDeleted {
				return errf(registry.ErrParentDeleted, "%s", id)
			}
		}
		var one int
		err = t.stmt("hasChild").QueryRowContext(ctx, id).Scan(&one)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if errors.Is(err, sql.ErrNoRows) {
			// The common case, without the recursive CTE: its temporary
			// tables cost mattn's SQLite some 25 µs a call.
			_, err = t.exec("restoreOne", time.Now().UnixNano(), "bench", id)
			return err
		}
		_, err = t.exec("restore", id, op, time.Now().UnixNano(), "bench")
		return err
	})
}

// HardDelete implements Store.
func (s *SQLStore) HardDelete(ctx context.Context, id string, recursive bool) (Outcome, error) {
	var out Outcome
	err := s.write(ctx, func(t *txn) error {
		n, ok, err := t.node(id)
		if err != nil {
			return err
		}
		if !ok {
			return errf(registry.ErrNotFound, "%s", id)
		}
		if recursive {
			done, err := t.bulk("planAll", id)
			if err != nil {
				return err
			}
			if done {
				for _, q := range []string{"planDelEdgesUp", "planDelEdgesDown"} {
					if _, err := t.exec(q); err != nil {
						return err
					}
				}
				k, err := t.exec("planDelArtifacts")
				out.Deleted = int(k)
				return err
			}
		}
		p, err := newPlan(t, []node{n}, true, recursive, true)
		if err != nil {
			return err
		}
		if err := p.failure(); err != nil && !recursive {
			return err
		}
		out = p.outcome()
		return t.applyHard(p)
	})
	return out, err
}

func (t *txn) applyHard(p *plan) error {
	for _, x := range p.items {
		if x.fail != nil {
			continue
		}
		for _, q := range []string{"delEdgesUp", "delEdgesDown", "delArtifact"} {
			if _, err := t.exec(q, x.n.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// CascadeDelete implements Store.
func (s *SQLStore) CascadeDelete(ctx context.Context, id string, limit int) (Outcome, error) {
	var out Outcome
	err := s.write(ctx, func(t *txn) error {
		var n node
		var ns, name string
		err := t.stmt("nodeName").QueryRowContext(ctx, id).Scan(&n.ID, &n.Parent, &n.Deleted, &n.Deployed, &ns, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(registry.ErrNotFound, "%s", id)
		}
		if err != nil {
			return err
		}
		rows, err := t.stmt("versions").QueryContext(ctx, ns, name)
		if err != nil {
			return err
		}
		type version struct {
			n node
			v string
		}
		var others []version
		for rows.Next() {
			var o version
			if err := rows.Scan(&o.n.ID, &o.n.Parent, &o.n.Deleted, &o.n.Deployed, &o.v); err != nil {
				rows.Close()
				return err
			}
			if o.n.ID != id {
				others = append(others, o)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortFunc(others, func(a, b version) int { return versions.Compare(b.v, a.v) })
		roots := []node{n}
		skipped := 0
		for i, o := range others {
			if i >= limit-1 {
				skipped++
				continue
			}
			roots = append(roots, o.n)
		}
		p, err := newPlan(t, roots, true, false, true)
		if err != nil {
			return err
		}
		p.skipped = skipped
		out = p.outcome()
		return t.applyHard(p)
	})
	return out, err
}
