package grpcauth_test

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/status"
)

// controlKey creates a key with test:read and the given controls.
func (r *rig) controlKey(t *testing.T, p apikey.CreateParams) (*apikey.Key, string) {
	t.Helper()
	p.Tenant, p.Name, p.Scopes = "t1", "controlled", []string{scopeRead}
	is, err := r.m.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return is.Key, is.Token.Reveal()
}

// call makes one UnaryCall with tok and returns its code, ErrorInfo
// reason and RetryInfo delay.
func (r *rig) call(t *testing.T, tok string) (codes.Code, string, time.Duration) {
	t.Helper()
	_, err := testpb.NewTestServiceClient(r.conn).UnaryCall(bearer(tok), &testpb.SimpleRequest{})
	if err == nil {
		return codes.OK, "", 0
	}
	reason, _, retry := details(t, err)
	return status.Code(err), reason, retry
}

// TestControls: the key controls of the controls issue, through a real
// gRPC call: rate limits and credits give ResourceExhausted (rate limits
// with RetryInfo), the IP allowlist PermissionDenied, a disabled key the
// generic Unauthenticated, and refused calls spend no credit.
func TestControls(t *testing.T) {
	ctx := context.Background()
	t.Run("rate limit", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		_, tok := r.controlKey(t, apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "per_minute", Limit: 2, Window: time.Minute}}})
		for range 2 {
			if c, _, _ := r.call(t, tok); c != codes.OK {
				t.Fatalf("within the limit: %v", c)
			}
		}
		c, reason, retry := r.call(t, tok)
		if c != codes.ResourceExhausted || reason != "RATE_LIMITED" || retry <= 0 || retry > time.Minute {
			t.Fatalf("over the limit: %v %q retry %v", c, reason, retry)
		}
	})
	t.Run("credits and cost", func(t *testing.T) {
		r := newRig(t, rigOptions{auth: []grpcauth.Option{grpcauth.WithMethodCosts(map[string]int64{
			testpb.TestService_UnaryCall_FullMethodName: 3,
		})}})
		_, tok := r.controlKey(t, apikey.CreateParams{Credits: &apikey.Credits{Remaining: 7}})
		// Refused calls spend nothing: an unlisted method, twice.
		for range 2 {
			if _, err := testpb.NewTestServiceClient(r.conn).EmptyCall(bearer(tok), &testpb.Empty{}); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("unlisted method: %v", err)
			}
		}
		for range 2 { // 7 -> 4 -> 1
			if c, reason, _ := r.call(t, tok); c != codes.OK {
				t.Fatalf("with credits: %v %s", c, reason)
			}
		}
		if c, reason, retry := r.call(t, tok); c != codes.ResourceExhausted || reason != "USAGE_EXCEEDED" || retry != 0 {
			t.Fatalf("out of credits: %v %q %v", c, reason, retry)
		}
	})
	t.Run("IP allowlist", func(t *testing.T) {
		r := newRig(t, rigOptions{listenTCP: true})
		_, out := r.controlKey(t, apikey.CreateParams{IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		_, in := r.controlKey(t, apikey.CreateParams{IPAllowlist: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		if c, reason, _ := r.call(t, out); c != codes.PermissionDenied || reason != "IP_NOT_ALLOWED" {
			t.Errorf("outside the allowlist: %v %q", c, reason)
		}
		if c, _, _ := r.call(t, in); c != codes.OK {
			t.Errorf("inside the allowlist: %v", c)
		}
		// bufconn has no address: a key with an allowlist is refused.
		b := newRig(t, rigOptions{store: r.store})
		if c, reason, _ := b.call(t, in); c != codes.PermissionDenied || reason != "IP_NOT_ALLOWED" {
			t.Errorf("no client address: %v %q", c, reason)
		}
	})
	t.Run("disabled", func(t *testing.T) {
		r := newRig(t, rigOptions{})
		k, tok := r.controlKey(t, apikey.CreateParams{})
		if _, err := r.m.Disable(ctx, "t1", k.ID); err != nil {
			t.Fatal(err)
		}
		_, err := testpb.NewTestServiceClient(r.conn).UnaryCall(bearer(tok), &testpb.SimpleRequest{})
		if status.Code(err) != codes.Unauthenticated || status.Convert(err).Message() != "invalid API key" {
			t.Fatalf("disabled: %v", err)
		}
		if _, err := r.m.Enable(ctx, "t1", k.ID); err != nil {
			t.Fatal(err)
		}
		if c, _, _ := r.call(t, tok); c != codes.OK {
			t.Fatalf("enabled again: %v", c)
		}
	})
	t.Run("limiter down", func(t *testing.T) {
		r := newRig(t, rigOptions{managerOpts: []apikey.Option{apikey.WithRateLimiter(downLimiter{})}})
		_, tok := r.controlKey(t, apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "s", Limit: 10, Window: time.Second}}})
		if c, reason, _ := r.call(t, tok); c != codes.Unavailable || reason != "UNAVAILABLE" {
			t.Fatalf("limiter down: %v %q", c, reason)
		}
	})
}

// downLimiter is a RateLimiter that cannot answer (Redis unreachable).
type downLimiter struct{}

func (downLimiter) Allow(context.Context, *apikey.Key, int64) (apikey.RateDecision, error) {
	return apikey.RateDecision{}, errors.New("dial tcp 127.0.0.1:6379: connection refused")
}

// TestThrottleIgnoresControls: refusals of a valid key (scope, limits)
// are not counted as guesses by the failure throttle.
func TestThrottleIgnoresControls(t *testing.T) {
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 1, Per: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{listenTCP: true, auth: []grpcauth.Option{grpcauth.WithFailureThrottle(th)}})
	_, tok := r.controlKey(t, apikey.CreateParams{RateLimits: []apikey.RateLimit{{Name: "m", Limit: 1, Window: time.Hour}}})
	for range 3 {
		r.call(t, tok)
		if _, err := testpb.NewTestServiceClient(r.conn).EmptyCall(bearer(tok), &testpb.Empty{}); status.Code(err) != codes.PermissionDenied {
			t.Fatalf("unlisted: %v", err)
		}
	}
	if st := th.Stats(); st.Failures != 0 || st.Refused != 0 {
		t.Errorf("throttle counted refusals of a valid key: %+v", st)
	}
}

// countMetrics counts Metrics.Count calls by counter.
type countMetrics struct {
	mu sync.Mutex
	n  map[apikey.Counter]int64
}

func (c *countMetrics) Verified(context.Context, apikey.VerifyReport) {}

func (c *countMetrics) Count(_ context.Context, k apikey.Counter, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[k] += n
}

// TestRefusalMetrics: refused calls are counted by reason on the
// manager's Metrics, as the HTTP middleware's are.
func TestRefusalMetrics(t *testing.T) {
	mx := &countMetrics{n: map[apikey.Counter]int64{}}
	r := newRig(t, rigOptions{managerOpts: []apikey.Option{apikey.WithMetrics(mx)}})
	_, wo := r.key(t, scopeWrite)
	k, revoked := r.key(t, scopeRead)
	if _, err := r.m.Revoke(context.Background(), "t1", k.ID); err != nil {
		t.Fatal(err)
	}
	_, _ = testpb.NewTestServiceClient(r.conn).UnaryCall(context.Background(), &testpb.SimpleRequest{})
	r.call(t, wo)
	r.call(t, wo+"x")
	r.call(t, revoked)
	mx.mu.Lock()
	defer mx.mu.Unlock()
	for c, want := range map[apikey.Counter]int64{apikey.CounterRefusedNoCredentials: 1, apikey.CounterRefusedScope: 1,
		apikey.CounterRefusedMalformed: 1, apikey.CounterRefusedInvalid: 1} {
		if mx.n[c] != want {
			t.Errorf("%v: %d, want %d (all: %v)", c, mx.n[c], want, mx.n)
		}
	}
}
