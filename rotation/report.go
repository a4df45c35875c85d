package rotation

import (
	"context"

	"github.com/apikit/apikey"
)

// Status is the outcome of one due key in a check.
type Status string

// Outcomes of a due key.
const (
	// Committed: delivered and committed; the old key is in grace.
	Committed Status = "rotated"
	// Failed: not delivered or not committed; any successor was
	// revoked and the key is retried after a backoff.
	Failed Status = "failed"
	// ClaimedElsewhere: another scheduler claimed the key first.
	ClaimedElsewhere Status = "claimed_elsewhere"
	// Unscheduled: the key cannot be rotated (it expired, or it has
	// no webhook URL for the default delivery); its schedule was cleared.
	Unscheduled Status = "unscheduled"
)

// Result is what a check did with one due key.
type Result struct {
	KeyID  string
	Prefix string
	Tenant string
	// SuccessorID is the successor created for the attempt, if any (on
	// Failed it has been revoked).
	SuccessorID string
	Status      Status
	// Err says why a rotation failed; it holds no secret.
	Err error
}

// Report is the outcome of one check.
type Report struct {
	// Results has one entry per due key the check found, oldest due first.
	Results []Result
	// Unused are the keys the unused-key clean-up revoked (or, in a dry
	// run, found), with WithUnusedCleanup; UnusedErr is why it failed.
	Unused    []*apikey.Key
	UnusedErr error
}

// Count returns how many results have status st.
func (r Report) Count(st Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == st {
			n++
		}
	}
	return n
}

// count reports the outcome of one due key to the Manager's Metrics
// (apikey.WithMetrics), if any.
func (s *Scheduler) count(ctx context.Context, st Status) {
	mx := s.m.Metrics()
	if mx == nil {
		return
	}
	c := apikey.CounterRotationFailed
	switch st {
	case Committed:
		c = apikey.CounterRotationCommitted
	case ClaimedElsewhere:
		c = apikey.CounterRotationClaimedElsewhere
	case Unscheduled:
		c = apikey.CounterRotationUnscheduled
	}
	mx.Count(ctx, c, 1)
}
