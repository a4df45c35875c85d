package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
)

// v1Insert writes a key with the version-1 columns only, as a deployment of
// the first release did.
const v1Insert = `INSERT INTO apikey_keys (id, tenant, environment, name, prefix, lookup, hash_version, hash, scopes,
	created_by, created_at, expires_at, last_used_at, last_used_ip, last_used_client, revoked_at, replaced_by,
	grace_expires_at, rotation_interval, next_rotation_at, rotation_webhook_url, webhook_secret, metadata)
	VALUES (%s)`

// TestMigrateUpgradesVersion1 creates a database with the version-1 schema
// (the base file as the first release shipped it), fills it with keys,
// runs Migrate, and checks that every key is intact, has no controls, and
// that the controls work on it; a second Migrate changes nothing.
func TestMigrateUpgradesVersion1(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			db, d := sqltest.Open(t, e)
			ctx := context.Background()
			baseSQL, err := os.ReadFile(filepath.Join("..", "..", "sqlstore", "schema", d.String()+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range strings.Split(string(baseSQL), ";\n") {
				if strings.TrimSpace(stripComments(st)) == "" {
					continue
				}
				if _, err := db.ExecContext(ctx, st); err != nil {
					t.Fatalf("version-1 schema: %v\n%s", err, st)
				}
			}
			ph := make([]string, 23)
			for i := range ph {
				ph[i] = "?"
				if d == sqlstore.Postgres {
					ph[i] = "$" + string(rune('0'+(i+1)/10)) + string(rune('0'+(i+1)%10))
				}
			}
			insert := strings.Replace(v1Insert, "%s", strings.Join(ph, ", "), 1)
			var keys []*apikey.Key
			for i := range 25 {
				k := newKey(t, "t"+string(rune('a'+i%3)))
				k.Metadata = map[string]string{"n": string(rune('a' + i))}
				if i%5 == 0 {
					k.RevokedAt = base.Add(time.Hour)
				}
				keys = append(keys, k)
				if _, err := db.ExecContext(ctx, insert, v1Args(d, k)...); err != nil {
					t.Fatalf("insert v1 key: %v", err)
				}
			}
			s, err := sqlstore.New(db, d)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second run must change nothing
				if err := s.Migrate(ctx); err != nil {
					t.Fatalf("Migrate: %v", err)
				}
			}
			var v int64
			if err := db.QueryRowContext(ctx, `SELECT value FROM apikey_meta WHERE name = 'schema_version'`).Scan(&v); err != nil || v < 2 {
				t.Fatalf("schema_version = %d, %v; want at least 2", v, err)
			}
			for _, want := range keys {
				got, err := s.Get(ctx, want.ID)
				if err != nil {
					t.Fatalf("Get(%s) after the upgrade: %v", want.ID, err)
				}
				if got.Name != want.Name || got.Tenant != want.Tenant || string(got.Hash) != string(want.Hash) ||
					!got.CreatedAt.Equal(want.CreatedAt) || !got.RevokedAt.Equal(want.RevokedAt) ||
					got.Metadata["n"] != want.Metadata["n"] || len(got.Scopes) != 2 {
					t.Errorf("key %s changed by the upgrade: %+v", want.ID, got)
				}
				if got.Disabled || got.RateLimits != nil || got.Credits != nil || got.IPAllowlist != nil {
					t.Errorf("key %s has controls after the upgrade: %+v %+v %+v", want.ID, got.RateLimits, got.Credits, got.IPAllowlist)
				}
			}
			c := &apikey.Credits{Remaining: 5, LastRefill: base}
			if _, err := s.Update(ctx, keys[1].ID, apikey.Update{At: base, Credits: &c}); err != nil {
				t.Fatalf("Update credits on an upgraded key: %v", err)
			}
			if l, err := s.TakeCredits(ctx, keys[1].ID, 3, base); err != nil || l.Granted != 3 {
				t.Fatalf("TakeCredits on an upgraded key = %+v, %v", l, err)
			}
		})
	}
}

func stripComments(st string) string {
	var b strings.Builder
	for line := range strings.Lines(st) {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// v1Args are k's values for v1Insert, bound as the first release did.
func v1Args(d sqlstore.Dialect, k *apikey.Key) []any {
	tm := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		if d == sqlstore.SQLite {
			return t.UnixMicro()
		}
		return t.UTC()
	}
	return []any{k.ID, k.Tenant, k.Environment, k.Name, k.Prefix, k.Lookup, k.HashVersion, k.Hash,
		`["jobs:read","jobs:write"]`, k.CreatedBy, tm(k.CreatedAt), tm(k.ExpiresAt), nil, "", "", tm(k.RevokedAt),
		"", nil, int64(0), nil, "", nil, `{"n":"` + k.Metadata["n"] + `"}`}
}
