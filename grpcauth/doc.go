// Package grpcauth authenticates gRPC calls by API key: unary and stream
// server interceptors for an apikey.Manager, in their own module so that
// applications without gRPC never download it.
//
//	auth, err := grpcauth.New(m,
//		grpcauth.WithMethodScopes(map[string][]string{
//			jobspb.Jobs_List_FullMethodName:  {"jobs:read"},
//			jobspb.Jobs_Watch_FullMethodName: {"jobs:read"},
//			jobspb.Jobs_Start_FullMethodName: {"jobs:write"},
//		}),
//		grpcauth.WithPublicMethods(grpc_health_v1.Health_Check_FullMethodName),
//	)
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(auth.Unary),
//		grpc.ChainStreamInterceptor(auth.Stream),
//	)
//	jobspb.RegisterJobsServer(srv, jobs)
//	if err := auth.CheckServer(srv); err != nil { ... } // every method covered, no typo
//
// In a handler, apikey.FromContext(ctx) returns the verified key (for a
// stream, from ss.Context()).
//
// # Credentials
//
// A call presents its key in the "authorization" metadata as
// "Bearer <token>" (grpc-go clients: metadata.AppendToOutgoingContext, or
// a credentials.PerRPCCredentials), with the HTTP middleware's rules: the
// scheme is case-insensitive, then one space and one token of at most 256
// bytes; a repeated value, or a token in both "authorization" and the
// opt-in key of WithMetadataKey (such as "x-api-key", bare token), is
// refused; another scheme (Basic...) counts as no credentials. Over a
// network, serve gRPC with TLS: the key travels in every call.
//
// # Which methods need what
//
// Each method is public (WithPublicMethods: credentials not read), scoped
// (WithMethodScopes: a verified key granting all of the listed scopes; an
// empty list admits any verified key), or unlisted. An unlisted method gets
// the WithDefaultScopes requirement if one is set, and otherwise fails
// closed: PermissionDenied for every key. So a method added to a service
// later, or a misspelt name in the map, is never open by accident;
// CheckServer reports both at startup.
//
// # Status codes
//
// Status renders every refusal (the client never sees why a key was bad):
//
//	Unauthenticated     no credentials; a malformed, unknown, revoked, disabled,
//	                    expired or grace-ended key (one generic message)
//	PermissionDenied    a missing scope, an unlisted method; a client address
//	                    outside the key's IP allowlist
//	ResourceExhausted   a rate limit or the failure throttle (with an
//	                    errdetails.RetryInfo), no credits left
//	Unavailable         the store or the rate limiter cannot answer
//
// Each status carries an errdetails.ErrorInfo (domain "apikey", a reason
// such as "INSUFFICIENT_SCOPE") so that clients can branch without parsing
// messages. The precise reason goes to the manager's logger and event hook,
// as for HTTP.
//
// # Client address
//
// The failure throttle (WithFailureThrottle) and the usage tracker
// (WithUsageTracker: last-used time, IP and client name) take the client
// address from the connection's peer (peer.FromContext). Behind a proxy
// that terminates the connection, that is the proxy's address, unless
// WithTrustedProxies names the proxy: then its x-forwarded-for metadata is
// believed, with the HTTP middleware's rules (apikey.ClientIP).
package grpcauth
