package main

import (
	"context"
	"flag"
	"fmt"
)

// disableCmd is disable (on) and enable (!on): Manager.Disable / Enable.
// A disabled key is refused like a revoked one until it is enabled again.
func disableCmd(on bool) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		tenant := fs.String("tenant", "", "only a key of this tenant (default: any)")
		return func(ctx context.Context, c *cli, args []string) error {
			k, err := c.key(ctx, *tenant, args[0])
			if err != nil {
				return err
			}
			verb := "enabled"
			if on {
				verb = "disabled"
				k, err = c.m.Disable(ctx, k.Tenant, k.ID)
			} else {
				k, err = c.m.Enable(ctx, k.Tenant, k.ID)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "%s %s (%s)\n", verb, k.ID, k.Prefix)
			if c.json {
				return c.printKey(k)
			}
			return nil
		}
	}
}
