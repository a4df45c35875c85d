package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// inTx runs fn in a transaction and commits it, or rolls it back if fn
// fails. Errors are wrapped with the operation's name.
func (s *Store) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: %s: begin: %w", op, s.hint(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that matters is fn's
		return fmt.Errorf("sqlstore: %s: %w", op, s.hint(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: %s: commit: %w", op, s.hint(err))
	}
	return nil
}

// errMetaMissing says the meta table has no row that Migrate inserts.
var errMetaMissing = errors.New("sqlstore: the apikey meta table is empty; run Migrate (or apply Schema)")

// lockFeed takes the change-feed writers' lock for the rest of tx (and,
// with WithNotify, queues the notification that goes out at commit), so that
// feed entries commit in sequence order and a follower reading "seq > n"
// never skips one committed later with a smaller seq. Callers take it
// before anything else in the transaction, so two writers cannot each hold
// a key row the other wants while waiting for it. SQLite needs no lock: it
// has one writer at a time.
func (s *Store) lockFeed(ctx context.Context, tx *sql.Tx) error {
	if s.q.feedLock == "" {
		return nil
	}
	var v int64
	err := tx.QueryRowContext(ctx, s.q.feedLock).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return errMetaMissing
	}
	if err != nil || s.notify == "" {
		return err
	}
	_, err = tx.ExecContext(ctx, notifyQuery, s.notify)
	return err
}

// notifyQuery queues a PostgreSQL notification on channel $1; it is sent
// when the transaction commits. Identical notifications of one transaction
// are sent once.
const notifyQuery = `SELECT pg_notify($1, '')`

// feed appends a change-feed entry for key id inside tx.
func (s *Store) feed(ctx context.Context, tx *sql.Tx, kind string, at any, id string) error {
	_, err := tx.ExecContext(ctx, s.q.feedKey, kind, at, id)
	return err
}

// count runs a COUNT(*) query.
func count(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, query string, args ...any) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, query, args...).Scan(&n)
	return n, err
}

// prepared returns the statement for query, preparing it on first use.
// Only the hot paths (Get, GetByLookup) use it: a prepared statement saves
// a round trip per call on MySQL and a parse per call on SQLite. A failed
// prepare (such as before Migrate) is not remembered.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}
