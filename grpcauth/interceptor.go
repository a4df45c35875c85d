package grpcauth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/apikit/apikey"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// Unary is a grpc.UnaryServerInterceptor: it authenticates the call (see
// Authenticate) and runs handler with the verified key in the context
// (apikey.FromContext), or answers the error's status (see Status).
//
//	grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary))
func (a *Authenticator) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	kctx, err := a.Authenticate(ctx, info.FullMethod)
	if err != nil {
		a.refused(ctx, err)
		return nil, Status(err).Err()
	}
	return handler(kctx, req)
}

// Stream is a grpc.StreamServerInterceptor: Unary for streaming calls
// (server, client and bidirectional). The call is authenticated once, when
// the stream opens; the handler's ss.Context() carries the key.
//
//	grpc.NewServer(grpc.ChainStreamInterceptor(auth.Stream))
func (a *Authenticator) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.Authenticate(ss.Context(), info.FullMethod)
	if err != nil {
		a.refused(ss.Context(), err)
		return Status(err).Err()
	}
	if ctx == ss.Context() {
		return handler(srv, ss) // a public method
	}
	return handler(srv, &keyedStream{ServerStream: ss, ctx: ctx})
}

// keyedStream is a ServerStream whose context carries the verified key.
type keyedStream struct {
	grpc.ServerStream
	ctx context.Context
}

// Context returns the stream's context with the key.
func (s *keyedStream) Context() context.Context { return s.ctx }

// Authenticate is the interceptors without gRPC plumbing, for custom flows:
// it returns ctx unchanged for a public method, else ctx with the verified
// key of the call to fullMethod, or an error for Status. In order: the
// failure throttle (*apikey.ThrottledError), the credentials
// (apikey.ErrNoCredentials, errors wrapping apikey.ErrMalformed), then
// apikey.Manager.VerifyRequest with the client address, the method's
// scopes and cost: the token and the key's state (disabled:
// apikey.ErrDisabled), the IP allowlist (apikey.ErrIPNotAllowed), the
// scopes (an *apikey.ScopeError, or ErrUnlistedMethod), the rate limits (an
// *apikey.RateLimitedError, apikey.ErrLimiterUnavailable) and the credits
// (apikey.ErrUsageExceeded); then the use is recorded with the usage
// tracker.
func (a *Authenticator) Authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if a.public[fullMethod] {
		return ctx, nil
	}
	addr := a.clientAddr(ctx)
	var client string
	if (a.throttle != nil || a.usage != nil) && addr.IsValid() {
		client = addr.String()
	}
	if a.throttle != nil {
		if wait, ok := a.throttle.Check(client); !ok {
			return nil, &apikey.ThrottledError{RetryAfter: wait}
		}
	}
	k, err := a.verify(ctx, fullMethod, addr)
	if err != nil {
		if a.throttle != nil && badCredential(err) {
			a.throttle.Fail(client)
		}
		return nil, err
	}
	if a.usage != nil {
		var name string
		if a.clientName != nil {
			md, _ := metadata.FromIncomingContext(ctx)
			name = a.clientName(md)
		}
		a.usage.Touch(k.ID, a.m.Now(), client, name)
	}
	return apikey.NewContext(ctx, k), nil
}

// badCredential reports whether err is a failed verification the failure
// throttle counts: a credential that is malformed, unknown, revoked,
// disabled, expired or out of grace. No credentials, a failure to answer
// (store, limiter) and the refusals of a valid key (scope, IP, limits,
// credits) do not count.
func badCredential(err error) bool {
	for _, e := range []error{apikey.ErrNoCredentials, apikey.ErrStoreUnavailable, apikey.ErrLimiterUnavailable,
		apikey.ErrInsufficientScope, apikey.ErrIPNotAllowed, apikey.ErrRateLimited, apikey.ErrUsageExceeded} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

// verify reads the call's credentials and verifies them with the manager's
// request-level verify (apikey.Manager.VerifyRequest): the token, the key's
// state, the client address against its IP allowlist, the method's scopes,
// then its rate limits and credits, spending the method's cost. An
// unlisted method without a default asks for a scope no key has (AnyScope
// with none), so it is refused after the IP check and before any limit or
// credit is spent.
func (a *Authenticator) verify(ctx context.Context, fullMethod string, addr netip.Addr) (*apikey.Key, error) {
	tok, err := a.credentials(ctx)
	if err != nil {
		if !errors.Is(err, apikey.ErrNoCredentials) {
			a.debug(ctx, "apikey: verify failed", slog.String("reason", "malformed"), slog.String("detail", err.Error()))
		}
		return nil, err
	}
	p := apikey.RequestParams{ClientIP: addr, Cost: a.costs[fullMethod]}
	need, listed := a.scopes[fullMethod]
	switch {
	case listed:
		p.Scopes = need
	case a.hasDefault:
		p.Scopes = a.defScopes
	default:
		p.AnyScope = true // grants nothing
	}
	k, err := a.m.VerifyRequest(ctx, tok, p) // logs and reports the reason
	if err != nil && !listed && !a.hasDefault && errors.Is(err, apikey.ErrInsufficientScope) {
		a.debug(ctx, "grpcauth: method has no scope requirement; refused", slog.String("method", fullMethod))
		return nil, ErrUnlistedMethod
	}
	return k, err
}

// clientAddr returns the call's client address: the peer's, or with
// trusted proxies the one apikey.ClientIP finds in x-forwarded-for. The
// zero Addr means none (a Unix socket, bufconn): a key with an IP
// allowlist is then refused.
func (a *Authenticator) clientAddr(ctx context.Context) netip.Addr {
	ip := peerAddr(ctx)
	if len(a.trusted) == 0 || !ip.IsValid() {
		return ip
	}
	xff := metadata.ValueFromIncomingContext(ctx, "x-forwarded-for")
	if len(xff) == 0 {
		return ip
	}
	// The HTTP middleware's parser, on a request that carries only what it
	// reads: one implementation of the trust walk for both transports.
	r := &http.Request{RemoteAddr: netip.AddrPortFrom(ip, 0).String(), Header: http.Header{"X-Forwarded-For": xff}}
	if fwd, err := netip.ParseAddr(apikey.ClientIP(r, a.trusted)); err == nil {
		return fwd.Unmap()
	}
	return ip
}

// peerAddr returns the IP address of the call's peer, or the zero Addr
// when it has none.
func peerAddr(ctx context.Context) netip.Addr {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return netip.Addr{}
	}
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(tcp.IP)
		return ip.Unmap()
	}
	if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// debug logs at debug level on the manager's logger, if enabled.
func (a *Authenticator) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}
