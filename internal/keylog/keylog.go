// Package keylog holds the log attributes of a key shared by the
// subpackages (the root has its own unexported copy: it cannot import a
// package that imports it).
package keylog

import (
	"log/slog"

	"github.com/apikit/apikey"
)

// Attrs are the log attributes of k: its ID, display prefix and tenant,
// never secret material.
func Attrs(k *apikey.Key) []slog.Attr {
	return []slog.Attr{slog.String("key_id", k.ID), slog.String("prefix", k.Prefix), slog.String("tenant", k.Tenant)}
}
