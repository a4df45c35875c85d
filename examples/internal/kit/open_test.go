package kit_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/apikit/apikey/examples/internal/kit"
)

// TestSecretFileBeside: an SQLite spec puts the file beside the database,
// any other spec uses the fallback.
func TestSecretFileBeside(t *testing.T) {
	for _, tc := range []struct{ db, want string }{
		{"sqlite:data/app.db", "data/app.db.secret"},
		{"memory", "app.secret"},
		{"postgres://u@h/db", "app.secret"},
		{"mysql:root@tcp(h)/db", "app.secret"},
	} {
		if got := kit.SecretFileBeside(tc.db, "app.secret"); got != tc.want {
			t.Errorf("SecretFileBeside(%q) = %q, want %q", tc.db, got, tc.want)
		}
	}
}

// TestOpen: the memory store gets fresh secrets and writes no file; an
// SQLite store loads (here: creates) the secret file; a bad spec fails.
func TestOpen(t *testing.T) {
	unsetSecret(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	ctx := context.Background()
	for _, tc := range []struct {
		name, db string
		wantKind string
		wantFile bool
		wantErr  bool
	}{
		{"memory", "memory", "memory", false, false},
		{"sqlite", "sqlite:" + filepath.Join(dir, "a.db"), "sqlite", true, false},
		{"bad spec", "nosuch:", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".secret")
			b, sec, err := kit.Open(ctx, &kit.Config{DB: tc.db}, file, log)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close(ctx)
			if b.Kind != tc.wantKind || len(sec.Pepper) == 0 || len(sec.WebhookKey) == 0 {
				t.Errorf("kind %q, pepper %d bytes, webhook key %d bytes", b.Kind, len(sec.Pepper), len(sec.WebhookKey))
			}
			if _, err := os.Stat(file); (err == nil) != tc.wantFile {
				t.Errorf("secret file exists: %v, want %v", err == nil, tc.wantFile)
			}
		})
	}
}
