package grpcauth_test

import (
	"context"
	"testing"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"github.com/apikit/apikey/internal/benchkit"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
)

// BenchmarkUnaryVsBare interleaves a unary call over bufconn to a server
// without interceptor ("bare") with the same call, carrying a key, to a
// server behind grpcauth ("auth") on a memory store, and reports the ratio
// auth/bare. Both calls carry the same metadata.
func BenchmarkUnaryVsBare(b *testing.B) {
	bare := newRig(b, rigOptions{noAuth: true})
	r := newRig(b, rigOptions{})
	_, tok := r.key(b, scopeRead)
	ctx := bearer(tok)
	bareClient, authClient := testpb.NewTestServiceClient(bare.conn), testpb.NewTestServiceClient(r.conn)
	req := &testpb.SimpleRequest{}
	b.ReportAllocs()
	b.ResetTimer()
	benchkit.Interleave(b, "bare", func() {
		if _, err := bareClient.UnaryCall(ctx, req); err != nil {
			b.Fatal(err)
		}
	}, "auth", func() {
		if _, err := authClient.UnaryCall(ctx, req); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkUnaryInterceptor measures the interceptor alone, as the server
// runs it (incoming metadata and peer in the context), with and without
// the verification cache: ns/op and allocations added to every call.
func BenchmarkUnaryInterceptor(b *testing.B) {
	for _, cache := range []bool{false, true} {
		name := "memstore"
		if cache {
			name += "+cache"
		}
		b.Run(name, func(b *testing.B) {
			var opts []apikey.Option
			if cache {
				opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
			}
			m, tok := benchManager(b, opts...)
			auth, err := grpcauth.New(m, grpcauth.WithDefaultScopes(scopeRead))
			if err != nil {
				b.Fatal(err)
			}
			ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
			info := &grpc.UnaryServerInfo{FullMethod: testpb.TestService_UnaryCall_FullMethodName}
			handler := func(ctx context.Context, _ any) (any, error) { return nil, nil }
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := auth.Unary(ctx, nil, info, handler); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchManager(b *testing.B, opts ...apikey.Option) (*apikey.Manager, string) {
	r := newRig(b, rigOptions{})
	m, err := apikey.New(r.store, append([]apikey.Option{
		apikey.WithPrefix("tst"),
		apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")),
	}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: "t1", Name: "bench", Scopes: []string{scopeRead}})
	if err != nil {
		b.Fatal(err)
	}
	return m, is.Token.Reveal()
}

// BenchmarkInterceptorVsVerify interleaves Manager.Verify of a token with
// the unary interceptor verifying the same token (credentials read from
// the metadata, verify, scope check, key put in the context) and reports
// the interceptor's cost as a multiple of the bare verify ("ratio").
func BenchmarkInterceptorVsVerify(b *testing.B) {
	m, tok := benchManager(b, apikey.WithCache(apikey.CacheOptions{}))
	auth, err := grpcauth.New(m, grpcauth.WithDefaultScopes(scopeRead))
	if err != nil {
		b.Fatal(err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+tok))
	info := &grpc.UnaryServerInfo{FullMethod: testpb.TestService_UnaryCall_FullMethodName}
	handler := func(ctx context.Context, _ any) (any, error) { return nil, nil }
	b.ReportAllocs()
	b.ResetTimer()
	benchkit.Interleave(b, "verify", func() {
		if _, err := m.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}, "interceptor", func() {
		if _, err := auth.Unary(ctx, nil, info, handler); err != nil {
			b.Fatal(err)
		}
	})
}
