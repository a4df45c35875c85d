// Package sqltest opens throwaway databases for tests of sqlstore and of
// the example servers: an SQLite file or in-memory database, a fresh
// PostgreSQL schema or a fresh MariaDB/MySQL database per test, dropped at
// cleanup, so tests never see each other's rows.
//
// PostgreSQL and MySQL run when APIKEY_TEST_POSTGRES_DSN and
// APIKEY_TEST_MYSQL_DSN are set (see .ci/run) and skip with a message
// otherwise; SQLite always runs.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/apikit/apikey/sqlstore"
)

// Engine names a database engine set-up. Its name contains "sqlite",
// "postgres" or "mysql", so test names do too.
type Engine string

// The engines.
const (
	SQLiteFile   Engine = "sqlite_file"
	SQLiteMemory Engine = "sqlite_memory"
	Postgres     Engine = "postgres"
	MySQL        Engine = "mysql"
)

// Environment variables holding the server DSNs.
const (
	PostgresDSNEnv = "APIKEY_TEST_POSTGRES_DSN"
	MySQLDSNEnv    = "APIKEY_TEST_MYSQL_DSN"
)

// SQLiteDSNOptions are the connection options recommended for
// modernc.org/sqlite: wait up to 5 s for the write lock, and write-ahead
// logging so readers never block the writer.
const SQLiteDSNOptions = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"

// Engines returns every engine; Open skips those whose server is not
// configured.
func Engines() []Engine { return []Engine{SQLiteFile, SQLiteMemory, Postgres, MySQL} }

// Dialect returns the sqlstore dialect of e.
func (e Engine) Dialect() sqlstore.Dialect {
	switch e {
	case Postgres:
		return sqlstore.Postgres
	case MySQL:
		return sqlstore.MySQL
	}
	return sqlstore.SQLite
}

// Open returns a database of engine e that belongs to t alone and is
// removed when t ends, with its dialect. It skips t when the engine's
// server is not configured, and fails it when the server cannot be reached.
func Open(t testing.TB, e Engine) (*sql.DB, sqlstore.Dialect) {
	t.Helper()
	var db *sql.DB
	switch e {
	case SQLiteFile:
		db = openSQLite(t, "file:"+filepath.Join(t.TempDir(), "apikey.db")+"?"+SQLiteDSNOptions)
	case SQLiteMemory:
		db = openSQLite(t, ":memory:")
		// Every connection to ":memory:" is a different database: keep one.
		db.SetMaxOpenConns(1)
	case Postgres:
		db = openPostgres(t)
	case MySQL:
		db = openMySQL(t)
	default:
		t.Fatalf("sqltest: unknown engine %q", e)
	}
	return db, e.Dialect()
}

// NewStore opens a database of engine e (see Open) and returns a migrated
// store on it.
func NewStore(t testing.TB, e Engine, opts ...sqlstore.Option) *sqlstore.Store {
	t.Helper()
	db, d := Open(t, e)
	s, err := sqlstore.New(db, d, opts...)
	if err != nil {
		t.Fatalf("sqlstore.New: %v", err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate on %s: %v", e, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// OpenPair returns two pools on one database of engine e that belongs to t
// alone (removed when t ends), as two processes sharing a database would
// have, with its dialect. It skips like Open; SQLiteMemory cannot be
// shared and fails the test.
func OpenPair(t testing.TB, e Engine) (a, b *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	var driver, dsn string
	switch e {
	case SQLiteFile:
		driver, dsn = "sqlite", "file:"+filepath.Join(t.TempDir(), "apikey.db")+"?"+SQLiteDSNOptions
	case Postgres:
		driver, dsn = "pgx", postgresDSN(t)
	case MySQL:
		driver, dsn = "mysql", mysqlDSN(t)
	default:
		t.Fatalf("sqltest: engine %q cannot be opened twice", e)
	}
	return openPool(t, driver, dsn, string(e)), openPool(t, driver, dsn, string(e)), e.Dialect()
}

// PostgresDSN creates a fresh schema (dropped when t ends) on the server of
// APIKEY_TEST_POSTGRES_DSN and returns a DSN whose search_path is that
// schema, for tests that start processes of their own. It skips t when the
// variable is not set.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return postgresDSN(t)
}

// MySQLDSN creates a fresh database (dropped when t ends) on the server of
// APIKEY_TEST_MYSQL_DSN and returns a go-sql-driver DSN on it, for tests
// that open stores of their own. It skips t when the variable is not set.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return mysqlDSN(t)
}

func openSQLite(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("sqltest: open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// randomName returns a fresh schema or database name.
func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t_" + hex.EncodeToString(b)
}

func dsnFrom(t testing.TB, env, engine string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		t.Skipf("sqltest: %s not set: skipping %s (run .ci/run, or set it to a server's DSN)", env, engine)
	}
	return dsn
}

// admin opens a server connection for creating and dropping the test's
// schema or database, and checks the server answers.
func admin(t testing.TB, driver, dsn, engine string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sqltest: open %s: %v", engine, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		t.Fatalf("sqltest: %s unreachable: %v", engine, err)
	}
	return db
}

// openPostgres creates schema t_<random>, returns a pool whose
// search_path is that schema, and drops the schema at cleanup.
func openPostgres(t testing.TB) *sql.DB {
	t.Helper()
	return openPool(t, "pgx", postgresDSN(t), "postgres")
}

// postgresDSN creates schema t_<random>, drops it at cleanup (after the
// pools opened later are closed), and returns a DSN whose search_path is
// that schema.
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := dsnFrom(t, PostgresDSNEnv, "postgres")
	adm := admin(t, "pgx", dsn, "postgres")
	schema := randomName()
	if _, err := adm.Exec("CREATE SCHEMA " + schema); err != nil {
		_ = adm.Close()
		t.Fatalf("sqltest: create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := adm.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("sqltest: drop schema %s: %v", schema, err)
		}
		_ = adm.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("sqltest: %s is not a URL: %v", PostgresDSNEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openPool opens a pool and closes it at cleanup.
func openPool(t testing.TB, driver, dsn, engine string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sqltest: open %s: %v", engine, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// openMySQL creates database t_<random>, returns a pool on it, and drops
// it at cleanup.
func openMySQL(t testing.TB) *sql.DB {
	t.Helper()
	return openPool(t, "mysql", mysqlDSN(t), "mysql")
}

// mysqlDSN creates database t_<random>, drops it at cleanup (after the
// pools opened later are closed), and returns a DSN on it.
func mysqlDSN(t testing.TB) string {
	t.Helper()
	dsn := dsnFrom(t, MySQLDSNEnv, "mysql")
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("sqltest: %s: %v", MySQLDSNEnv, err)
	}
	adm := admin(t, "mysql", dsn, "mysql")
	name := randomName()
	if _, err := adm.Exec("CREATE DATABASE " + name); err != nil {
		_ = adm.Close()
		t.Fatalf("sqltest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := adm.Exec("DROP DATABASE " + name); err != nil {
			t.Errorf("sqltest: drop database %s: %v", name, err)
		}
		_ = adm.Close()
	})
	cfg.DBName = name
	cfg.ParseTime = true
	return cfg.FormatDSN()
}
