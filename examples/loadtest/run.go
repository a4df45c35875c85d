package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"time"
)

// run performs the load test described in the package comment, printing
// progress and the report to out.
func run(ctx context.Context, cfg config, out io.Writer) (report, error) {
	if cfg.Concurrency < 1 || cfg.Keys < 1 || cfg.Rounds < 1 || cfg.Duration <= 0 || cfg.ServerProcs < 1 || cfg.ClientProcs < 1 {
		return report{}, errors.New("-concurrency, -keys, -rounds, -duration, -server-procs and -client-procs must be positive")
	}
	if cfg.Redis != "" && !cfg.Controls {
		return report{}, errors.New("-redis needs -controls")
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
		if bin, err = build(ctx, dir, plangrepPkg); err != nil {
			return report{}, err
		}
	}
	pkBin := cfg.Projectkeys
	if cfg.Controls && pkBin == "" {
		fmt.Fprintln(out, "building projectkeys")
		if pkBin, err = build(ctx, dir, projectkeysPkg); err != nil {
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
	bodies := map[string][]byte{jobsPath: fix.body}
	var pkTargets []*target
	if cfg.Controls {
		servers := []struct{ name, redis string }{{"projectkeys", ""}}
		if cfg.Redis != "" {
			servers = append(servers, struct{ name, redis string }{"projectkeys-redis", cfg.Redis})
		}
		for _, sv := range servers {
			p, err := startProjectkeys(ctx, cfg, pkBin, dir, sv.name, sv.redis)
			if err != nil {
				return report{}, err
			}
			defer p.kill()
			fmt.Fprintf(out, "%s on %s; creating %d keys without controls and %d with a rate limit\n", sv.name, p.addr, cfg.Keys, cfg.Keys)
			pf, err := prepareProjectkeys(ctx, "http://"+p.addr, cfg.Keys)
			if err != nil {
				return report{}, fmt.Errorf("%s: %w", sv.name, err)
			}
			bodies[whoamiPath] = pf.body
			url := "http://" + p.addr + whoamiPath
			if sv.redis == "" {
				pkTargets = append(pkTargets,
					newTarget("pk", "bare/whoami", url, p.cmd.Process.Pid, cfg.Concurrency, pf.plain),
					newTarget("pk+limit", "bare/whoami", url, p.cmd.Process.Pid, cfg.Concurrency, pf.limited))
			} else {
				pkTargets = append(pkTargets,
					newTarget("pk+redis", "bare/whoami", url, p.cmd.Process.Pid, cfg.Concurrency, pf.limited))
			}
		}
	}
	bare, err := startBare(ctx, cfg, bodies, dir)
	if err != nil {
		return report{}, err
	}
	defer bare.kill()
	fmt.Fprintf(out, "bare handler on %s\n", bare.addr)

	targets := []*target{
		newTarget("bare", "", "http://"+bare.addr+jobsPath, bare.cmd.Process.Pid, cfg.Concurrency, fix.tokens),
		newTarget("plangrep", "bare", "http://"+pg.addr+jobsPath, pg.cmd.Process.Pid, cfg.Concurrency, fix.tokens),
	}
	if len(pkTargets) > 0 {
		targets = append(targets, newTarget("bare/whoami", "", "http://"+bare.addr+whoamiPath, bare.cmd.Process.Pid,
			cfg.Concurrency, fix.tokens)) // the bare handler ignores the token
		targets = append(targets, pkTargets...)
	}
	pgRequests := 1 // the set-up GET
	for _, t := range targets {
		r := drive(ctx, t, cfg.Concurrency, cfg.Warmup)
		if t.name == "plangrep" {
			pgRequests += r.requests + r.failures
		}
	}
	per := cfg.Duration / time.Duration(cfg.Rounds)
	rounds := map[string][]round{}
	for i := range cfg.Rounds {
		order := slices.Clone(targets)
		if i%2 == 1 {
			slices.Reverse(order)
		}
		for _, t := range order {
			r := drive(ctx, t, cfg.Concurrency, per)
			rounds[t.name] = append(rounds[t.name], r)
			if t.name == "plangrep" {
				pgRequests += r.requests + r.failures
			}
			fmt.Fprintf(out, "round %d %-12s %8.0f req/s\n", i+1, t.name, float64(r.requests)/r.elapsed.Seconds())
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
	for _, t := range targets {
		rep.all = append(rep.all, summarize(t.name, rounds[t.name]))
		if t.base != "" {
			rep.comparisons = append(rep.comparisons, compare(t.name, t.base, rounds[t.name], rounds[t.base]))
		}
	}
	rep.write(out)
	return rep, nil
}
