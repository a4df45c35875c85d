// Command scan looks for leaked API keys of the apikey library in files,
// directories (recursively, skipping .git) or standard input, and reports
// each one as
//
//	file:line: <display prefix>
//
// such as "config.yaml:12: pgk_live_abc1". It never prints a token: only its
// display prefix, which is safe in logs and CI output.
//
// Tokens are also found behind an encoding, as gitleaks does: inside
// base64 runs (a Kubernetes Secret, a base64 env file; standard or URL
// alphabet) and behind JSON \u escapes ("pgk\u005flive\u005f..."), peeled
// off up to three levels deep (base64 of base64 of escaped JSON).
//
// A candidate is any match of apikey.TokenPattern; it is reported only if
// apikey.ValidChecksum accepts it, that is if its last six characters are the
// base62 CRC-32/IEEE of everything before them (see the TokenPattern
// documentation for the algorithm and a test vector). No key material or
// network access is needed, and look-alikes (random strings, examples with a
// made-up body) are not reported.
//
// Usage:
//
//	scan [-prefix pgk] [file or directory ...]
//
// With no arguments it reads standard input. The exit status is 0 when
// nothing was found, 1 when a token was found, and 2 when a file could not be
// read (or the arguments are wrong), so it can gate a CI job or a pre-commit
// hook:
//
//	git diff --cached | go run github.com/apikit/apikey/examples/scan -prefix pgk
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/apikit/apikey"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// Exit statuses.
const (
	exitClean = 0
	exitFound = 1
	exitError = 2
)

// run is the command: it parses args, scans, and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("scan", flag.ContinueOnError)
	flags.SetOutput(stderr)
	prefix := flags.String("prefix", "", "report only tokens with this prefix (such as pgk); default: any")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: scan [-prefix PREFIX] [file or directory ...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return exitError
	}
	if *prefix != "" && !validPrefix(*prefix) {
		fmt.Fprintf(stderr, "scan: -prefix %q: want 1-16 ASCII letters or digits\n", *prefix)
		return exitError
	}
	s := &scanner{prefix: *prefix, out: stdout}
	if flags.NArg() == 0 {
		if err := s.scan("<stdin>", stdin); err != nil {
			fmt.Fprintf(stderr, "scan: <stdin>: %v\n", err)
			return exitError
		}
		return s.status(false)
	}
	failed := false
	for _, root := range flags.Args() {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				fmt.Fprintf(stderr, "scan: %v\n", err)
				failed = true
				return nil
			case d.IsDir() && d.Name() == ".git" && path != root:
				return filepath.SkipDir
			case !d.Type().IsRegular():
				return nil
			}
			if err := s.scanFile(path); err != nil {
				fmt.Fprintf(stderr, "scan: %s: %v\n", path, err)
				failed = true
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(stderr, "scan: %v\n", err)
			failed = true
		}
	}
	return s.status(failed)
}

// scanner reports the tokens it finds.
type scanner struct {
	prefix string
	out    io.Writer
	found  int
}

// status is the exit status after scanning.
func (s *scanner) status(failed bool) int {
	switch {
	case failed:
		return exitError
	case s.found > 0:
		return exitFound
	}
	return exitClean
}

func (s *scanner) scanFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return s.scan(path, f)
}

// scan reports every token in r, line by line.
func (s *scanner) scan(name string, r io.Reader) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		for _, tok := range findTokens(line) {
			if s.prefix != "" && !strings.HasPrefix(tok, s.prefix+"_") {
				continue
			}
			s.found++
			if _, werr := fmt.Fprintf(s.out, "%s:%d: %s\n", name, n, apikey.DisplayPrefix(tok)); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// validPrefix reports whether p can be a token prefix: 1-16 ASCII letters
// or digits.
func validPrefix(p string) bool {
	if len(p) == 0 || len(p) > 16 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
