package kit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Secrets are the server-side secrets an example needs: the pepper of hash
// version v1 and the key that seals webhook secrets. Both are derived from
// one master secret so a demo has one thing to keep.
type Secrets struct {
	Pepper     []byte
	WebhookKey []byte
}

// LoadSecrets reads the master secret from the environment variable
// APIKEY_SECRET (base64, at least 32 bytes decoded). Without it, it uses the
// file path (created with 32 random bytes, mode 0600, on first run) so that
// keys survive a restart of a demo on SQLite. A real deployment sets
// APIKEY_SECRET from its secret manager; the database never holds it.
//
// It refuses, rather than guess: APIKEY_SECRET set but blank (a failed
// "$(vault read ...)" must not fall back to a file silently); a secret
// that obviously holds no entropy (all one byte, a few distinct bytes); a
// secret file that is a symlink (opened with O_NOFOLLOW, never followed to
// create one either), not a regular file, or readable or writable by group
// or others.
func LoadSecrets(path string, log *slog.Logger) (Secrets, error) {
	master, err := masterSecret(path, log)
	if err != nil {
		return Secrets{}, err
	}
	return Secrets{Pepper: derive(master, "apikey pepper v1"), WebhookKey: derive(master, "apikey webhook key v1")}, nil
}

// masterSecret returns the master secret of LoadSecrets.
func masterSecret(path string, log *slog.Logger) ([]byte, error) {
	if env, set := os.LookupEnv("APIKEY_SECRET"); set {
		env = strings.TrimSpace(env)
		if env == "" {
			return nil, errors.New("APIKEY_SECRET is set but blank: set it to base64 of at least 32 random bytes, or unset it to use a demo secret file")
		}
		b, err := base64.StdEncoding.DecodeString(env)
		if err != nil || len(b) < 32 {
			return nil, errors.New("APIKEY_SECRET must be base64 of at least 32 bytes")
		}
		if weakSecret(b) {
			return nil, errors.New("APIKEY_SECRET holds no entropy (a repeated byte or a few distinct ones): use 32 random bytes")
		}
		return b, nil
	}
	text, err := readSecretFile(path)
	if errors.Is(err, os.ErrNotExist) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		err := createSecretFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"))
		if errors.Is(err, os.ErrExist) {
			// Another process created it first (or it is a symlink,
			// which the read refuses): use what is there.
			text, err = readSecretFile(path)
		} else if err == nil {
			log.Warn("APIKEY_SECRET not set: generated a server secret for this demo", "file", path)
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("%s must hold base64 of at least 32 bytes", path)
	}
	if weakSecret(b) {
		return nil, fmt.Errorf("%s holds no entropy (a repeated byte or a few distinct ones): delete it to generate a random one", path)
	}
	return b, nil
}

// maxSecretFile bounds what readSecretFile reads.
const maxSecretFile = 4096

// readSecretFile reads the secret file at path without following a
// symlink, refusing anything but a regular file that only its owner can
// read and write.
func readSecretFile(path string) ([]byte, error) {
	f, err := openNoFollow(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("opening secret file %s (symlinks are refused): %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("secret file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s has mode %04o: others may read it; chmod 600 it", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

// createSecretFile creates path (mode 0600) holding b; it fails with
// os.ErrExist when anything, a symlink included, is already there.
func createSecretFile(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return err
		}
		return fmt.Errorf("creating %s: %w", path, err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// weakSecret reports a secret that obviously holds no entropy: fewer than
// 8 distinct byte values (32 random bytes hold about 30).
func weakSecret(b []byte) bool {
	var seen [256]bool
	distinct := 0
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
	}
	return distinct < 8
}

// EphemeralSecrets returns fresh random secrets, for the memory store and
// tests, where nothing outlives the process anyway.
func EphemeralSecrets() Secrets {
	master := make([]byte, 32)
	_, _ = rand.Read(master)
	return Secrets{Pepper: derive(master, "apikey pepper v1"), WebhookKey: derive(master, "apikey webhook key v1")}
}

func derive(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}
