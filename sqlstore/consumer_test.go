package sqlstore_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A module that imports only apikey and sqlstore must not pull any SQL
// driver into its go.sum: users bring their own. The test builds a
// throwaway consumer module against this checkout and runs go mod tidy
// (with the module cache or proxy) on it.
func TestConsumerHasNoDriver(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/consumer\n\ngo 1.26.8\n\n"+
		"require github.com/apikit/apikey v0.0.0\n\nreplace github.com/apikit/apikey => "+root+"\n")
	write(t, filepath.Join(dir, "main.go"), `package main

import (
	"database/sql"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/sqlstore"
)

func main() {
	var db *sql.DB // opened with the driver of the application's choice
	store, err := sqlstore.New(db, sqlstore.Postgres)
	if err != nil {
		panic(err)
	}
	_, _ = apikey.New(store, apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")))
}
`)
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "./..."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	sum, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, driver := range []string{"sqlite", "pgx", "jackc", "go-sql-driver", "mysql", "lib/pq"} {
		if strings.Contains(string(sum), driver) {
			t.Errorf("the consumer's go.sum names %q:\n%s", driver, sum)
		}
	}
	t.Logf("consumer go.sum:\n%s", sum)
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
