package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/sqlstore"
)

// lcV1Columns are the columns of the version-1 key table, as the first
// release wrote them.
const lcV1Columns = `id, tenant, environment, name, prefix, lookup, hash_version, hash, scopes,
	created_by, created_at, expires_at, last_used_at, last_used_ip, last_used_client, revoked_at, replaced_by,
	grace_expires_at, rotation_interval, next_rotation_at, rotation_webhook_url, webhook_secret, metadata`

// TestMigrateUpgradesVersion1Lifecycle creates a database with the
// version-1 schema (the base file), fills it with keys the way the first
// release wrote them, runs Migrate twice, and checks that every key is
// intact with no not-before time and no owner, and that the lifecycle
// fields (expiry change, not-before, owner, delete) work on upgraded keys.
func TestMigrateUpgradesVersion1Lifecycle(t *testing.T) {
	for _, e := range sqltest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			db, d := sqltest.Open(t, e)
			ctx := context.Background()
			base1, err := os.ReadFile(filepath.Join("..", "..", "sqlstore", "schema", d.String()+".sql"))
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range strings.Split(string(base1), ";\n") {
				if !lcHasCode(st) {
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
					ph[i] = fmt.Sprintf("$%d", i+1)
				}
			}
			insert := `INSERT INTO apikey_keys (` + lcV1Columns + `) VALUES (` + strings.Join(ph, ", ") + `)`
			var keys []*apikey.Key
			for i := range 30 {
				k := newKey(t, fmt.Sprintf("t%d", i%3))
				k.Name = fmt.Sprintf("key %d", i)
				if i%4 == 0 {
					k.ExpiresAt = base.Add(time.Duration(i+1) * time.Hour)
				}
				if i%5 == 0 {
					k.RevokedAt = base.Add(time.Hour)
				}
				keys = append(keys, k)
				if _, err := db.ExecContext(ctx, insert, lcV1Args(d, k)...); err != nil {
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
			if err := db.QueryRowContext(ctx, `SELECT value FROM apikey_meta WHERE name = 'schema_version'`).Scan(&v); err != nil || v < 3 {
				t.Fatalf("schema_version = %d, %v; want at least 3", v, err)
			}
			for _, want := range keys {
				got, err := s.Get(ctx, want.ID)
				if err != nil {
					t.Fatalf("Get(%s) after the upgrade: %v", want.ID, err)
				}
				if got.Name != want.Name || got.Tenant != want.Tenant || string(got.Hash) != string(want.Hash) ||
					got.Lookup != want.Lookup || !got.CreatedAt.Equal(want.CreatedAt) ||
					!got.ExpiresAt.Equal(want.ExpiresAt) || !got.RevokedAt.Equal(want.RevokedAt) {
					t.Errorf("key %s changed by the upgrade: %+v", want.ID, got)
				}
				if !got.NotBefore.IsZero() || got.Owner != "" {
					t.Errorf("key %s has lifecycle fields after the upgrade: not before %v, owner %q", want.ID, got.NotBefore, got.Owner)
				}
			}
			exp, nb, owner := base.Add(90*24*time.Hour), base.Add(time.Hour), "usr_1"
			up, err := s.Update(ctx, keys[1].ID, apikey.Update{At: base, ExpiresAt: &exp, NotBefore: &nb, Owner: &owner})
			if err != nil {
				t.Fatalf("Update lifecycle fields of an upgraded key: %v", err)
			}
			if !up.ExpiresAt.Equal(exp) || !up.NotBefore.Equal(nb) || up.Owner != owner || up.Name != keys[1].Name {
				t.Errorf("upgraded key after Update: %+v", up)
			}
			if _, err := s.Delete(ctx, keys[2].ID, base); err != nil {
				t.Fatalf("Delete an upgraded key: %v", err)
			}
		})
	}
}

// lcHasCode reports whether a schema chunk holds more than comments.
func lcHasCode(st string) bool {
	for line := range strings.Lines(st) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			return true
		}
	}
	return false
}

// lcV1Args are k's values in lcV1Columns order, bound as the first release did.
func lcV1Args(d sqlstore.Dialect, k *apikey.Key) []any {
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
		`["jobs:read"]`, k.CreatedBy, tm(k.CreatedAt), tm(k.ExpiresAt), nil, "", "", tm(k.RevokedAt),
		"", nil, int64(0), nil, "", nil, `{}`}
}
