package main

import (
	"context"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// openedStore is the store named by -db and what the command needs to know
// about it.
type openedStore struct {
	apikey.Store
	// persistent reports whether keys outlive the process; a persistent
	// store needs a stable pepper, or the re-hashed keys stop verifying.
	persistent bool
	// close releases the store (a database handle); nil for none.
	close func() error
}

// openStore opens the store named by spec, as the example servers' -db flag
// does ("memory", "sqlite:PATH", "postgres://...", "mysql:DSN"), with the
// schema migrated.
func openStore(spec string) (*openedStore, error) {
	b, err := kit.OpenStore(context.Background(), spec)
	if err != nil {
		return nil, err
	}
	return &openedStore{
		Store:      b.Store,
		persistent: b.Kind != "memory",
		close:      func() error { return b.Close(context.Background()) },
	}, nil
}
