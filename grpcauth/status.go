package grpcauth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apikit/apikey"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"
)

// ErrUnlistedMethod: the method has no scope requirement and the
// Authenticator has no default (WithDefaultScopes), so it fails closed.
// Answered PermissionDenied. It wraps apikey.ErrInsufficientScope.
var ErrUnlistedMethod = fmt.Errorf("%w: grpcauth: method has no scope requirement", apikey.ErrInsufficientScope)

// Client-facing messages. Like the HTTP middleware's, the Unauthenticated
// message for a bad credential is the same whatever the reason.
const (
	msgNoCredentials = "authentication required"
	msgInvalidToken  = "invalid API key"
	msgForbidden     = "the API key lacks a required scope"
	msgUnlisted      = "the method is not open to API keys"
	msgIPNotAllowed  = "the client address is not allowed for this API key"
	msgRateLimited   = "rate limit exceeded; retry later"
	msgUsageExceeded = "usage limit exceeded"
	msgThrottled     = "too many failed attempts; retry later"
	msgUnavailable   = "authentication is temporarily unavailable"
)

// ErrorInfo domain and reasons of the details Status attaches.
const (
	// Domain is the errdetails.ErrorInfo domain of every status Status builds.
	Domain = "apikey"
)

// Status returns the gRPC status answering err, an error of Authenticate:
//
//   - apikey.ErrNoCredentials: Unauthenticated, "authentication required";
//   - a bad credential of any kind (malformed, unknown, revoked, disabled,
//     expired, grace ended) and any error not listed here: Unauthenticated,
//     "invalid API key", never saying which;
//   - apikey.ErrInsufficientScope (an *apikey.ScopeError, ErrUnlistedMethod)
//     and apikey.ErrIPNotAllowed: PermissionDenied;
//   - apikey.ErrRateLimited (with the RetryAfter of its
//     *apikey.RateLimitedError), apikey.ErrThrottled (*apikey.ThrottledError)
//     and apikey.ErrUsageExceeded: ResourceExhausted, with an
//     errdetails.RetryInfo when a wait is known;
//   - apikey.ErrStoreUnavailable and apikey.ErrLimiterUnavailable:
//     Unavailable.
//
// Every status carries an errdetails.ErrorInfo (Domain, and a Reason such
// as "INVALID_API_KEY"); a PermissionDenied for scopes names them in its
// metadata "scopes". The text of err never reaches the client.
func Status(err error) *status.Status {
	var (
		code   codes.Code
		msg    string
		reason string
		meta   map[string]string
		retry  time.Duration
	)
	switch {
	case err == nil:
		return status.New(codes.OK, "")
	case errors.Is(err, apikey.ErrStoreUnavailable), errors.Is(err, apikey.ErrLimiterUnavailable):
		code, msg, reason = codes.Unavailable, msgUnavailable, "UNAVAILABLE"
	case errors.Is(err, apikey.ErrThrottled):
		code, msg, reason = codes.ResourceExhausted, msgThrottled, "THROTTLED"
		if te, ok := errors.AsType[*apikey.ThrottledError](err); ok {
			retry = te.RetryAfter
		}
	case errors.Is(err, apikey.ErrRateLimited):
		code, msg, reason = codes.ResourceExhausted, msgRateLimited, "RATE_LIMITED"
		if re, ok := errors.AsType[*apikey.RateLimitedError](err); ok {
			retry = re.Decision.RetryAfter
		}
	case errors.Is(err, apikey.ErrUsageExceeded):
		code, msg, reason = codes.ResourceExhausted, msgUsageExceeded, "USAGE_EXCEEDED"
	case errors.Is(err, apikey.ErrIPNotAllowed):
		code, msg, reason = codes.PermissionDenied, msgIPNotAllowed, "IP_NOT_ALLOWED"
	case errors.Is(err, ErrUnlistedMethod):
		code, msg, reason = codes.PermissionDenied, msgUnlisted, "METHOD_NOT_ALLOWED"
	case errors.Is(err, apikey.ErrInsufficientScope):
		code, msg, reason = codes.PermissionDenied, msgForbidden, "INSUFFICIENT_SCOPE"
		if se, ok := errors.AsType[*apikey.ScopeError](err); ok && len(se.Scopes) > 0 {
			meta = map[string]string{"scopes": strings.Join(se.Scopes, " ")}
		}
	case errors.Is(err, apikey.ErrNoCredentials):
		code, msg, reason = codes.Unauthenticated, msgNoCredentials, "NO_CREDENTIALS"
	default:
		code, msg, reason = codes.Unauthenticated, msgInvalidToken, "INVALID_API_KEY"
	}
	st := status.New(code, msg)
	details := []protoadapt.MessageV1{&errdetails.ErrorInfo{Reason: reason, Domain: Domain, Metadata: meta}}
	if retry > 0 {
		details = append(details, &errdetails.RetryInfo{RetryDelay: durationpb.New(retry)})
	}
	if withDetails, derr := st.WithDetails(details...); derr == nil {
		st = withDetails
	}
	return st
}
