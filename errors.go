package apikey

import "errors"

// Sentinel errors. Test for them with errors.Is: the library and stores
// wrap them with context.
var (
	// ErrNotFound: no key has that ID, or (from Verify) the token does not
	// belong to any key. A token whose selector exists but whose secret is
	// wrong is also ErrNotFound, so callers cannot tell the two apart.
	ErrNotFound = errors.New("apikey: not found")
	// ErrAlreadyExists: a key with that ID or lookup value already exists.
	ErrAlreadyExists = errors.New("apikey: already exists")
	// ErrConflict: the key is in a state that forbids the operation, such as
	// rotating a key that is already revoked or replaced.
	ErrConflict = errors.New("apikey: conflict")
	// ErrMalformed: the presented credential is not a well-formed token of
	// this manager (wrong prefix, environment, length, alphabet or checksum).
	// It is decided without touching the store.
	ErrMalformed = errors.New("apikey: malformed token")
	// ErrRevoked: the key was revoked (including a rotation with no grace).
	ErrRevoked = errors.New("apikey: key revoked")
	// ErrExpired: the key's expiry has passed. Expired keys behave exactly
	// like revoked keys.
	ErrExpired = errors.New("apikey: key expired")
	// ErrGraceEnded: the key was rotated and its grace period has ended.
	ErrGraceEnded = errors.New("apikey: grace period ended")
	// ErrNotYetValid: the key's NotBefore time has not come yet. Like the
	// other refusals, the HTTP client sees only a generic 401.
	ErrNotYetValid = errors.New("apikey: key not yet valid")
	// ErrInsufficientScope: the key lacks a scope the operation needs.
	ErrInsufficientScope = errors.New("apikey: insufficient scope")
	// ErrStoreUnavailable: the store could not answer. A verify that fails
	// this way must be answered 503, never 401 and never let through.
	ErrStoreUnavailable = errors.New("apikey: store unavailable")
	// ErrInvalid: an argument is invalid (a bad scope, name, lifetime...).
	// The wrapped message says which.
	ErrInvalid = errors.New("apikey: invalid argument")
	// ErrChangesTrimmed: a change-feed read asked for entries that were
	// already trimmed; the reader must assume anything changed.
	ErrChangesTrimmed = errors.New("apikey: change feed trimmed")
)

// Reason names the outcome of a failed verification for logs, metrics and
// audit events. It never goes to the HTTP client.
func Reason(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrStoreUnavailable):
		return "store_unavailable"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrGraceEnded):
		return "grace_ended"
	case errors.Is(err, ErrNotYetValid):
		return "not_yet_valid"
	case errors.Is(err, ErrInsufficientScope):
		return "insufficient_scope"
	case errors.Is(err, ErrDisabled):
		return "disabled"
	case errors.Is(err, ErrIPNotAllowed):
		return "ip_not_allowed"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	case errors.Is(err, ErrUsageExceeded):
		return "usage_exceeded"
	case errors.Is(err, ErrLimiterUnavailable):
		return "limiter_unavailable"
	default:
		return "error"
	}
}
