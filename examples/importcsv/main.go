// Command importcsv brings API keys issued by another system into an apikey
// store without reissuing them. The old system must have stored the SHA-256
// of each token (hex or base64), as Unkey and Strait do. Each key keeps its
// old hash under a legacy hash version until its first successful verify,
// which re-hashes it to HMAC-SHA-256 with the pepper.
//
// The input is a CSV file whose first row names the columns, in any order:
//
//	id,tenant,scopes,sha256[,name][,prefix][,created_at][,expires_at]
//
// scopes are space-separated; times are RFC 3339; an id that is a ULID
// becomes the key's ID, any other is kept in the key's metadata as
// "legacy_id". The whole file is checked before anything is imported; a key
// imported before (same ID or hash) is skipped, so a run can be repeated.
//
// Usage:
//
//	importcsv [-db memory] [-prefix key] [-pepper-env APIKEY_PEPPER] [-verify] keys.csv
//
// With -verify it then reads old tokens from standard input, one per line,
// verifies each and prints the key and its hash version (never the token).
// sample.csv holds the SHA-256 of three made-up tokens, sk_example_0001 to
// sk_example_0003:
//
//	printf 'sk_example_0001\nsk_example_0001\n' | go run . -verify sample.csv
//
// The pepper is read from the environment variable named by -pepper-env and
// must be at least 32 bytes; with the memory store, which does not outlive
// the run, a random one is used when the variable is unset.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/csvimport"
	"github.com/apikit/apikey/legacy"
)

// legacyVersion is the hash version imported keys are stored under until
// their first verify.
const legacyVersion = "sha256"

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)) }

// run is the command; getenv reads the environment. It returns the exit
// status: 0 on success, 1 when an import or a verify failed, 2 on bad usage
// or an unreadable input.
func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("importcsv", flag.ContinueOnError)
	flags.SetOutput(stderr)
	db := flags.String("db", "memory", `the store: "memory", "sqlite:PATH", "postgres://...", or "mysql:DSN"`)
	prefix := flags.String("prefix", "key", "token prefix of keys issued from now on")
	pepperEnv := flags.String("pepper-env", "APIKEY_PEPPER", "environment variable holding the pepper (32+ bytes)")
	verify := flags.Bool("verify", false, "after importing, verify the tokens read from standard input, one per line")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: importcsv [flags] keys.csv")
		flags.PrintDefaults()
		return 2
	}
	ctx := context.Background()
	store, err := openStore(*db)
	if err != nil {
		fmt.Fprintf(stderr, "importcsv: %v\n", err)
		return 2
	}
	if store.close != nil {
		defer store.close()
	}
	pepper, err := loadPepper(getenv(*pepperEnv), *pepperEnv, store.persistent, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "importcsv: %v\n", err)
		return 2
	}
	m, err := apikey.New(store,
		apikey.WithPrefix(*prefix),
		apikey.WithPepper("v1", pepper),
		apikey.WithLegacyImport(legacy.SHA256(legacyVersion)),
	)
	if err != nil {
		fmt.Fprintf(stderr, "importcsv: %v\n", err)
		return 2
	}
	f, err := os.Open(flags.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "importcsv: %v\n", err)
		return 2
	}
	defer f.Close()
	rows, err := csvimport.Read(f, legacyVersion)
	if err != nil {
		fmt.Fprintf(stderr, "importcsv: %s: %v\n", flags.Arg(0), err)
		return 2
	}
	status := 0
	if r := csvimport.Import(ctx, m, rows, "importcsv", stderr); r.Failed > 0 {
		status = 1
		fmt.Fprintf(stdout, "imported %d keys, skipped %d already imported, %d failed\n", r.Imported, r.Skipped, r.Failed)
	} else {
		fmt.Fprintf(stdout, "imported %d keys under hash version %s, skipped %d already imported\n", r.Imported, legacyVersion, r.Skipped)
	}
	if *verify && verifyTokens(ctx, m, stdin, stdout) > 0 {
		status = 1
	}
	return status
}

// loadPepper returns the pepper from the environment. Without one, a store
// that does not outlive the process gets a random pepper; a persistent one
// is an error.
func loadPepper(value, name string, persistent bool, stderr io.Writer) ([]byte, error) {
	switch {
	case value != "":
		return []byte(value), nil
	case persistent:
		return nil, fmt.Errorf("set %s to the pepper (32+ secret bytes): re-hashed keys need it on every run", name)
	}
	fmt.Fprintf(stderr, "importcsv: %s is unset; using a random pepper (the memory store ends with this run)\n", name)
	pepper := make([]byte, apikey.MinPepperLen)
	if _, err := rand.Read(pepper); err != nil {
		return nil, err
	}
	return pepper, nil
}

// verifyTokens verifies each token line of r and prints the outcome by
// line number, with the key's ID, display prefix and stored hash version.
// It returns how many failed.
func verifyTokens(ctx context.Context, m *apikey.Manager, r io.Reader, w io.Writer) (failed int) {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		tok := strings.TrimSpace(sc.Text())
		if tok == "" {
			continue
		}
		k, err := m.Verify(ctx, tok)
		if err != nil {
			failed++
			fmt.Fprintf(w, "token %d: refused: %s\n", n, apikey.Reason(err))
			continue
		}
		version := k.HashVersion
		if stored, err := m.GetByID(ctx, k.ID); err == nil {
			version = stored.HashVersion
		}
		fmt.Fprintf(w, "token %d: ok: key %s (%s) of %s, stored under %s\n", n, k.ID, k.Prefix, k.Tenant, version)
	}
	if err := sc.Err(); err != nil {
		failed++
		fmt.Fprintf(w, "reading tokens: %v\n", err)
	}
	return failed
}
