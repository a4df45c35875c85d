package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/proctest"
	"github.com/apikit/apikey/examples/internal/sqltest"
)

// envInt reads an integer setting of the credits figures, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestCreditsAcrossProcesses runs real server processes on one database
// and spends one key's credits from all of them at once: exactly as many
// successes as credits, and nothing left in the store once they shut down
// (each hands back its unspent lease). PK_CREDITS_PROCS (default 2) and
// PK_CREDITS (default 2000) scale it up for BENCHMARKS.md; with
// PK_CREDITS_KILL=1 the first process is killed with SIGKILL mid-run and
// the test reports the credits lost (at most one lease, 100).
func TestCreditsAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) { creditsAcrossProcesses(t, db) })
	}
}

func creditsAcrossProcesses(t *testing.T, db string) {
	var dsn string
	if db == "postgres" {
		dsn = sqltest.PostgresDSN(t)
	} else {
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "pk.db")
	}
	procs, credits := envInt("PK_CREDITS_PROCS", 2), envInt("PK_CREDITS", 2000)
	kill := os.Getenv("PK_CREDITS_KILL") == "1"
	bin := proctest.Build(t, ".")
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	var addrs []string
	var ps []*proctest.Process
	for range procs {
		addr := proctest.FreeAddr(t)
		p := proctest.Start(t, bin, proctest.Options{
			Args: []string{"-addr", addr, "-db", dsn, "-rotation-check", "1h"},
			Env:  []string{"ADMIN_TOKEN=" + testAdmin, "APIKEY_SECRET=" + secret},
		})
		p.WaitHTTP(t, "http://"+addr+"/v1/whoami")
		addrs, ps = append(addrs, addr), append(ps, p)
	}
	body := fmt.Sprintf(`{"project_id":"p1","name":"metered","scopes":[],"credits":{"remaining":%d}}`, credits)
	req, _ := http.NewRequest("POST", "http://"+addrs[0]+"/v1/api-keys", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("create: %v %v", res, err)
	}
	var k struct{ ID, Key string }
	_ = json.NewDecoder(res.Body).Decode(&k)
	res.Body.Close()

	var ok, refused atomic.Int64
	perProc := make([]atomic.Int64, procs)
	var wg sync.WaitGroup
	start := time.Now()
	for i, addr := range addrs {
		for range 3 {
			wg.Go(func() {
				c := &http.Client{Timeout: 10 * time.Second}
				for {
					req, _ := http.NewRequest("GET", "http://"+addr+"/v1/whoami", nil)
					req.Header.Set("Authorization", "Bearer "+k.Key)
					res, err := c.Do(req)
					if err != nil {
						return // the killed process
					}
					res.Body.Close()
					switch res.StatusCode {
					case 200:
						ok.Add(1)
						if perProc[i].Add(1) == 50 && kill && i == 0 {
							_ = ps[0].Signal(syscall.SIGKILL) // mid-run: it holds a lease
						}
					case 429:
						refused.Add(1)
						return
					default:
						t.Errorf("whoami: %d", res.StatusCode)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, p := range ps {
		if kill && i == 0 {
			continue
		}
		if err := p.Stop(); err != nil {
			t.Fatalf("stop: %v\n%s", err, p.Logs())
		}
	}
	left := storedRemaining(t, bin, dsn, secret, k.ID)
	lost := int64(credits) - ok.Load() - left
	t.Logf("%s: %d processes, %d credits: %d successes in %v, %d left in the store after shutdown, %d lost", db, procs, credits, ok.Load(), elapsed.Round(time.Millisecond), left, lost)
	switch {
	case ok.Load() > int64(credits):
		t.Fatalf("%d successes for %d credits: over-spent", ok.Load(), credits)
	case !kill && (ok.Load() != int64(credits) || left != 0):
		t.Fatalf("%d successes and %d left for %d credits; want every credit spent exactly once", ok.Load(), left, credits)
	case kill && lost > 100:
		t.Fatalf("SIGKILL lost %d credits, more than one lease (100)", lost)
	}
}

// storedRemaining starts one more process on the database and reads the
// key's stored credits through the API.
func storedRemaining(t *testing.T, bin, dsn, secret, id string) int64 {
	addr := proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{
		Args: []string{"-addr", addr, "-db", dsn, "-rotation-check", "1h"},
		Env:  []string{"ADMIN_TOKEN=" + testAdmin, "APIKEY_SECRET=" + secret},
	})
	p.WaitHTTP(t, "http://"+addr+"/v1/whoami")
	defer p.Stop()
	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/api-keys?project_id=p1", nil)
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var keys []struct {
		ID      string
		Credits *struct{ Remaining int64 }
	}
	if err := json.NewDecoder(res.Body).Decode(&keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == id && k.Credits != nil {
			return k.Credits.Remaining
		}
	}
	t.Fatalf("key %s not listed with credits", id)
	return 0
}
