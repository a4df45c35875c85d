package pgnotify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/examples/pgnotify"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/sqlstore"
)

// channel is this run's channel, so concurrent runs on one server do not
// wake each other (or find each other's listener).
var channel = fmt.Sprintf("apikey_test_%d", time.Now().UnixNano())

var pepper = []byte("pgnotify-pepper-0123456789abcdef0123456789")

func manager(t *testing.T, s apikey.Store) *apikey.Manager {
	t.Helper()
	m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepper),
		apikey.WithCache(apikey.CacheOptions{TTL: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNotifyWakesFollower: with a poll interval no test waits for, only the
// notification sent by the writer's transaction can make the reader's
// follower drop the revoked key.
func TestNotifyWakesFollower(t *testing.T) {
	ctx := context.Background()
	dbA, dbB, _ := sqltest.OpenPair(t, sqltest.Postgres)
	sa, err := sqlstore.New(dbA, sqlstore.Postgres, sqlstore.WithNotify(channel))
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	sb, err := sqlstore.New(dbB, sqlstore.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	a, b := manager(t, sa), manager(t, sb)
	f := mustFollower(t, b, follow.WithInterval(time.Hour))
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	l, err := pgnotify.New(dbB, channel, f.Notify, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	if err := l.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}

	for i := range 3 {
		revokeAndWait(t, a, b, fmt.Sprintf("revocation %d", i))
	}

	// Lose the listening connection: the listener reconnects and wakes the
	// follower, which catches up on what was revoked meanwhile.
	var pid int
	err = dbA.QueryRowContext(ctx, `SELECT pid FROM pg_stat_activity WHERE query = $1`,
		`LISTEN "`+channel+`"`).Scan(&pid)
	if err != nil {
		t.Fatalf("finding the listener's backend: %v", err)
	}
	if _, err := dbA.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	revokeAndWait(t, a, b, "revocation after a lost connection")
}

// revokeAndWait creates a key through a, verifies it on b (caching it),
// revokes it through a, and waits until b refuses it.
func revokeAndWait(t *testing.T, a, b *apikey.Manager, what string) {
	t.Helper()
	ctx := context.Background()
	is, err := a.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
	if err != nil {
		t.Fatal(err)
	}
	tok := is.Token.Reveal()
	if _, err := b.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := a.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		_, err := b.Verify(ctx, tok)
		if errors.Is(err, apikey.ErrRevoked) {
			break
		}
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s not seen 5 s after the commit: no notification reached the follower", what)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("%s seen after %v", what, time.Since(start).Round(100*time.Microsecond))
}

func TestNewRefusesBadArguments(t *testing.T) {
	db, _ := sqltest.Open(t, sqltest.SQLiteFile)
	for _, tc := range []struct {
		name    string
		channel string
		wake    func()
	}{
		{"upper case", "Apikey", func() {}},
		{"quote", `a"b`, func() {}},
		{"empty", "", func() {}},
		{"nil wake", "apikey", nil},
	} {
		if _, err := pgnotify.New(db, tc.channel, tc.wake, nil); err == nil {
			t.Errorf("%s: New accepted it", tc.name)
		}
	}
}

// mustFollower is follow.New for options that must be valid.
func mustFollower(t testing.TB, m *apikey.Manager, opts ...follow.Option) *follow.Follower {
	t.Helper()
	f, err := follow.New(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
