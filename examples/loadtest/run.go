package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// run performs the load test described in the package comment, printing
// progress and the report to out.
func run(ctx context.Context, cfg config, out io.Writer) (report, error) {
	if cfg.Concurrency < 1 || cfg.Keys < 1 || cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.ServerProcs < 1 || cfg.ClientProcs < 1 {
		return report{}, errors.New("-concurrency, -keys, -rounds, -duration, -server-procs and -client-procs must be positive")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(cfg.ClientProcs))
	dir, err := os.MkdirTemp("", "apikey-loadtest-")
	if err != nil {
		return report{}, err
	}
	defer os.RemoveAll(dir)

	bin := cfg.Plangrep
	if bin == "" {
		fmt.Fprintln(out, "building plangrep")
		if bin, err = buildPlangrep(ctx, dir); err != nil {
			return report{}, err
		}
	}
	pg, err := startPlangrep(ctx, cfg, bin, dir)
	if err != nil {
		return report{}, err
	}
	defer func() {
		if pg != nil {
			pg.kill()
		}
	}()
	fmt.Fprintf(out, "plangrep on %s; creating %d keys\n", pg.addr, cfg.Keys)
	fix, err := prepare(ctx, "http://"+pg.addr, cfg.Keys, cfg.Jobs)
	if err != nil {
		return report{}, err
	}
	bare, err := startBare(ctx, cfg, fix.body, dir)
	if err != nil {
		return report{}, err
	}
	defer bare.kill()
	fmt.Fprintf(out, "bare handler on %s\n", bare.addr)

	targets := []*target{
		newTarget("bare", "http://"+bare.addr+jobsPath, bare.cmd.Process.Pid, cfg.Concurrency),
		newTarget("plangrep", "http://"+pg.addr+jobsPath, pg.cmd.Process.Pid, cfg.Concurrency),
	}
	pgRequests := 1 // the set-up GET
	for _, t := range targets {
		r := drive(ctx, t, fix.tokens, cfg.Concurrency, cfg.Warmup)
		if t.name == "plangrep" {
			pgRequests += r.requests + r.failures
		}
	}
	per := cfg.Duration / time.Duration(cfg.Rounds)
	rounds := map[string][]round{}
	for i := range cfg.Rounds {
		order := targets
		if i%2 == 1 {
			order = []*target{targets[1], targets[0]}
		}
		for _, t := range order {
			r := drive(ctx, t, fix.tokens, cfg.Concurrency, per)
			rounds[t.name] = append(rounds[t.name], r)
			if t.name == "plangrep" {
				pgRequests += r.requests + r.failures
			}
			fmt.Fprintf(out, "round %d %-8s %8.0f req/s\n", i+1, t.name, float64(r.requests)/r.elapsed.Seconds())
		}
		if err := ctx.Err(); err != nil {
			return report{}, err
		}
	}

	lived, err := pg.stop()
	stopped := pg
	pg = nil
	if err != nil {
		return report{}, err
	}
	f := stopped.fields(usageStatsMsg)
	if f == nil {
		return report{}, fmt.Errorf("plangrep logged no %q line at shutdown:\n%s", usageStatsMsg, stopped.lastLines())
	}
	u, err := parseUsage(f)
	if err != nil {
		return report{}, err
	}
	u.keys, u.interval, u.lived, u.requests = len(fix.tokens), cfg.UsageInterval, lived, pgRequests
	if cfg.Jobs > 0 {
		u.keys++ // the key that created the jobs
	}
	rep := report{
		cfg:      cfg,
		cpus:     runtime.NumCPU(),
		body:     len(fix.body),
		bare:     summarize("bare", rounds["bare"]),
		plangrep: summarize("plangrep", rounds["plangrep"]),
		usage:    u,
	}
	rep.write(out)
	return rep, nil
}
