package sqlstore_test

import (
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/storetest"
)

// TestConformance runs the storetest suite on every engine, each subtest on
// a fresh database (SQLite) or schema/database (PostgreSQL, MySQL).
func TestConformance(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			sqltest.Open(t, e) // skips the engine early when unconfigured
			storetest.Run(t, func(t *testing.T) apikey.Store { return sqltest.NewStore(t, e) })
		})
	}
}
