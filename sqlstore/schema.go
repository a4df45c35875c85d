package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed schema/*.sql schema/*/*.sql
var schemaFS embed.FS

// upgrade is one numbered schema upgrade, schema/<dialect>/NNN_<name>.sql.
type upgrade struct {
	version int64
	name    string // file name without ".sql", such as "002_controls"
	text    string
}

// upgrades returns the upgrades of dialect d in version order.
func upgrades(d Dialect) []upgrade {
	entries, err := fs.ReadDir(schemaFS, "schema/"+d.String())
	if err != nil {
		return nil
	}
	var out []upgrade
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		num, _, found := strings.Cut(name, "_")
		v, perr := strconv.ParseInt(num, 10, 64)
		if !ok || !found || perr != nil || v < 2 {
			panic("sqlstore: bad upgrade file name " + e.Name()) // caught by the tests
		}
		b, err := schemaFS.ReadFile("schema/" + d.String() + "/" + e.Name())
		if err != nil {
			panic(err)
		}
		out = append(out, upgrade{version: v, name: name, text: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out
}

// schemaVersion is the version of the embedded schema, kept in the meta
// table's schema_version row: 1 for the base schema, then the number of
// the highest upgrade.
var schemaVersion = func() int64 {
	v := int64(1)
	for _, u := range upgrades(SQLite) {
		v = max(v, u.version)
	}
	return v
}()

// Schema returns the schema of dialect d with the default table names
// (apikey_keys, apikey_changes, apikey_meta), as the .sql text Migrate
// runs on an empty database, for teams that apply migrations with their own
// tool: the version-1 base (schema/<dialect>.sql), then every upgrade
// (schema/<dialect>/NNN_<name>.sql) followed by the statement that records
// its version. Apply it once: the upgrades are not idempotent (Migrate
// applies only those the database lacks). A database already at version N
// needs only the upgrades after N (see the files). It returns "" for an
// unknown dialect. Store.Schema gives the text for a store's own table
// prefix.
func Schema(d Dialect) string {
	b, err := schemaFS.ReadFile("schema/" + d.String() + ".sql")
	if err != nil {
		return ""
	}
	var sb strings.Builder
	sb.Write(b)
	set := dialectQueries[d].setSchemaVersion
	for _, u := range upgrades(d) {
		fmt.Fprintf(&sb, "\n-- schema/%s/%s.sql\n%s", d, u.name, u.text)
		fmt.Fprintf(&sb, "%s;\n", strings.Replace(strings.Replace(set, "$1", strconv.FormatInt(u.version, 10), 1), "?", strconv.FormatInt(u.version, 10), 1))
	}
	return sb.String()
}

// Schema returns the schema Migrate applies for this store: its dialect
// and table prefix.
func (s *Store) Schema() string { return renameTables(Schema(s.dialect), s.table) }

// baseSchema returns the version-1 base schema for this store.
func (s *Store) baseSchema() string {
	b, _ := schemaFS.ReadFile("schema/" + s.dialect.String() + ".sql")
	return renameTables(string(b), s.table)
}

// statements splits a schema into statements: each ends with ";" at the
// end of a line (a comment may follow it). Chunks holding only comments
// are dropped.
func statements(schema string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		chunk := strings.TrimSpace(cur.String())
		cur.Reset()
		for line := range strings.Lines(chunk) {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				out = append(out, chunk)
				return
			}
		}
	}
	for line := range strings.Lines(schema) {
		code, _, _ := strings.Cut(line, "--")
		if strings.HasSuffix(strings.TrimSpace(code), ";") {
			cur.WriteString(strings.TrimSpace(code)[:len(strings.TrimSpace(code))-1])
			cur.WriteByte('\n')
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

// Migrate brings the database to this package's schema: it creates the
// store's tables and indexes if they are missing (the version-1 base), then
// applies, in order, each upgrade the database lacks (schema_version in the
// meta table), recording the new version after each. It is idempotent, and
// safe when several processes run it at once: PostgreSQL runs everything in
// one transaction under an advisory lock, SQLite in one BEGIN IMMEDIATE
// transaction (set a busy timeout on the connection, see README.md; a
// database that answers "busy" before that transaction begins, as a fresh
// file does while another connection turns on WAL, is retried for up to
// 10 s), and
// MySQL under a named lock (GET_LOCK) on one connection; there DDL commits
// statement by statement, so an upgrade interrupted between its ALTER and
// the version update must be finished by hand (the file says what it adds).
// It fails if the database holds a newer schema than this package knows.
// Rows are kept: upgrades only add columns with defaults that mean "no
// control".
func (s *Store) Migrate(ctx context.Context) error {
	var err error
	switch s.dialect {
	case Postgres:
		err = s.inTx(ctx, "migrate", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q.migrateLock, s.migrateLockKey()); err != nil {
				return err
			}
			return s.migrateOn(ctx, tx)
		})
	case SQLite:
		err = retryBusy(ctx, func() error { return s.migrateSQLite(ctx) })
	default:
		err = s.migrateMySQL(ctx)
	}
	return err
}

// queryExecer is a *sql.Tx or *sql.Conn.
type queryExecer interface {
	execer
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrateOn applies the base schema and the missing upgrades on db (a
// transaction or a locked connection).
func (s *Store) migrateOn(ctx context.Context, db queryExecer) error {
	if err := execAll(ctx, db, statements(s.baseSchema())); err != nil {
		return err
	}
	var v int64
	if err := db.QueryRowContext(ctx, s.q.schemaVersion).Scan(&v); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("the database has schema version %d, newer than this package's %d", v, schemaVersion)
	}
	for _, u := range upgrades(s.dialect) {
		if u.version <= v {
			continue
		}
		if err := execAll(ctx, db, statements(renameTables(u.text, s.table))); err != nil {
			return fmt.Errorf("upgrade %s: %w", u.name, err)
		}
		if _, err := db.ExecContext(ctx, s.q.setSchemaVersion, u.version); err != nil {
			return fmt.Errorf("upgrade %s: record version: %w", u.name, err)
		}
	}
	return nil
}

// migrateMySQL runs the migration on one connection holding a named lock,
// so concurrent migrators run one after the other.
func (s *Store) migrateMySQL(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	lock := fmt.Sprintf("apikey_migrate_%s", s.table)
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 60)", lock).Scan(&got); err != nil || got.Int64 != 1 {
		return fmt.Errorf("sqlstore: migrate: could not take the migration lock %q: %v", lock, err)
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", lock) }()
	if err := s.migrateOn(ctx, conn); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func execAll(ctx context.Context, db execer, stmts []string) error {
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			return fmt.Errorf("%s: %w", firstLine(st), err)
		}
	}
	return nil
}

// migrateSQLite runs the schema in a BEGIN IMMEDIATE transaction on one
// connection: the write lock is taken up front (waiting for the busy
// timeout), so two migrating processes run one after the other instead of
// failing on a stale read snapshot.
func (s *Store) migrateSQLite(ctx context.Context) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlstore: migrate: begin: %w", err)
	}
	if err := s.migrateOn(ctx, conn); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

// migrateLockKey is the PostgreSQL advisory lock of this store's Migrate.
func (s *Store) migrateLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("apikit/apikey sqlstore migrate " + s.table))
	return int64(h.Sum64())
}

// firstLine names a statement in an error: its first non-comment line.
func firstLine(st string) string {
	for line := range strings.Lines(st) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return t
		}
	}
	return ""
}
