package faultstore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/storetest/faultstore"
)

// A manager on a store that breaks and recovers: while the store fails, a
// valid key is neither accepted nor called invalid.
func Example() {
	ctx := context.Background()
	fs := faultstore.New(memstore.New())
	m, err := apikey.New(fs, apikey.WithPepper("v1", []byte("an example pepper of at least 32 bytes")))
	if err != nil {
		panic(err)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		panic(err)
	}
	tok := is.Token.Reveal()

	fs.Fail(errors.New("connection refused"))
	_, err = m.Verify(ctx, tok)
	fmt.Println("store down:", errors.Is(err, apikey.ErrStoreUnavailable))

	fs.Corrupt(faultstore.WrongHash, faultstore.GetByLookup)
	_, err = m.Verify(ctx, tok)
	fmt.Println("damaged record:", errors.Is(err, apikey.ErrNotFound))

	fs.Clear()
	_, err = m.Verify(ctx, tok)
	fmt.Println("recovered:", err == nil, "lookups:", fs.Calls(faultstore.GetByLookup))
	// Output:
	// store down: true
	// damaged record: true
	// recovered: true lookups: 3
}
