package apikey

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// usageValid is the outcome Touch counts: OutcomeValid's label.
const usageValid = "valid"

// UsageCount is the number of requests of one key with one outcome on one
// UTC day.
type UsageCount struct {
	// Day is the UTC midnight starting the day.
	Day time.Time
	// Outcome names the outcome, such as "valid" (OutcomeValid.String()).
	Outcome string
	// N is the number of requests.
	N int64
}

// usageDay returns the UTC midnight of the day of t.
func usageDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// validOutcome reports whether s can name an outcome.
func validOutcome(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// UsageCounts returns the per-day request counts of key id of tenant
// for the UTC days from the day of from to the day of
// to, both included (pass one instant for one day), ordered by day then
// outcome. Days without
// requests are absent. The counts are those the UsageTracker flushed:
// they lag by up to its interval.
func (m *Manager) UsageCounts(ctx context.Context, tenant, id string, from, to time.Time) ([]UsageCount, error) {
	if _, err := m.Get(ctx, tenant, id); err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, fmt.Errorf("%w: usage range ends before it starts", ErrInvalid)
	}
	cs, err := m.store.UsageCounts(ctx, id, usageDay(from), usageDay(to).AddDate(0, 0, 1))
	return cs, storeErr("usage counts", err)
}

// usageCountKey names one counter of a pending usage entry.
type usageCountKey struct {
	day     int64 // Unix seconds of the UTC midnight
	outcome string
}

// Count counts n requests of key keyID with outcome (1-32 bytes of a-z,
// 0-9 and '_', such as OutcomeRateLimited.String() or an application's
// own label) on the UTC day of at, without touching LastUsedAt. Like
// Touch it only updates memory; the next flush adds the counts with the
// same RecordUsage write as the last-use records. An invalid outcome or
// a non-positive n is ignored.
func (t *UsageTracker) Count(keyID string, at time.Time, outcome string, n int64) {
	if keyID == "" || n <= 0 || !validOutcome(outcome) {
		return
	}
	t.merge(keyID, usageEntry{}, usageCountKey{day: dayStart(at), outcome: outcome}, n)
}

// dayStart returns the Unix seconds of the UTC midnight starting the day of
// t, with integer arithmetic only (Touch runs it on every request).
func dayStart(t time.Time) int64 {
	const day = 24 * 60 * 60
	s := t.Unix()
	d := s / day
	if s%day < 0 {
		d-- // floor for instants before 1970
	}
	return d * day
}

// addValid adds n valid requests on day (Unix seconds of a UTC
// midnight) to e. The running day stays in validDay/validN; a request of
// another day first moves the running count into the map. addValid(-1, 0)
// moves it unconditionally (before a flush).
func (e *usageEntry) addValid(day, n int64) {
	if e.validN > 0 && e.validDay != day {
		e.counts = addCounts(e.counts, usageCountKey{day: e.validDay, outcome: usageValid}, e.validN, nil)
		e.validN = 0
	}
	if n > 0 {
		e.validDay, e.validN = day, e.validN+n
	}
}

// addCounts adds n under ck (when n > 0) and the counts of more to counts,
// allocating the map when needed, and returns it.
func addCounts(counts map[usageCountKey]int64, ck usageCountKey, n int64, more map[usageCountKey]int64) map[usageCountKey]int64 {
	if n > 0 {
		if counts == nil {
			counts = make(map[usageCountKey]int64, 1)
		}
		if _, ok := counts[ck]; !ok {
			ck.outcome = strings.Clone(ck.outcome) // never pin a caller's memory
		}
		counts[ck] += n
	}
	for k, v := range more {
		if counts == nil {
			counts = make(map[usageCountKey]int64, len(more))
		}
		counts[k] += v
	}
	return counts
}

// countList turns pending counters into UsageCount records, by day then
// outcome.
func countList(counts map[usageCountKey]int64) []UsageCount {
	if len(counts) == 0 {
		return nil
	}
	out := make([]UsageCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, UsageCount{Day: time.Unix(k.day, 0).UTC(), Outcome: k.outcome, N: n})
	}
	slices.SortFunc(out, func(a, b UsageCount) int {
		return cmp.Or(a.Day.Compare(b.Day), cmp.Compare(a.Outcome, b.Outcome))
	})
	return out
}

// countMap turns UsageCount records back into pending counters (after a
// failed flush).
func countMap(cs []UsageCount) map[usageCountKey]int64 {
	if len(cs) == 0 {
		return nil
	}
	m := make(map[usageCountKey]int64, len(cs))
	for _, c := range cs {
		m[usageCountKey{day: c.Day.Unix(), outcome: c.Outcome}] += c.N
	}
	return m
}
