package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestAdminTokenConfig: bad operator tokens stop the start; without one
// the operator is disabled, except under -dev where one is generated and
// printed once.
func TestAdminTokenConfig(t *testing.T) {
	for _, tok := range []string{"short", "has a space in the token", "tab\tin-token-0123456789"} {
		cfg := testConfig()
		cfg.AdminToken = tok
		cfg.Config.DB = "memory"
		if a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil {
			_ = a.shutdown(context.Background())
			t.Fatalf("admin token %q accepted", tok)
		}
	}

	t.Run("disabled", func(t *testing.T) {
		cfg := testConfig()
		cfg.AdminToken, cfg.Dev, cfg.Config.DB = "", false, "memory"
		e := startApp(t, cfg)
		for _, tok := range []string{"", testAdmin, "adm_0000000000000000"} {
			e.do(t, "GET", "/v1/whoami", tok, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
		}
	})

	t.Run("generated under dev", func(t *testing.T) {
		var out bytes.Buffer
		cfg := testConfig()
		cfg.AdminToken, cfg.stderr, cfg.Config.DB = "", &out, "memory"
		e := startApp(t, cfg)
		m := regexp.MustCompile(`admin token for this run: (\S+)`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no generated token in %q", out.String())
		}
		who := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", m[1], nil).want(t, http.StatusOK))
		if who["admin"] != true {
			t.Fatalf("generated token whoami %v", who)
		}
		e.do(t, "GET", "/v1/whoami", testAdmin, nil).wantError(t, http.StatusUnauthorized, "unauthorized")
	})

	cfg := testConfig()
	cfg.Config.DB = "memory"
	cfg.RotationCheck = 0
	if _, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("-rotation-check 0 accepted")
	}
}

// TestRestartOnSQLiteFile: shutdown flushes last-used data, and keys and
// their state survive a new server on the same file (and secret file).
func TestRestartOnSQLiteFile(t *testing.T) {
	t.Setenv("APIKEY_SECRET", "")
	os.Unsetenv("APIKEY_SECRET") // unset (restored after the test): the secret file is used
	path := filepath.Join(t.TempDir(), "pk.db")
	cfg := testConfig()
	cfg.Config.DB = "sqlite:" + path

	a1, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	e1 := &env{app: a1, srv: httptest.NewServer(a1.handler)}
	defer e1.srv.Close()
	k := e1.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "keep", "scopes": []string{"runs:read"}})
	gone := e1.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "gone"})
	e1.do(t, "DELETE", "/v1/api-keys/"+gone.ID, testAdmin, nil).want(t, http.StatusNoContent)
	e1.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusOK)
	e1.srv.Close()
	if err := a1.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	e2 := startApp(t, cfg)
	if e2.whoamiStatus(t, k.Key) != http.StatusOK || e2.whoamiStatus(t, gone.Key) != http.StatusUnauthorized {
		t.Fatal("key state lost across the restart")
	}
	keys := e2.list(t, "p1")
	if got := find(t, keys, k.ID); got.LastUsedAt == nil || got.LastUsedAt.After(time.Now().Add(time.Minute)) {
		t.Fatalf("last_used_at after restart %v", got.LastUsedAt)
	}
	if find(t, keys, gone.ID).RevokedAt == nil {
		t.Fatal("revocation lost across the restart")
	}
}
