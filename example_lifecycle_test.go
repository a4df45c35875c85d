package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// Delete a key for good: it is refused like an unknown token and no longer
// listed.
func ExampleManager_Delete() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "created by mistake"})
	if err != nil {
		panic(err)
	}
	if _, err := m.Delete(ctx, "acme", issued.Key.ID); err != nil {
		panic(err)
	}
	_, err = m.Verify(ctx, issued.Token.Reveal())
	fmt.Println("refused as unknown:", errors.Is(err, apikey.ErrNotFound))
	keys, _ := m.ListAll(ctx, "acme", apikey.ListAny)
	fmt.Println("keys left:", len(keys))
	// Output:
	// refused as unknown: true
	// keys left: 0
}

// Keep the token away from handlers: they get the verified key from the
// context, never the header it came in.
func ExampleWithHideCredentials() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	auth, err := apikey.NewAuthenticator(m, apikey.WithHideCredentials())
	if err != nil {
		panic(err)
	}
	h := auth.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := apikey.FromContext(r.Context())
		fmt.Printf("tenant %s, Authorization header %q\n", k.Tenant, r.Header.Get("Authorization"))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+issued.Token.Reveal())
	h.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// tenant acme, Authorization header ""
}

// Roles name bundles of scopes; keys store the expanded scopes, and
// anti-escalation looks through them.
func ExampleWithRole() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper),
		apikey.WithScopeCatalog("jobs:read", "jobs:write", "runs:read"),
		apikey.WithRole("reader", "jobs:read", "runs:read"))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Scopes: []string{"reader"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("scopes:", issued.Key.Scopes)
	err = m.CanGrant([]string{"jobs:read"}, []string{"reader"})
	fmt.Println("a jobs:read key may grant reader:", err == nil)
	// Output:
	// scopes: [jobs:read runs:read]
	// a jobs:read key may grant reader: false
}

// Shorten a key's life, and give another a start time.
func ExampleUpdateParams_expiry() {
	ctx := context.Background()
	clock := apikey.NewManualClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper), apikey.WithClock(clock),
		apikey.WithMaxLifetime(365*24*time.Hour))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	end := clock.Now().Add(7 * 24 * time.Hour)
	k, err := m.Update(ctx, "acme", issued.Key.ID, apikey.UpdateParams{ExpiresAt: &end})
	if err != nil {
		panic(err)
	}
	fmt.Println("expires:", k.ExpiresAt.Format(time.DateOnly))

	later, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", NotBefore: clock.Now().Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	_, err = m.Verify(ctx, later.Token.Reveal())
	fmt.Println("too early:", errors.Is(err, apikey.ErrNotYetValid))
	clock.Advance(time.Hour)
	_, err = m.Verify(ctx, later.Token.Reveal())
	fmt.Println("an hour later:", err)
	// Output:
	// expires: 2026-01-08
	// too early: true
	// an hour later: <nil>
}

// Give keys an owner, and revoke them all when the owner leaves.
func ExampleManager_RevokeOwner() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		panic(err)
	}
	for _, owner := range []string{"usr_alice", "usr_alice", "usr_bob"} {
		if _, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Owner: owner}); err != nil {
			panic(err)
		}
	}
	keys, err := m.RevokeOwner(ctx, "acme", "usr_alice")
	if err != nil {
		panic(err)
	}
	fmt.Println("alice's keys revoked:", len(keys))
	active, _ := m.ListAll(ctx, "acme", apikey.ListActive)
	fmt.Println("active keys left:", len(active), active[0].Owner)
	// Output:
	// alice's keys revoked: 2
	// active keys left: 1 usr_bob
}

// Count requests per key and day: the tracker adds them to the store with
// the last-use records, in one write per flush.
func ExampleManager_UsageCounts() {
	ctx := context.Background()
	store := memstore.New()
	clock := apikey.NewManualClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	m, err := apikey.New(store, apikey.WithPepper("v1", examplePepper), apikey.WithClock(clock))
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	tracker, err := apikey.NewUsageTracker(store)
	if err != nil {
		panic(err)
	}
	for range 3 {
		tracker.Touch(issued.Key.ID, clock.Now(), "192.0.2.1", "") // what the middleware does
	}
	tracker.Count(issued.Key.ID, clock.Now(), "rate_limited", 1)
	if err := tracker.Flush(ctx); err != nil {
		panic(err)
	}
	counts, err := m.UsageCounts(ctx, "acme", issued.Key.ID, clock.Now(), clock.Now())
	if err != nil {
		panic(err)
	}
	for _, c := range counts {
		fmt.Println(c.Day.Format(time.DateOnly), c.Outcome, c.N)
	}
	// Output:
	// 2026-01-01 rate_limited 1
	// 2026-01-01 valid 3
}

// List the keys unused for 90 days, then revoke them.
func ExampleManager_RevokeUnused() {
	ctx := context.Background()
	clock := apikey.NewManualClock(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", examplePepper), apikey.WithClock(clock))
	if err != nil {
		panic(err)
	}
	if _, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "forgotten"}); err != nil {
		panic(err)
	}
	clock.Advance(100 * 24 * time.Hour)
	if _, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "new"}); err != nil {
		panic(err)
	}
	cutoff := m.Now().AddDate(0, 0, -90)
	dry, _ := m.UnusedKeys(ctx, cutoff)
	for _, k := range dry {
		fmt.Println("would revoke:", k.Name)
	}
	revoked, err := m.RevokeUnused(ctx, cutoff)
	if err != nil {
		panic(err)
	}
	fmt.Println("revoked:", len(revoked))
	// Output:
	// would revoke: forgotten
	// revoked: 1
}
