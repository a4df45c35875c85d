package grpcauth_test

import (
	"context"
	"fmt"
	"log"
	"net"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/grpcauth"
	"github.com/apikit/apikey/memstore"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// A gRPC server whose health check is public and whose List needs the
// scope "health:read", called by a real client.
func Example() {
	ctx := context.Background()
	m, err := apikey.New(memstore.New(),
		apikey.WithPrefix("svc"),
		apikey.WithPepper("v1", []byte("an example pepper of 32+ bytes!!")),
		apikey.WithScopeCatalog("health:read"),
	)
	if err != nil {
		log.Fatal(err)
	}
	auth, err := grpcauth.New(m,
		grpcauth.WithPublicMethods(healthpb.Health_Check_FullMethodName),
		grpcauth.WithMethodScopes(map[string][]string{
			healthpb.Health_List_FullMethodName:  {"health:read"},
			healthpb.Health_Watch_FullMethodName: {"health:read"},
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := auth.CheckServer(srv); err != nil {
		log.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20) // or net.Listen("tcp", ...)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	conn, err := grpc.NewClient("passthrough:///bufconn",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)

	issued, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", Name: "monitor", Scopes: []string{"health:read"}})
	if err != nil {
		log.Fatal(err)
	}
	withKey := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+issued.Token.Reveal())

	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{})
	fmt.Println("Check without a key:", status.Code(err))
	_, err = client.List(ctx, &healthpb.HealthListRequest{})
	fmt.Println("List without a key:", status.Code(err))
	_, err = client.List(withKey, &healthpb.HealthListRequest{})
	fmt.Println("List with the key:", status.Code(err))
	// Output:
	// Check without a key: OK
	// List without a key: Unauthenticated
	// List with the key: OK
}
