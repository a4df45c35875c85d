package grpcauth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"

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
	ctx, err := a.Authenticate(ctx, info.FullMethod)
	if err != nil {
		return nil, Status(err).Err()
	}
	return handler(ctx, req)
}

// Stream is a grpc.StreamServerInterceptor: Unary for streaming calls
// (server, client and bidirectional). The call is authenticated once, when
// the stream opens; the handler's ss.Context() carries the key.
//
//	grpc.NewServer(grpc.ChainStreamInterceptor(auth.Stream))
func (a *Authenticator) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := a.Authenticate(ss.Context(), info.FullMethod)
	if err != nil {
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
// (apikey.ErrNoCredentials, errors wrapping apikey.ErrMalformed), the
// manager's verification (its errors), the method's scopes (an
// *apikey.ScopeError, or ErrUnlistedMethod); then the use is recorded with the usage tracker.
func (a *Authenticator) Authenticate(ctx context.Context, fullMethod string) (context.Context, error) {
	if a.public[fullMethod] {
		return ctx, nil
	}
	var client string
	if a.throttle != nil || a.usage != nil {
		client = a.clientIP(ctx)
	}
	if a.throttle != nil {
		if wait, ok := a.throttle.Check(client); !ok {
			return nil, &apikey.ThrottledError{RetryAfter: wait}
		}
	}
	k, err := a.verify(ctx, client)
	if err != nil {
		if a.throttle != nil && badCredential(err) {
			a.throttle.Fail(client)
		}
		return nil, err
	}
	need, listed := a.scopes[fullMethod]
	if !listed {
		if !a.hasDefault {
			a.debug(ctx, "grpcauth: method has no scope requirement; refused", slog.String("method", fullMethod))
			return nil, ErrUnlistedMethod
		}
		need = a.defScopes
	}
	if !apikey.HasAll(k.Scopes, need...) {
		a.debug(ctx, "grpcauth: insufficient scope", slog.String("method", fullMethod),
			slog.String("key_id", k.ID), slog.Any("needed", need))
		return nil, &apikey.ScopeError{Scopes: slices.Clone(need)}
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

// verify reads the call's credentials and verifies them with the manager.
func (a *Authenticator) verify(ctx context.Context, _ string) (*apikey.Key, error) {
	tok, err := a.credentials(ctx)
	if err != nil {
		if !errors.Is(err, apikey.ErrNoCredentials) {
			a.debug(ctx, "apikey: verify failed", slog.String("reason", "malformed"), slog.String("detail", err.Error()))
		}
		return nil, err
	}
	return a.m.Verify(ctx, tok) // Verify logs and reports the reason
}

// clientIP returns the call's client address: the peer's, or with trusted
// proxies the one apikey.ClientIP finds in x-forwarded-for.
func (a *Authenticator) clientIP(ctx context.Context) string {
	ip := peerIP(ctx)
	if len(a.trusted) == 0 || ip == "" {
		return ip
	}
	xff := metadata.ValueFromIncomingContext(ctx, "x-forwarded-for")
	if len(xff) == 0 {
		return ip
	}
	// The HTTP middleware's parser, on a request that carries only what it
	// reads: one implementation of the trust walk for both transports.
	r := &http.Request{RemoteAddr: net.JoinHostPort(ip, "0"), Header: http.Header{"X-Forwarded-For": xff}}
	return apikey.ClientIP(r, a.trusted)
}

// peerIP returns the IP address of the call's peer, or "" when it has
// none (a Unix socket, bufconn).
func peerIP(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	if tcp, ok := p.Addr.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(tcp.IP); ok {
			return ip.Unmap().String()
		}
		return ""
	}
	if ap, err := netip.ParseAddrPort(p.Addr.String()); err == nil {
		return ap.Addr().Unmap().String()
	}
	return ""
}

// debug logs at debug level on the manager's logger, if enabled.
func (a *Authenticator) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
	}
}
