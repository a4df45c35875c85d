package apikey

import (
	"context"
	"log/slog"
)

// defaultLogger is the logger of a Manager without WithLogger: warnings
// and errors go to slog.Default() (read at each record, so a later
// slog.SetDefault is followed), anything below WARN is dropped.
var defaultLogger = slog.New(warnHandler{})

// warnHandler passes records at WARN and above to the handler it holds,
// or to slog.Default()'s when it holds none.
type warnHandler struct{ h slog.Handler }

func (w warnHandler) handler() slog.Handler {
	if w.h != nil {
		return w.h
	}
	return slog.Default().Handler()
}

// Enabled drops everything below WARN before asking the inner handler.
func (w warnHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.handler().Enabled(ctx, l)
}

// Handle passes r on.
func (w warnHandler) Handle(ctx context.Context, r slog.Record) error {
	return w.handler().Handle(ctx, r)
}

// WithAttrs keeps the filter on the inner handler with attrs.
func (w warnHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return warnHandler{w.handler().WithAttrs(attrs)}
}

// WithGroup keeps the filter on the inner handler with the group.
func (w warnHandler) WithGroup(name string) slog.Handler {
	return warnHandler{w.handler().WithGroup(name)}
}
