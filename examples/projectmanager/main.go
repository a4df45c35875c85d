// Command projectmanager reproduces the API-key endpoints of
// ProjectManager.com's REST API (seed 001) on the apikey library:
//
//	GET    /api/data/api-keys                 list the workspace's usable keys
//	POST   /api/data/api-keys                 create a key {"tokenName":"..."}
//	DELETE /api/data/api-keys/{id}/revoke     revoke one key (id is a UUID)
//	DELETE /api/data/api-keys/revoke-all      revoke every key of the workspace
//
// Every call is authenticated by a bearer API key ("pmk_live_..."), which
// acts on its own workspace only; keys expire two calendar years after
// creation. Every answer, errors included, is ProjectManager's envelope
// {"data":...,"error":...,"success":...,"hasError":...,"statusCode":"..."}.
//
// Usage:
//
//	projectmanager [-addr 127.0.0.1:8080] [-db sqlite:projectmanager.db] [-dev] [-usage-interval 1s]
//
// With -dev, POST /dev/bootstrap {"workspaceId":"ws_a"} issues a first key
// and POST /dev/clock {"advance":"48h"} moves the server's clock forward.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/apikit/apikey/examples/internal/kit"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "projectmanager:", err)
		os.Exit(1)
	}
}

// run parses args, builds the app and serves until SIGINT or SIGTERM.
func run(args []string) error {
	fs := flag.NewFlagSet("projectmanager", flag.ContinueOnError)
	cfg := kit.RegisterFlags(fs, "projectmanager")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx := context.Background()
	backend, secrets, err := kit.Open(ctx, cfg, kit.SecretFileBeside(cfg.DB, "projectmanager.secret"), log)
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
		return err
	}
	if cfg.Dev {
		log.Warn("-dev is on: POST /dev/bootstrap and POST /dev/clock are enabled")
	}
	return kit.Serve(cfg.Addr, a.handler, log, a.shutdown)
}
