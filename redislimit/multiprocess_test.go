package redislimit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/redislimit"
)

// The multi-process test re-executes this test binary as hammer children
// (TestMain dispatches on hammerEnv).
const (
	hammerEnv       = "REDISLIMIT_HAMMER_CHILD"
	hammerPrefixEnv = "REDISLIMIT_HAMMER_PREFIX"
	hammerReqEnv    = "REDISLIMIT_HAMMER_REQUESTS"
	hammerWorkEnv   = "REDISLIMIT_HAMMER_WORKERS"
)

// The figure of issue 13: one key limited to 100 per 10 s.
var hammerLimit = apikey.RateLimit{Name: "per_10s", Limit: 100, Window: 10 * time.Second}

// hammerResult is what a child reports on stdout.
type hammerResult struct {
	Requests int64 `json:"requests"`
	Admitted int64 `json:"admitted"`
	Errors   int64 `json:"errors"`
	Commands int64 `json:"commands"` // script calls (EVALSHA, EVAL) during the hammer
	// Other counts every other command: go-redis's greeting (HELLO, CLIENT
	// SETINFO) of a connection it opened during the hammer, never an Allow.
	Other int64 `json:"other"`
}

func TestMain(m *testing.M) {
	if os.Getenv(hammerEnv) != "" {
		os.Exit(hammerChild())
	}
	redis.SetLogger(quietLogger{}) // the failure tests make go-redis complain
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// TestFourProcesses starts four processes sharing Redis and one key limited
// to 100 per 10 s, releases them together, and counts what they admit: 100,
// plus at most one per 100 ms (the rate at which GCRA refills a 100 per 10 s
// budget) of Redis time the hammer lasted. Each Allow is one Redis command.
//
// The figure in BENCHMARKS.md: go test -run TestFourProcesses -count=5 -v ./redislimit/
func TestFourProcesses(t *testing.T) {
	rdb := testClient(t)
	prefix := testPrefix(t, rdb)
	const procs, requests, workers = 4, 100, 8
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	children := make([]child, procs)
	for i := range children {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), hammerEnv+"=1", hammerPrefixEnv+"="+prefix,
			hammerReqEnv+"="+strconv.Itoa(requests), hammerWorkEnv+"="+strconv.Itoa(workers))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		children[i] = child{cmd, stdin, bufio.NewReader(stdout)}
	}
	for i, c := range children {
		if line, err := c.out.ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child %d: %q %v", i, line, err)
		}
	}
	t0 := redisNow(t, rdb)
	for _, c := range children {
		if _, err := io.WriteString(c.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	var total hammerResult
	for i, c := range children {
		line, err := c.out.ReadString('\n')
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
		var r hammerResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("child %d: %q: %v", i, line, err)
		}
		total.Requests += r.Requests
		total.Admitted += r.Admitted
		total.Errors += r.Errors
		total.Commands += r.Commands
		total.Other += r.Other
	}
	elapsed := redisNow(t, rdb).Sub(t0)
	if total.Errors != 0 {
		t.Fatalf("%d Allow errors", total.Errors)
	}
	step := hammerLimit.Window / time.Duration(hammerLimit.Limit)
	bound := hammerLimit.Limit + int64(elapsed/step)
	t.Logf("%d processes, %d requests on one key limited to %d per %s: admitted %d in %s of Redis time (bound %d); Redis commands per request %.3f (other commands: %d, connection greetings)",
		procs, total.Requests, hammerLimit.Limit, hammerLimit.Window, total.Admitted, elapsed.Round(time.Millisecond), bound,
		float64(total.Commands)/float64(total.Requests), total.Other)
	if total.Requests != procs*requests {
		t.Fatalf("%d requests, want %d", total.Requests, procs*requests)
	}
	if total.Admitted < hammerLimit.Limit || total.Admitted > bound {
		t.Fatalf("admitted %d, want %d (at most %d after %s of refill)", total.Admitted, hammerLimit.Limit, bound, elapsed)
	}
	if total.Commands != total.Requests {
		t.Fatalf("%d script calls for %d requests, want one each", total.Commands, total.Requests)
	}
}

// redisNow reads Redis's clock, the one the limiter runs on.
func redisNow(t *testing.T, rdb *redis.Client) time.Time {
	t.Helper()
	now, err := rdb.Time(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// hammerChild is one process of TestFourProcesses: it warms up (connections
// open, script loaded), says "ready", waits for "go" on stdin, spends its
// requests from the shared key with its workers and prints a hammerResult.
func hammerChild() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "hammer child:", err); return 1 }
	opts, err := redislimit.ParseURL(os.Getenv("APIKEY_TEST_REDIS_URL"))
	if err != nil {
		return fail(err)
	}
	requests, _ := strconv.Atoi(os.Getenv(hammerReqEnv))
	workers, _ := strconv.Atoi(os.Getenv(hammerWorkEnv))
	opts.PoolSize = workers
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	var counter commandCounter
	rdb.AddHook(&counter)
	l, err := redislimit.New(rdb, redislimit.WithPrefix(os.Getenv(hammerPrefixEnv)), redislimit.WithTimeout(10*time.Second))
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	shared := key("hammered", "t1", hammerLimit)
	warm := key("warmup-"+strconv.Itoa(os.Getpid()), "t1", hammerLimit)
	var wg sync.WaitGroup
	for range workers { // one connection per worker, script loaded
		wg.Go(func() { _, _ = l.Allow(ctx, warm, 1) })
	}
	wg.Wait()
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		return fail(err)
	}
	counter.n.Store(0)
	counter.scripts.Store(0)
	counter.piped.Store(0)
	var next, admitted, errs atomic.Int64
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(requests) {
				d, err := l.Allow(ctx, shared, 1)
				switch {
				case err != nil:
					errs.Add(1)
				case d.Allowed:
					admitted.Add(1)
				}
			}
		})
	}
	wg.Wait()
	out, _ := json.Marshal(hammerResult{Requests: int64(requests), Admitted: admitted.Load(), Errors: errs.Load(), Commands: counter.scripts.Load(),
		Other: counter.n.Load() - counter.scripts.Load() + counter.piped.Load()})
	fmt.Println(string(out))
	return 0
}
