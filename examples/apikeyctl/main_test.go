package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apikit/apikey/examples/internal/sqltest"
)

// testSecret is the server secret of the tests (APIKEY_SECRET).
var testSecret = randomSecret()

// randomSecret returns base64 of 32 random bytes.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// unsetSecret removes APIKEY_SECRET for the test (restored after).
func unsetSecret(t *testing.T) {
	t.Setenv("APIKEY_SECRET", "")
	if err := os.Unsetenv("APIKEY_SECRET"); err != nil {
		t.Fatal(err)
	}
}

// ctl runs the command in-process and returns its exit status and output.
func ctl(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// mustCtl runs the command and fails the test unless it exits 0.
func mustCtl(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errs := ctl(t, args...)
	if code != 0 {
		t.Fatalf("apikeyctl %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out, errs
}

var tokenRE = regexp.MustCompile(`^pgk_live_[0-9A-Za-z]{66}\n$`)

// TestCommands runs every command against each engine: SQLite always,
// PostgreSQL and MariaDB when their DSNs are set.
func TestCommands(t *testing.T) {
	t.Setenv("APIKEY_SECRET", testSecret)
	engines := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "keys.db") },
		"postgres": func(t *testing.T) string { return sqltest.PostgresDSN(t) },
		"mysql":    func(t *testing.T) string { return "mysql:" + sqltest.MySQLDSN(t) },
	}
	for name, db := range engines {
		t.Run(name, func(t *testing.T) { commandsOn(t, db(t)) })
	}
}

func commandsOn(t *testing.T, db string) {
	common := []string{"-db", db, "-prefix", "pgk"}
	with := func(args ...string) []string { return append(args, common...) }

	out, errs := mustCtl(t, with("migrate")...)
	if out != "" || !strings.Contains(errs, "up to date") {
		t.Errorf("migrate: stdout %q stderr %q", out, errs)
	}

	// create: the token alone on stdout; the details on stderr, no token.
	tok, errs := mustCtl(t, with("create", "-tenant", "ws_1", "-name", "CI", "-scopes", "jobs:read, jobs:write", "-ttl", "720h")...)
	if !tokenRE.MatchString(tok) {
		t.Fatalf("create printed %q on stdout", tok)
	}
	tok = strings.TrimSpace(tok)
	if strings.Contains(errs, tok[9:20]) || !strings.Contains(errs, "jobs:read jobs:write") {
		t.Errorf("create stderr %q", errs)
	}

	// create -json: one object with the token and the key.
	out, _ = mustCtl(t, with("create", "-tenant", "ws_1", "-name", "second", "-json")...)
	var issued struct {
		Token string `json:"token"`
		Key   struct {
			ID, Tenant, Name, State string
		} `json:"key"`
	}
	if err := json.Unmarshal([]byte(out), &issued); err != nil || !tokenRE.MatchString(issued.Token+"\n") || issued.Key.State != "active" || issued.Key.Name != "second" {
		t.Fatalf("create -json: %q (%v)", out, err)
	}
	second := issued.Key.ID

	// list: a table, then JSON; never a token nor a hash.
	out, _ = mustCtl(t, with("list", "-tenant", "ws_1")...)
	if !strings.HasPrefix(out, "ID ") || strings.Count(out, "\n") != 3 || !strings.Contains(out, "jobs:read,jobs:write") {
		t.Errorf("list table:\n%s", out)
	}
	out, _ = mustCtl(t, with("list", "-tenant", "ws_1", "-json")...)
	var keys []map[string]any
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("list -json: %q %v", out, err)
	}
	first := keys[1]["id"].(string)
	if strings.Contains(out, tok[9:]) || strings.Contains(strings.ToLower(out), `"hash"`) {
		t.Errorf("list -json leaks: %s", out)
	}

	// show, flags after the ID too.
	out, _ = mustCtl(t, append(with("show"), first)...)
	if !strings.Contains(out, "state         active") || !strings.Contains(out, "scopes        jobs:read jobs:write") {
		t.Errorf("show:\n%s", out)
	}
	if code, _, errs := ctl(t, with("show", first, "-tenant", "ws_2")...); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("show of another tenant's key: %d %s", code, errs)
	}

	// rotate: a new token once; the old key in grace.
	out, errs = mustCtl(t, with("rotate", first, "-grace", "10m")...)
	if !tokenRE.MatchString(out) || strings.TrimSpace(out) == tok || !strings.Contains(errs, "rotated "+first) {
		t.Errorf("rotate: %q %q", out, errs)
	}
	out, _ = mustCtl(t, with("show", first, "-json")...)
	var shown map[string]any
	if err := json.Unmarshal([]byte(out), &shown); err != nil || shown["replacedBy"] == nil || shown["state"] != "grace" {
		t.Errorf("after rotate: %s", out)
	}

	// revoke; then revoke-all counts the rest.
	if _, errs := mustCtl(t, with("revoke", second)...); !strings.Contains(errs, "revoked "+second) {
		t.Errorf("revoke: %s", errs)
	}
	out, _ = mustCtl(t, with("list", "-tenant", "ws_1", "-state", "revoked", "-json")...)
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 1 || keys[0]["id"] != second {
		t.Errorf("revoked list: %s", out)
	}
	if _, errs := mustCtl(t, with("revoke-all", "-tenant", "ws_1")...); !strings.Contains(errs, "revoked 2 key(s) of ws_1\n") {
		t.Errorf("revoke-all: %s", errs)
	}
	out, _ = mustCtl(t, with("list", "-tenant", "ws_1", "-state", "active", "-json")...)
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("active after revoke-all: %s", out)
	}

	// import: SHA-256 hashes of another system's tokens; a rerun skips.
	csv := filepath.Join(t.TempDir(), "keys.csv")
	if err := os.WriteFile(csv, []byte("id,tenant,scopes,sha256\nold_1,ws_9,jobs:read,"+
		"5f6955d227a320c7f1f6c7da2a6d96a851a8118f4a9f3a7c8d4d0e5cbbf9ab2b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errs := mustCtl(t, with("import", csv)...); !strings.Contains(errs, "imported 1 key(s) under hash version sha256, skipped 0") {
		t.Errorf("import: %s", errs)
	}
	if _, errs := mustCtl(t, with("import", csv)...); !strings.Contains(errs, "imported 0 key(s) under hash version sha256, skipped 1") {
		t.Errorf("import again: %s", errs)
	}
	out, _ = mustCtl(t, with("list", "-tenant", "ws_9", "-json")...)
	if !strings.Contains(out, `"legacy_id": "old_1"`) || !strings.Contains(out, `"hashVersion": "sha256"`) {
		t.Errorf("imported key: %s", out)
	}
}

// TestExitCodes: 2 for bad usage, 1 for runtime errors, and nothing on
// stdout for either.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "keys.db")
	t.Setenv("APIKEY_SECRET", testSecret)
	t.Setenv("APIKEY_DB", "")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no command", nil, 2, "usage"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"list", "-db", db, "-nope"}, 2, "-nope"},
		{"no db", []string{"list", "-tenant", "t"}, 2, "-db is required"},
		{"memory db", []string{"list", "-db", "memory", "-tenant", "t"}, 2, "memory store"},
		{"bad db", []string{"list", "-db", "oracle:x", "-tenant", "t"}, 2, "want"},
		{"missing tenant", []string{"create", "-db", db}, 2, "-tenant is required"},
		{"all tenants", []string{"revoke-all", "-db", db, "-tenant", "*"}, 2, "one tenant"},
		{"bad state", []string{"list", "-db", db, "-tenant", "t", "-state", "odd"}, 2, "-state"},
		{"no id", []string{"show", "-db", db}, 2, "want 1 argument"},
		{"two ids", []string{"revoke", "-db", db, "a", "b"}, 2, "want 1 argument"},
		{"bad scope", []string{"create", "-db", db, "-tenant", "t", "-scopes", "nocolon"}, 2, "scope"},
		{"bad prefix", []string{"create", "-db", db, "-tenant", "t", "-prefix", "no_underscores"}, 2, "prefix"},
		{"expires and ttl", []string{"create", "-db", db, "-tenant", "t", "-ttl", "1h", "-expires", "2030-01-01T00:00:00Z"}, 2, "not both"},
		{"past expiry", []string{"create", "-db", db, "-tenant", "t", "-expires", "2001-01-01T00:00:00Z"}, 2, "invalid"},
		{"not found", []string{"revoke", "-db", db, "01ARZ3NDEKTSV4RRFFQ69G5FAV"}, 1, "not found"},
		{"missing csv", []string{"import", "-db", db, filepath.Join(dir, "none.csv")}, 1, "no such file"},
		{"help", []string{"create", "-h"}, 0, "-tenant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := ctl(t, tc.args...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.msg)
			}
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
}

// TestSecretFile: without APIKEY_SECRET the secret is read beside a SQLite
// database, never created; a key made with another secret is refused by
// a manager with the right one (covered in TestServersAcceptCLIKeys).
func TestSecretFile(t *testing.T) {
	unsetSecret(t)
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "keys.db")
	code, _, errs := ctl(t, "list", "-db", db, "-tenant", "t")
	if code != 1 || !strings.Contains(errs, "keys.db.secret does not exist") {
		t.Fatalf("no secret: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "keys.db.secret")); !os.IsNotExist(err) {
		t.Errorf("a secret file was created: %v", err)
	}
	if code, _, errs := ctl(t, "list", "-db", "postgres://127.0.0.1:1/x", "-tenant", "t"); code != 2 || !strings.Contains(errs, "APIKEY_SECRET") {
		t.Errorf("no secret for postgres: %d %s", code, errs)
	}
	t.Setenv("APIKEY_SECRET", " ")
	if code, _, errs := ctl(t, "list", "-db", db, "-tenant", "t"); code != 2 || !strings.Contains(errs, "blank") {
		t.Errorf("blank APIKEY_SECRET: %d %s", code, errs)
	}
	unsetSecret(t)
	if err := os.WriteFile(filepath.Join(dir, "keys.db.secret"), []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCtl(t, "create", "-db", db, "-tenant", "t")
	other := filepath.Join(dir, "other.secret")
	if err := os.WriteFile(other, []byte("not base64!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := ctl(t, "list", "-db", db, "-tenant", "t", "-secret-file", other); code != 1 || !strings.Contains(errs, "base64") {
		t.Errorf("bad secret file: %d %s", code, errs)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
