package main

import "log/slog"

// Log levels and attributes used by the handlers.
const (
	slogWarn  = slog.LevelWarn
	slogError = slog.LevelError
)

// errAttr logs an error's text. Errors of this server and of the library
// never hold a token.
func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }
