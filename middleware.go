package apikey

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"
)

// Authenticator is the HTTP side of a Manager: its Middleware identifies
// the caller by API key and puts the verified key in the request context,
// and RequireAll / RequireAny enforce scopes on top of it. Identification
// and enforcement are separate steps, so routes can share one
// authenticator and differ in scopes:
//
//	auth, err := apikey.NewAuthenticator(m, apikey.WithRealm("plangrep"))
//	mux.Handle("GET /jobs", auth.Middleware(auth.RequireAll("jobs:read")(listJobs)))
//	r.Use(auth.Middleware) // chi and similar routers
//
// Every refusal goes through one ErrorHandler (default WriteError: RFC 6750
// answers with a generic JSON body); the precise reason only reaches the
// manager's logger and event hook. An Authenticator is immutable and safe
// for concurrent use.
type Authenticator struct {
	m          *Manager
	realm      string
	codes      ErrorCodes
	header     string
	query      string
	optional   bool
	onError    ErrorHandler
	trusted    []netip.Prefix
	usage      *UsageTracker
	clientName func(*http.Request) string
	throttle   *FailureThrottle          // WithFailureThrottle (throttle.go)
	cost       func(*http.Request) int64 // WithCost (middleware_controls.go)
	scopes     []string                  // set by Scoped on its copy
	hide       bool                      // WithHideCredentials (hide.go)
}

// MiddlewareOption configures an Authenticator. Options are validated once,
// by NewAuthenticator.
type MiddlewareOption func(*Authenticator) error

// DefaultRealm is the realm of the WWW-Authenticate challenge unless
// WithRealm sets another.
const DefaultRealm = "api"

// NewAuthenticator returns an Authenticator verifying keys with m.
func NewAuthenticator(m *Manager, opts ...MiddlewareOption) (*Authenticator, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil manager", ErrInvalid)
	}
	a := &Authenticator{m: m, realm: DefaultRealm, codes: defaultErrorCodes}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	if a.onError == nil {
		realm, codes := a.realm, a.codes
		a.onError = func(w http.ResponseWriter, _ *http.Request, err error) {
			WriteError(w, err, realm, codes)
		}
	}
	return a, nil
}

// WithRealm sets the realm of the WWW-Authenticate challenge: printable
// ASCII, at most 128 bytes. Default "api".
func WithRealm(realm string) MiddlewareOption {
	return func(a *Authenticator) error {
		if len(realm) > 128 || !printableASCII(realm) {
			return fmt.Errorf("%w: realm must be at most 128 printable ASCII characters", ErrInvalid)
		}
		a.realm = realm
		return nil
	}
}

// WithErrorCodes sets the "code" values of the default JSON error body
// (empty fields keep the defaults "unauthorized", "forbidden",
// "unavailable"). It has no effect with WithErrorHandler.
func WithErrorCodes(codes ErrorCodes) MiddlewareOption {
	return func(a *Authenticator) error {
		a.codes = codes.withDefaults()
		return nil
	}
}

// WithErrorHandler replaces the default error answer (WriteError). The
// handler must not show err's text to the client; Challenge gives it the
// status and WWW-Authenticate header the default uses.
func WithErrorHandler(h ErrorHandler) MiddlewareOption {
	return func(a *Authenticator) error {
		if h == nil {
			return fmt.Errorf("%w: nil error handler", ErrInvalid)
		}
		a.onError = h
		return nil
	}
}

// WithHeader also accepts the token, bare (no scheme), in the named header,
// such as "X-API-Key". A request must not carry credentials in two places
// (RFC 6750 section 2); one that does is refused as malformed.
func WithHeader(name string) MiddlewareOption {
	return func(a *Authenticator) error {
		c := http.CanonicalHeaderKey(name)
		if name == "" || !isHeaderName(name) || c == "Authorization" {
			return fmt.Errorf("%w: API key header %q must be a valid header name other than Authorization", ErrInvalid, name)
		}
		a.header = c
		return nil
	}
}

// WithQueryParam also accepts the token in the named query parameter.
// Off by default, and best left off: URLs end up in access logs, proxy
// logs, browser history and Referer headers, so a token sent that way
// should be considered leaked (RFC 6750 section 5.3).
func WithQueryParam(name string) MiddlewareOption {
	return func(a *Authenticator) error {
		if name == "" {
			return fmt.Errorf("%w: empty query parameter name", ErrInvalid)
		}
		a.query = name
		return nil
	}
}

// WithOptional lets requests without credentials through, with no key in
// the context (check with FromContext). Requests with bad credentials are
// still refused, and a store failure is still a 503.
func WithOptional() MiddlewareOption {
	return func(a *Authenticator) error {
		a.optional = true
		return nil
	}
}

// WithTrustedProxies names the reverse proxies (CIDR prefixes or single
// addresses) whose X-Forwarded-For entries ClientIP may believe. Without
// it, the recorded client IP is the connection's address and the header is
// ignored. Trust only proxies you run: a trusted proxy that passes a
// client's header through unchanged lets that client choose its address.
func WithTrustedProxies(cidrs ...string) MiddlewareOption {
	return func(a *Authenticator) error {
		p, err := ParseTrustedProxies(cidrs...)
		if err != nil {
			return err
		}
		a.trusted = p
		return nil
	}
}

// WithUsageTracker records every successful authentication with t: the
// manager's clock, ClientIP and the client name (WithClientName).
func WithUsageTracker(t *UsageTracker) MiddlewareOption {
	return func(a *Authenticator) error {
		if t == nil {
			return fmt.Errorf("%w: nil usage tracker", ErrInvalid)
		}
		a.usage = t
		return nil
	}
}

// WithClientName names the calling system of a request for usage tracking
// (Key.LastUsedClient), for example from an integration-name header:
//
//	apikey.WithClientName(func(r *http.Request) string { return r.Header.Get("X-Integration-Name") })
//
// The value is client-controlled: the tracker truncates it and replaces
// invalid UTF-8, but treat it as untrusted text when displaying it.
func WithClientName(f func(*http.Request) string) MiddlewareOption {
	return func(a *Authenticator) error {
		a.clientName = f
		return nil
	}
}

// Middleware authenticates every request before next: it reads the
// credentials (see Credentials), verifies them with the manager, records
// the use with the usage tracker if any, and calls next with the key in the
// request context (see FromContext). A request without credentials is
// refused with ErrNoCredentials (401), or passed on without a key in
// optional mode; a bad credential is refused (401 invalid_token); a store
// failure is refused (503), never passed on. The key's controls are
// enforced after its state (see Manager.VerifyRequest): the IP allowlist
// against ClientIP (403), then the rate limits and credits with the cost of
// WithCost (429). Use Require or Scoped so that scopes are checked before
// anything is spent.
func (a *Authenticator) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, err := a.Authenticate(r)
		if err != nil {
			if a.optional && errors.Is(err, ErrNoCredentials) {
				next.ServeHTTP(w, r)
				return
			}
			if errors.Is(err, ErrNoCredentials) {
				a.refused(r, err) // Authenticate counted the others (metrics_http.go)
			}
			a.onError(w, r, err)
			return
		}
		if a.hide {
			r = a.withoutCredentials(r)
		}
		next.ServeHTTP(w, withKey(r, k))
	})
}

// Authenticate reads the request's credentials, verifies them and, on
// success, records the use with the usage tracker. It is the middleware
// without the HTTP answer, for custom flows (such as trying an operator
// token first). Errors: ErrNoCredentials, a *ThrottledError (with
// WithFailureThrottle), or those of Credentials and Manager.VerifyRequest.
//
// With WithMetrics on the manager, every refusal but ErrNoCredentials is
// counted here (the caller decides whether a request without credentials
// is refused; Middleware counts those it refuses).
func (a *Authenticator) Authenticate(r *http.Request) (*Key, error) {
	var k *Key
	var err error
	if a.throttle != nil {
		k, err = a.authenticateThrottled(r)
	} else {
		k, err = a.authenticate(r)
	}
	if err != nil && !errors.Is(err, ErrNoCredentials) {
		a.refused(r, err)
	}
	return k, err
}

// authenticate is Authenticate without the failure throttle.
func (a *Authenticator) authenticate(r *http.Request) (*Key, error) {
	tok, selector, err := a.credentials(r)
	if err != nil {
		if !errors.Is(err, ErrNoCredentials) {
			a.m.logFailure(r.Context(), OutcomeMalformed, nil, err) // sampled (faillog.go)
			a.m.emit(r.Context(), Event{Kind: EventVerifyFailed, At: a.m.Now(), Reason: "malformed"})
		}
		return nil, err
	}
	var k *Key
	var now time.Time
	var run verifyRun
	a.m.startVerify(&run) // metrics.go: nothing without WithMetrics
	if selector != "" {
		k, now, err = a.m.verifySelector(r.Context(), tok, selector, &run) // already parsed
	} else {
		k, now, err = a.m.verifyToken(r.Context(), tok, &run)
	}
	if err == nil && (len(a.scopes) > 0 || hasControls(k)) {
		err = a.controls(r, k, now, &run)
	}
	a.m.endVerify(r.Context(), &run, err)
	if err != nil {
		return nil, err // verifyToken or the controls logged the reason
	}
	if a.usage != nil {
		var client string
		if a.clientName != nil {
			client = a.clientName(r)
		}
		a.usage.Touch(k.ID, a.m.Now(), ClientIP(r, a.trusted), client)
	}
	return k, nil
}

// Errors for credentials that are present but cannot be a token. They wrap
// ErrMalformed and are answered like any bad token.
var (
	errEmptyToken    = fmt.Errorf("%w: empty token", ErrMalformed)
	errLongToken     = fmt.Errorf("%w: token longer than %d bytes", ErrMalformed, maxTokenLen)
	errTokenChars    = fmt.Errorf("%w: token has characters outside the b64token set (spaces, two tokens, non-ASCII)", ErrMalformed)
	errManyHeaders   = fmt.Errorf("%w: credential header repeated", ErrMalformed)
	errManyLocations = fmt.Errorf("%w: credentials sent in more than one place", ErrMalformed)
)

// Credentials returns the token the request presents, without verifying
// it. It reads, in this order, the Authorization header with the Bearer
// scheme (case-insensitive, then exactly one space and one b64token, RFC
// 6750 section 2.1; the RFC's grammar tolerates several spaces, which no
// client sends, and this parser refuses them as malformed), the WithHeader header, and the WithQueryParam parameter; credentials in
// more than one of them, a repeated header, an empty token, a token with
// spaces, non-ASCII or other characters outside the b64token set, or a
// token over 256 bytes give an error wrapping ErrMalformed (decided before
// any other work). An Authorization header with another scheme (Basic...)
// is not a credential of ours and counts as none: with nothing else the
// result is ErrNoCredentials (answered 401 without an error code, RFC 6750
// section 3.1).
func (a *Authenticator) Credentials(r *http.Request) (string, error) {
	tok, _, err := a.credentials(r)
	return tok, err
}

// credentials is Credentials that also returns the token's selector when
// the token is of the manager's own format (checked once here, so Verify
// does not scan it again), or "" when it is not (a legacy token, or one
// Verify will refuse).
func (a *Authenticator) credentials(r *http.Request) (tok, selector string, err error) {
	found := false
	if vs, ok := r.Header["Authorization"]; ok {
		if len(vs) != 1 {
			return "", "", errManyHeaders
		}
		t, bearer, err := parseBearer(vs[0])
		if !bearer {
			t = "" // another scheme counts as no credentials
		} else if err == nil {
			selector, err = a.checkToken(t)
		}
		if err != nil {
			return "", "", err
		}
		tok, found = t, bearer
	}
	if a.header != "" {
		if vs, ok := r.Header[a.header]; ok {
			switch {
			case found:
				return "", "", errManyLocations
			case len(vs) != 1:
				return "", "", errManyHeaders
			}
			if selector, err = a.checkToken(vs[0]); err != nil {
				return "", "", err
			}
			tok, found = vs[0], true
		}
	}
	if a.query != "" && r.URL != nil && r.URL.RawQuery != "" {
		if vs, ok := r.URL.Query()[a.query]; ok {
			switch {
			case found:
				return "", "", errManyLocations
			case len(vs) != 1:
				return "", "", errManyHeaders
			}
			if selector, err = a.checkToken(vs[0]); err != nil {
				return "", "", err
			}
			tok, found = vs[0], true
		}
	}
	if !found {
		return "", "", ErrNoCredentials
	}
	return tok, selector, nil
}

// checkToken checks a presented token's syntax. A token of the manager's
// own format (shape, checksum, prefix, environment) is made only of
// letters, digits and underscores, so it is also a valid b64token: its
// selector is returned and nothing else is scanned. Anything else gets the
// generic b64token check (syntaxCheck), and selector "".
func (a *Authenticator) checkToken(t string) (selector string, err error) {
	if sel, ok := a.m.ownSelector(t); ok {
		return sel, nil
	}
	return "", syntaxCheck(t)
}

// debug logs at debug level on the manager's logger, if enabled.
func (a *Authenticator) debug(r *http.Request, msg string, attrs ...slog.Attr) {
	l := a.m.cfg.logger
	if l.Enabled(r.Context(), levelDebug) {
		l.LogAttrs(r.Context(), levelDebug, msg, attrs...)
	}
}
