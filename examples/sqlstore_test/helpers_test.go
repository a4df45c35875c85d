package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
	"github.com/oklog/ulid/v2"
)

// eachEngine runs f as a parallel subtest per engine, each on its own
// migrated store.
func eachEngine(t *testing.T, f func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			f(t, sqltest.NewStore(t, e))
		})
	}
}

// base is the fixed instant the tests start from: microsecond precision,
// not in UTC, to check stores convert.
var base = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.FixedZone("X", 3600)).UTC()

func newID(t testing.TB) string {
	t.Helper()
	return ulid.Make().String()
}

func randText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// newKey returns a key of tenant with every field set.
func newKey(t testing.TB, tenant string) *apikey.Key {
	lookup := randText(17)
	return &apikey.Key{
		ID: newID(t), Tenant: tenant, Environment: "live", Name: "ci key", Prefix: "pgk_live_" + lookup[:4],
		Lookup: lookup, HashVersion: "v1", Hash: []byte(randText(32)), Scopes: []string{"jobs:read", "jobs:write"},
		CreatedBy: "user_1", CreatedAt: base, ExpiresAt: base.Add(90 * 24 * time.Hour),
	}
}

func mustCreate(t testing.TB, s apikey.Store, k *apikey.Key) {
	t.Helper()
	if err := s.Create(context.Background(), k.Clone()); err != nil {
		t.Fatalf("Create(%s): %v", k.ID, err)
	}
}
