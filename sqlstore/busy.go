package sqlstore

import (
	"context"
	"errors"
	"strings"
	"time"
)

// sqliteBusyWait bounds how long Migrate retries an SQLite database that
// reports itself busy before the migration transaction could begin.
const sqliteBusyWait = 10 * time.Second

// retryBusy runs fn until it succeeds, fails with an error other than
// SQLite's "busy", ctx ends or sqliteBusyWait has passed, sleeping a
// little longer after each busy answer.
//
// Why: a connection to a fresh SQLite file that asks for
// journal_mode=WAL needs an exclusive lock to convert the file, and SQLite
// answers SQLITE_BUSY at once (no busy handler) when another connection is
// converting it at the same moment. Migrate is the first thing every
// process runs, so several processes (or pool connections) starting
// together meet exactly there. A failed attempt changes nothing: the
// migration runs in one transaction, rolled back on failure.
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(sqliteBusyWait)
	pause := 5 * time.Millisecond
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().Add(pause).After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY (or SQLITE_LOCKED).
// Drivers differ: modernc.org/sqlite has a Code method, mattn/go-sqlite3
// a Code field and an "database is locked" message; both messages name
// the condition, which is what this falls back to.
func isBusy(err error) bool {
	var c interface{ Code() int }
	if errors.As(err, &c) {
		if p := c.Code() & 0xff; p == 5 || p == 6 {
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "SQLITE_LOCKED") || strings.Contains(msg, "database table is locked")
}
