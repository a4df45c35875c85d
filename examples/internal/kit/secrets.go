package kit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
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
func LoadSecrets(path string, log *slog.Logger) (Secrets, error) {
	var master []byte
	if env := strings.TrimSpace(os.Getenv("APIKEY_SECRET")); env != "" {
		b, err := base64.StdEncoding.DecodeString(env)
		if err != nil || len(b) < 32 {
			return Secrets{}, errors.New("APIKEY_SECRET must be base64 of at least 32 bytes")
		}
		master = b
	} else {
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			b = make([]byte, 32)
			if _, err := rand.Read(b); err != nil {
				return Secrets{}, err
			}
			if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(b)+"\n"), 0o600); err != nil {
				return Secrets{}, fmt.Errorf("writing %s: %w", path, err)
			}
			log.Warn("APIKEY_SECRET not set: generated a server secret for this demo", "file", path)
		case err != nil:
			return Secrets{}, fmt.Errorf("reading %s: %w", path, err)
		default:
			if b, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err != nil || len(b) < 32 {
				return Secrets{}, fmt.Errorf("%s must hold base64 of at least 32 bytes", path)
			}
		}
		master = b
	}
	return Secrets{Pepper: derive(master, "apikey pepper v1"), WebhookKey: derive(master, "apikey webhook key v1")}, nil
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
