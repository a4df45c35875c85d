package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"strings"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// schemaVersion is the version of the embedded schema, kept in the meta
// table's schema_version row.
const schemaVersion = 1

// Schema returns the schema of dialect d with the default table names
// (apikey_keys, apikey_changes, apikey_meta), as the .sql text Migrate
// runs, for teams that apply migrations with their own tool. It returns ""
// for an unknown dialect. Store.Schema gives the text for a store's own
// table prefix.
func Schema(d Dialect) string {
	b, err := schemaFS.ReadFile("schema/" + d.String() + ".sql")
	if err != nil {
		return ""
	}
	return string(b)
}

// Schema returns the schema Migrate applies for this store: its dialect
// and table prefix.
func (s *Store) Schema() string { return renameTables(Schema(s.dialect), s.table) }

// statements splits a schema into statements: each ends with ";" at the
// end of a line. Chunks holding only comments are dropped.
func statements(schema string) []string {
	var out []string
	for _, chunk := range strings.Split(schema, ";\n") {
		for line := range strings.Lines(chunk) {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
				out = append(out, strings.TrimSpace(chunk))
				break
			}
		}
	}
	return out
}

// Migrate creates the store's tables and indexes if they are missing. It
// is idempotent, and safe when several processes run it at once: every
// statement is "IF NOT EXISTS" (MySQL declares its indexes inside CREATE
// TABLE), PostgreSQL runs them in one transaction under an advisory lock,
// and SQLite in one BEGIN IMMEDIATE transaction (set a busy timeout on the
// connection, see README.md; a database that answers "busy" before that
// transaction begins, as a fresh file does while another connection turns
// on WAL, is retried for up to 10 s). It fails if the database holds a newer
// schema than this package knows.
func (s *Store) Migrate(ctx context.Context) error {
	stmts := statements(s.Schema())
	var err error
	switch s.dialect {
	case Postgres:
		err = s.inTx(ctx, "migrate", func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, s.q.migrateLock, s.migrateLockKey()); err != nil {
				return err
			}
			return execAll(ctx, tx, stmts)
		})
	case SQLite:
		err = retryBusy(ctx, func() error { return s.migrateSQLite(ctx, stmts) })
	default:
		// MySQL commits every DDL statement on its own; CREATE TABLE IF NOT
		// EXISTS is atomic there.
		if err = execAll(ctx, s.db, stmts); err != nil {
			err = fmt.Errorf("sqlstore: migrate: %w", err)
		}
	}
	if err != nil {
		return err
	}
	var v int64
	if err := s.db.QueryRowContext(ctx, s.q.schemaVersion).Scan(&v); err != nil {
		return fmt.Errorf("sqlstore: migrate: read schema version: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("sqlstore: migrate: the database has schema version %d, newer than this package's %d", v, schemaVersion)
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
func (s *Store) migrateSQLite(ctx context.Context, stmts []string) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlstore: migrate: begin: %w", err)
	}
	if err := execAll(ctx, conn, stmts); err != nil {
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
