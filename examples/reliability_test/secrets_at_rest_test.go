package reliability_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/sqltest"
	"github.com/apikit/apikey/rotation"
	"github.com/apikit/apikey/sqlstore"
)

// secretsSession runs a full key session on store: create (with webhook
// secrets), verify, record usage, rotate, update, revoke, revoke all. It
// returns every plaintext the library handed out (tokens, their 43-character
// secret parts, webhook secrets) and the display prefixes, which the store
// must hold (so a scan that finds them proves it looked at the data).
func secretsSession(t *testing.T, store apikey.Store) (secrets, prefixes []string) {
	t.Helper()
	ctx := context.Background()
	hooks, err := rotation.NewWebhooks([]byte("secrets-at-rest-webhook-key-0123"), rotation.WebhookPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := apikey.New(store, apikey.WithPrefix("sec"), apikey.WithPepper("v1", []byte("secrets-at-rest-pepper-0123456789abcdef")),
		apikey.WithWebhooks(hooks), apikey.WithCache(apikey.CacheOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	keep := func(is *apikey.Issued) {
		tok := is.Token.Reveal()
		secrets = append(secrets, tok, tok[len(tok)-6-43:len(tok)-6])
		if !is.WebhookSecret.IsZero() {
			secrets = append(secrets, is.WebhookSecret.Reveal())
		}
		prefixes = append(prefixes, is.Key.Prefix)
	}
	var ids []string
	for i := 0; i < 4; i++ {
		p := apikey.CreateParams{Tenant: "acme", Name: "k", Scopes: []string{"jobs:read"}}
		if i%2 == 0 {
			p.RotationInterval, p.RotationWebhookURL = 24*time.Hour, "https://hooks.example.com/rotate"
		}
		is, err := m.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		keep(is)
		ids = append(ids, is.Key.ID)
		if _, err := m.Verify(ctx, is.Token.Reveal()); err != nil {
			t.Fatal(err)
		}
	}
	tracker, err := apikey.NewUsageTracker(store)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		tracker.Touch(id, m.Now(), "203.0.113.7", "ci")
	}
	if err := tracker.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rot, err := m.Rotate(ctx, "acme", ids[0], time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keep(&rot.Issued)
	name := "renamed"
	if _, err := m.Update(ctx, "acme", ids[1], apikey.UpdateParams{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Revoke(ctx, "acme", ids[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeAll(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	return secrets, prefixes
}

// checkNoSecrets fails if dump holds any secret, and if it lacks the
// display prefixes (then the scan did not see the data).
func checkNoSecrets(t *testing.T, what string, dump []byte, secrets, prefixes []string) {
	t.Helper()
	for _, p := range prefixes {
		if !bytes.Contains(dump, []byte(p)) {
			t.Fatalf("%s lacks the display prefix %s: the scan is not looking at the key data", what, p)
		}
	}
	for _, s := range secrets {
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("%s holds a plaintext secret (%s...)", what, s[:6])
		}
	}
}

// TestNoSecretsInSQLiteFile scans the SQLite database file and its WAL.
func TestNoSecretsInSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	db, err := sql.Open("sqlite", "file:"+path+"?"+sqltest.SQLiteDSNOptions)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	secrets, prefixes := secretsSession(t, st)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var all []byte
	for _, f := range []string{path, path + "-wal", path + "-journal"} {
		b, err := os.ReadFile(f)
		if err == nil {
			all = append(all, b...)
		}
	}
	checkNoSecrets(t, "the SQLite file", all, secrets, prefixes)
}

// TestNoSecretsInPostgresDump scans a pg_dump of the store's schema.
func TestNoSecretsInPostgresDump(t *testing.T) {
	dsn := os.Getenv(sqltest.PostgresDSNEnv)
	if dsn == "" {
		t.Skipf("%s not set: PostgreSQL dump test skipped", sqltest.PostgresDSNEnv)
	}
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		t.Skip("pg_dump not installed")
	}
	db, d := sqltest.Open(t, sqltest.Postgres)
	st, err := sqlstore.New(db, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	secrets, prefixes := secretsSession(t, st)
	var schema string
	if err := db.QueryRow("SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pgDump, "--dbname="+dsn, "--schema="+schema, "--data-only").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "COPY") {
		t.Fatalf("pg_dump printed no data:\n%s", out)
	}
	checkNoSecrets(t, "the PostgreSQL dump", out, secrets, prefixes)
}
