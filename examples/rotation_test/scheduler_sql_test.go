package rotation_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/rotation"
	"github.com/apikit/apikey/sqlstore"
)

var (
	pepper     = []byte("rotation-test-pepper-0123456789abcdef")
	webhookKey = []byte("rotation-test-webhook-key-012345")
)

// TestSchedulersRotateOnce runs several schedulers, each with its own
// Manager and store (as separate processes would), against one database
// and checks that every due key is delivered and rotated exactly once.
func TestSchedulersRotateOnce(t *testing.T) {
	for _, e := range []sqltest.Engine{sqltest.SQLiteFile, sqltest.Postgres, sqltest.MySQL} {
		t.Run(string(e), func(t *testing.T) {
			db, dialect := sqltest.Open(t, e)
			ctx := context.Background()
			clock := apikey.NewManualClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))

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
			creator := newManager()
			const keys = 12
			olds := map[string]bool{}
			for i := 0; i < keys; i++ {
				is, err := creator.Create(ctx, apikey.CreateParams{Tenant: "p1", Name: "k", Scopes: []string{"jobs:read"},
					RotationInterval: time.Hour, RotationWebhookURL: "https://hooks.example.com/rotate"})
				if err != nil {
					t.Fatal(err)
				}
				olds[is.Key.ID] = true
			}
			clock.Advance(2 * time.Hour)

			var mu sync.Mutex
			delivered := map[string]int{} // old key ID -> deliveries
			deliver := func(_ context.Context, ev rotation.Event, _ apikey.Secret) error {
				mu.Lock()
				defer mu.Unlock()
				delivered[ev.OldKeyID]++
				return nil
			}
			const schedulers = 3
			reports := make([]rotation.Report, schedulers)
			var wg sync.WaitGroup
			for i := range schedulers {
				s := newScheduler(t, newManager(), rotation.WithDelivery(deliver))
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := s.RunOnce(ctx)
					if err != nil {
						t.Errorf("scheduler %d: %v", i, err)
					}
					reports[i] = rep
				}()
			}
			wg.Wait()

			committed := 0
			for _, r := range reports {
				committed += r.Count(rotation.Committed)
			}
			if committed != keys {
				t.Errorf("%d rotations committed across %d schedulers, want %d", committed, schedulers, keys)
			}
			for id := range olds {
				if delivered[id] != 1 {
					t.Errorf("key %s delivered %d times, want exactly 1", id, delivered[id])
				}
				k, err := creator.Get(ctx, "p1", id)
				if err != nil {
					t.Fatal(err)
				}
				if k.ReplacedBy == "" || k.GraceExpiresAt.IsZero() {
					t.Errorf("key %s not marked replaced after its rotation", id)
				}
			}
			all, err := creator.ListAll(ctx, "p1", apikey.ListAny)
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2*keys {
				t.Errorf("%d keys after rotation, want %d (each old key and one successor)", len(all), 2*keys)
			}

			// A second round at the same instant finds nothing due.
			rep, err := newScheduler(t, newManager(), rotation.WithDelivery(deliver)).RunOnce(ctx)
			if err != nil || rep.Count(rotation.Committed) != 0 {
				t.Errorf("second round: %d committed, err %v; want 0", rep.Count(rotation.Committed), err)
			}
		})
	}
}

// newScheduler is rotation.NewScheduler for options that must be valid.
func newScheduler(t *testing.T, m *apikey.Manager, opts ...rotation.Option) *rotation.Scheduler {
	t.Helper()
	s, err := rotation.NewScheduler(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
