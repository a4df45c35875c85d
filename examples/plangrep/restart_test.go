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

// TestRestart: shutdown flushes last-used data, and keys, their state and
// their usage survive a new app on the same SQLite file (same secret).
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plangrep.db")
	secrets := kit.EphemeralSecrets()
	open := func() *kit.Backend {
		b, err := kit.OpenStore(context.Background(), "sqlite:"+path)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	first := startApp(t, appConfig{Backend: open(), Secrets: secrets, Clock: &kit.DevClock{}, Dev: true, UsageInterval: time.Hour})
	sess := first.bootstrap("ws_a", "usr_1")
	used, tok := first.createKey(sess, "used", "jobs:read")
	revoked, revokedTok := first.createKey(sess, "revoked", "jobs:read")
	first.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 200, "")
	first.do("POST", "/api/open-api/keys/"+revoked.ID+"/revoke", nil, withCookie(sess)).expect(t, 200, "")
	// Nothing flushed yet (interval 1 h): shutdown must do it.
	if k := findKey(t, first.listKeys(sess), used.ID); k.LastUsedAt != nil {
		t.Fatalf("usage written before shutdown: %+v", k)
	}
	first.srv.Close()
	if err := first.app.shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	second := startApp(t, appConfig{Backend: open(), Secrets: secrets, Clock: &kit.DevClock{}, Dev: true, UsageInterval: time.Hour})
	sess = second.bootstrap("ws_a", "usr_1") // sessions live in memory
	keys := second.listKeys(sess)
	if len(keys) != 2 {
		t.Fatalf("after restart: %+v", keys)
	}
	k := findKey(t, keys, used.ID)
	if k.LastUsedAt == nil || k.LastUsedIP == nil || *k.LastUsedIP != "127.0.0.1" {
		t.Fatalf("last use lost in the restart: %+v", k)
	}
	if r := findKey(t, keys, revoked.ID); r.RevokedAt == nil {
		t.Fatalf("revocation lost: %+v", r)
	}
	second.do("GET", "/api/open/v1/jobs", nil, withBearer(tok)).expect(t, 200, "")
	second.do("GET", "/api/open/v1/jobs", nil, withBearer(revokedTok)).expect(t, 401, "unauthorized")
}

// TestBinary builds the real command, starts it, checks it answers, sends
// SIGTERM and expects exit status 0. The default database and secret file
// land in its working directory.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t, ".")
	dir := t.TempDir()
	addr := proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{Args: []string{"-addr", addr, "-dev"}, Dir: dir})
	p.WaitHTTP(t, "http://"+addr+"/dev/clock")
	res, err := http.Post("http://"+addr+"/dev/clock", "application/json", strings.NewReader(`{"advance":"1h"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST /dev/clock: %d", res.StatusCode)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, p.Logs())
	}
	for _, f := range []string{"plangrep.db", "plangrep.secret"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created in the working directory: %v", f, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "plangrep.secret")); err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("plangrep.secret mode %v, want 0600", fi.Mode().Perm())
	}
}
