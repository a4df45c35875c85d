package kit_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apikit/apikey/examples/internal/kit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// unsetSecret removes APIKEY_SECRET for the test (restored after it).
func unsetSecret(t *testing.T) {
	t.Setenv("APIKEY_SECRET", "")
	os.Unsetenv("APIKEY_SECRET")
}

var good = base64.StdEncoding.EncodeToString([]byte("a good 32-byte secret for tests!"))

func writeSecret(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

// The secret file is refused when others can read it, when it is a
// symlink, or when it holds no entropy; a symlink is never followed to
// create one; a private file with a good secret loads.
func TestLoadSecretsFile(t *testing.T) {
	unsetSecret(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	writeSecret(t, target, good, 0o600)
	cases := []struct {
		name  string
		setup func(path string)
		ok    bool
	}{
		{"private", func(p string) { writeSecret(t, p, good+"\n", 0o600) }, true},
		{"group readable", func(p string) { writeSecret(t, p, good, 0o640) }, false},
		{"world readable", func(p string) { writeSecret(t, p, good, 0o604) }, false},
		{"symlink to a good file", func(p string) { must(t, os.Symlink(target, p)) }, false},
		{"dangling symlink", func(p string) { must(t, os.Symlink(filepath.Join(dir, "nowhere"), p)) }, false},
		{"zeros", func(p string) { writeSecret(t, p, base64.StdEncoding.EncodeToString(make([]byte, 32)), 0o600) }, false},
		{"one byte repeated", func(p string) {
			writeSecret(t, p, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("z", 40))), 0o600)
		}, false},
		{"too short", func(p string) { writeSecret(t, p, base64.StdEncoding.EncodeToString([]byte("short")), 0o600) }, false},
		{"a directory", func(p string) { must(t, os.Mkdir(p, 0o700)) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".secret")
			tc.setup(path)
			_, err := kit.LoadSecrets(path, quiet)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadSecrets: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); !os.IsNotExist(err) {
		t.Fatalf("a dangling symlink was followed to create its target: %v", err)
	}
}

// A new secret file is created private (0600), and loading it again gives
// the same secrets.
func TestLoadSecretsCreates(t *testing.T) {
	unsetSecret(t)
	path := filepath.Join(t.TempDir(), "new.secret")
	s1, err := kit.LoadSecrets(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Fatalf("created %v, %v; want a regular 0600 file", fi.Mode(), err)
	}
	s2, err := kit.LoadSecrets(path, quiet)
	if err != nil || string(s1.Pepper) != string(s2.Pepper) {
		t.Fatalf("reload: %v, same pepper %v", err, string(s1.Pepper) == string(s2.Pepper))
	}
}

// APIKEY_SECRET set but blank is an error (never a silent fall back to the
// file), as is one without entropy.
func TestLoadSecretsEnv(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		ok          bool
	}{
		{"good", good, true},
		{"empty", "", false},
		{"spaces", "   ", false},
		{"newline", "\n", false},
		{"not base64", "not base64!", false},
		{"zeros", base64.StdEncoding.EncodeToString(make([]byte, 32)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("APIKEY_SECRET", tc.value)
			path := filepath.Join(t.TempDir(), "unused.secret")
			_, err := kit.LoadSecrets(path, quiet)
			if (err == nil) != tc.ok {
				t.Fatalf("LoadSecrets: %v, want ok=%v", err, tc.ok)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatal("a secret file was written although APIKEY_SECRET is set")
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
