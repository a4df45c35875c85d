package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

var pepper = []byte("scan test pepper, 32 bytes long!")

// mintToken issues a real token with the given prefix, in memory.
func mintToken(t *testing.T, prefix string) string {
	t.Helper()
	m, err := apikey.New(memstore.New(), apikey.WithPrefix(prefix), apikey.WithPepper("v1", pepper))
	if err != nil {
		t.Fatal(err)
	}
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "t"})
	if err != nil {
		t.Fatal(err)
	}
	return is.Token.Reveal()
}

// corrupt changes one body character, so the checksum no longer holds.
func corrupt(tok string) string {
	b := []byte(tok)
	i := len(b) - 20
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	pgk, pgk2, acme := mintToken(t, "pgk"), mintToken(t, "pgk"), mintToken(t, "acme")
	dir := t.TempDir()
	env := filepath.Join(dir, "app.env")
	writeFile(t, env, strings.Join([]string{
		"# nothing here",
		"API_KEY=" + pgk,
		"look-alike: " + corrupt(pgk2),
		"glued: x" + pgk2 + "y, other: " + acme,
		"",
	}, "\n"))
	writeFile(t, filepath.Join(dir, "sub", "notes.txt"), "no newline at end: "+acme)
	writeFile(t, filepath.Join(dir, ".git", "objects", "x"), pgk) // skipped
	clean := filepath.Join(dir, "clean.txt")
	writeFile(t, clean, "pgk_live_example\n")
	notes := filepath.Join(dir, "sub", "notes.txt")

	tests := []struct {
		name     string
		args     []string
		stdin    string
		want     []string
		wantCode int
	}{
		{"directory", []string{dir}, "", []string{
			env + ":2: " + apikey.DisplayPrefix(pgk),
			env + ":4: " + apikey.DisplayPrefix(pgk2),
			env + ":4: " + apikey.DisplayPrefix(acme),
			notes + ":1: " + apikey.DisplayPrefix(acme),
		}, exitFound},
		{"prefix filter", []string{"-prefix", "pgk", env}, "", []string{
			env + ":2: " + apikey.DisplayPrefix(pgk),
			env + ":4: " + apikey.DisplayPrefix(pgk2),
		}, exitFound},
		{"stdin", nil, "a\nb " + acme + "\n", []string{"<stdin>:2: " + apikey.DisplayPrefix(acme)}, exitFound},
		{"clean file", []string{clean}, "", nil, exitClean},
		{"clean stdin", nil, corrupt(pgk) + "\n", nil, exitClean},
		{"prefix with no match", []string{"-prefix", "other", env}, "", nil, exitClean},
		{"missing file", []string{filepath.Join(dir, "missing")}, "", nil, exitError},
		{"bad prefix", []string{"-prefix", "p-g", env}, "", nil, exitError},
		{"bad flag", []string{"-nope"}, "", nil, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut.String())
			}
			want := ""
			for _, l := range tt.want {
				want += l + "\n"
			}
			if out.String() != want {
				t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
			}
			for _, tok := range []string{pgk, pgk2, acme} {
				if strings.Contains(out.String()+errOut.String(), tok[len(tok)-20:]) {
					t.Fatal("output holds token material beyond the display prefix")
				}
			}
		})
	}
}

// The test vector documented on apikey.TokenPattern.
func TestChecksumTestVector(t *testing.T) {
	base := "pgk_live_" + strings.Repeat("0", 60)
	if !apikey.ValidChecksum(base + "1Hl5NV") {
		t.Fatal("documented test vector does not validate")
	}
	if apikey.ValidChecksum(base + "1Hl5NW") {
		t.Fatal("a wrong checksum validates")
	}
}

// A token glued behind text that itself looks like the start of a token
// ("a_b_" and 63 characters) must still be found: the first candidate
// swallows its prefix, so the search must not skip past it.
func TestFindTokensGluedBehindLookAlike(t *testing.T) {
	tok := mintToken(t, "pgk")
	line := "a_b_" + strings.Repeat("x", 63) + tok + " and " + tok
	got := findTokens(line)
	if len(got) != 2 || got[0] != tok || got[1] != tok {
		t.Fatalf("findTokens found %d tokens, want the 2 real ones", len(got))
	}
}
