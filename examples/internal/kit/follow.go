package kit

import (
	"context"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/pgnotify"
	"github.com/apikit/apikey/follow"
)

// Change-feed settings of the example servers on SQL stores.
const (
	// CacheTTL is the verification cache's TTL: how stale a key can be in
	// a process whose follower cannot read the feed. With the follower
	// running, a change made by another process is seen within
	// FollowInterval plus one query.
	CacheTTL = 10 * time.Second
	// FollowInterval is how often the follower polls the change feed.
	FollowInterval = follow.DefaultInterval
	// NotifyChannel is the PostgreSQL channel the stores notify on (see
	// sqlstore.WithNotify) and the followers listen on.
	NotifyChannel = "apikey_changes"
)

// CacheOptions returns the manager options for the verification cache:
// on with CacheTTL on SQL stores, none on the memory store (already fast,
// and one process only).
func (b *Backend) CacheOptions() []apikey.Option {
	if b.DB == nil {
		return nil
	}
	return []apikey.Option{apikey.WithCache(apikey.CacheOptions{TTL: CacheTTL})}
}

// Follow starts, on a SQL store, a change-feed follower that drops from
// m's cache the keys other processes change, and on PostgreSQL a LISTEN
// wake-up that makes it read the feed as soon as a change commits. It
// returns the function that stops both; call it before closing the
// database. On the memory store it starts nothing.
func (b *Backend) Follow(ctx context.Context, m *apikey.Manager) (stop func(context.Context) error, err error) {
	if b.DB == nil {
		return func(context.Context) error { return nil }, nil
	}
	ctx = context.WithoutCancel(ctx)
	f, err := follow.New(m, follow.WithInterval(FollowInterval))
	if err != nil {
		return nil, err
	}
	b.Metrics.observeFollower(m, f)
	if err := f.Start(ctx); err != nil {
		return nil, err
	}
	var l *pgnotify.Listener
	if b.Kind == "postgres" {
		if l, err = pgnotify.New(b.DB, NotifyChannel, f.Notify, m.Logger()); err == nil {
			err = l.Start(ctx)
		}
		if err != nil {
			f.Stop()
			return nil, err
		}
	}
	return func(context.Context) error {
		if l != nil {
			l.Stop()
		}
		f.Stop()
		return nil
	}, nil
}
