package apikey

import (
	"context"
	"log/slog"
	"time"
)

// unusedPage is how many keys one ListUnused call of the clean-up reads.
const unusedPage = 500

// UnusedKeys lists, across every tenant, the working keys (active at the
// manager's clock) whose last use, or creation for a key never used, is
// before cutoff: what RevokeUnused would revoke now. Use it as the dry run
// of a clean-up (show it, or log it) before revoking. Keys are in ID order
// (oldest first). The usage tracker's pending uses are not seen: flush it
// first, or pick a cutoff far longer than its interval.
func (m *Manager) UnusedKeys(ctx context.Context, cutoff time.Time) ([]*Key, error) {
	now := m.Now()
	var out []*Key
	after := ""
	for {
		page, err := m.store.ListUnused(ctx, normTime(cutoff), after, unusedPage)
		if err != nil {
			return nil, storeErr("list unused", err)
		}
		for _, k := range page {
			if k.StateAt(now) == StateActive && k.ReplacedBy == "" {
				out = append(out, k)
			}
		}
		if len(page) < unusedPage {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// RevokeUnused revokes every key UnusedKeys lists for cutoff, as GitHub
// does with tokens unused for a year, all at one timestamp, and returns
// them as revoked. Each revocation is logged and emits EventRevoked with
// Reason "unused"; caches drop the keys at once and followers through the
// change feed. A key used between the listing and its revocation is
// revoked anyway (its use was after the cutoff but before the
// revocation): pick cutoffs with a margin. Run it from a periodic job,
// such as a time.Ticker loop or the rotation scheduler's, with a cutoff
// computed from Now:
//
//	keys, err := m.RevokeUnused(ctx, m.Now().AddDate(-1, 0, 0))
func (m *Manager) RevokeUnused(ctx context.Context, cutoff time.Time) ([]*Key, error) {
	keys, err := m.UnusedKeys(ctx, cutoff)
	if err != nil {
		return nil, err
	}
	now := m.Now()
	out := make([]*Key, 0, len(keys))
	for _, k := range keys {
		got, err := m.store.Revoke(ctx, k.ID, now)
		m.changed(ctx, k.Lookup)
		if err != nil {
			return out, storeErr("revoke unused", err)
		}
		if got.RevokedAt.Equal(now) {
			m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: unused key revoked",
				append(keyAttrs(got), slog.Time("cutoff", cutoff))...)
			m.emit(ctx, Event{Kind: EventRevoked, At: now, KeyID: got.ID, Prefix: got.Prefix, Tenant: got.Tenant, Reason: "unused"})
			out = append(out, got)
		}
	}
	return out, nil
}
