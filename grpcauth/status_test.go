package grpcauth_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"google.golang.org/grpc/codes"
)

// TestStatus maps every error the controls can give (rate limits, credits,
// IP allowlist, limiter down) and checks that err's text never leaks.
func TestStatus(t *testing.T) {
	limited := &apikey.RateLimitedError{Decision: apikey.RateDecision{
		Limit: apikey.RateLimit{Name: "per_minute_secret_name", Limit: 10, Window: time.Minute}, RetryAfter: 1500 * time.Millisecond}}
	cases := []struct {
		name   string
		err    error
		code   codes.Code
		reason string
		retry  time.Duration
	}{
		{"rate limited", limited, codes.ResourceExhausted, "RATE_LIMITED", 1500 * time.Millisecond},
		{"rate limited, wrapped", fmt.Errorf("verify: %w", limited), codes.ResourceExhausted, "RATE_LIMITED", 1500 * time.Millisecond},
		{"usage exceeded", fmt.Errorf("%w: key k1 has 0 credits", apikey.ErrUsageExceeded), codes.ResourceExhausted, "USAGE_EXCEEDED", 0},
		{"throttled", &apikey.ThrottledError{RetryAfter: 3 * time.Second}, codes.ResourceExhausted, "THROTTLED", 3 * time.Second},
		{"ip not allowed", fmt.Errorf("%w: 10.1.2.3", apikey.ErrIPNotAllowed), codes.PermissionDenied, "IP_NOT_ALLOWED", 0},
		{"scope", &apikey.ScopeError{Scopes: []string{"a:b", "c:d"}}, codes.PermissionDenied, "INSUFFICIENT_SCOPE", 0},
		{"unlisted", grpcauth.ErrUnlistedMethod, codes.PermissionDenied, "METHOD_NOT_ALLOWED", 0},
		{"store", fmt.Errorf("%w: lookup: dial tcp 10.0.0.1:5432", apikey.ErrStoreUnavailable), codes.Unavailable, "UNAVAILABLE", 0},
		{"limiter", fmt.Errorf("%w: redis: i/o timeout", apikey.ErrLimiterUnavailable), codes.Unavailable, "UNAVAILABLE", 0},
		{"disabled", fmt.Errorf("%w: key k1", apikey.ErrDisabled), codes.Unauthenticated, "INVALID_API_KEY", 0},
		{"revoked", apikey.ErrRevoked, codes.Unauthenticated, "INVALID_API_KEY", 0},
		{"grace ended", apikey.ErrGraceEnded, codes.Unauthenticated, "INVALID_API_KEY", 0},
		{"unknown error", errors.New("something odd"), codes.Unauthenticated, "INVALID_API_KEY", 0},
		{"no credentials", apikey.ErrNoCredentials, codes.Unauthenticated, "NO_CREDENTIALS", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := grpcauth.Status(tc.err).Err()
			st := grpcauth.Status(tc.err)
			if st.Code() != tc.code {
				t.Fatalf("code %v, want %v", st.Code(), tc.code)
			}
			reason, meta, retry := details(t, err)
			if reason != tc.reason || retry != tc.retry {
				t.Errorf("reason %q retry %v, want %q %v", reason, retry, tc.reason, tc.retry)
			}
			for _, leak := range []string{"secret_name", "k1", "10.", "redis", "odd"} {
				if strings.Contains(st.Message(), leak) {
					t.Errorf("message %q leaks %q", st.Message(), leak)
				}
			}
			if tc.reason == "INSUFFICIENT_SCOPE" && meta["scopes"] != "a:b c:d" {
				t.Errorf("scopes %q", meta["scopes"])
			}
		})
	}
	if c := grpcauth.Status(nil).Code(); c != codes.OK {
		t.Errorf("nil: %v", c)
	}
}
