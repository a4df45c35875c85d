package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/csvimport"
)

// runFunc runs a command once its flags are parsed.
type runFunc = func(ctx context.Context, c *cli, args []string) error

func migrateCmd(*flag.FlagSet) runFunc {
	return func(_ context.Context, c *cli, _ []string) error {
		// Opening the store applied the migrations.
		fmt.Fprintf(c.stderr, "schema of the %s database is up to date\n", c.backend.Kind)
		return nil
	}
}

func createCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "the tenant (workspace, project) that owns the key (required)")
	name := fs.String("name", "", "a label for people")
	scopes := fs.String("scopes", "", "scopes, comma-separated (such as jobs:read,jobs:write)")
	expires := fs.String("expires", "", "expiry time, RFC 3339 (such as 2027-01-31T00:00:00Z)")
	ttl := fs.Duration("ttl", 0, "lifetime from now (such as 720h); instead of -expires")
	env := fs.String("environment", "", "the key's environment (default: the first of -env)")
	createdBy := fs.String("created-by", "apikeyctl", "recorded as the key's creator")
	return func(ctx context.Context, c *cli, _ []string) error {
		if *tenant == "" {
			return usagef("-tenant is required")
		}
		p := apikey.CreateParams{Tenant: *tenant, Name: *name, Scopes: splitList(*scopes), Environment: *env, CreatedBy: *createdBy}
		var err error
		if p.ExpiresAt, err = expiry(*expires, *ttl, c.m.Now()); err != nil {
			return err
		}
		is, err := c.m.Create(ctx, p)
		if err != nil {
			return err
		}
		return c.printIssued(is, "created")
	}
}

// expiry reads -expires or -ttl (not both).
func expiry(expires string, ttl time.Duration, now time.Time) (time.Time, error) {
	switch {
	case expires != "" && ttl != 0:
		return time.Time{}, usagef("give -expires or -ttl, not both")
	case ttl < 0:
		return time.Time{}, usagef("-ttl must be positive")
	case ttl > 0:
		return now.Add(ttl), nil
	case expires != "":
		t, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			return time.Time{}, usagef("-expires: want RFC 3339 such as 2027-01-31T00:00:00Z: %v", err)
		}
		return t, nil
	}
	return time.Time{}, nil
}

func listCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "the tenant whose keys to list (required)")
	state := fs.String("state", "all", "which keys: active, revoked or all")
	return func(ctx context.Context, c *cli, _ []string) error {
		if *tenant == "" {
			return usagef("-tenant is required")
		}
		filter, ok := map[string]apikey.ListFilter{"all": apikey.ListAny, "active": apikey.ListActive, "revoked": apikey.ListRevoked}[*state]
		if !ok {
			return usagef("-state %q: want active, revoked or all", *state)
		}
		keys, err := c.m.ListAll(ctx, *tenant, filter)
		if err != nil {
			return err
		}
		return c.printKeys(keys)
	}
}

func showCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "only a key of this tenant (default: any)")
	return func(ctx context.Context, c *cli, args []string) error {
		k, err := c.key(ctx, *tenant, args[0])
		if err != nil {
			return err
		}
		return c.printKey(k)
	}
}

func revokeCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "only a key of this tenant (default: any)")
	return func(ctx context.Context, c *cli, args []string) error {
		k, err := c.key(ctx, *tenant, args[0])
		if err != nil {
			return err
		}
		if k, err = c.m.Revoke(ctx, k.Tenant, k.ID); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "revoked %s (%s) at %s\n", k.ID, k.Prefix, k.RevokedAt.Format(time.RFC3339))
		if c.json {
			return c.printKey(k)
		}
		return nil
	}
}

func revokeAllCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "the tenant whose keys to revoke, all of them (required)")
	return func(ctx context.Context, c *cli, _ []string) error {
		if *tenant == "" {
			return usagef("-tenant is required and names one tenant")
		}
		before := c.m.Now().Truncate(time.Microsecond)
		keys, err := c.m.RevokeAll(ctx, *tenant)
		if err != nil {
			return err
		}
		// The keys this call revoked share one timestamp, not before the
		// call (RevokeAll may also return keys revoked earlier).
		var revoked []*apikey.Key
		for _, k := range keys {
			if !k.RevokedAt.Before(before) {
				revoked = append(revoked, k)
			}
		}
		fmt.Fprintf(c.stderr, "revoked %d key(s) of %s\n", len(revoked), *tenant)
		if c.json {
			return c.printKeys(revoked)
		}
		return nil
	}
}

func rotateCmd(fs *flag.FlagSet) runFunc {
	tenant := fs.String("tenant", "", "only a key of this tenant (default: any)")
	grace := fs.Duration("grace", time.Hour, "how long the old key keeps working (0: revoked at once)")
	return func(ctx context.Context, c *cli, args []string) error {
		if *grace < 0 {
			return usagef("-grace must be 0 or positive")
		}
		k, err := c.key(ctx, *tenant, args[0])
		if err != nil {
			return err
		}
		rot, err := c.m.Rotate(ctx, k.Tenant, k.ID, *grace)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "rotated %s: it works until %s\n", rot.Old.ID, rot.Old.GraceExpiresAt.Format(time.RFC3339))
		return c.printIssued(&rot.Issued, "successor")
	}
}

func importCmd(fs *flag.FlagSet) runFunc {
	version := fs.String("legacy-version", "sha256", "the hash version imported keys are stored under until their first verify; the application must register the same (apikey.WithLegacyImport(legacy.SHA256(version)))")
	return func(ctx context.Context, c *cli, args []string) error {
		// The manager needs the legacy scheme to accept the import: reopen
		// with it.
		c.close()
		c.legacy = *version
		if err := c.open(ctx); err != nil {
			return err
		}
		f, err := os.Open(args[0])
		if err != nil {
			return err
		}
		defer f.Close()
		rows, err := csvimport.Read(f, *version)
		if err != nil {
			return usagef("%s: %v", args[0], err)
		}
		r := csvimport.Import(ctx, c.m, rows, "apikeyctl import", c.stderr)
		if c.json {
			if err := c.writeJSON(map[string]int{"imported": r.Imported, "skipped": r.Skipped, "failed": r.Failed}); err != nil {
				return err
			}
		}
		fmt.Fprintf(c.stderr, "imported %d key(s) under hash version %s, skipped %d already imported, %d failed\n", r.Imported, *version, r.Skipped, r.Failed)
		if r.Failed > 0 {
			return fmt.Errorf("%d key(s) failed", r.Failed)
		}
		return nil
	}
}
