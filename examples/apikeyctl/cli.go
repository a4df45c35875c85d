package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/legacy"
	"github.com/apikit/apikey/rotation"
)

// cli is what every command shares: the common flags, the opened store
// and the manager.
type cli struct {
	stdout, stderr io.Writer

	db         string
	secretFile string
	prefix     string
	envs       string
	json       bool
	legacy     string // the legacy hash version of imported keys (import)

	backend *kit.Backend
	m       *apikey.Manager
}

// register registers the common flags.
func (c *cli) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", os.Getenv("APIKEY_DB"), `the store: "sqlite:PATH", "postgres://...", "mysql:DSN" (default $APIKEY_DB)`)
	fs.StringVar(&c.secretFile, "secret-file", "", "file holding the server secret when APIKEY_SECRET is unset (default: PATH.secret beside a SQLite database)")
	fs.StringVar(&c.prefix, "prefix", "key", "token prefix of the server's keys (plangrep: pgk, projectmanager: pmk, projectkeys: pk)")
	fs.StringVar(&c.envs, "env", "live", "token environments the server accepts, comma-separated; new keys get the first")
	fs.BoolVar(&c.json, "json", false, "print JSON on standard output instead of tables")
}

// open opens the store, loads the secret and builds the manager as the
// servers build theirs (prefix, environments, pepper v1, webhook key).
func (c *cli) open(ctx context.Context) error {
	if c.db == "" {
		return usagef("-db is required (or set APIKEY_DB)")
	}
	if c.db == "memory" {
		return usagef("-db memory: the memory store lives in a server's process; name its database")
	}
	secrets, err := c.secrets()
	if err != nil {
		return err
	}
	if c.backend, err = kit.OpenStore(ctx, c.db); err != nil {
		if strings.HasPrefix(err.Error(), "-db") {
			return usagef("%v", err)
		}
		return err
	}
	// The webhook key, so that rotating a key with a rotation webhook keeps
	// its sealed secret usable by the server.
	hooks, err := rotation.NewWebhooks(secrets.WebhookKey, rotation.WebhookPolicy{})
	if err != nil {
		c.close()
		return err
	}
	opts := []apikey.Option{
		apikey.WithPrefix(c.prefix),
		apikey.WithEnvironments(splitList(c.envs)...),
		apikey.WithPepper("v1", secrets.Pepper),
		apikey.WithWebhooks(hooks),
		apikey.WithLogger(slog.New(slog.DiscardHandler)),
	}
	if c.legacy != "" {
		opts = append(opts, apikey.WithLegacyImport(legacy.SHA256(c.legacy)))
	}
	if c.m, err = apikey.New(c.backend.Store, opts...); err != nil {
		c.close()
		return err
	}
	return nil
}

// secrets loads the server secret: APIKEY_SECRET, else the secret file,
// which must exist (the command never makes one up).
func (c *cli) secrets() (kit.Secrets, error) {
	if v, set := os.LookupEnv("APIKEY_SECRET"); set {
		if strings.TrimSpace(v) == "" {
			return kit.Secrets{}, usagef("APIKEY_SECRET is set but blank: set it to the server's secret, or unset it to use -secret-file")
		}
		return kit.LoadSecrets("", slog.New(slog.DiscardHandler))
	}
	path := c.secretFile
	if path == "" {
		p, ok := strings.CutPrefix(c.db, "sqlite:")
		if !ok {
			return kit.Secrets{}, usagef("set APIKEY_SECRET (or -secret-file) to the server's secret")
		}
		path = p + ".secret"
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return kit.Secrets{}, fmt.Errorf("no server secret: APIKEY_SECRET is unset and %s does not exist (start the server once, or set APIKEY_SECRET)", path)
	}
	return kit.LoadSecrets(path, slog.New(slog.DiscardHandler))
}

// close releases the database.
func (c *cli) close() {
	if c.backend != nil {
		_ = c.backend.Close(context.Background())
		c.backend = nil
	}
}

// key returns key id: of tenant, or of any tenant when tenant is empty
// (the operator path, Manager.GetByID).
func (c *cli) key(ctx context.Context, tenant, id string) (*apikey.Key, error) {
	if tenant == "" {
		return c.m.GetByID(ctx, id)
	}
	return c.m.Get(ctx, tenant, id)
}
