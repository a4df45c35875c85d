package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestRedisAcrossProcesses runs two server processes on one database. With
// the same -redis they share a key's limit of N: together they admit N,
// then answer 429 rate_limited with Retry-After and the RateLimit headers.
// Without -redis each process has its own in-process budget: 2N.
func TestRedisAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs processes")
	}
	url := os.Getenv("APIKEY_TEST_REDIS_URL")
	if url == "" {
		t.Skip("APIKEY_TEST_REDIS_URL not set (e.g. redis://127.0.0.1:6379/0)")
	}
	bin := proctest.Build(t, ".")
	const limit = 10
	for _, tc := range []struct {
		name  string
		redis bool
		want  int
	}{
		{"shared through Redis", true, limit},
		{"in-process", false, 2 * limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "pk.db")
			secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
			args := []string{"-db", dsn, "-rotation-check", "1h"}
			if tc.redis {
				args = append(args, "-redis", url)
				cleanRedis(t, url, dsn)
			}
			var addrs []string
			for range 2 {
				addr := proctest.FreeAddr(t)
				p := proctest.Start(t, bin, proctest.Options{
					Args: append([]string{"-addr", addr}, args...),
					Env:  []string{"ADMIN_TOKEN=" + testAdmin, "APIKEY_SECRET=" + secret},
				})
				p.WaitHTTP(t, "http://"+addr+"/v1/whoami")
				addrs = append(addrs, addr)
			}
			body := fmt.Sprintf(`{"project_id":"p1","name":"limited","scopes":[],"ratelimits":[{"name":"per_minute","limit":%d,"duration_ms":60000}]}`, limit)
			req, _ := http.NewRequest("POST", "http://"+addrs[0]+"/v1/api-keys", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testAdmin)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusCreated {
				t.Fatalf("create: %v %v", res, err)
			}
			var k struct{ Key string }
			_ = json.NewDecoder(res.Body).Decode(&k)
			res.Body.Close()

			admitted := 0
			for i := range 3 * limit { // alternate between the two processes
				req, _ := http.NewRequest("GET", "http://"+addrs[i%2]+"/v1/whoami", nil)
				req.Header.Set("Authorization", "Bearer "+k.Key)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var e struct{ Error struct{ Code string } }
				_ = json.NewDecoder(res.Body).Decode(&e)
				res.Body.Close()
				switch res.StatusCode {
				case http.StatusOK:
					admitted++
				case http.StatusTooManyRequests:
					ra, _ := strconv.Atoi(res.Header.Get("Retry-After"))
					if e.Error.Code != "rate_limited" || ra < 1 || res.Header.Get("RateLimit-Policy") == "" || res.Header.Get("RateLimit") == "" {
						t.Fatalf("429 with code %q, Retry-After %q, RateLimit-Policy %q, RateLimit %q", e.Error.Code,
							res.Header.Get("Retry-After"), res.Header.Get("RateLimit-Policy"), res.Header.Get("RateLimit"))
					}
				default:
					t.Fatalf("whoami: %d %s", res.StatusCode, e.Error.Code)
				}
			}
			t.Logf("two processes, a key limited to %d per minute, %d requests: %d admitted", limit, 3*limit, admitted)
			if admitted != tc.want {
				t.Fatalf("admitted %d, want %d", admitted, tc.want)
			}
		})
	}
}

// cleanRedis deletes, at the end of the test, the Redis keys of the
// servers given -db dsn.
func cleanRedis(t *testing.T, url, dsn string) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() {
		defer rdb.Close()
		ctx := context.Background()
		keys, err := rdb.Keys(ctx, kit.RedisPrefix("projectkeys", dsn)+"*").Result()
		if err != nil {
			t.Logf("redis cleanup: %v", err)
			return
		}
		if len(keys) == 0 {
			t.Errorf("no Redis keys under the servers' prefix: the limits did not go through Redis")
			return
		}
		_ = rdb.Del(ctx, keys...).Err()
	})
}
