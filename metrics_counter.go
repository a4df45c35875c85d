package apikey

import "fmt"

// Counter names an event Metrics.Count reports. Its String is a stable
// dotted name, such as "usage.dropped".
type Counter uint8

// Counted events. The group a counter belongs to is the first part of its
// name; an implementation may map a group to one instrument with the rest
// as a label.
const (
	// CounterRehashed: a key was re-hashed to the current hash version.
	CounterRehashed Counter = iota + 1
	// CounterRehashFailed: a re-hash failed (retried at the next verify).
	CounterRehashFailed

	// Authenticator refusals, by reason (each refused request once).
	// CounterRefusedNoCredentials: no credentials (401).
	CounterRefusedNoCredentials
	// CounterRefusedMalformed: credentials that cannot be a token (401).
	CounterRefusedMalformed
	// CounterRefusedInvalid: a token that did not verify (401).
	CounterRefusedInvalid
	// CounterRefusedScope: the key lacks a required scope (403).
	CounterRefusedScope
	// CounterRefusedIP: the client address is outside the key's allowlist (403).
	CounterRefusedIP
	// CounterRefusedThrottled: the FailureThrottle refused the client (429).
	CounterRefusedThrottled
	// CounterRefusedRateLimited: a rate limit refused the request (429).
	CounterRefusedRateLimited
	// CounterRefusedUsageExceeded: the key has no credits left (429).
	CounterRefusedUsageExceeded
	// CounterRefusedUnavailable: the store or limiter could not answer (503).
	CounterRefusedUnavailable

	// CounterCacheEvicted: a cache entry was evicted to make room.
	CounterCacheEvicted

	// CounterFeedChanges: change-feed entries a Follower applied.
	CounterFeedChanges
	// CounterFeedFailures: Follower polls that could not read the feed.
	CounterFeedFailures
	// CounterFeedResets: whole-cache resets because the feed was trimmed.
	CounterFeedResets

	// CounterUsageRecords: usage records a UsageTracker wrote.
	CounterUsageRecords
	// CounterUsageFlushFailures: usage batches whose write failed (kept
	// for a retry).
	CounterUsageFlushFailures
	// CounterUsageDropped: uses dropped because too many keys were pending.
	CounterUsageDropped

	// Scheduled rotations (deliveries of a successor), by outcome.
	// CounterRotationCommitted: delivered and committed.
	CounterRotationCommitted
	// CounterRotationFailed: not delivered or not committed; retried later.
	CounterRotationFailed
	// CounterRotationClaimedElsewhere: another scheduler claimed the key.
	CounterRotationClaimedElsewhere
	// CounterRotationUnscheduled: the key could not be rotated; its
	// schedule was cleared.
	CounterRotationUnscheduled

	// Rate-limit decisions (one per RateLimiter.Allow).
	// CounterRateAllowed: the request was within its limits.
	CounterRateAllowed
	// CounterRateRefused: a limit refused the request.
	CounterRateRefused
	// CounterRateError: the limiter could not decide.
	CounterRateError

	// Credit decisions (one per credit check).
	// CounterCreditAllowed: a credit was spent.
	CounterCreditAllowed
	// CounterCreditRefused: the key had no credits left.
	CounterCreditRefused
	// CounterCreditError: the credits could not be checked.
	CounterCreditError
	numCounters
)

var counterNames = [numCounters]string{
	"", "rehash.ok", "rehash.failed",
	"refused.no_credentials", "refused.malformed", "refused.invalid", "refused.insufficient_scope",
	"refused.ip_not_allowed", "refused.throttled", "refused.rate_limited", "refused.usage_exceeded",
	"refused.unavailable",
	"cache.evicted",
	"feed.changes", "feed.failures", "feed.resets",
	"usage.records", "usage.flush_failures", "usage.dropped",
	"rotation.rotated", "rotation.failed", "rotation.claimed_elsewhere", "rotation.unscheduled",
	"ratelimit.allowed", "ratelimit.refused", "ratelimit.error",
	"credits.allowed", "credits.refused", "credits.error",
}

// String returns the counter's dotted name, such as "refused.throttled".
func (c Counter) String() string {
	if c > 0 && c < numCounters {
		return counterNames[c]
	}
	return fmt.Sprintf("counter(%d)", uint8(c))
}

// Counters returns every counter, so an implementation of Metrics can
// prepare one instrument or label set per counter.
func Counters() []Counter {
	out := make([]Counter, 0, numCounters-1)
	for c := Counter(1); c < numCounters; c++ {
		out = append(out, c)
	}
	return out
}
