package main

import (
	"fmt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
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

// storeKinds lists the -db values openStore understands, for messages.
const storeKinds = `"memory"`

// openStore opens the store named by spec. Each kind of store is one case
// of the switch: a SQL store is a case that opens its *sql.DB, wraps it in
// the store, migrates the schema and returns persistent: true.
func openStore(spec string) (*openedStore, error) {
	switch spec {
	case "memory":
		return &openedStore{Store: memstore.New()}, nil
	}
	return nil, fmt.Errorf("unsupported -db %q (supported: %s)", spec, storeKinds)
}
