package grpcauth_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"github.com/apikit/apikey/memstore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
)

// Scopes of the test catalogue.
const (
	scopeRead  = "test:read"
	scopeWrite = "test:write"
)

// methodScopes protect the test service: unary and server stream need
// read, client stream and bidi need write; EmptyCall is left unlisted.
var methodScopes = map[string][]string{
	testpb.TestService_UnaryCall_FullMethodName:           {scopeRead},
	testpb.TestService_StreamingOutputCall_FullMethodName: {scopeRead},
	testpb.TestService_StreamingInputCall_FullMethodName:  {scopeWrite},
	testpb.TestService_FullDuplexCall_FullMethodName:      {scopeRead, scopeWrite},
	healthpb.Health_Watch_FullMethodName:                  {},
}

// rig is a manager on a memory store behind a real gRPC server.
type rig struct {
	m     *apikey.Manager
	clock *apikey.ManualClock
	store apikey.Store
	srv   *grpc.Server
	auth  *grpcauth.Authenticator
	conn  *grpc.ClientConn
	addr  string // the loopback address, with listenTCP
}

type rigOptions struct {
	store     apikey.Store // default memstore
	auth      []grpcauth.Option
	listenTCP bool // loopback TCP instead of bufconn
	noAuth    bool // a server without the interceptors (benchmarks)
}

func newRig(t testing.TB, o rigOptions) *rig {
	t.Helper()
	r := &rig{clock: apikey.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), store: o.store}
	if r.store == nil {
		r.store = memstore.New()
	}
	var err error
	r.m, err = apikey.New(r.store,
		apikey.WithPrefix("tst"),
		apikey.WithPepper("v1", []byte("0123456789abcdef0123456789abcdef")),
		apikey.WithScopeCatalog(scopeRead, scopeWrite),
		apikey.WithClock(r.clock),
	)
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]grpcauth.Option{
		grpcauth.WithMethodScopes(methodScopes),
		grpcauth.WithPublicMethods(healthpb.Health_Check_FullMethodName),
	}, o.auth...)
	if r.auth, err = grpcauth.New(r.m, opts...); err != nil {
		t.Fatal(err)
	}
	if o.noAuth {
		r.srv = grpc.NewServer()
	} else {
		r.srv = grpc.NewServer(grpc.ChainUnaryInterceptor(r.auth.Unary), grpc.ChainStreamInterceptor(r.auth.Stream))
	}
	testpb.RegisterTestServiceServer(r.srv, testService{})
	healthpb.RegisterHealthServer(r.srv, health.NewServer())

	var lis net.Listener
	var dial []grpc.DialOption
	if o.listenTCP {
		if lis, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		r.addr = lis.Addr().String()
	} else {
		bl := bufconn.Listen(1 << 20)
		lis, r.addr = bl, "passthrough:///bufconn"
		dial = append(dial, grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return bl.DialContext(ctx) }))
	}
	go func() { _ = r.srv.Serve(lis) }()
	t.Cleanup(r.srv.Stop)
	target := r.addr
	if o.listenTCP {
		target = "passthrough:///" + r.addr
	}
	if r.conn, err = grpc.NewClient(target, append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.conn.Close() })
	return r
}

// key creates a key with scopes and returns it with its token.
func (r *rig) key(t testing.TB, scopes ...string) (*apikey.Key, string) {
	t.Helper()
	is, err := r.m.Create(context.Background(), apikey.CreateParams{Tenant: "t1", Name: "test", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return is.Key, is.Token.Reveal()
}

// bearer returns ctx with an authorization: Bearer token metadata.
func bearer(tok string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
}

// testService answers every call with the ID of the key in its context
// ("" for none): in SimpleResponse.Username for unary calls, in the
// "key-id" response header for streams.
type testService struct {
	testpb.UnimplementedTestServiceServer
}

func keyID(ctx context.Context) string {
	if k, ok := apikey.FromContext(ctx); ok {
		return k.ID
	}
	return ""
}

func (testService) EmptyCall(context.Context, *testpb.Empty) (*testpb.Empty, error) {
	return &testpb.Empty{}, nil
}

func (testService) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	return &testpb.SimpleResponse{Username: keyID(ctx)}, nil
}

func (testService) StreamingOutputCall(req *testpb.StreamingOutputCallRequest, s grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	if err := s.SetHeader(metadata.Pairs("key-id", keyID(s.Context()))); err != nil {
		return err
	}
	for range 3 {
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte(keyID(s.Context()))}}); err != nil {
			return err
		}
	}
	return nil
}

func (testService) StreamingInputCall(s grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	if err := s.SetHeader(metadata.Pairs("key-id", keyID(s.Context()))); err != nil {
		return err
	}
	var n int32
	for {
		req, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return s.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: n})
			}
			return err
		}
		n += int32(len(req.GetPayload().GetBody()))
	}
}

func (testService) FullDuplexCall(s grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	if err := s.SetHeader(metadata.Pairs("key-id", keyID(s.Context()))); err != nil {
		return err
	}
	for {
		req, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := s.Send(&testpb.StreamingOutputCallResponse{Payload: req.GetPayload()}); err != nil {
			return err
		}
	}
}

// downStore is a store whose reads fail, as an unreachable database's do.
type downStore struct{ apikey.Store }

func (downStore) GetByLookup(context.Context, string) (*apikey.Key, error) {
	return nil, errors.New("connection refused")
}
