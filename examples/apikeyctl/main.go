// Command apikeyctl is the operator's command line for the keys of the
// example servers (plangrep, projectmanager, projectkeys, grpcserver), or
// of any application built on apikey and sqlstore: it works on the
// database directly, with the server's secret.
//
//	apikeyctl COMMAND [flags] [args]
//
//	migrate                         create or upgrade the schema
//	create  -tenant T [-name N] [-scopes a,b] [-expires TIME | -ttl DUR] [-env E]
//	                                issue a key; prints its token once
//	list    -tenant T [-state active|revoked|all]
//	show    ID                      one key, every field
//	disable ID / enable ID          stop a key for now / let it work again
//	revoke  ID                      revoke a key (idempotent)
//	revoke-all -tenant T            revoke every key of a tenant
//	rotate  ID [-grace DUR]         issue a successor; the old key works for DUR
//	import  FILE.csv                import SHA-256 hashed keys of another system
//
// Every command takes -db (default $APIKEY_DB): "sqlite:PATH",
// "postgres://...", "mysql:DSN", as the servers' -db; -prefix and -env, the
// token prefix and environments the server's manager uses (plangrep: pgk,
// projectmanager: pmk, projectkeys: pk; all "live"); and -json, for JSON
// on standard output instead of tables. Commands that take an ID act on a
// key of any tenant unless -tenant names one.
//
// The server secret comes from APIKEY_SECRET (base64 of 32+ bytes), as the
// servers take it, or from -secret-file (default: PATH.secret beside a
// SQLite database, where projectmanager and projectkeys keep theirs). The
// command never creates a secret: a key made with another secret than the
// server's would never verify.
//
// The token of a new key (create, rotate) is the only thing printed on
// standard output, once, so that TOKEN=$(apikeyctl create ...) captures
// it; the key's details go to standard error (with -json, one JSON object
// with "token" and "key" goes to standard output). No other command ever
// prints a token: the database does not hold one.
//
// Exit status: 0 on success, 1 on a runtime error (a key not found, a
// database error), 2 on bad usage (unknown command or flag, invalid value).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/apikit/apikey"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// command is one subcommand: its flags are registered on fs (beside the
// common ones), and do runs it once they are parsed.
type command struct {
	summary string
	args    string // usage of the positional arguments
	nargs   int    // how many positional arguments
	setup   func(fs *flag.FlagSet) func(ctx context.Context, c *cli, args []string) error
}

var commands = map[string]command{
	"migrate":    {summary: "create or upgrade the schema", setup: migrateCmd},
	"create":     {summary: "issue a key and print its token once", setup: createCmd},
	"list":       {summary: "list a tenant's keys", setup: listCmd},
	"show":       {summary: "show one key", args: "ID", nargs: 1, setup: showCmd},
	"revoke":     {summary: "revoke a key", args: "ID", nargs: 1, setup: revokeCmd},
	"revoke-all": {summary: "revoke every key of a tenant", setup: revokeAllCmd},
	"rotate":     {summary: "issue a successor and print its token once", args: "ID", nargs: 1, setup: rotateCmd},
	"import":     {summary: "import SHA-256 hashed keys from CSV", args: "FILE.csv", nargs: 1, setup: importCmd},
}

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run is the command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name := args[0]
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "apikeyctl: unknown command %q\n", name)
		printUsage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet("apikeyctl "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &cli{stdout: stdout, stderr: stderr}
	c.register(fs)
	do := cmd.setup(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: apikeyctl %s [flags] %s\n%s.\n\nflags:\n", name, cmd.args, cmd.summary)
		fs.PrintDefaults()
	}
	positional, err := parseInterspersed(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(positional) != cmd.nargs {
		fmt.Fprintf(stderr, "apikeyctl %s: want %d argument(s) (%s), got %d\n", name, cmd.nargs, cmd.args, len(positional))
		return exitUsage
	}
	err = c.open(ctx)
	if err == nil {
		defer c.close()
		err = do(ctx, c, positional)
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, apikey.ErrInvalid):
		fmt.Fprintf(stderr, "apikeyctl %s: %v\n", name, err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "apikeyctl %s: %v\n", name, err)
		return exitError
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: apikeyctl COMMAND [flags] [args]  (apikeyctl COMMAND -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %-9s %s\n", n, commands[n].args, commands[n].summary)
	}
	fmt.Fprintln(w, "\nThe server secret comes from APIKEY_SECRET or -secret-file; -db defaults to $APIKEY_DB.")
}

// parseInterspersed parses flags before and after positional arguments
// ("show ID -json" as well as "show -json ID"); "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
