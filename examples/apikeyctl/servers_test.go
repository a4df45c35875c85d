package main

import (
	"bytes"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestServersAcceptCLIKeys builds the apikeyctl binary and each example
// server, creates a key with the binary on the server's SQLite database,
// and checks that the server accepts it, that a key made with another
// secret is refused, and that a revocation by apikeyctl reaches the
// running server (through its change-feed follower).
func TestServersAcceptCLIKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four binaries")
	}
	ctlBin := proctest.Build(t, ".")
	servers := []struct {
		name   string
		prefix string
		scopes string
		path   string // an endpoint any key with scopes may call
	}{
		{"plangrep", "pgk", "jobs:read", "/api/open/v1/jobs"},
		{"projectmanager", "pmk", "", "/api/data/api-keys"},
		{"projectkeys", "pk", "", "/v1/whoami"},
	}
	for _, s := range servers {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			db := "sqlite:" + filepath.Join(dir, s.name+".db")
			env := []string{"APIKEY_SECRET=" + testSecret}
			ctl := func(env []string, args ...string) (string, string) {
				t.Helper()
				cmd := exec.Command(ctlBin, append(args, "-db", db, "-prefix", s.prefix)...)
				cmd.Env = append(cmd.Environ(), env...)
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					t.Fatalf("apikeyctl %v: %v\n%s", args, err, errb.String())
				}
				return strings.TrimSpace(out.String()), errb.String()
			}
			tok, _ := ctl(env, "create", "-tenant", "ws_1", "-name", "ops", "-scopes", s.scopes)
			otherSecret := "APIKEY_SECRET=" + randomSecret()
			wrongTok, _ := ctl([]string{otherSecret}, "create", "-tenant", "ws_1", "-name", "wrong secret", "-scopes", s.scopes)
			idJSON, _ := ctl(env, "list", "-tenant", "ws_1", "-json")
			id := keyIDOf(t, idJSON, "ops")

			bin := proctest.Build(t, "../"+s.name)
			addr := proctest.FreeAddr(t)
			p := proctest.Start(t, bin, proctest.Options{Args: []string{"-addr", addr, "-db", db}, Env: env, Dir: dir})
			url := "http://" + addr + s.path
			p.WaitHTTP(t, url)
			get := func(tok string) int {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if code := get(tok); code != http.StatusOK {
				t.Fatalf("key from apikeyctl: %d\n%s", code, p.Logs())
			}
			if code := get(wrongTok); code != http.StatusUnauthorized {
				t.Errorf("key made with another secret: %d", code)
			}
			if _, errs := ctl(env, "revoke", id); !strings.Contains(errs, "revoked "+id) {
				t.Fatalf("revoke: %s", errs)
			}
			deadline := time.Now().Add(15 * time.Second)
			for get(tok) != http.StatusUnauthorized {
				if time.Now().After(deadline) {
					t.Fatalf("revoked by apikeyctl, still accepted\n%s", p.Logs())
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err := p.Stop(); err != nil {
				t.Errorf("stop: %v\n%s", err, p.Logs())
			}
		})
	}
}

// keyIDOf returns the ID of the key named name in a list -json output.
func keyIDOf(t *testing.T, listJSON, name string) string {
	t.Helper()
	var keys []struct{ ID, Name string }
	if err := jsonUnmarshal(listJSON, &keys); err != nil {
		t.Fatalf("%v: %s", err, listJSON)
	}
	for _, k := range keys {
		if k.Name == name {
			return k.ID
		}
	}
	t.Fatalf("no key %q in %s", name, listJSON)
	return ""
}
