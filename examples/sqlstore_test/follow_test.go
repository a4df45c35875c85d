package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/sqlstore"
	"github.com/apikit/apikey/storetest/faultstore"
)

// Two-process set-up of the follower tests: a poll interval short enough
// for a test, a cache TTL no test waits for (so only the follower can make
// the reader see a change), and a deadline that is a correctness bound far
// below the TTL, not a timing measurement.
const (
	followPoll     = 50 * time.Millisecond
	followTTL      = time.Hour
	followDeadline = 5 * time.Second
)

var followPepper = []byte("follow-pepper-0123456789abcdef0123456789")

// storePair returns two stores on one database, as two processes would
// open them (one *sql.DB each), migrated; "memory" shares one memstore.
func storePair(t *testing.T, engine string) (a, b apikey.Store) {
	t.Helper()
	if engine == "memory" {
		s := memstore.New()
		return s, s
	}
	dbA, dbB, d := sqltest.OpenPair(t, sqltest.Engine(engine))
	sa, err := sqlstore.New(dbA, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	sb, err := sqlstore.New(dbB, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sa.Close(); _ = sb.Close() })
	return sa, sb
}

func cachedManager(t *testing.T, s apikey.Store) *apikey.Manager {
	t.Helper()
	m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", followPepper),
		apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFollowerAcrossPools: a key verified (and cached) by two managers on
// two pools of one database, changed through one, is refused by the other
// once its follower has polled, long before the cache TTL.
func TestFollowerAcrossPools(t *testing.T) {
	changes := []struct {
		name   string
		change func(ctx context.Context, m *apikey.Manager, k *apikey.Key) error
	}{
		{"revoke", func(ctx context.Context, m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Revoke(ctx, k.Tenant, k.ID)
			return err
		}},
		{"revoke_all", func(ctx context.Context, m *apikey.Manager, k *apikey.Key) error {
			_, err := m.RevokeAll(ctx, k.Tenant)
			return err
		}},
		{"rotate_grace_0", func(ctx context.Context, m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Rotate(ctx, k.Tenant, k.ID, 0)
			return err
		}},
	}
	engines := []string{"memory", string(sqltest.SQLiteFile), string(sqltest.Postgres), string(sqltest.MySQL)}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			for _, tc := range changes {
				t.Run(tc.name, func(t *testing.T) {
					ctx := context.Background()
					sa, sb := storePair(t, engine)
					a, b := cachedManager(t, sa), cachedManager(t, sb)
					f := mustFollower(t, b, follow.WithInterval(followPoll))
					if err := f.Start(ctx); err != nil {
						t.Fatalf("Start: %v", err)
					}
					defer f.Stop()

					is, err := a.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
					if err != nil {
						t.Fatalf("Create: %v", err)
					}
					tok := is.Token.Reveal()
					for _, m := range []*apikey.Manager{a, b} {
						if _, err := m.Verify(ctx, tok); err != nil {
							t.Fatalf("Verify before the change: %v", err)
						}
					}
					if b.CacheStats().Entries != 1 {
						t.Fatalf("the reader did not cache the key: %+v", b.CacheStats())
					}
					if err := tc.change(ctx, a, is.Key); err != nil {
						t.Fatalf("%s: %v", tc.name, err)
					}
					start := time.Now()
					for {
						_, err := b.Verify(ctx, tok)
						if errors.Is(err, apikey.ErrRevoked) {
							break
						}
						if err != nil {
							t.Fatalf("Verify on the reader: %v, want ErrRevoked", err)
						}
						if time.Since(start) > followDeadline {
							t.Fatalf("the reader still accepts the key %v after the %s", followDeadline, tc.name)
						}
						time.Sleep(2 * time.Millisecond)
					}
					t.Logf("%s seen by the other pool after %v (poll interval %v)", tc.name, time.Since(start).Round(time.Millisecond), followPoll)
					if st := f.Stats(); st.Failures != 0 || st.Changes == 0 {
						t.Fatalf("follower stats %+v", st)
					}
				})
			}
		})
	}
}

func TestWithNotifyValidation(t *testing.T) {
	db, _ := sqltest.Open(t, sqltest.SQLiteFile)
	for _, tc := range []struct {
		name    string
		dialect sqlstore.Dialect
		channel string
		ok      bool
	}{
		{"postgres", sqlstore.Postgres, "apikey_changes", true},
		{"sqlite", sqlstore.SQLite, "apikey_changes", false},
		{"mysql", sqlstore.MySQL, "apikey_changes", false},
		{"upper case", sqlstore.Postgres, "Apikey", false},
		{"injection", sqlstore.Postgres, "a'); DROP TABLE x; --", false},
		{"empty", sqlstore.Postgres, "", false},
	} {
		// New does no I/O, so the dialect need not match the pool.
		_, err := sqlstore.New(db, tc.dialect, sqlstore.WithNotify(tc.channel))
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, apikey.ErrInvalid)) {
			t.Errorf("%s: New: %v", tc.name, err)
		}
	}
}

// TestFollowerTrimmedFeedAcrossPools: when the entries a follower needs
// were purged, it empties its manager's cache and restarts from the
// newest entry.
func TestFollowerTrimmedFeedAcrossPools(t *testing.T) {
	for _, engine := range []string{"memory", string(sqltest.SQLiteFile), string(sqltest.Postgres), string(sqltest.MySQL)} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			sa, sb := storePair(t, engine)
			a, b := cachedManager(t, sa), cachedManager(t, sb)
			f := mustFollower(t, b)
			if err := f.Poll(ctx); err != nil {
				t.Fatalf("Poll: %v", err)
			}
			var toks []string
			for range 2 {
				is, err := a.Create(ctx, apikey.CreateParams{Tenant: "ws_1", Scopes: []string{"jobs:read"}})
				if err != nil {
					t.Fatal(err)
				}
				toks = append(toks, is.Token.Reveal())
				if _, err := b.Verify(ctx, is.Token.Reveal()); err != nil {
					t.Fatal(err)
				}
				scopes := []string{"jobs:write"}
				if _, err := a.Update(ctx, "ws_1", is.Key.ID, apikey.UpdateParams{Scopes: &scopes}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sa.Purge(ctx, a.Now().Add(time.Hour)); err != nil {
				t.Fatalf("Purge: %v", err)
			}
			if err := f.Poll(ctx); err != nil {
				t.Fatalf("Poll after the purge: %v", err)
			}
			if st := f.Stats(); st.Resets != 1 || b.CacheStats().Entries != 0 {
				t.Fatalf("after a trimmed feed: stats %+v, cache %+v; want one reset, empty cache", st, b.CacheStats())
			}
			for _, tok := range toks {
				if k, err := b.Verify(ctx, tok); err != nil || !k.HasScope("jobs:write") {
					t.Fatalf("Verify after the reset: %v %v", k, err)
				}
			}
		})
	}
}

// TestFollowerBrokenFeedAcrossPools: while the reader's feed reads fail or
// hang, its cache falls back to the TTL; once they work again the follower
// catches up on what it missed.
func TestFollowerBrokenFeedAcrossPools(t *testing.T) {
	faults := []struct {
		name  string
		apply func(fs *faultstore.Store)
	}{
		{"fail", func(fs *faultstore.Store) { fs.Fail(errors.New("connection reset"), faultstore.Changes) }},
		{"hang", func(fs *faultstore.Store) { fs.Hang(faultstore.Changes) }},
	}
	for _, engine := range []string{"memory", string(sqltest.SQLiteFile), string(sqltest.Postgres), string(sqltest.MySQL)} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			for _, fault := range faults {
				t.Run(fault.name, func(t *testing.T) {
					ctx := context.Background()
					sa, sb := storePair(t, engine)
					fs := faultstore.New(sb)
					clock := apikey.NewManualClock(time.Now())
					a := cachedManager(t, sa)
					b, err := apikey.New(fs, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", followPepper),
						apikey.WithClock(clock), apikey.WithCache(apikey.CacheOptions{TTL: followTTL}))
					if err != nil {
						t.Fatal(err)
					}
					// The timeout bounds the hung read; it is long enough that
					// a healthy poll on a loaded CI machine never hits it.
					f := mustFollower(t, b, follow.WithTimeout(time.Second))
					if err := f.Poll(ctx); err != nil {
						t.Fatalf("Poll: %v", err)
					}
					revoke := func() string {
						is, err := a.Create(ctx, apikey.CreateParams{Tenant: "ws_1"})
						if err != nil {
							t.Fatal(err)
						}
						if _, err := b.Verify(ctx, is.Token.Reveal()); err != nil {
							t.Fatalf("Verify before the revoke: %v", err)
						}
						if _, err := a.Revoke(ctx, "ws_1", is.Key.ID); err != nil {
							t.Fatal(err)
						}
						return is.Token.Reveal()
					}

					fault.apply(fs)
					tok1 := revoke()
					if err := f.Poll(ctx); !errors.Is(err, apikey.ErrStoreUnavailable) {
						t.Fatalf("Poll on a broken feed: %v", err)
					}
					if _, err := b.Verify(ctx, tok1); err != nil {
						t.Fatalf("cached key within the TTL: %v (want the stale record served)", err)
					}
					clock.Advance(followTTL)
					if _, err := b.Verify(ctx, tok1); !errors.Is(err, apikey.ErrRevoked) {
						t.Fatalf("after the TTL: %v, want ErrRevoked", err)
					}

					tok2 := revoke()
					fs.Clear()
					if err := f.Poll(ctx); err != nil {
						t.Fatalf("Poll after the fault cleared: %v", err)
					}
					if _, err := b.Verify(ctx, tok2); !errors.Is(err, apikey.ErrRevoked) {
						t.Fatalf("after catching up: %v, want ErrRevoked", err)
					}
					if st := f.Stats(); st.Failures != 1 || st.Changes != 2 || st.Failing {
						t.Fatalf("stats %+v, want 1 failure and 2 changes caught up", st)
					}
				})
			}
		})
	}
}

// mustFollower is follow.New for options that must be valid.
func mustFollower(t testing.TB, m *apikey.Manager, opts ...follow.Option) *follow.Follower {
	t.Helper()
	f, err := follow.New(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
