package apikey_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/apikit/apikey"
)

// TestMetricsControls checks the outcomes and decisions the key controls
// report: a rate limit allowing then refusing, credits spent then
// exhausted, an address outside the allowlist, a disabled key.
func TestMetricsControls(t *testing.T) {
	ctx := context.Background()
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx))
	limited := f.create(t, "acme", apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "burst", Limit: 1, Window: time.Hour}}})
	credited := f.create(t, "acme", apikey.CreateParams{Credits: &apikey.Credits{Remaining: 1}})
	fenced := f.create(t, "acme", apikey.CreateParams{IPAllowlist: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	disabled := f.create(t, "acme", apikey.CreateParams{})
	if _, err := f.m.Disable(ctx, "acme", disabled.Key.ID); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		verify  func() error
		want    apikey.Outcome
		counter apikey.Counter
	}{
		{"rate allowed", func() error { _, err := f.m.Verify(ctx, limited.Token.Reveal()); return err }, apikey.OutcomeValid, apikey.CounterRateAllowed},
		{"rate refused", func() error { _, err := f.m.Verify(ctx, limited.Token.Reveal()); return err }, apikey.OutcomeRateLimited, apikey.CounterRateRefused},
		{"credit spent", func() error { _, err := f.m.Verify(ctx, credited.Token.Reveal()); return err }, apikey.OutcomeValid, apikey.CounterCreditAllowed},
		{"credits exhausted", func() error { _, err := f.m.Verify(ctx, credited.Token.Reveal()); return err }, apikey.OutcomeUsageExceeded, apikey.CounterCreditRefused},
		{"ip refused", func() error {
			_, err := f.m.VerifyRequest(ctx, fenced.Token.Reveal(), apikey.RequestParams{ClientIP: netip.MustParseAddr("198.51.100.1")})
			return err
		}, apikey.OutcomeIPNotAllowed, 0},
		{"disabled", func() error { _, err := f.m.Verify(ctx, disabled.Token.Reveal()); return err }, apikey.OutcomeDisabled, 0},
	}
	for _, s := range steps {
		err := s.verify()
		if (err == nil) != (s.want == apikey.OutcomeValid) {
			t.Fatalf("%s: error %v", s.name, err)
		}
		if got, _ := mx.last(); got.Outcome != s.want {
			t.Errorf("%s: outcome %v, want %v", s.name, got.Outcome, s.want)
		}
		if s.counter != 0 && mx.count(s.counter) != 1 {
			t.Errorf("%s: %v = %d, want 1", s.name, s.counter, mx.count(s.counter))
		}
	}
	if !errors.Is(steps[1].verify(), apikey.ErrRateLimited) || mx.count(apikey.CounterRateRefused) != 2 {
		t.Error("a second refusal was not counted")
	}
}
