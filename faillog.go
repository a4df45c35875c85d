package apikey

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// DefaultFailureLogInterval is how often, at most, a failed verification
// of each outcome is logged at INFO (see WithFailureLogInterval).
const DefaultFailureLogInterval = 10 * time.Second

// WithFailureLogInterval sets how often, at most, a failed verification is
// logged at INFO, per outcome ("not_found", "revoked"...; a store failure
// is logged at WARN): the first failure of each outcome is logged at once,
// then at most one line per interval, each with the number of failures of
// that outcome left unlogged since the previous line ("suppressed"). A
// flood of bad keys therefore writes a few lines a minute, not one per
// request; count every failure with WithMetrics. Failures that are not
// logged at INFO are logged at DEBUG when the logger enables it. Zero logs
// every failure at INFO (a flood then fills the log). Default 10 s. Lines
// name the key's display prefix when a key matched, never the token.
func WithFailureLogInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("%w: negative failure log interval", ErrInvalid)
		}
		c.failLog = d
		return nil
	}
}

// failureLog decides which failed verifications are logged at INFO: per
// outcome, the first one, then at most one per interval. It is lock-free.
type failureLog struct {
	interval time.Duration
	slots    [numOutcomes]failureSlot
}

type failureSlot struct {
	next       atomic.Int64 // UnixNano from which the next line may be written
	suppressed atomic.Int64 // failures not logged at INFO since the last line
}

// admit reports whether a failure of outcome o at now is to be logged, and
// how many failures of o were not logged since the previous line.
func (f *failureLog) admit(o Outcome, now time.Time) (suppressed int64, ok bool) {
	if o >= numOutcomes {
		return 0, true
	}
	s := &f.slots[o]
	if f.interval == 0 {
		return 0, true
	}
	t := now.UnixNano()
	n := s.next.Load()
	if t < n || !s.next.CompareAndSwap(n, t+int64(f.interval)) {
		s.suppressed.Add(1)
		return 0, false
	}
	return s.suppressed.Swap(0), true
}

// logFailure logs a failed verification of outcome o (k is the matched
// key, if any): at INFO (WARN for a store failure) when the sampler admits
// it, else at DEBUG if enabled. err is logged only for a store failure and
// as the detail of malformed credentials (the middleware's fixed texts): the
// other errors are sentinels that the reason already names.
func (m *Manager) logFailure(ctx context.Context, o Outcome, k *Key, err error) {
	l := m.cfg.logger
	level := levelInfo
	if o == OutcomeStoreUnavailable || o == OutcomeLimiterUnavailable {
		level = levelWarn
	}
	sampled := l.Enabled(ctx, level)
	var suppressed int64
	if sampled {
		suppressed, sampled = m.failLog.admit(o, m.cfg.clock.Now())
	}
	if !sampled {
		if !l.Enabled(ctx, levelDebug) {
			return
		}
		level = levelDebug
	}
	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("reason", o.String()))
	if sampled {
		attrs = append(attrs, slog.Int64("suppressed", suppressed))
	}
	if k != nil {
		attrs = append(attrs, keyAttrs(k)...)
	}
	switch {
	case (o == OutcomeStoreUnavailable || o == OutcomeLimiterUnavailable) && err != nil:
		attrs = append(attrs, slog.String("error", err.Error()))
	case o == OutcomeMalformed && err != nil && err != ErrMalformed:
		// Why the credentials cannot be a token (static text, no token).
		attrs = append(attrs, slog.String("detail", err.Error()))
	}
	l.LogAttrs(ctx, level, "apikey: verify failed", attrs...)
}
