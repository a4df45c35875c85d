package apikey_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/storetest/faultstore"
)

func throttledRig(t *testing.T, failures int, per time.Duration) (*httpRig, *apikey.FailureThrottle, *apikey.ManualClock) {
	t.Helper()
	clock := apikey.NewManualClock(t0)
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: failures, Per: per, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return newHTTPRig(t, apikey.WithFailureThrottle(th)), th, clock
}

// N bad keys from one address get 401s, then 429 with Retry-After, refused
// before any store read; other addresses are unaffected; the address is let
// back in once its failures are forgiven.
func TestMiddlewareThrottle(t *testing.T) {
	r, th, clock := throttledRig(t, 3, 30*time.Second)
	for range 3 {
		if rec := r.do(clientA, "Bearer "+r.wrong); rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", rec.Code)
		}
	}
	reads := r.fs.Calls(faultstore.GetByLookup)
	for _, authz := range []string{"Bearer " + r.wrong, "Bearer " + r.valid.Token.Reveal(), "Bearer garbage", ""} {
		rec := r.do(clientA, authz)
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "10" {
			t.Fatalf("%q: status %d, Retry-After %q; want 429, 10", apikey.Redact(authz), rec.Code, rec.Header().Get("Retry-After"))
		}
		var body struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code == "" {
			t.Fatalf("429 body %q: %v", rec.Body.String(), err)
		}
	}
	if got := r.fs.Calls(faultstore.GetByLookup); got != reads {
		t.Fatalf("throttled requests made %d store reads, want 0", got-reads)
	}
	if rec := r.do("198.51.100.8:1", "Bearer "+r.valid.Token.Reveal()); rec.Code != http.StatusOK {
		t.Fatalf("another client: %d", rec.Code)
	}
	clock.Advance(10 * time.Second)
	if rec := r.do(clientA, "Bearer "+r.valid.Token.Reveal()); rec.Code != http.StatusOK {
		t.Fatalf("after the window: %d, want 200", rec.Code)
	}
	if st := th.Stats(); st.Failures != 3 || st.Refused != 4 {
		t.Fatalf("Stats = %+v", st)
	}
}

// Successes never count, and neither do 503s or requests without
// credentials: only bad credentials do.
func TestMiddlewareThrottleCountsOnlyFailures(t *testing.T) {
	r, th, _ := throttledRig(t, 2, time.Hour)
	tok := "Bearer " + r.valid.Token.Reveal()
	for range 1000 {
		if rec := r.do(clientA, tok); rec.Code != http.StatusOK {
			t.Fatalf("a valid key was refused: %d", rec.Code)
		}
	}
	for range 10 {
		if rec := r.do(clientA, ""); rec.Code != http.StatusUnauthorized {
			t.Fatalf("no credentials: %d", rec.Code)
		}
	}
	r.fs.Fail(errConnRefused)
	for range 10 {
		if rec := r.do(clientA, tok); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("store down: %d", rec.Code)
		}
	}
	r.fs.Clear()
	if st := th.Stats(); st.Failures != 0 || st.Refused != 0 {
		t.Fatalf("Stats = %+v; nothing above is a failure", st)
	}
	r.do(clientA, "Bearer "+r.wrong)
	r.do(clientA, "Bearer "+r.revoked.Token.Reveal())
	if rec := r.do(clientA, tok); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after two bad keys: %d, want 429", rec.Code)
	}
}

func TestWithFailureThrottleNil(t *testing.T) {
	r := newFaultRig(t)
	if _, err := apikey.NewAuthenticator(r.m, apikey.WithFailureThrottle(nil)); !errors.Is(err, apikey.ErrInvalid) {
		t.Fatalf("nil throttle: %v", err)
	}
}

// A custom error handler sees a *ThrottledError, wrapping ErrThrottled,
// and Challenge gives it the status.
func TestThrottledErrorForCustomHandlers(t *testing.T) {
	err := error(&apikey.ThrottledError{RetryAfter: 7 * time.Second})
	if !errors.Is(err, apikey.ErrThrottled) {
		t.Fatal("ThrottledError does not wrap ErrThrottled")
	}
	if status, challenge := apikey.Challenge(err, "api"); status != http.StatusTooManyRequests || challenge != "" {
		t.Fatalf("Challenge = %d %q", status, challenge)
	}
}

// BenchmarkMiddlewareThrottled is BenchmarkMiddleware with a failure
// throttle tracking 10 000 other clients: the cost a valid request pays for
// the throttle is the difference (client address parse, one locked map
// lookup).
func BenchmarkMiddlewareThrottled(b *testing.B) {
	m, r := mwBench(b)
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10_000 {
		th.Fail("10.1." + strconv.Itoa(i>>8) + "." + strconv.Itoa(i&255))
	}
	a, err := apikey.NewAuthenticator(m, apikey.WithFailureThrottle(th))
	if err != nil {
		b.Fatal(err)
	}
	runHandler(b, a.Middleware(benchOK), r)
}

// BenchmarkMiddlewareThrottledRefusal is the cost of refusing a throttled
// client: no credential parsing, no verify, no store read.
func BenchmarkMiddlewareThrottledRefusal(b *testing.B) {
	m, r := mwBench(b)
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 1, Per: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	th.Fail(apikey.ClientIP(r, nil))
	a, err := apikey.NewAuthenticator(m, apikey.WithFailureThrottle(th))
	if err != nil {
		b.Fatal(err)
	}
	h := a.Middleware(benchOK)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusTooManyRequests {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
