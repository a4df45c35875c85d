package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/csvimport"
	"github.com/apikit/apikey/legacy"
	"github.com/apikit/apikey/memstore"
)

const testPepper = "importcsv test pepper, 32+ bytes long"

// oldToken draws a token of a made-up old system, generated per test.
func oldToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "old_" + hex.EncodeToString(b)
}

func sha256Hex(tok string) string {
	d := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(d[:])
}

func writeCSV(t *testing.T, lines ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// The committed sample holds exactly the hashes its documentation names.
func TestSampleMatchesDocumentedTokens(t *testing.T) {
	f, err := os.Open("sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csvimport.Read(f, legacyVersion)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	for i, r := range rows {
		tok := fmt.Sprintf("sk_example_%04d", i+1)
		if string(r.Params.Hash) != sha256Hex(tok) {
			t.Errorf("row %d: sha256 is not that of %s", i+1, tok)
		}
	}
}

func TestRunImportsAndVerifies(t *testing.T) {
	a, b := oldToken(t), oldToken(t)
	d := sha256.Sum256([]byte(b))
	path := writeCSV(t,
		"tenant,id,sha256,scopes,prefix,name,created_at",
		"ws_1,key_a,"+sha256Hex(a)+",jobs:read,old_a,first,2024-05-01T10:00:00Z",
		"ws_2,key_b,"+base64.StdEncoding.EncodeToString(d[:])+",jobs:read jobs:write,old_b,second,",
	)
	var out, errOut bytes.Buffer
	stdin := strings.NewReader(a + "\n\n" + a + "\n" + oldToken(t) + "\n" + b + "\n")
	code := run([]string{"-verify", path}, env(map[string]string{"APIKEY_PEPPER": testPepper}), stdin, &out, &errOut)
	if code != 1 { // the unknown token fails
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wants := []string{
		"imported 2 keys under hash version sha256, skipped 0 already imported",
		"token 1: ok: key ", "(old_a) of ws_1, stored under v1",
		"token 3: ok: key ", "(old_a) of ws_1, stored under v1",
		"token 4: refused: not_found",
		"token 5: ok: key ", "(old_b) of ws_2, stored under v1",
	}
	if len(lines) != 5 {
		t.Fatalf("output:\n%s", out.String())
	}
	joined := strings.Join(lines, "\n")
	for _, w := range wants {
		if !strings.Contains(joined, w) {
			t.Errorf("output lacks %q:\n%s", w, joined)
		}
	}
	for _, tok := range []string{a, b} {
		if strings.Contains(out.String()+errOut.String(), tok) {
			t.Fatal("a token was printed")
		}
	}
}

func TestImportUpgradesOnFirstVerify(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	m, err := apikey.New(store, apikey.WithPepper("v1", []byte(testPepper)),
		apikey.WithLegacyImport(legacy.SHA256(legacyVersion)))
	if err != nil {
		t.Fatal(err)
	}
	tok, id := oldToken(t), ulid.Make().String()
	rows, err := csvimport.Read(strings.NewReader("id,tenant,scopes,sha256\n"+id+",ws_1,jobs:read,"+sha256Hex(tok)+"\n"), legacyVersion)
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	if r := csvimport.Import(ctx, m, rows, "importcsv", &errOut); r != (csvimport.Report{Imported: 1}) {
		t.Fatalf("import: %+v, %s", r, errOut.String())
	}
	if r := csvimport.Import(ctx, m, rows, "importcsv", &errOut); r != (csvimport.Report{Skipped: 1}) {
		t.Fatalf("second import: %+v, want one skipped", r)
	}
	version := func() string {
		k, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return k.HashVersion
	}
	if v := version(); v != legacyVersion {
		t.Fatalf("imported under %q, want %q", v, legacyVersion)
	}
	var out bytes.Buffer
	if failed := verifyTokens(ctx, m, strings.NewReader(tok+"\n"), &out); failed != 0 {
		t.Fatalf("verify failed: %s", out.String())
	}
	if v := version(); v != "v1" {
		t.Fatalf("after verify stored under %q, want v1", v)
	}
	if failed := verifyTokens(ctx, m, strings.NewReader(tok+"\n"), &out); failed != 0 {
		t.Fatalf("verify after upgrade failed: %s", out.String())
	}
}

func TestRunFailures(t *testing.T) {
	good := writeCSV(t, "id,tenant,scopes,sha256", "k,ws_1,jobs:read,"+sha256Hex(oldToken(t)))
	bad := writeCSV(t, "id,tenant,scopes,sha256", "k1,ws_1,jobs:read,"+sha256Hex(oldToken(t)), "k2,ws_1,jobs:read,nothex")
	future := writeCSV(t, "id,tenant,scopes,sha256,created_at",
		"k1,ws_1,jobs:read,"+sha256Hex(oldToken(t))+",",
		"k2,ws_1,jobs:read,"+sha256Hex(oldToken(t))+",2999-01-01T00:00:00Z")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"no file", nil, nil, 2, "usage"},
		{"missing file", []string{filepath.Join(t.TempDir(), "nope.csv")}, nil, 2, "no such file"},
		{"unsupported store", []string{"-db", "oracle:x", good}, nil, 2, `-db "oracle:x": want`},
		{"short pepper", []string{good}, map[string]string{"APIKEY_PEPPER": "short"}, 2, "pepper"},
		{"bad digest", []string{bad}, map[string]string{"APIKEY_PEPPER": testPepper}, 2, "line 3: sha256"},
		{"refused by Import", []string{future}, map[string]string{"APIKEY_PEPPER": testPepper}, 1, "line 3: apikey: invalid argument: creation time"},
		{"random pepper for memory", []string{good}, nil, 0, "using a random pepper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tt.args, env(tt.env), strings.NewReader(""), &out, &errOut)
			if code != tt.wantCode || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
	if _, err := loadPepper("", "P", true, &bytes.Buffer{}); err == nil {
		t.Fatal("a persistent store accepted a random pepper")
	}
}

// On a SQLite file the import persists: a second run skips the rows already
// imported, and the old token still verifies (and is upgraded) with the
// same pepper.
func TestRunImportsIntoSQLite(t *testing.T) {
	a := oldToken(t)
	path := writeCSV(t, "id,tenant,scopes,sha256", "key_a,ws_1,jobs:read,"+sha256Hex(a))
	db := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	vars := env(map[string]string{"APIKEY_PEPPER": testPepper})

	var out, errOut bytes.Buffer
	if code := run([]string{"-db", db, path}, vars, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("first import: exit %d; stderr: %s", code, errOut.String())
	}
	out.Reset()
	code := run([]string{"-db", db, "-verify", path}, vars, strings.NewReader(a+"\n"), &out, &errOut)
	if code != 0 {
		t.Fatalf("second run: exit %d; stderr: %s", code, errOut.String())
	}
	for _, w := range []string{"imported 0 keys", "skipped 1 already imported", "token 1: ok: key ", "stored under v1"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("second run lacks %q:\n%s", w, out.String())
		}
	}
}
