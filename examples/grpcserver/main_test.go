package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/grpcserver/jobsapi"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TestServer runs the command on a SQLite file with keys another process
// created (as plangrep or apikeyctl would), calls every method with a real
// client, and checks that a revocation by that other process is seen.
func TestServer(t *testing.T) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	t.Setenv("APIKEY_SECRET", base64.StdEncoding.EncodeToString(secret))
	db := "sqlite:" + filepath.Join(t.TempDir(), "demo.db")
	ctx := context.Background()

	// The other process: its own store handle and manager.
	other, err := kit.OpenStore(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	secrets, err := kit.LoadSecrets("", nil)
	if err != nil {
		t.Fatal(err)
	}
	om, err := newManager(other.Store, secrets.Pepper)
	if err != nil {
		t.Fatal(err)
	}
	create := func(tenant string, scopes ...string) (*apikey.Key, string) {
		is, err := om.Create(ctx, apikey.CreateParams{Tenant: tenant, Name: "test", Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return is.Key, is.Token.Reveal()
	}
	writer, writeTok := create("ws_1", scopeJobsRead, scopeJobsWrite)
	_, readTok := create("ws_1", scopeJobsRead)
	_, otherTok := create("ws_2", scopeJobsRead)

	addr := proctest.FreeAddr(t)
	sctx, stop := context.WithCancel(ctx)
	var logs proctest.Buffer
	done := make(chan int, 1)
	go func() { done <- run(sctx, []string{"-addr", addr, "-db", db}, &logs) }()
	defer func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d\n%s", code, logs.String())
		}
	}()

	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitServing(t, conn)
	c := jobsapi.NewClient(conn)
	with := func(tok string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
	}

	wctx, cancelWatch := context.WithCancel(with(readTok))
	defer cancelWatch()
	watch, err := c.Watch(wctx)
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.Start(with(writeTok), "nightly")
	if err != nil {
		t.Fatal(err)
	}
	if job.Fields["started_by"].GetStringValue() != writer.ID || job.Fields["name"].GetStringValue() != "nightly" {
		t.Errorf("job %v", job)
	}
	got, err := watch.Recv()
	if err != nil || got.Fields["id"].GetStringValue() != job.Fields["id"].GetStringValue() {
		t.Errorf("watch got %v, %v", got, err)
	}
	if list, err := c.List(with(readTok)); err != nil || len(list.Values) != 1 {
		t.Errorf("list: %v %v", list, err)
	}
	if list, err := c.List(with(otherTok)); err != nil || len(list.Values) != 0 {
		t.Errorf("another workspace sees %v, %v", list, err)
	}
	for name, tc := range map[string]struct {
		call func() error
		code codes.Code
	}{
		"no key":     {func() error { _, err := c.List(ctx); return err }, codes.Unauthenticated},
		"read key":   {func() error { _, err := c.Start(with(readTok), "x"); return err }, codes.PermissionDenied},
		"empty name": {func() error { _, err := c.Start(with(writeTok), " "); return err }, codes.InvalidArgument},
		"public health": {func() error {
			_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}, codes.OK},
	} {
		if err := tc.call(); status.Code(err) != tc.code {
			t.Errorf("%s: %v, want %v", name, err, tc.code)
		}
	}

	// Revoked by the other process: refused within a poll of the feed.
	if _, err := om.Revoke(ctx, "ws_1", writer.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.List(with(writeTok))
		if status.Code(err) == codes.Unauthenticated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still accepted: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The tiny client, as a binary, with the key in its environment.
	bin := proctest.Build(t, "./jobsclient")
	cmd := exec.Command(bin, "-addr", addr, "list")
	cmd.Env = append(cmd.Environ(), "API_KEY="+readTok)
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"name":"nightly"`) {
		t.Errorf("jobsclient list: %s %v", out, err)
	}
	cmd = exec.Command(bin, "-addr", addr, "start", "x")
	cmd.Env = append(cmd.Environ(), "API_KEY="+readTok)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var exit *exec.ExitError
	if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "PermissionDenied") {
		t.Errorf("jobsclient start with a read key: %v %s", err, stderr.String())
	}
}

// waitServing waits until the server answers its public health check.
func waitServing(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	deadline := time.Now().Add(proctest.ReadyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not serving: %v", err)
		}
	}
}

// TestUsage: bad flags exit 2.
func TestUsage(t *testing.T) {
	if code := run(context.Background(), []string{"-nope"}, io.Discard); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}
