package rotation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/apikit/apikey"
)

// WithUnusedCleanup makes every check also revoke the keys unused for
// after (last used, or created for a key never used, before now - after),
// as GitHub does after a year, through Manager.RevokeUnused; the report's
// Unused lists them. With dryRun it only lists and logs them (the dry run
// to look at before turning revocation on). Keys whose use is still pending
// in a usage tracker look unused: pick after far longer than the
// tracker's interval.
func WithUnusedCleanup(after time.Duration, dryRun bool) Option {
	return func(s *Scheduler) error {
		if after <= 0 {
			return fmt.Errorf("%w: WithUnusedCleanup(%v): must be positive", apikey.ErrInvalid, after)
		}
		s.unusedAfter, s.unusedDry = after, dryRun
		return nil
	}
}

// cleanUnused lists (dry run) or revokes the keys unused for
// s.unusedAfter, logging what it found or did.
func (s *Scheduler) cleanUnused(ctx context.Context) ([]*apikey.Key, error) {
	cutoff := s.m.Now().Add(-s.unusedAfter)
	var keys []*apikey.Key
	var err error
	if s.unusedDry {
		keys, err = s.m.UnusedKeys(ctx, cutoff)
	} else {
		keys, err = s.m.RevokeUnused(ctx, cutoff)
	}
	log := s.m.Logger()
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "apikey: unused-key clean-up failed", slog.String("error", err.Error()))
		return keys, err
	}
	if len(keys) > 0 {
		msg := "apikey: unused keys revoked"
		if s.unusedDry {
			msg = "apikey: unused keys found (dry run: not revoked)"
		}
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.Prefix + " " + k.ID
		}
		log.LogAttrs(ctx, slog.LevelInfo, msg, slog.Int("count", len(keys)),
			slog.Time("unused_since", cutoff), slog.Any("keys", ids))
	}
	return keys, nil
}
