package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/proctest"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// TestDisableAcrossProcesses: a key disabled through one server process is
// refused by another process on the same database once its change-feed
// follower has read the change (250 ms polls); the time it took is logged.
func TestDisableAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "pk.db")
			if db == "postgres" {
				dsn = sqltest.PostgresDSN(t)
			}
			bin := proctest.Build(t, ".")
			secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			var addrs []string
			for range 2 {
				addr := proctest.FreeAddr(t)
				p := proctest.Start(t, bin, proctest.Options{
					Args: []string{"-addr", addr, "-db", dsn, "-rotation-check", "1h"},
					Env:  []string{"ADMIN_TOKEN=" + testAdmin, "APIKEY_SECRET=" + secret},
				})
				p.WaitHTTP(t, "http://"+addr+"/v1/whoami")
				addrs = append(addrs, addr)
			}
			call := func(method, addr, path, tok, body string) (int, []byte) {
				req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var b json.RawMessage
				_ = json.NewDecoder(res.Body).Decode(&b)
				return res.StatusCode, b
			}
			code, body := call("POST", addrs[0], "/v1/api-keys", testAdmin, `{"project_id":"p1","name":"k","scopes":[]}`)
			var k struct{ ID, Key string }
			if err := json.Unmarshal(body, &k); err != nil || code != 201 {
				t.Fatalf("create: %d %s", code, body)
			}
			if code, _ := call("GET", addrs[1], "/v1/whoami", k.Key, ""); code != 200 {
				t.Fatalf("whoami on the second process: %d", code) // now cached there
			}
			if code, body := call("PATCH", addrs[0], "/v1/api-keys/"+k.ID, testAdmin, `{"enabled":false}`); code != 200 {
				t.Fatalf("disable: %d %s", code, body)
			}
			start := time.Now()
			for {
				code, _ := call("GET", addrs[1], "/v1/whoami", k.Key, "")
				if code == 401 {
					break
				}
				if time.Since(start) > 10*time.Second {
					t.Fatalf("the second process still accepts the disabled key after %v", time.Since(start))
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%s: refused by the other process %v after the disable", db, time.Since(start).Round(time.Millisecond))
		})
	}
}
