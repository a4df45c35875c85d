package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/internal/benchkit"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/sqlstore"
)

// scaleSample is how many distinct keys the scale benchmarks verify,
// round-robin: the same working set at every store size (as in the root
// package's BenchmarkVerifyKeys).
const scaleSample = 1024

// sqliteScaleSizes are the store sizes; 1e6 is skipped under -short.
var sqliteScaleSizes = []struct {
	name string
	n    int
}{{"1e3", 1_000}, {"1e5", 100_000}, {"1e6", 1_000_000}}

// scaleStore is an SQLite file store holding n keys and the tokens of
// scaleSample of them.
type scaleStore struct {
	store  *sqlstore.Store
	tokens []string
}

// manager returns a manager over the store, with the verification cache
// (filled with the sampled keys) or without.
func (s *scaleStore) manager(b *testing.B, cache bool) *apikey.Manager {
	b.Helper()
	opts := []apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", benchPepper)}
	if cache {
		opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
	}
	m, err := apikey.New(s.store, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if cache {
		// Fill the cache, so the measured verifies are hits.
		for _, tok := range s.tokens {
			if _, err := m.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
		}
	}
	return m
}

// newScaleStore builds an SQLite file database (removed when b ends) with n
// keys over tenants of 1,000 keys. scaleSample of them, evenly spread
// through the insert order, are real keys minted by a Manager (on a
// memstore, with the same pepper, then copied); the others have a random
// lookup value and hash. Every row goes in through one prepared INSERT in
// one transaction, in the sqlstore schema's columns: 1e6 rows load in
// seconds (see bulkInsert), where a Store.Create per row would take
// minutes.
func newScaleStore(b *testing.B, n int) *scaleStore {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	db, d := sqltest.Open(b, sqltest.SQLiteFile)
	s, err := sqlstore.New(db, d)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	minter, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", benchPepper))
	if err != nil {
		b.Fatal(err)
	}
	sample := min(scaleSample, n)
	stride := n / sample
	tokens := make([]string, 0, sample)
	entropy := ulid.Monotonic(rand.Reader, 0) // increasing IDs: appends to the primary key
	rows := func(yield func(*apikey.Key) bool) {
		for i := range n {
			tenant := "t" + strconv.Itoa(i/benchkit.KeysPerTenant)
			var k *apikey.Key
			if i%stride == 0 && len(tokens) < sample {
				is, err := minter.Create(ctx, apikey.CreateParams{Tenant: tenant, Scopes: []string{"jobs:read"}})
				if err != nil {
					b.Fatal(err)
				}
				tokens = append(tokens, is.Token.Reveal())
				k = is.Key
			} else {
				k = fillerKey(minter, tenant, entropy)
			}
			if !yield(k) {
				return
			}
		}
	}
	if err := bulkInsert(ctx, db, s, rows); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	b.Logf("loaded %d keys into SQLite in %v", n, time.Since(start).Round(time.Millisecond))
	return &scaleStore{store: s, tokens: tokens}
}

// fillerKey returns a record shaped like one Create makes, for a token
// nobody holds.
func fillerKey(m *apikey.Manager, tenant string, entropy io.Reader) *apikey.Key {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var raw [17 + 32]byte
	_, _ = rand.Read(raw[:])
	lookup := make([]byte, 17)
	for i := range lookup {
		lookup[i] = alphabet[raw[i]%62]
	}
	now := m.Now()
	env := m.Environments()[0]
	return &apikey.Key{
		ID:          ulid.MustNew(ulid.Timestamp(now), entropy).String(),
		Tenant:      tenant,
		Environment: env,
		Prefix:      m.Prefix() + "_" + env + "_" + string(lookup[:4]),
		Lookup:      string(lookup),
		HashVersion: m.HashVersion(),
		Hash:        raw[17:],
		Scopes:      []string{"jobs:read"},
		CreatedAt:   now,
	}
}

// scaleInsert writes a key in the columns of sqlstore/schema/sqlite.sql.
// The benchmark keys have no expiry, use, revocation, rotation or
// metadata, so those columns take their empty values; times are integer
// microseconds.
const scaleInsert = `INSERT INTO apikey_keys (id, tenant, environment, name, prefix, lookup, hash_version,
	hash, scopes, created_by, created_at, expires_at, last_used_at, last_used_ip, last_used_client,
	revoked_at, replaced_by, grace_expires_at, rotation_interval, next_rotation_at,
	rotation_webhook_url, webhook_secret, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, '["jobs:read"]', '', ?, NULL, NULL, '', '', NULL, '', NULL, 0, NULL, '', NULL, '{}')`

// scaleIndexes are the secondary indexes of apikey_keys, dropped during
// the bulk load and rebuilt after it by Migrate (its CREATE INDEX IF NOT
// EXISTS statements): building an index once from sorted rows is far
// cheaper than a million random inserts into it.
var scaleIndexes = []string{"apikey_keys_lookup", "apikey_keys_tenant_id", "apikey_keys_next_rotation"}

// bulkInsert inserts every key of rows in one transaction with one
// prepared statement, without the secondary indexes, then rebuilds them
// with s.Migrate. It refuses keys the fixed columns of scaleInsert cannot
// represent.
func bulkInsert(ctx context.Context, db *sql.DB, s *sqlstore.Store, rows func(func(*apikey.Key) bool)) error {
	for _, ix := range scaleIndexes {
		if _, err := db.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix); err != nil {
			return err
		}
	}
	if err := insertAll(ctx, db, rows); err != nil {
		return err
	}
	return s.Migrate(ctx)
}

// insertAll is the transaction of bulkInsert.
func insertAll(ctx context.Context, db *sql.DB, rows func(func(*apikey.Key) bool)) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	st, err := tx.PrepareContext(ctx, scaleInsert)
	if err != nil {
		return err
	}
	defer st.Close()
	for k := range rows {
		if len(k.Scopes) != 1 || k.Scopes[0] != "jobs:read" || k.CreatedBy != "" || !k.ExpiresAt.IsZero() || len(k.Metadata) > 0 {
			return fmt.Errorf("bulkInsert: key %s has fields the fixed columns do not hold", k.ID)
		}
		if _, err := st.ExecContext(ctx, k.ID, k.Tenant, k.Environment, k.Name, k.Prefix, k.Lookup,
			k.HashVersion, k.Hash, k.CreatedAt.UTC().UnixMicro()); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// BenchmarkVerifyKeysSQLite verifies 1,024 keys round-robin on an SQLite
// file holding 1e3, 1e5 and 1e6 keys (1e6 skipped under -short):
//
//   - nocache: every verify is one read on the unique lookup index;
//   - cache: the verification cache on, so verifies are hits;
//   - vs1e3, vs1e3+cache: interleaved with the same verify on the 1e3-key
//     store (benchkit.Interleave), reporting the ratio of the undisturbed
//     chunks ("best-ratio"; target: under 1.5).
func BenchmarkVerifyKeysSQLite(b *testing.B) {
	ref := newScaleStore(b, 1_000)
	for _, sz := range sqliteScaleSizes {
		b.Run(sz.name, func(b *testing.B) {
			if sz.n >= 1_000_000 && testing.Short() {
				b.Skip("1e6 keys skipped under -short")
			}
			f := ref
			if sz.n != 1_000 {
				f = newScaleStore(b, sz.n)
			}
			for _, cache := range []bool{false, true} {
				name := "nocache"
				if cache {
					name = "cache"
				}
				b.Run(name, func(b *testing.B) { benchkit.Verify(b, f.manager(b, cache), f.tokens) })
			}
			if f == ref {
				return
			}
			for _, cache := range []bool{false, true} {
				name := "vs1e3"
				if cache {
					name += "+cache"
				}
				b.Run(name, func(b *testing.B) {
					ctx := context.Background()
					small, big := ref.manager(b, cache), f.manager(b, cache)
					i, j := 0, 0
					b.ReportAllocs()
					b.ResetTimer()
					benchkit.Interleave(b, "1e3", func() {
						if _, err := small.Verify(ctx, ref.tokens[i]); err != nil {
							b.Fatal(err)
						}
						i = (i + 1) % len(ref.tokens)
					}, sz.name, func() {
						if _, err := big.Verify(ctx, f.tokens[j]); err != nil {
							b.Fatal(err)
						}
						j = (j + 1) % len(f.tokens)
					})
				})
			}
		})
	}
}
