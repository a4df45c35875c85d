package sqlstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
)

// A store on a database that was never migrated says so: every operation
// fails with an error wrapping sqlstore.ErrNoSchema, whose text names
// Migrate, through the Manager too (as ErrStoreUnavailable); after Migrate
// the same store works.
func TestMissingTableSaysMigrate(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db, d := sqltest.Open(t, e)
			s, err := sqlstore.New(db, d)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")), apikey.WithLogger(nil))
			if err != nil {
				t.Fatal(err)
			}
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, sqlstore.ErrNoSchema) || !strings.Contains(err.Error(), "run sqlstore.Migrate") {
					t.Errorf("%s before Migrate: %v, want ErrNoSchema naming Migrate", op, err)
				}
			}
			_, err = m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
			check("Create", err)
			if !errors.Is(err, apikey.ErrStoreUnavailable) {
				t.Errorf("Create: %v is not ErrStoreUnavailable", err)
			}
			_, err = m.Verify(ctx, "pgk_live_"+strings.Repeat("0", 60)+"1Hl5NV")
			check("Verify", err)
			_, err = s.Get(ctx, newID(t))
			check("Get", err)
			_, err = s.List(ctx, "acme", apikey.ListOptions{})
			check("List", err)
			_, _, err = s.RevokeAll(ctx, "acme", base)
			check("RevokeAll", err)
			_, err = s.LastChange(ctx)
			check("LastChange", err)

			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"}); err != nil {
				t.Fatalf("Create after Migrate: %v", err)
			}
		})
	}
}
