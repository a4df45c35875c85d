package apikey

import "log/slog"

const (
	levelDebug = slog.LevelDebug
	levelInfo  = slog.LevelInfo
	levelWarn  = slog.LevelWarn
)

// keyAttrs are the log attributes of a key: never secret material.
func keyAttrs(k *Key) []slog.Attr {
	return []slog.Attr{slog.String("key_id", k.ID), slog.String("prefix", k.Prefix), slog.String("tenant", k.Tenant)}
}

func slogTenant(t string) slog.Attr     { return slog.String("tenant", t) }
func slogCount(n int) slog.Attr         { return slog.Int("count", n) }
func slogSuccessor(id string) slog.Attr { return slog.String("successor_id", id) }
