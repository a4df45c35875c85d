package rotation_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/rotation"
	"github.com/apikit/apikey/sqlstore"
)

// On every SQL engine, a scheduler process that dies after creating a
// successor (before committing or revoking it) leaves that successor to
// the next process that takes the key, which revokes it. The clock runs at
// odd nanoseconds, so the claimed time the store gives back (to the
// microsecond) must still name the pending successor.
func TestCrashedAttemptSuccessorRevokedSQL(t *testing.T) {
	for _, e := range []sqltest.Engine{sqltest.SQLiteFile, sqltest.Postgres, sqltest.MySQL} {
		t.Run(string(e), func(t *testing.T) {
			db, dialect := sqltest.Open(t, e)
			ctx := context.Background()
			clock := apikey.NewManualClock(time.Date(2030, 1, 1, 12, 0, 0, 123456789, time.UTC))
			hooks, err := rotation.NewWebhooks(webhookKey, rotation.WebhookPolicy{})
			if err != nil {
				t.Fatal(err)
			}
			newManager := func() *apikey.Manager {
				st, err := sqlstore.New(db, dialect)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				m, err := apikey.New(st, apikey.WithPrefix("rot"), apikey.WithPepper("v1", pepper),
					apikey.WithWebhooks(hooks), apikey.WithClock(clock))
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			m1 := newManager()
			if _, err := m1.Create(ctx, apikey.CreateParams{Tenant: "p1", Name: "k", Scopes: []string{"jobs:read"},
				RotationInterval: time.Hour, RotationWebhookURL: "https://hooks.example.com/rotate"}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour + 987654321*time.Nanosecond)
			var orphan rotation.Event
			dying := newScheduler(t, m1, rotation.WithDelivery(func(_ context.Context, ev rotation.Event, _ apikey.Secret) error {
				orphan = ev
				runtime.Goexit()
				return nil
			}))
			var wg sync.WaitGroup
			wg.Go(func() { _, _ = dying.RunOnce(ctx) })
			wg.Wait()
			m2 := newManager()
			if _, err := m2.Verify(ctx, orphan.Key.Reveal()); err != nil {
				t.Fatalf("orphan before the next attempt: %v", err)
			}
			clock.Advance(time.Hour + 1234567*time.Nanosecond)
			next := newScheduler(t, m2, rotation.WithDelivery(func(context.Context, rotation.Event, apikey.Secret) error { return nil }))
			rep, err := next.RunOnce(ctx)
			if err != nil || rep.Count(rotation.Committed) != 1 {
				t.Fatalf("next attempt: %+v, %v", rep.Results, err)
			}
			if _, err := m2.Verify(ctx, orphan.Key.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
				t.Fatalf("orphan after the next attempt: %v, want ErrRevoked", err)
			}
		})
	}
}
