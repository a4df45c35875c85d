// Command loadtest drives the plangrep example server on loopback with
// valid API keys and, under the same load, a bare net/http handler that
// writes the same response; it reports requests/s and p50/p99 latency for
// both, the ratio of their throughputs (the median of the rounds' ratios,
// over all rounds, and fastest round against fastest round), and the store
// writes plangrep's usage tracking made during the run.
//
// With -controls it also drives projectkeys' GET /v1/whoami with keys
// without controls ("pk") and keys under a rate limit that never refuses
// at this load ("pk+limit", the in-process limiter), and with -redis URL a
// second projectkeys started with -redis ("pk+redis", the limit kept in
// Redis, one round trip per request); each is compared with the bare
// handler answering whoami's body ("bare/whoami").
//
// Run it from the repository root (it builds ./examples/plangrep, and
// ./examples/projectkeys with -controls):
//
//	go run ./examples/loadtest                    # defaults: about 20 s
//	go run ./examples/loadtest -duration 20s -rounds 10
//	go run ./examples/loadtest -controls -redis redis://127.0.0.1:6379/0
//
// What it does:
//
//  1. builds the plangrep binary (or takes -plangrep PATH) and starts it with
//     -dev on 127.0.0.1 (a free port) over a fresh SQLite file;
//  2. opens a session with POST /dev/bootstrap, creates -keys keys with the
//     scope jobs:read and -jobs jobs (with one jobs:write key), and reads
//     GET /api/open/v1/jobs once: that body is what the bare handler
//     answers, with the same headers;
//  3. starts the bare handler in a second process (this program, re-run),
//     behind the same http.Server settings as plangrep (kit.Serve);
//  4. drives GET /api/open/v1/jobs from -concurrency workers, each with its
//     own keep-alive connection, cycling through the keys; the servers
//     take turns in -rounds rounds (the order alternates) of -duration /
//     -rounds each, after a short warm-up, so all see the same machine;
//  5. stops plangrep with SIGTERM, reads the usage tracker's counters from
//     its shutdown log line, and prints the report.
//
// CPU sharing: each server process runs with GOMAXPROCS=-server-procs and
// the load generator with -client-procs (both 1 by default), so on a
// 2-core machine the generator and the server under test each get one core
// and neither starves the other. The idle server (the one not driven in a
// round) uses no CPU.
//
// Store writes: plangrep's UsageTracker coalesces the uses of a key and
// writes at most one record per key per -usage-interval, in batches of up
// to 500 (one RecordUsage call, one transaction). The report checks that
// the records written do not exceed keys x flushes. The exit status is 1
// when a request failed or that bound was broken.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	Duration      time.Duration // measured time per server, over all rounds
	Rounds        int
	Warmup        time.Duration // per server, before the first round
	Concurrency   int
	Keys          int
	Jobs          int
	UsageInterval time.Duration
	Plangrep      string // prebuilt binary; empty: go build
	DB            string // plangrep -db; empty: a fresh SQLite file
	ServerProcs   int
	ClientProcs   int
	Controls      bool   // also projectkeys, with keys without controls and with a rate limit
	Projectkeys   string // prebuilt binary; empty: go build
	Redis         string // with Controls: also projectkeys -redis on this URL
}

func defaultConfig() config {
	return config{
		Duration:      8 * time.Second,
		Rounds:        4,
		Warmup:        500 * time.Millisecond,
		Concurrency:   16,
		Keys:          50,
		Jobs:          3,
		UsageInterval: time.Second,
		ServerProcs:   1,
		ClientProcs:   1,
	}
}

func main() {
	if body := os.Getenv(bareEnv); body != "" {
		// Child mode: this process is the bare handler.
		if err := serveBare(body); err != nil {
			fmt.Fprintln(os.Stderr, "bare handler:", err)
			os.Exit(1)
		}
		return
	}
	cfg := defaultConfig()
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "measured time per server, split over the rounds")
	fs.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "rounds; the servers take turns, one per round each")
	fs.DurationVar(&cfg.Warmup, "warmup", cfg.Warmup, "unmeasured load per server before the first round")
	fs.IntVar(&cfg.Concurrency, "concurrency", cfg.Concurrency, "concurrent workers (one connection each)")
	fs.IntVar(&cfg.Keys, "keys", cfg.Keys, "API keys created and cycled through")
	fs.IntVar(&cfg.Jobs, "jobs", cfg.Jobs, "jobs in the workspace (the size of the response)")
	fs.DurationVar(&cfg.UsageInterval, "usage-interval", cfg.UsageInterval, "plangrep's -usage-interval")
	fs.StringVar(&cfg.Plangrep, "plangrep", "", "path of a built plangrep binary (default: go build it)")
	fs.StringVar(&cfg.DB, "db", "", "plangrep's -db (default: a fresh SQLite file in a temporary directory)")
	fs.IntVar(&cfg.ServerProcs, "server-procs", cfg.ServerProcs, "GOMAXPROCS of each server process")
	fs.IntVar(&cfg.ClientProcs, "client-procs", cfg.ClientProcs, "GOMAXPROCS of the load generator")
	fs.BoolVar(&cfg.Controls, "controls", false, "also drive projectkeys' GET /v1/whoami with keys without controls and with a rate limit, against a bare handler with its body")
	fs.StringVar(&cfg.Projectkeys, "projectkeys", "", "with -controls: path of a built projectkeys binary (default: go build it)")
	fs.StringVar(&cfg.Redis, "redis", "", "with -controls: also run projectkeys -redis URL (e.g. redis://127.0.0.1:6379/0), its keys' rate limit kept in Redis")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
	if problems := rep.problems(); len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "loadtest:", p)
		}
		os.Exit(1)
	}
}
