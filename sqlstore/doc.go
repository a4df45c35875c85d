// Package sqlstore is an apikey.Store on database/sql for SQLite,
// PostgreSQL and MySQL/MariaDB. It imports no driver: the application opens
// the *sql.DB with the driver of its choice and names the dialect.
//
//	db, err := sql.Open("pgx", dsn) // github.com/jackc/pgx/v5/stdlib
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	if err := store.Migrate(ctx); err != nil { ... }
//	m, err := apikey.New(store, apikey.WithPepper("v1", pepper))
//
// New does no I/O. Migrate creates the tables if they are missing; it is
// idempotent and safe to run from several processes at once. Teams with
// their own migration tool apply Schema(dialect) instead.
//
// Every statement is written by hand for each dialect (see queries.go) and
// parameterised. Times come from the arguments (the Manager's clock), never
// from the database, and are stored in UTC with microsecond precision.
//
// # Transactions and concurrency
//
// Rotate, Revoke, RevokeAll, Update and UpgradeHash each run in one
// transaction that also appends the change-feed entries. Rotate updates the
// old key with a conditional UPDATE (not replaced, not revoked) and checks
// the rows it changed, so of two concurrent rotations exactly one wins.
// Change-feed writers lock one row of the meta table first (PostgreSQL and
// MySQL; SQLite has a single writer anyway), so feed sequence numbers are
// committed in order and a follower never skips an entry. With WithNotify
// (PostgreSQL), each of these transactions also queues a pg_notify that
// wakes the followers listening on the channel when it commits.
//
// Duplicates are detected without driver-specific error codes: when an
// INSERT fails, the store looks for a row with the same ID or lookup value
// and, if there is one, reports apikey.ErrAlreadyExists. Any other failure
// is returned wrapped (%w) with the operation's name; the Manager reports it
// as apikey.ErrStoreUnavailable.
//
// See README.md for the schema of each dialect and the recommended DSN
// options per engine.
package sqlstore
