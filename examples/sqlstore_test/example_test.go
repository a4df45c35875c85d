package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	_ "modernc.org/sqlite"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/sqlstore"
)

// A store on SQLite: open the database with your driver, name the dialect,
// migrate, and hand the store to apikey.New.
func Example() {
	ctx := context.Background()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // every ":memory:" connection is its own database

	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	m, err := apikey.New(store, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		log.Fatal(err)
	}
	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Scopes: []string{"jobs:read"}})
	if err != nil {
		log.Fatal(err)
	}
	key, err := m.Verify(ctx, issued.Token.Reveal())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(key.Tenant, key.Scopes, key.ID == issued.Key.ID)
	// Output: ws_1 [jobs:read] true
}
