package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestDevDisabled: without -dev, /dev/* answer 404 in the envelope.
func TestDevDisabled(t *testing.T) {
	e := newEnv(t, engines()[0].open(t), false)
	for _, p := range []string{"/dev/bootstrap", "/dev/clock"} {
		r := e.do(req{method: "POST", path: p, body: map[string]string{"workspaceId": "ws_a"}}).want(t, http.StatusNotFound)
		if r.StatusCode != "NotFound" {
			t.Errorf("%s: %s", p, r.Raw)
		}
	}
	if e.app.mgr.Now() != start {
		t.Error("/dev/clock moved the clock without -dev")
	}
}

// TestStoreUnavailable: a store that cannot answer gives 503 in the
// envelope, never 401, and no detail of the failure.
func TestStoreUnavailable(t *testing.T) {
	b := engines()[1].open(t) // sqlite_file
	e := newEnv(t, b, true)
	tok := e.bootstrap("ws_a").APIKey
	if err := b.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []req{
		{method: "GET", path: "/api/data/api-keys", token: tok},
		{method: "POST", path: "/dev/bootstrap", body: map[string]string{"workspaceId": "ws_a"}},
	} {
		got := e.do(r).want(t, http.StatusServiceUnavailable)
		if got.StatusCode != "ServiceUnavailable" || got.Header.Get("WWW-Authenticate") != "" ||
			strings.Contains(strings.ToLower(got.Raw), "sql") || strings.Contains(got.Raw, "closed") {
			t.Errorf("%s %s: %s", r.method, r.path, got.Raw)
		}
	}
}

// TestRestart: shutdown writes pending last-used data, and keys and their
// usage survive a new app on the same SQLite file.
func TestRestart(t *testing.T) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "pm.db")
	sec := kit.EphemeralSecrets()
	open := func() *kit.Backend {
		b, err := kit.OpenStore(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := newEnvWith(t, open(), true, sec)
	boot := first.bootstrap("ws_a")
	key := first.create(boot.APIKey, "survivor")
	first.clock.Advance(time.Hour)
	used := first.app.mgr.Now()
	first.list(key.APIKey, map[string]string{"x-integration-name": "Make.com"})
	first.stop() // no Flush: shutdown must write the use

	second := newEnvWith(t, open(), true, sec)
	k := find(t, second.list(key.APIKey, nil), key.ID)
	sameTime(t, "lastUsed after restart", k.LastUsed, used)
	if k.LastIntegrationName == nil || *k.LastIntegrationName != "Make.com" || k.Name != "survivor" {
		t.Errorf("after restart: %+v", k)
	}
}

// TestBinary builds the server, runs it on a free port with -dev on an
// SQLite file, makes a call, and checks that SIGTERM stops it with status 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := proctest.Build(t, ".")
	dir := t.TempDir()
	addr, maddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{
		Args: []string{"-addr", addr, "-dev", "-db", "sqlite:" + filepath.Join(dir, "pm.db"), "-metrics-addr", maddr},
	})
	base := "http://" + addr
	p.WaitHTTP(t, base+"/api/data/api-keys")
	var boot bootItem
	c := &env{t: t, base: base}
	c.do(req{method: "POST", path: "/dev/bootstrap", body: map[string]string{"workspaceId": "ws_a"}}).want(t, http.StatusCreated).into(t, &boot)
	c.do(req{method: "GET", path: "/api/data/api-keys", token: boot.APIKey}).want(t, http.StatusOK)
	proctest.WantMetric(t, "http://"+maddr+"/metrics", `apikey_verify_outcomes_total{apikey_outcome="valid"} 1`)

	if err := p.Stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Logs())
	}
	if logs := p.Logs(); strings.Contains(logs, boot.APIKey) || strings.Contains(logs, boot.APIKey[9:]) {
		t.Errorf("the log holds a token:\n%s", logs)
	}
	if _, err := os.Stat(filepath.Join(dir, "pm.db.secret")); err != nil {
		t.Errorf("demo secret file: %v", err)
	}
}
