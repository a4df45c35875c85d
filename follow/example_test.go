package follow_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/memstore"
)

// Two processes on one store, each with its cache: a key revoked through
// one is refused by the other once the other's follower has read the
// change feed. Start runs Poll every interval in the background; here the
// example calls Poll itself so that its output is deterministic.
func ExampleNew() {
	ctx := context.Background()
	store := memstore.New() // in production: one database, one sqlstore per process
	newManager := func() *apikey.Manager {
		m, err := apikey.New(store, apikey.WithPrefix("pgk"),
			apikey.WithPepper("v1", []byte("example-pepper-0123456789abcdef0123")),
			apikey.WithCache(apikey.CacheOptions{TTL: time.Minute}))
		if err != nil {
			panic(err)
		}
		return m
	}
	a, b := newManager(), newManager()
	follower, err := follow.New(b, follow.WithInterval(250*time.Millisecond))
	if err != nil {
		panic(err)
	}
	if err := follower.Poll(ctx); err != nil { // takes its position in the feed
		panic(err)
	}

	issued, err := a.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
	if err != nil {
		panic(err)
	}
	token := issued.Token.Reveal()
	_, err = b.Verify(ctx, token) // cached by b
	fmt.Println("b before the revoke:", err)

	if _, err := a.Revoke(ctx, "ws_1", issued.Key.ID); err != nil {
		panic(err)
	}
	_, err = b.Verify(ctx, token) // b's cache does not know yet
	fmt.Println("b right after:", err)

	if err := follower.Poll(ctx); err != nil { // what the next tick does
		panic(err)
	}
	_, err = b.Verify(ctx, token)
	fmt.Println("b after one poll, revoked:", errors.Is(err, apikey.ErrRevoked))
	fmt.Println("changes applied:", follower.Stats().Changes)
	// Output:
	// b before the revoke: <nil>
	// b right after: <nil>
	// b after one poll, revoked: true
	// changes applied: 1
}
