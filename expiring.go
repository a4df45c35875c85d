package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EventExpiringSoon is the audit event of an ExpiryNotifier notice: the key
// expires within the lead time named in Event.Reason (such as "168h0m0s").
const EventExpiringSoon EventKind = "expiring_soon"

// ExpiringPage is one page of Manager.ListExpiring.
type ExpiringPage struct {
	// Keys expire soonest first.
	Keys []*Key
	// Next is the cursor of the next page, or "" on the last page.
	Next string
}

// ListExpiring returns one page of the working keys of tenant ("" for
// every tenant: operator paths only) that expire after now and before
// before, soonest first
// (then by ID). Pass the returned Next as cursor for the next page ("" for
// the first); limit is the page size (1 to 1000; 0 means 100). The read is
// a range of the store's expiry index.
func (m *Manager) ListExpiring(ctx context.Context, tenant string, before time.Time, cursor string, limit int) (ExpiringPage, error) {
	if tenant != "" {
		if err := checkTenant(tenant); err != nil {
			return ExpiringPage{}, err
		}
	}
	switch {
	case limit == 0:
		limit = 100
	case limit < 0 || limit > 1000:
		return ExpiringPage{}, fmt.Errorf("%w: limit must be 1-1000", ErrInvalid)
	}
	opts := ExpiringOptions{From: m.Now(), Before: normTime(before), Limit: limit + 1, Tenant: tenant}
	if cursor != "" {
		exp, id, ok := parseExpiringCursor(cursor)
		if !ok {
			return ExpiringPage{}, fmt.Errorf("%w: bad cursor", ErrInvalid)
		}
		opts.AfterExpires, opts.AfterID = exp, id
	}
	keys, err := m.store.ListExpiring(ctx, opts)
	if err != nil {
		return ExpiringPage{}, storeErr("list expiring", err)
	}
	var p ExpiringPage
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		p.Next = strconv.FormatInt(last.ExpiresAt.UnixMicro(), 10) + "." + last.ID
	}
	p.Keys = keys
	return p, nil
}

// parseExpiringCursor reads "<expiry unix µs>.<key ID>".
func parseExpiringCursor(c string) (time.Time, string, bool) {
	us, id, ok := strings.Cut(c, ".")
	n, err := strconv.ParseInt(us, 10, 64)
	if !ok || err != nil || !validID(id) {
		return time.Time{}, "", false
	}
	return time.UnixMicro(n).UTC(), id, true
}

// ExpiryNotice tells a key's owner that the key expires soon.
type ExpiryNotice struct {
	// Key is the key concerned (read-only).
	Key *Key
	// Lead is the lead time whose window the key entered (such as 7 days).
	Lead time.Duration
	// ExpiresAt is when the key expires.
	ExpiresAt time.Time
}

// ExpiryNotifier sends one notice per key and lead time before keys
// expire, as GitLab mails token owners 7 days and 1 day ahead. Several
// processes may run it against one store: each notice is claimed in the
// store first (Store.ClaimNotice), so exactly one process sends it; a
// notice whose delivery fails is released and sent again by a later run.
// A key entering several windows at once (a 12-hour key with leads of 7
// days and 1 day) gets only the notice of the shortest. Changing a key's
// expiry makes its notices due again. Run RunOnce from a periodic job, as
// often as the precision you want (say every 10 minutes).
type ExpiryNotifier struct {
	m      *Manager
	leads  []time.Duration // ascending
	notify func(context.Context, ExpiryNotice) error
	batch  int
}

// NewExpiryNotifier returns a notifier for m calling notify for each
// notice, with the given lead times (at least one, each positive; for
// example 7*24*time.Hour and 24*time.Hour). notify runs synchronously
// within RunOnce (rotation.ExpiryWebhook delivers through the key's
// signed webhook); a nil notify only emits the EventExpiringSoon audit
// event (m's event hook receives it in every case).
func NewExpiryNotifier(m *Manager, notify func(context.Context, ExpiryNotice) error, leads ...time.Duration) (*ExpiryNotifier, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil manager", ErrInvalid)
	}
	if len(leads) == 0 {
		return nil, fmt.Errorf("%w: at least one lead time is needed", ErrInvalid)
	}
	ls := slices.Clone(leads)
	slices.Sort(ls)
	ls = slices.Compact(ls)
	if ls[0] <= 0 {
		return nil, fmt.Errorf("%w: lead times must be positive", ErrInvalid)
	}
	return &ExpiryNotifier{m: m, leads: ls, notify: notify, batch: 500}, nil
}

// ExpiryReport counts what one RunOnce did.
type ExpiryReport struct {
	// Sent counts notices delivered (and events emitted).
	Sent int
	// Failed counts notices whose delivery failed (released for a retry).
	Failed int
}

// noticeName names the notice of lead for a key expiring at exp.
func noticeName(lead time.Duration, exp time.Time) string {
	return "expiring/" + lead.String() + "/" + strconv.FormatInt(exp.UnixMicro(), 10)
}

// RunOnce sends the notices due now and reports what it did. It returns
// the first store error (notices not reached are sent by the next run);
// delivery failures are counted, not returned.
func (n *ExpiryNotifier) RunOnce(ctx context.Context) (ExpiryReport, error) {
	var rep ExpiryReport
	now := n.m.Now()
	handled := map[string]bool{}
	for i, lead := range n.leads {
		opts := ExpiringOptions{From: now, Before: now.Add(lead), Limit: n.batch}
		for {
			keys, err := n.m.store.ListExpiring(ctx, opts)
			if err != nil {
				return rep, storeErr("list expiring", err)
			}
			for _, k := range keys {
				if handled[k.ID] || k.StateAt(now) != StateActive {
					continue
				}
				handled[k.ID] = true
				if err := n.send(ctx, k, n.leads[i:], now, &rep); err != nil {
					return rep, err
				}
			}
			if len(keys) < n.batch {
				break
			}
			last := keys[len(keys)-1]
			opts.AfterExpires, opts.AfterID = last.ExpiresAt, last.ID
		}
	}
	return rep, nil
}

// send claims the notice of leads[0] for k (and, silently, those of the
// longer leads, which would otherwise follow it) and delivers it.
func (n *ExpiryNotifier) send(ctx context.Context, k *Key, leads []time.Duration, now time.Time, rep *ExpiryReport) error {
	first := noticeName(leads[0], k.ExpiresAt)
	won, err := n.m.store.ClaimNotice(ctx, k.ID, first, now)
	if err != nil || !won {
		return storeErr("claim notice", err)
	}
	claimed := []string{first}
	for _, l := range leads[1:] {
		name := noticeName(l, k.ExpiresAt)
		if ok, err := n.m.store.ClaimNotice(ctx, k.ID, name, now); err == nil && ok {
			claimed = append(claimed, name)
		}
	}
	notice := ExpiryNotice{Key: k, Lead: leads[0], ExpiresAt: k.ExpiresAt}
	if n.notify != nil {
		if err := n.notify(ctx, notice); err != nil {
			rep.Failed++
			n.m.cfg.logger.LogAttrs(ctx, levelWarn, "apikey: expiry notice failed; will retry",
				append(keyAttrs(k), slog.Duration("lead", leads[0]), slog.String("error", err.Error()))...)
			var errs []error
			for _, name := range claimed {
				errs = append(errs, n.m.store.ReleaseNotice(ctx, k.ID, name))
			}
			return storeErr("release notice", errors.Join(errs...))
		}
	}
	rep.Sent++
	n.m.cfg.logger.LogAttrs(ctx, levelInfo, "apikey: key expires soon",
		append(keyAttrs(k), slog.Duration("lead", leads[0]), slog.Time("expires_at", k.ExpiresAt))...)
	n.m.emit(ctx, Event{Kind: EventExpiringSoon, At: now, KeyID: k.ID, Prefix: k.Prefix, Tenant: k.Tenant, Reason: leads[0].String()})
	return nil
}
