package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/sqlstore"
)

// leaseCounter counts the credit writes of a store: takes that granted
// something and returns.
type leaseCounter struct {
	*sqlstore.Store
	writes, takes atomic.Int64
}

func (c *leaseCounter) TakeCredits(ctx context.Context, id string, want int64, now time.Time) (apikey.CreditLease, error) {
	l, err := c.Store.TakeCredits(ctx, id, want, now)
	c.takes.Add(1)
	if err == nil && l.Granted > 0 {
		c.writes.Add(1)
	}
	return l, err
}

func (c *leaseCounter) ReturnCredits(ctx context.Context, id string, n int64, period time.Time) error {
	c.writes.Add(1)
	return c.Store.ReturnCredits(ctx, id, n, period)
}

// TestCreditLeasesOnSQL: four managers (as four processes would) on one
// database spend one key's 10,000 credits concurrently: exactly 10,000
// successes, and at most one store write per 50 successful requests.
func TestCreditLeasesOnSQL(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		var ms []*apikey.Manager
		var counters []*leaseCounter
		for range 4 {
			c := &leaseCounter{Store: s}
			m, err := apikey.New(c, apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")))
			if err != nil {
				t.Fatal(err)
			}
			ms, counters = append(ms, m), append(counters, c)
		}
		const credits = 10000
		is, err := ms[0].Create(ctx, apikey.CreateParams{Tenant: "t1", Credits: &apikey.Credits{Remaining: credits}})
		if err != nil {
			t.Fatal(err)
		}
		tok := is.Token.Reveal()
		var ok atomic.Int64
		var wg sync.WaitGroup
		for _, m := range ms {
			for range 3 {
				wg.Go(func() {
					for {
						_, err := m.Verify(ctx, tok)
						if errors.Is(err, apikey.ErrUsageExceeded) {
							return
						}
						if err != nil {
							t.Error(err)
							return
						}
						ok.Add(1)
					}
				})
			}
		}
		wg.Wait()
		var writes, takes int64
		for i, m := range ms {
			if err := m.FlushCredits(ctx); err != nil {
				t.Fatal(err)
			}
			writes += counters[i].writes.Load()
			takes += counters[i].takes.Load()
		}
		t.Logf("%s: %d successes, %d credit writes (1 per %.0f successes), %d take calls", t.Name(), ok.Load(), writes, float64(ok.Load())/float64(writes), takes)
		if ok.Load() != credits {
			t.Fatalf("%d successes, want exactly %d", ok.Load(), credits)
		}
		if writes*50 > credits {
			t.Fatalf("%d credit writes for %d successes, want at most 1 per 50", writes, credits)
		}
	})
}
