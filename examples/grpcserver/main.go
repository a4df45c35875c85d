// Command grpcserver is an example gRPC service protected by API keys with
// package grpcauth: plangrep's jobs (package jobsapi: List, Start and a
// server-streaming Watch) and the standard health service, with the keys
// of plangrep (prefix pgk, scopes jobs:read, jobs:write, artifacts:read).
//
//	go run ./examples/grpcserver -db sqlite:demo.db        # listens on 127.0.0.1:9090
//
// Give it the -db and APIKEY_SECRET of a plangrep server and the keys that
// plangrep issues work here too (a workspace is a tenant); or create one
// with the operator CLI:
//
//	go run ./examples/apikeyctl -db sqlite:demo.db -prefix pgk create -tenant ws_1 -scopes jobs:read,jobs:write
//
// and call it with the tiny client in jobsclient (the key is read from the
// environment, never from the command line):
//
//	API_KEY=pgk_live_... go run ./examples/grpcserver/jobsclient start nightly
//	API_KEY=pgk_live_... go run ./examples/grpcserver/jobsclient list
//
// Method scopes: List and Watch need jobs:read, Start jobs:write; the
// health Check is public, health List and Watch need any valid key; any
// other method is refused (grpcauth fails closed). Flags: -addr (default
// 127.0.0.1:9090), -db, -usage-interval, -max-auth-failures, as for the
// HTTP servers. This example serves without TLS on loopback; a real
// service serves gRPC over TLS, since every call carries the key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/grpcserver/jobsapi"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/grpcauth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
)

// The keys of plangrep.
const (
	tokenPrefix        = "pgk"
	tokenEnv           = "live"
	scopeJobsRead      = "jobs:read"
	scopeJobsWrite     = "jobs:write"
	scopeArtifactsRead = "artifacts:read"
)

// methodScopes are the scopes of every method the server serves.
var methodScopes = map[string][]string{
	jobsapi.ListMethod:                   {scopeJobsRead},
	jobsapi.WatchMethod:                  {scopeJobsRead},
	jobsapi.StartMethod:                  {scopeJobsWrite},
	healthpb.Health_List_FullMethodName:  {},
	healthpb.Health_Watch_FullMethodName: {},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// run serves until ctx ends. It returns the exit status: 0 after a clean
// stop, 1 on a runtime error, 2 on bad usage.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("grpcserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := kit.RegisterFlags(fs, "grpcserver")
	_ = fs.Set("addr", "127.0.0.1:9090")
	fs.Lookup("addr").DefValue = "127.0.0.1:9090"
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("grpcserver stopped", "error", err.Error())
		return 1
	}
	return 0
}

// serve opens the store, builds the gRPC server and serves until ctx ends.
func serve(ctx context.Context, cfg *kit.Config, log *slog.Logger) error {
	backend, secrets, err := kit.Open(ctx, cfg, kit.SecretFileBeside(cfg.DB, "grpcserver.secret"), log)
	if err != nil {
		return err
	}
	defer backend.Close(context.Background())
	m, err := newManager(backend.Store, secrets.Pepper, append(backend.CacheOptions(), apikey.WithLogger(log))...)
	if err != nil {
		return err
	}
	// Revocations by another process (plangrep, apikeyctl) reach the
	// cache within a poll of the change feed.
	unfollow, err := backend.Follow(ctx, m)
	if err != nil {
		return err
	}
	defer unfollow(context.Background())
	tracker, err := apikey.NewUsageTracker(backend.Store, apikey.WithUsageInterval(cfg.UsageInterval), apikey.WithUsageLogger(log))
	if err != nil {
		return err
	}
	if err := tracker.Start(ctx); err != nil {
		return err
	}
	defer tracker.Close(context.Background()) // flushes last-used data
	srv, err := newServer(m, tracker, cfg.MaxAuthFailures)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	stopped := make(chan struct{})
	go func() { srv.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second): // open Watch streams never end by themselves
		srv.Stop()
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// newManager returns the manager of plangrep's keys on store.
func newManager(store apikey.Store, pepper []byte, opts ...apikey.Option) (*apikey.Manager, error) {
	return apikey.New(store, append([]apikey.Option{
		apikey.WithPrefix(tokenPrefix),
		apikey.WithEnvironments(tokenEnv),
		apikey.WithScopeCatalog(scopeJobsRead, scopeJobsWrite, scopeArtifactsRead),
		apikey.WithPepper("v1", pepper),
	}, opts...)...)
}

// newServer builds the gRPC server: the interceptors, the services, and the
// check that every served method has a scope requirement.
func newServer(m *apikey.Manager, tracker *apikey.UsageTracker, maxAuthFailures int) (*grpc.Server, error) {
	opts := []grpcauth.Option{
		grpcauth.WithMethodScopes(methodScopes),
		grpcauth.WithPublicMethods(healthpb.Health_Check_FullMethodName),
		grpcauth.WithUsageTracker(tracker),
		grpcauth.WithClientName(func(md metadata.MD) string { return strings.Join(md.Get("x-integration-name"), "") }),
	}
	if maxAuthFailures > 0 {
		t, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: maxAuthFailures, Per: time.Minute})
		if err != nil {
			return nil, err
		}
		opts = append(opts, grpcauth.WithFailureThrottle(t))
	}
	auth, err := grpcauth.New(m, opts...)
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
	jobsapi.Register(srv, newJobs())
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := auth.CheckServer(srv); err != nil {
		return nil, fmt.Errorf("method scopes: %w", err)
	}
	return srv, nil
}
