package rotation_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/rotation"
)

// A scheduler rotates a key whose rotation interval has passed. Here the
// successor goes to a custom Delivery (a queue, a secret manager) instead
// of the default signed HTTP POST; the rotation commits because the
// delivery returned nil.
func ExampleNewScheduler() {
	ctx := context.Background()
	clock := apikey.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	hooks, err := rotation.NewWebhooks([]byte("example-webhook-key-0123456789ab"), rotation.WebhookPolicy{})
	if err != nil {
		panic(err)
	}
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("prk"),
		apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
		apikey.WithWebhooks(hooks), apikey.WithClock(clock))
	if err != nil {
		panic(err)
	}
	old, err := m.Create(ctx, apikey.CreateParams{Tenant: "p1", RotationInterval: 24 * time.Hour})
	if err != nil {
		panic(err)
	}
	s, err := rotation.NewScheduler(m, rotation.WithGrace(time.Hour),
		rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
			fmt.Println("deliver successor of", e.OldKeyID == old.Key.ID, strings.HasPrefix(e.Key.Reveal(), "prk_live_"))
			return nil
		}))
	if err != nil {
		panic(err)
	}
	clock.Advance(24 * time.Hour) // in production: s.Start(ctx) checks every minute
	rep, err := s.RunOnce(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("committed:", rep.Count(rotation.Committed))
	k, _ := m.Get(ctx, "p1", old.Key.ID)
	fmt.Println("old key works until:", k.GraceExpiresAt.Format(time.RFC3339))
	// Output:
	// deliver successor of true true
	// committed: 1
	// old key works until: 2026-03-02T13:00:00Z
}
