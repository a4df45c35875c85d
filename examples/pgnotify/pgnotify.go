// Package pgnotify is the PostgreSQL push path of the change-feed follower:
// a Listener holds one connection of the application's pool, LISTENs on a
// channel, and calls a wake function (follow.Follower.Notify) whenever a
// notification arrives. The writer side is sqlstore.WithNotify, which
// queues pg_notify in the transaction of every change, so the follower of
// every process reads the feed as soon as a change commits rather than at
// its next poll. Polling stays as the safety net: a lost connection or a
// missed notification only costs up to one poll interval.
//
//	store, _ := sqlstore.New(db, sqlstore.Postgres, sqlstore.WithNotify("apikey_changes"))
//	f, err := follow.New(m)
//	l, _ := pgnotify.New(db, "apikey_changes", f.Notify, logger)
//	f.Start(ctx); l.Start(ctx)
//	defer func() { l.Stop(); f.Stop() }()
//
// It lives in the examples module because it imports pgx; the library's
// own module stays free of drivers. The pool must use the pgx stdlib driver
// (github.com/jackc/pgx/v5/stdlib, driver name "pgx"). The Listener keeps
// one of the pool's connections for itself while it runs.
package pgnotify

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Reconnection delays after a lost or failed LISTEN connection: the first
// retry comes after minRetry, each further one twice as late, up to
// maxRetry.
const (
	minRetry = 500 * time.Millisecond
	maxRetry = 30 * time.Second
)

// channelRE is the channel names sqlstore.WithNotify accepts.
var channelRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// errNotPgx says the pool's driver is not pgx's stdlib.
var errNotPgx = errors.New("pgnotify: the pool's driver is not github.com/jackc/pgx/v5/stdlib")

// Listener LISTENs on a PostgreSQL channel and calls wake on every
// notification, and once after each (re)connection, since notifications
// sent while it was not listening are lost. New starts nothing; Start runs
// it in a goroutine and Stop ends it.
type Listener struct {
	db      *sql.DB
	channel string
	wake    func()
	log     *slog.Logger

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a listener on channel over db (a pool of the pgx stdlib
// driver) that calls wake, which must not block (Follower.Notify does
// not). A nil log discards. It does no I/O.
func New(db *sql.DB, channel string, wake func(), log *slog.Logger) (*Listener, error) {
	switch {
	case db == nil || wake == nil:
		return nil, errors.New("pgnotify: a pool and a wake function are required")
	case !channelRE.MatchString(channel):
		return nil, fmt.Errorf("pgnotify: channel %q is not a plain lower-case identifier", channel)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{db: db, channel: channel, wake: wake, log: log}, nil
}

// Start runs the listener until ctx ends or Stop is called. Starting a
// started listener is an error.
func (l *Listener) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		return errors.New("pgnotify: listener already started")
	}
	ctx, l.cancel = context.WithCancel(ctx)
	l.done = make(chan struct{})
	go l.run(ctx, l.done)
	return nil
}

// Stop ends the listener, closes its connection and waits. Stopping a
// listener that is not running does nothing. Stop it before closing the
// pool.
func (l *Listener) Stop() {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.cancel, l.done = nil, nil
	l.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// run listens, and after a failure waits and listens again.
func (l *Listener) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	delay := minRetry
	for {
		listening, err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errNotPgx) {
			l.log.Error("pgnotify: not listening; the follower relies on polling", "error", err.Error())
			return
		}
		if listening {
			delay = minRetry // it worked for a while: retry promptly
		}
		l.log.Warn("pgnotify: LISTEN connection lost; the follower falls back to polling until it is back",
			"channel", l.channel, "error", err.Error(), "retry_in", delay.String())
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, maxRetry)
	}
}

// listen takes a connection from the pool, LISTENs and waits for
// notifications until the connection fails or ctx ends. It reports whether
// the LISTEN succeeded. The connection is never returned to the pool: it
// is closed, so no pooled session keeps the LISTEN.
func (l *Listener) listen(ctx context.Context) (listening bool, err error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	rawErr := conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			err = errNotPgx
			return err
		}
		c := sc.Conn()
		if _, err = c.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
			return driver.ErrBadConn
		}
		listening = true
		l.wake() // catch up on anything sent before the LISTEN took effect
		for {
			if _, err = c.WaitForNotification(ctx); err != nil {
				return driver.ErrBadConn // makes database/sql close the connection
			}
			l.wake()
		}
	})
	if err == nil {
		err = rawErr
	}
	return listening, err
}
