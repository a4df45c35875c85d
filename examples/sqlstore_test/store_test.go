package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
)

// Every field survives a write and a read, on both read paths.
func TestRoundTrip(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		k := newKey(t, "acme")
		k.LastUsedAt, k.LastUsedIP, k.LastUsedClient = base.Add(time.Second), "10.0.0.1", "zapier"
		k.RotationInterval = 30*24*time.Hour + time.Nanosecond
		k.NextRotationAt = base.Add(time.Hour)
		k.RotationWebhookURL = "https://example.com/hook"
		k.WebhookSecret = []byte{0, 1, 2, 255}
		k.Metadata = map[string]string{"team": "ops", "ü": "ß"}
		k.Name = "naïve ✓ key"
		mustCreate(t, s, k)
		for name, get := range map[string]func() (*apikey.Key, error){
			"Get":         func() (*apikey.Key, error) { return s.Get(ctx, k.ID) },
			"GetByLookup": func() (*apikey.Key, error) { return s.GetByLookup(ctx, k.Lookup) },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !reflect.DeepEqual(got, k) {
				t.Errorf("%s:\n got %#v\nwant %#v", name, *got, *k)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("%s: CreatedAt in %v, want UTC", name, got.CreatedAt.Location())
			}
		}
	})
}

// Missing keys and duplicates map to the sentinels.
func TestSentinels(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		k := newKey(t, "acme")
		mustCreate(t, s, k)
		dupID := newKey(t, "acme")
		dupID.ID = k.ID
		dupLookup := newKey(t, "other")
		dupLookup.Lookup = k.Lookup
		lower := newKey(t, "acme")
		lower.Lookup = k.Lookup + "x"
		_, errGet := s.Get(ctx, newID(t))
		_, errLookup := s.GetByLookup(ctx, "nope")
		_, errOddLookup := s.GetByLookup(ctx, "a\x00\xff")
		_, errOddID := s.Get(ctx, "\xc3\x28")
		_, errRevoke := s.Revoke(ctx, newID(t), base)
		_, errUpdate := s.Update(ctx, newID(t), apikey.Update{At: base})
		for _, c := range []struct {
			name string
			err  error
			want error
		}{
			{"duplicate ID", s.Create(ctx, dupID), apikey.ErrAlreadyExists},
			{"duplicate lookup", s.Create(ctx, dupLookup), apikey.ErrAlreadyExists},
			{"Get missing", errGet, apikey.ErrNotFound},
			{"GetByLookup missing", errLookup, apikey.ErrNotFound},
			{"GetByLookup of NUL and invalid UTF-8", errOddLookup, apikey.ErrNotFound},
			{"Get of invalid UTF-8", errOddID, apikey.ErrNotFound},
			{"Revoke missing", errRevoke, apikey.ErrNotFound},
			{"Update missing", errUpdate, apikey.ErrNotFound},
			{"UpgradeHash missing", s.UpgradeHash(ctx, newID(t), "v1", "v2", []byte("h"), base), apikey.ErrNotFound},
		} {
			if !errors.Is(c.err, c.want) {
				t.Errorf("%s: err = %v, want %v", c.name, c.err, c.want)
			}
		}
		if _, err := s.GetByLookup(ctx, upper(k.Lookup)); !errors.Is(err, apikey.ErrNotFound) && upper(k.Lookup) != k.Lookup {
			t.Errorf("GetByLookup is not case-sensitive: err = %v", err)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

// Keyset pagination visits every key once, newest first, with filters.
func TestListPages(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		var ids []string
		for i := range 25 {
			k := newKey(t, "acme")
			if i%5 == 0 {
				k.RevokedAt = base
			}
			mustCreate(t, s, k)
			ids = append(ids, k.ID)
		}
		mustCreate(t, s, newKey(t, "globex"))
		for _, c := range []struct {
			filter apikey.ListFilter
			want   int
		}{{apikey.ListAny, 25}, {apikey.ListActive, 20}, {apikey.ListRevoked, 5}} {
			var got []string
			opts := apikey.ListOptions{Filter: c.filter, Limit: 7, At: base.Add(time.Minute)}
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				p, err := s.List(ctx, "acme", opts)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range p.Keys {
					got = append(got, k.ID)
				}
				if p.Next == "" {
					break
				}
				opts.After = p.Next
			}
			if len(got) != c.want {
				t.Errorf("filter %d: %d keys, want %d", c.filter, len(got), c.want)
			}
			for i := 1; i < len(got); i++ {
				if got[i] >= got[i-1] {
					t.Fatalf("filter %d: not newest first at %d", c.filter, i)
				}
			}
		}
	})
}

// Of many concurrent rotations of one key, exactly one wins; the others
// get ErrConflict, and no losing successor is stored.
func TestRotateRace(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		old := newKey(t, "acme")
		mustCreate(t, s, old)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		succs := make([]*apikey.Key, n)
		for i := range n {
			succs[i] = newKey(t, "acme")
			wg.Go(func() {
				_, errs[i] = s.Rotate(ctx, apikey.Rotation{OldID: old.ID, SuccessorID: succs[i].ID,
					Successor: succs[i], GraceExpiresAt: base.Add(time.Hour), At: base})
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("rotations %d and %d both won", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, apikey.ErrConflict):
				t.Errorf("rotation %d: %v, want ErrConflict", i, err)
			}
		}
		if won < 0 {
			t.Fatal("no rotation won")
		}
		got, err := s.Get(ctx, old.ID)
		if err != nil || got.ReplacedBy != succs[won].ID || !got.GraceExpiresAt.Equal(base.Add(time.Hour)) {
			t.Fatalf("old key after rotation = %v, %v", got, err)
		}
		for i, k := range succs {
			_, err := s.Get(ctx, k.ID)
			if (i == won) != (err == nil) {
				t.Errorf("successor %d (won=%v): Get err = %v", i, i == won, err)
			}
		}
		changes, err := s.Changes(ctx, 0, 0)
		if err != nil || len(changes) != 1 || changes[0].Kind != apikey.ChangeRotated || changes[0].Lookup != old.Lookup {
			t.Errorf("changes after rotation = %+v, %v", changes, err)
		}
	})
}

// A rotation whose successor duplicates an existing key changes nothing.
func TestRotateDuplicateSuccessor(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		old, other := newKey(t, "acme"), newKey(t, "acme")
		mustCreate(t, s, old)
		mustCreate(t, s, other)
		succ := newKey(t, "acme")
		succ.Lookup = other.Lookup
		_, err := s.Rotate(ctx, apikey.Rotation{OldID: old.ID, SuccessorID: succ.ID, Successor: succ, At: base})
		if !errors.Is(err, apikey.ErrAlreadyExists) {
			t.Fatalf("Rotate: %v, want ErrAlreadyExists", err)
		}
		if got, err := s.Get(ctx, old.ID); err != nil || got.ReplacedBy != "" {
			t.Fatalf("old key changed: %v, %v", got, err)
		}
		if last, err := s.LastChange(ctx); err != nil || last != 0 {
			t.Fatalf("LastChange = %d, %v; want 0", last, err)
		}
	})
}

// RevokeAll revokes at one timestamp, keeps earlier revocations, and feeds
// exactly the keys it revoked.
func TestRevokeAll(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		early := newKey(t, "acme")
		early.RevokedAt = base
		mustCreate(t, s, early)
		for range 3 {
			mustCreate(t, s, newKey(t, "acme"))
		}
		mustCreate(t, s, newKey(t, "globex"))
		at := base.Add(time.Hour)
		keys, revoked, err := s.RevokeAll(ctx, "acme", at)
		if err != nil || len(keys) != 4 || len(revoked) != 3 {
			t.Fatalf("RevokeAll = %d keys, %d revoked, %v", len(keys), len(revoked), err)
		}
		for _, k := range keys {
			want := at
			if k.ID == early.ID {
				want = base
			}
			if !k.RevokedAt.Equal(want) {
				t.Errorf("key %s revoked at %v, want %v", k.ID, k.RevokedAt, want)
			}
		}
		changes, err := s.Changes(ctx, 0, 100)
		if err != nil || len(changes) != 3 {
			t.Fatalf("Changes = %d, %v; want 3", len(changes), err)
		}
		p, err := s.List(ctx, "globex", apikey.ListOptions{Filter: apikey.ListRevoked})
		if err != nil || len(p.Keys) != 0 {
			t.Fatalf("other tenant revoked: %d, %v", len(p.Keys), err)
		}
	})
}

// RecordUsage moves last-used forward only and ignores missing keys.
func TestRecordUsage(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		k := newKey(t, "acme")
		mustCreate(t, s, k)
		t2, t1 := base.Add(2*time.Minute), base.Add(time.Minute)
		err := s.RecordUsage(ctx, []apikey.Usage{
			{KeyID: k.ID, At: t2, IP: "10.0.0.2", Client: "b"},
			{KeyID: k.ID, At: t1, IP: "10.0.0.1", Client: "a"},
			{KeyID: newID(t), At: t2},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecordUsage(ctx, []apikey.Usage{{KeyID: k.ID, At: t2, IP: "10.0.0.3"}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, k.ID)
		if err != nil || !got.LastUsedAt.Equal(t2) || got.LastUsedIP != "10.0.0.2" || got.LastUsedClient != "b" {
			t.Fatalf("after usage: %v %q %q, %v", got.LastUsedAt, got.LastUsedIP, got.LastUsedClient, err)
		}
	})
}

// Of concurrent claims of one due key, exactly one wins.
func TestClaimRotation(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		k := newKey(t, "acme")
		k.NextRotationAt = base
		mustCreate(t, s, k)
		due, err := s.DueForRotation(ctx, base, 10)
		if err != nil || len(due) != 1 || due[0].ID != k.ID {
			t.Fatalf("DueForRotation = %v, %v", due, err)
		}
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				ok, err := s.ClaimRotation(ctx, k.ID, base, base.Add(time.Hour))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims won, want 1", wins)
		}
		if due, err := s.DueForRotation(ctx, base, 10); err != nil || len(due) != 0 {
			t.Fatalf("still due after claim: %v, %v", due, err)
		}
		if ok, err := s.ClaimRotation(ctx, newID(t), base, base); ok || err != nil {
			t.Fatalf("claim of a missing key = %v, %v", ok, err)
		}
	})
}

// Purge deletes dead keys and old feed entries, and the feed then reports
// readers that fell behind.
func TestPurgeAndChanges(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		live, dead := newKey(t, "acme"), newKey(t, "acme")
		mustCreate(t, s, live)
		mustCreate(t, s, dead)
		if _, err := s.Revoke(ctx, dead.ID, base); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Revoke(ctx, dead.ID, base.Add(time.Hour)); err != nil { // no-op
			t.Fatal(err)
		}
		name := "renamed"
		if _, err := s.Update(ctx, live.ID, apikey.Update{At: base.Add(2 * time.Hour), Name: &name}); err != nil {
			t.Fatal(err)
		}
		if last, err := s.LastChange(ctx); err != nil || last < 2 {
			t.Fatalf("LastChange = %d, %v", last, err)
		}
		n, err := s.Purge(ctx, base.Add(time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("Purge = %d, %v; want 1", n, err)
		}
		if _, err := s.Get(ctx, dead.ID); !errors.Is(err, apikey.ErrNotFound) {
			t.Errorf("purged key: %v", err)
		}
		if _, err := s.Changes(ctx, 0, 10); !errors.Is(err, apikey.ErrChangesTrimmed) {
			t.Errorf("Changes(0) after purge: %v, want ErrChangesTrimmed", err)
		}
		last, err := s.LastChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := s.Changes(ctx, last-1, 10)
		if err != nil || len(ch) != 1 || ch[0].KeyID != live.ID || ch[0].Kind != apikey.ChangeUpdated {
			t.Fatalf("Changes(last-1) = %+v, %v", ch, err)
		}
		if got, _ := s.Get(ctx, live.ID); got.Name != name {
			t.Errorf("Name = %q after Update", got.Name)
		}
	})
}

// Migrate is idempotent and safe when several migrations race on one
// database; a table prefix keeps two stores apart.
func TestMigrateConcurrent(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			db, d := sqltest.Open(t, e)
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Go(func() {
					s, err := sqlstore.New(db, d, sqlstore.WithTable("race"))
					if err == nil {
						err = s.Migrate(context.Background())
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Migrate %d: %v", i, err)
				}
			}
			a, _ := sqlstore.New(db, d, sqlstore.WithTable("race"))
			b, _ := sqlstore.New(db, d)
			for _, s := range []*sqlstore.Store{a, b, a} {
				if err := s.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			k := newKey(t, "acme")
			mustCreate(t, a, k)
			if _, err := b.Get(context.Background(), k.ID); !errors.Is(err, apikey.ErrNotFound) {
				t.Errorf("store without prefix sees the prefixed store's key: %v", err)
			}
		})
	}
}

// A closed database surfaces as an error that is not a sentinel, which the
// Manager reports as ErrStoreUnavailable.
func TestClosedDB(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			s := sqltest.NewStore(t, e)
			m, err := apikey.New(s, apikey.WithPrefix("pgk"), apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "acme", Scopes: []string{"jobs:read"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Verify(context.Background(), is.Token.Reveal()); err != nil {
				t.Fatalf("Verify before close: %v", err)
			}
			_ = s.Close()
			_ = s.DB().Close()
			_, err = m.Verify(context.Background(), is.Token.Reveal())
			if !errors.Is(err, apikey.ErrStoreUnavailable) {
				t.Fatalf("Verify on a closed DB: %v, want ErrStoreUnavailable", err)
			}
		})
	}
}
