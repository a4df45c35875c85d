// Command plangrep is the example server for Plangrep's workspace API keys
// (SPEC C1): a session-cookie plane where a workspace member creates, lists
// and revokes keys, and a bearer-key Open API (/api/open/v1/...) that those
// keys call, with scopes jobs:read, jobs:write and artifacts:read.
//
// Run it from the repository root with no setup:
//
//	go run ./examples/plangrep -dev         # SQLite file plangrep.db, dev sign-in
//	go run ./examples/plangrep              # the same without /dev/bootstrap, /dev/clock
//
// and open http://127.0.0.1:8080/settings/api: seed 002's API settings page
// (sign in, create a key shown once, revoke one or all), server-rendered
// and usable without JavaScript. Its sign-in form exists only with -dev.
//
// Flags: -addr (default 127.0.0.1:8080), -db (memory, sqlite:PATH,
// postgres://..., mysql:DSN; default sqlite:plangrep.db), -dev, and
// -usage-interval (how often last-used data is written; default 1s).
//
// The server secret (the pepper of the key hashes) comes from APIKEY_SECRET
// (base64 of 32+ bytes) or, for a demo, from the file plangrep.secret in the
// working directory, created on first run. The memory store uses a random
// one. Keep the database and the secret apart: the keys in one are useless
// without the other.
//
// Sessions live in memory (this example has no login of its own): the
// settings page's sign-in form or POST /dev/bootstrap, both available with
// -dev only, open one. See examples/README.md for a curl walk-through.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/apikit/apikey/examples/internal/kit"
)

// secretFile is the demo secret file, relative to the working directory.
const secretFile = "plangrep.secret"

func main() {
	fs := flag.NewFlagSet("plangrep", flag.ExitOnError)
	cfg := kit.RegisterFlags(fs, "plangrep")
	_ = fs.Parse(os.Args[1:])
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(cfg, log); err != nil {
		log.Error("plangrep stopped", "error", err.Error())
		os.Exit(1)
	}
}

// run opens the store, builds the server and serves until a signal.
func run(cfg *kit.Config, log *slog.Logger) error {
	ctx := context.Background()
	backend, secrets, err := kit.Open(ctx, cfg, secretFile, log)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, appConfig{
		Backend:         backend,
		Secrets:         secrets,
		Clock:           &kit.DevClock{},
		Dev:             cfg.Dev,
		UsageInterval:   cfg.UsageInterval,
		MaxAuthFailures: cfg.MaxAuthFailures,
		MaxKeys:         cfg.MaxKeys,
		Logger:          log,
	})
	if err != nil {
		_ = backend.Close(ctx)
		return fmt.Errorf("starting: %w", err)
	}
	log.Info("plangrep ready", "store", backend.Kind, "dev", cfg.Dev)
	log.Info("API settings page", "url", pageURL(cfg.Addr))
	if !cfg.Dev {
		log.Info("dev endpoints are off: start with -dev to sign in on the settings page or open a session with POST /dev/bootstrap")
	}
	return kit.Serve(cfg.Addr, a.handler, log, a.shutdown, a.logUsageStats)
}

// pageURL is the settings page's URL for listen address addr (a wildcard
// host becomes 127.0.0.1; port 0 is named by the "listening" line).
func pageURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + settingsPath
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	if port == "0" {
		port = "PORT"
	}
	return "http://" + net.JoinHostPort(host, port) + settingsPath
}
