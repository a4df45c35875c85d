package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// A manager with the verification cache on, wired to an in-process "bus":
// every invalidation this manager causes is handed to the publisher, which
// a real deployment would send to its other processes' Manager.Invalidate.
func ExampleWithCache() {
	ctx := context.Background()
	bus := make(chan []string, 16)
	m, err := apikey.New(memstore.New(),
		apikey.WithPrefix("pgk"),
		apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
		apikey.WithCache(apikey.CacheOptions{TTL: 30 * time.Second}),
		apikey.WithInvalidationPublisher(func(_ context.Context, lookups []string) { bus <- lookups }),
	)
	if err != nil {
		panic(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Scopes: []string{"jobs:read"}})
	if err != nil {
		panic(err)
	}
	token := issued.Token.Reveal()

	_, err = m.Verify(ctx, token) // a store read; fills the cache
	fmt.Println("first verify:", err)
	_, err = m.Verify(ctx, token) // a hit
	fmt.Println("second verify:", err, m.CacheStats().Entries, "cached")

	if _, err := m.Revoke(ctx, "ws_1", issued.Key.ID); err != nil {
		panic(err)
	}
	_, err = m.Verify(ctx, token) // refused at once in this process
	fmt.Println("after revoke:", errors.Is(err, apikey.ErrRevoked))
	fmt.Println("published:", len(<-bus), "lookup")
	// Output:
	// first verify: <nil>
	// second verify: <nil> 1 cached
	// after revoke: true
	// published: 1 lookup
}
