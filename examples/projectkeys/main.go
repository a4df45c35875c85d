// Command projectkeys reproduces seed 003's project-level API key service
// on the apikey library: an operator token and project keys with
// api-keys:manage manage keys, keys rotate on demand with a grace period
// and on a schedule through a signed webhook. See examples/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/rotation"
)

func main() {
	fs := flag.NewFlagSet("projectkeys", flag.ExitOnError)
	kc := kit.RegisterFlags(fs, "projectkeys")
	adminToken := fs.String("admin-token", "", "operator bearer token (default $ADMIN_TOKEN; under -dev a random one is generated when neither is set)")
	rotationCheck := fs.Duration("rotation-check", rotation.DefaultCheckInterval, "how often keys due for scheduled rotation are rotated")
	redisURL := fs.String("redis", "", "redis://HOST:PORT/DB: rate limits shared with every process given the same Redis and -db (default: in-process)")
	scanKeys := fs.String("secret-scanning-keys", "", "file of the secret scanner's public keys (GitHub's /meta/public_keys/secret_scanning JSON); mounts POST /v1/secret-scanning/github")
	scanPolicy := fs.String("secret-scanning-policy", "revoke", "what a leak report does to the key: revoke or flag")
	_ = fs.Parse(os.Args[1:])
	if *scanPolicy != "revoke" && *scanPolicy != "flag" {
		fmt.Fprintln(os.Stderr, "projectkeys: -secret-scanning-policy must be revoke or flag")
		os.Exit(2)
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := config{Config: *kc, AdminToken: *adminToken, RotationCheck: *rotationCheck,
		SecretScanKeys: *scanKeys, SecretScanFlag: *scanPolicy == "flag", Redis: *redisURL}
	if cfg.AdminToken == "" {
		cfg.AdminToken = os.Getenv("ADMIN_TOKEN")
	}
	a, err := newApp(context.Background(), cfg, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "projectkeys:", err)
		os.Exit(1)
	}
	err = kit.Serve(cfg.Addr, a.handler, log, a.shutdown)
	// Serve ran the shutdown after a signal; when serving failed instead,
	// it still has to run (a second call does nothing).
	err = errors.Join(err, a.shutdown(context.Background()))
	if err != nil {
		log.Error("server stopped", "error", err.Error())
		os.Exit(1)
	}
}
