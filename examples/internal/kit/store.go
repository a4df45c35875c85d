package kit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/sqlstore"

	// The drivers the -db flag can name. They live in the examples module
	// only: the library's own module never imports a driver.
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Backend is an opened store.
type Backend struct {
	Store apikey.Store
	// DB is the SQL pool, nil for the memory store.
	DB *sql.DB
	// Dialect is the SQL dialect; meaningless when DB is nil.
	Dialect sqlstore.Dialect
	// Kind is "memory", "sqlite", "postgres" or "mysql".
	Kind string
	// Metrics, if set, gets the feed lag of the follower Follow starts.
	Metrics *Metrics
}

// Close stops the metrics listener, if any, and releases the database.
func (b *Backend) Close(ctx context.Context) error {
	err := b.Metrics.Close(ctx)
	if b.DB != nil {
		err = errors.Join(err, b.DB.Close())
	}
	return err
}

// OpenStore opens the store named by spec (see Config.DB) and applies the
// migrations.
func OpenStore(ctx context.Context, spec string) (*Backend, error) {
	var (
		driver, dsn string
		dialect     sqlstore.Dialect
		kind        string
	)
	switch {
	case spec == "memory":
		return &Backend{Store: memstore.New(), Kind: "memory"}, nil
	case strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(spec, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("-db sqlite: needs a path")
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(5000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Set("_txlock", "immediate")
		driver, dsn, dialect, kind = "sqlite", "file:"+path+"?"+q.Encode(), sqlstore.SQLite, "sqlite"
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		driver, dsn, dialect, kind = "pgx", spec, sqlstore.Postgres, "postgres"
	case strings.HasPrefix(spec, "mysql:"):
		dsn = strings.TrimPrefix(spec, "mysql:")
		if !strings.Contains(dsn, "parseTime=") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "parseTime=true"
		}
		driver, dialect, kind = "mysql", sqlstore.MySQL, "mysql"
	default:
		return nil, fmt.Errorf(`-db %q: want "memory", "sqlite:PATH", "postgres://..." or "mysql:DSN"`, spec)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	if kind == "sqlite" {
		// One writer at a time is SQLite's model; WAL lets readers go on.
		db.SetMaxOpenConns(8)
	}
	st, err := sqlstore.New(db, dialect, storeOptions(dialect)...)
	if err != nil {
		db.Close()
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating %s: %w", kind, err)
	}
	return &Backend{Store: st, DB: db, Dialect: dialect, Kind: kind}, nil
}

// FromDB wraps an already opened database (tests open one per engine with
// examples/internal/sqltest) and applies the migrations. Closing the
// returned Backend closes db.
func FromDB(ctx context.Context, db *sql.DB, d sqlstore.Dialect) (*Backend, error) {
	st, err := sqlstore.New(db, d, storeOptions(d)...)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	kind := map[sqlstore.Dialect]string{sqlstore.SQLite: "sqlite", sqlstore.Postgres: "postgres", sqlstore.MySQL: "mysql"}[d]
	return &Backend{Store: st, DB: db, Dialect: d, Kind: kind}, nil
}

// storeOptions are the sqlstore options of dialect d: on PostgreSQL every
// change also notifies NotifyChannel, which wakes the followers (Follow).
func storeOptions(d sqlstore.Dialect) []sqlstore.Option {
	if d == sqlstore.Postgres {
		return []sqlstore.Option{sqlstore.WithNotify(NotifyChannel)}
	}
	return nil
}
