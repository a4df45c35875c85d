package grpcauth

import (
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/apikit/apikey"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Authenticator authenticates gRPC calls by API key. Its Unary and Stream
// methods are server interceptors:
//
//	auth, err := grpcauth.New(m,
//		grpcauth.WithMethodScopes(map[string][]string{
//			"/jobs.v1.Jobs/List":  {"jobs:read"},
//			"/jobs.v1.Jobs/Start": {"jobs:write"},
//		}),
//		grpcauth.WithPublicMethods(grpc_health_v1.Health_Check_FullMethodName),
//	)
//	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
//	if err := auth.CheckServer(srv); err != nil { ... } // after registering the services
//
// An Authenticator is immutable and safe for concurrent use.
type Authenticator struct {
	m          *apikey.Manager
	log        *slog.Logger
	scopes     map[string][]string // full method name -> all-of scopes
	defScopes  []string            // for unlisted methods; nil: refuse them
	hasDefault bool
	public     map[string]bool
	mdKey      string // opt-in bare-token metadata key; "" for none
	usage      *apikey.UsageTracker
	throttle   *apikey.FailureThrottle
	clientName func(metadata.MD) string
	trusted    []netip.Prefix // WithTrustedProxies
}

// Option configures an Authenticator. Options are validated once, by New.
type Option func(*Authenticator) error

// New returns an Authenticator verifying keys with m. Without options every
// method is refused: each method needs a scope requirement
// (WithMethodScopes), a default requirement (WithDefaultScopes) or to be
// public (WithPublicMethods). A method name or scope that is malformed, or a
// scope outside the manager's catalogue (apikey.WithScopeCatalog), is an
// error wrapping apikey.ErrInvalid.
func New(m *apikey.Manager, opts ...Option) (*Authenticator, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: grpcauth: nil manager", apikey.ErrInvalid)
	}
	a := &Authenticator{m: m, log: m.Logger(), scopes: map[string][]string{}, public: map[string]bool{}}
	for _, o := range opts {
		if err := o(a); err != nil {
			return nil, err
		}
	}
	for method := range a.public {
		if _, ok := a.scopes[method]; ok {
			return nil, fmt.Errorf("%w: grpcauth: method %s is both public and scoped", apikey.ErrInvalid, method)
		}
	}
	return a, nil
}

// WithMethodScopes sets the scopes each method needs, all of them (see
// apikey.HasAll), keyed by full method name ("/package.Service/Method", as
// in grpc.UnaryServerInfo.FullMethod and the generated
// ..._FullMethodName constants). An empty list admits any verified key.
// Repeated use adds to the map; a method named twice is an error.
func WithMethodScopes(scopes map[string][]string) Option {
	return func(a *Authenticator) error {
		for _, method := range slices.Sorted(maps.Keys(scopes)) {
			if err := checkMethod(method); err != nil {
				return err
			}
			if _, dup := a.scopes[method]; dup {
				return fmt.Errorf("%w: grpcauth: method %s listed twice", apikey.ErrInvalid, method)
			}
			need, err := a.checkScopes(scopes[method])
			if err != nil {
				return fmt.Errorf("grpcauth: method %s: %w", method, err)
			}
			a.scopes[method] = need
		}
		return nil
	}
}

// WithDefaultScopes sets what a method absent from WithMethodScopes and
// WithPublicMethods needs: a verified key granting all of scopes (with no
// scopes, any verified key). Without this option such a method fails
// closed: every call gets PermissionDenied after the key is verified, so a
// method added to a service later, or a typo in the map, never runs
// unprotected.
func WithDefaultScopes(scopes ...string) Option {
	return func(a *Authenticator) error {
		need, err := a.checkScopes(scopes)
		if err != nil {
			return fmt.Errorf("grpcauth: default scopes: %w", err)
		}
		a.defScopes, a.hasDefault = need, true
		return nil
	}
}

// WithPublicMethods names methods that need no key, such as the health
// check. Their credentials are not read at all, and their handlers find no
// key in the context.
func WithPublicMethods(methods ...string) Option {
	return func(a *Authenticator) error {
		for _, method := range methods {
			if err := checkMethod(method); err != nil {
				return err
			}
			a.public[method] = true
		}
		return nil
	}
}

// WithMetadataKey also accepts the token, bare (no scheme), in the named
// metadata key, such as "x-api-key" (lower-case: gRPC metadata keys are).
// A call must not carry credentials in both places; one that does is
// refused like a malformed token.
func WithMetadataKey(key string) Option {
	return func(a *Authenticator) error {
		if !validMetadataKey(key) || key == "authorization" {
			return fmt.Errorf("%w: grpcauth: metadata key %q must be lower-case [0-9a-z-_.], not authorization nor a -bin key", apikey.ErrInvalid, key)
		}
		a.mdKey = key
		return nil
	}
}

// WithUsageTracker records every authenticated call with t: the manager's
// clock, the peer's IP address and the client name (WithClientName).
func WithUsageTracker(t *apikey.UsageTracker) Option {
	return func(a *Authenticator) error {
		if t == nil {
			return fmt.Errorf("%w: grpcauth: nil usage tracker", apikey.ErrInvalid)
		}
		a.usage = t
		return nil
	}
}

// WithClientName names the calling system for usage tracking
// (Key.LastUsedClient), from the call's incoming metadata. The value is
// client-controlled; the tracker truncates it.
func WithClientName(f func(md metadata.MD) string) Option {
	return func(a *Authenticator) error {
		a.clientName = f
		return nil
	}
}

// WithTrustedProxies names the proxies (CIDR prefixes or single addresses)
// whose "x-forwarded-for" metadata the client address may be taken from,
// with apikey.ClientIP's rules: only when the peer itself is trusted,
// walking the entries from the right to the first untrusted one. Without
// it the client address is the peer's and the metadata is ignored (any
// client can send it). Envoy and similar proxies that terminate gRPC set
// x-forwarded-for.
func WithTrustedProxies(cidrs ...string) Option {
	return func(a *Authenticator) error {
		p, err := apikey.ParseTrustedProxies(cidrs...)
		if err != nil {
			return err
		}
		a.trusted = p
		return nil
	}
}

// WithFailureThrottle refuses, with ResourceExhausted and RetryInfo, peers
// (by IP address; every peer that has none, such as a Unix socket or
// bufconn, counts as one) that made too many failed verifications, before
// reading their credentials. Failures are bad credentials of any kind; a
// call without credentials, a store failure and a missing scope do not
// count. The throttle may be shared with the HTTP middleware.
func WithFailureThrottle(t *apikey.FailureThrottle) Option {
	return func(a *Authenticator) error {
		if t == nil {
			return fmt.Errorf("%w: grpcauth: nil failure throttle", apikey.ErrInvalid)
		}
		a.throttle = t
		return nil
	}
}

// checkScopes validates scopes (against the manager's catalogue if it has
// one) and returns a copy.
func (a *Authenticator) checkScopes(scopes []string) ([]string, error) {
	if c := a.m.Catalog(); c != nil {
		if err := c.Validate(scopes); err != nil {
			return nil, err
		}
	} else {
		for _, s := range scopes {
			if err := apikey.ValidateScope(s); err != nil {
				return nil, err
			}
		}
	}
	return append([]string{}, scopes...), nil
}

// checkMethod checks the form "/service/method".
func checkMethod(method string) error {
	svc, name, ok := strings.Cut(strings.TrimPrefix(method, "/"), "/")
	if !strings.HasPrefix(method, "/") || !ok || svc == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("%w: grpcauth: method %q is not a full method name (/package.Service/Method)", apikey.ErrInvalid, method)
	}
	return nil
}

// validMetadataKey reports whether k is a lower-case ASCII metadata key
// that is not binary.
func validMetadataKey(k string) bool {
	if k == "" || strings.HasSuffix(k, "-bin") || strings.HasPrefix(k, "grpc-") {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// CheckServer reports, as one error, every method registered on srv (a
// *grpc.Server) that is not covered (neither public nor scoped, with no
// default) and every scoped or public method srv does not serve (a typo
// that would leave the real method to the default). Call it after
// registering the services; nil means the configuration covers srv
// exactly.
func (a *Authenticator) CheckServer(srv interface {
	GetServiceInfo() map[string]grpc.ServiceInfo
}) error {
	served := map[string]bool{}
	var problems []string
	for svc, info := range srv.GetServiceInfo() {
		for _, m := range info.Methods {
			name := "/" + svc + "/" + m.Name
			served[name] = true
			if _, ok := a.scopes[name]; !ok && !a.public[name] && !a.hasDefault {
				problems = append(problems, "method "+name+" has no scope requirement (every call is refused)")
			}
		}
	}
	for _, name := range slices.Concat(slices.Collect(maps.Keys(a.scopes)), slices.Collect(maps.Keys(a.public))) {
		if !served[name] {
			problems = append(problems, "method "+name+" is configured but not served")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return fmt.Errorf("%w: grpcauth: %s", apikey.ErrInvalid, strings.Join(problems, "; "))
}
