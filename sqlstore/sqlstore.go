package sqlstore

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/apikit/apikey"
)

var _ apikey.Store = (*Store)(nil)

// Dialect names the SQL engine behind a *sql.DB.
type Dialect int

// The supported dialects. MariaDB is MySQL.
const (
	SQLite   Dialect = iota + 1 // SQLite 3.24+ (modernc.org/sqlite, mattn/go-sqlite3)
	Postgres                    // PostgreSQL 10+ (pgx stdlib, lib/pq)
	MySQL                       // MySQL 8+ and MariaDB 10.5+ (go-sql-driver/mysql, parseTime=true)
)

// String returns "sqlite", "postgres" or "mysql".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	case MySQL:
		return "mysql"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DefaultTable is the default prefix of the store's table names.
const DefaultTable = "apikey"

// Option configures a Store.
type Option func(*config) error

type config struct {
	table  string
	notify string
}

// tableRE is what WithTable accepts: an SQL identifier that needs no quoting
// on any engine.
var tableRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,39}$`)

// WithTable sets the prefix of the store's table and index names (default
// "apikey": tables apikey_keys, apikey_changes and apikey_meta). It must be
// a plain identifier: a letter or underscore, then up to 39 letters, digits
// or underscores. Use it to run several stores in one database or schema.
func WithTable(prefix string) Option {
	return func(c *config) error {
		if !tableRE.MatchString(prefix) {
			return fmt.Errorf("%w: sqlstore: table prefix %q is not a plain identifier", apikey.ErrInvalid, prefix)
		}
		c.table = prefix
		return nil
	}
}

// notifyRE is what WithNotify accepts: a PostgreSQL identifier that needs
// no quoting (so LISTEN channel and pg_notify('channel') agree).
var notifyRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// WithNotify makes every change-feed write (Revoke, RevokeAll, Rotate,
// Update, UpgradeHash) also call pg_notify on channel in its transaction,
// so PostgreSQL tells the sessions that LISTEN on channel when the change
// commits (and not if it rolls back); followers woken that way
// (follow.Follower.Notify) read the feed at once instead of at their next
// poll. The payload is empty: a notification only says "read the feed". A
// write that ends up changing nothing may notify anyway, which costs one
// feed read. Channels are per database, not per schema: stores in several
// schemas of one database should use distinct channels (or accept being
// woken by each other). PostgreSQL only; channel must be lower-case
// letters, digits and underscores, starting with a letter or underscore
// (up to 63 bytes).
func WithNotify(channel string) Option {
	return func(c *config) error {
		if !notifyRE.MatchString(channel) {
			return fmt.Errorf("%w: sqlstore: notify channel %q is not a plain lower-case identifier", apikey.ErrInvalid, channel)
		}
		c.notify = channel
		return nil
	}
}

// Store is an apikey.Store on a *sql.DB. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string
	notify  string // pg_notify channel of WithNotify, or ""
	q       queries
	lq      lcQueries // lifecycle statements (queries_lifecycle.go)

	mu    sync.Mutex
	stmts map[string]*sql.Stmt // hot-path statements, prepared on first use
}

// New returns a store over db for dialect d. It does no I/O: call Migrate
// (or apply Schema yourself) before use. The caller keeps ownership of db.
func New(db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: sqlstore: nil *sql.DB", apikey.ErrInvalid)
	}
	base, ok := dialectQueries[d]
	if !ok {
		return nil, fmt.Errorf("%w: sqlstore: unknown dialect %v", apikey.ErrInvalid, d)
	}
	cfg := config{table: DefaultTable}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.notify != "" && d != Postgres {
		return nil, fmt.Errorf("%w: sqlstore: WithNotify needs the Postgres dialect, not %v", apikey.ErrInvalid, d)
	}
	return &Store{
		db:      db,
		dialect: d,
		table:   cfg.table,
		notify:  cfg.notify,
		q:       base.withTable(cfg.table),
		lq:      dialectLC[d].withTable(cfg.table),
		stmts:   map[string]*sql.Stmt{},
	}, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB returns the database the store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Close releases the statements the store prepared; call it after the
// store's last use. It does not close the *sql.DB, which belongs to the
// caller. A store used after Close prepares its statements again.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for q, st := range s.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.stmts, q)
	}
	return first
}

// renameTables rewrites the default table prefix in a statement or schema.
// Every identifier of ours starts with "apikey_" and nothing else in the
// text does, so a plain replacement is exact.
func renameTables(sqlText, prefix string) string {
	if prefix == DefaultTable {
		return sqlText
	}
	return strings.ReplaceAll(sqlText, DefaultTable+"_", prefix+"_")
}
