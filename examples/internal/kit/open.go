package kit

import (
	"context"
	"log/slog"
	"strings"
)

// Open is the start of every example's run: it opens the store named by
// cfg.DB (OpenStore), starts the metrics listener when cfg.MetricsAddr is
// set (StartMetrics; Backend.Close stops it) and loads the server secrets for it (StoreSecrets).
// On error nothing stays open.
func Open(ctx context.Context, cfg *Config, secretFile string, log *slog.Logger) (*Backend, Secrets, error) {
	b, err := OpenStore(ctx, cfg.DB)
	if err != nil {
		return nil, Secrets{}, err
	}
	if b.Metrics, err = StartMetrics(cfg.MetricsAddr, log); err != nil {
		_ = b.Close(ctx)
		return nil, Secrets{}, err
	}
	secrets, err := StoreSecrets(b, secretFile, log)
	if err != nil {
		_ = b.Close(ctx)
		return nil, Secrets{}, err
	}
	return b, secrets, nil
}

// StoreSecrets returns the server secrets for b: fresh random ones for
// the memory store, where nothing outlives the process, else
// LoadSecrets(secretFile, log).
func StoreSecrets(b *Backend, secretFile string, log *slog.Logger) (Secrets, error) {
	if b.Kind == "memory" {
		return EphemeralSecrets(), nil
	}
	return LoadSecrets(secretFile, log)
}

// SecretFileBeside is where a demo keeps its generated secret when
// APIKEY_SECRET is not set: beside the database for an "sqlite:PATH" spec
// (PATH.secret), else fallback in the working directory.
func SecretFileBeside(dbSpec, fallback string) string {
	if p, ok := strings.CutPrefix(dbSpec, "sqlite:"); ok {
		return p + ".secret"
	}
	return fallback
}
