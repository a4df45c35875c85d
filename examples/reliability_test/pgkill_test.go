package reliability_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
)

// TestPostgresKilledConnections terminates every connection of the store's
// pool (pg_terminate_backend) repeatedly while verifies run, and checks that
// no verify is wrong because of it: the valid key either verifies or gets
// ErrStoreUnavailable (503), never ErrNotFound (401); the revoked key never
// verifies; and once the killing stops, the valid key verifies again
// without a restart.
func TestPostgresKilledConnections(t *testing.T) {
	db, d := sqltest.Open(t, sqltest.Postgres)
	db.SetMaxOpenConns(4)
	store, err := sqlstore.New(db, d)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	adm, err := sql.Open("pgx", os.Getenv(sqltest.PostgresDSNEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()

	m, err := apikey.New(store, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", pepper))
	if err != nil {
		t.Fatal(err)
	}
	valid, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
		t.Fatal(err)
	}

	var ok, unavailable, refused, stale, wrong atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			tok, live := valid.Token.Reveal(), true
			if g == 0 {
				tok, live = revoked.Token.Reveal(), false
			}
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, err := m.Verify(ctx, tok)
				switch {
				case err == nil && !live:
					stale.Add(1)
				case err == nil:
					ok.Add(1)
				case errors.Is(err, apikey.ErrStoreUnavailable):
					unavailable.Add(1)
				case !live && errors.Is(err, apikey.ErrRevoked):
					refused.Add(1)
				default:
					wrong.Add(1)
					t.Errorf("Verify while connections die: %v", err)
				}
			}
		})
	}
	killed := 0
	for range 20 {
		killed += killBackends(t, ctx, db, adm)
	}
	close(stop)
	wg.Wait()

	if stale.Load() != 0 || wrong.Load() != 0 {
		t.Fatalf("%d stale accepts, %d wrong answers", stale.Load(), wrong.Load())
	}
	// Recovery: the pool replaces the dead connections by itself.
	var err2 error
	for range 5 {
		if _, err2 = m.Verify(ctx, valid.Token.Reveal()); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatalf("no recovery after the connections were killed: %v", err2)
	}
	t.Logf("%d backends terminated in 20 rounds: %d verified, %d store-unavailable (503), %d revoked refused, 0 stale accepts",
		killed, ok.Load(), unavailable.Load(), refused.Load())
}

// killBackends terminates the server processes behind db's pool, and only
// those (other tests share the server): it takes up to four connections of
// the pool at once, asks each for its backend's pid, puts them back and has
// adm terminate them. It returns how many it terminated.
func killBackends(t *testing.T, ctx context.Context, db, adm *sql.DB) int {
	t.Helper()
	var pids []int64
	var conns []*sql.Conn
	for range 4 {
		c, err := db.Conn(ctx)
		if err != nil {
			break
		}
		conns = append(conns, c)
		var pid int64
		if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err == nil {
			pids = append(pids, pid)
		}
	}
	for _, c := range conns {
		_ = c.Close() // back to the pool, where its backend is about to die
	}
	n := 0
	for _, pid := range pids {
		var done bool
		if err := adm.QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&done); err != nil {
			t.Fatalf("pg_terminate_backend: %v", err)
		}
		if done {
			n++
		}
	}
	return n
}
