package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestRedisFlagRefused: a bad or unreachable -redis stops the start with
// a message naming -redis, never showing the URL's password.
func TestRedisFlagRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().String()
	ln.Close()
	tests := []struct {
		url, want string
	}{
		{"localhost:6379", "-redis: redislimit: invalid Redis URL"},
		{"http://127.0.0.1:6379/0", "scheme must be redis:// or rediss://"},
		{"redis:///0", "no host"},
		{"redis://:hunter2pw@127.0.0.1:6379/notadb", "invalid Redis URL"},
		{"redis://:hunter2pw@" + closedPort + "/0", "does not answer"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			cfg := testConfig()
			cfg.Config.DB = "memory"
			cfg.Redis = tc.url
			a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
			if err == nil {
				_ = a.shutdown(context.Background())
				t.Fatalf("-redis %q accepted", tc.url)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2pw") {
				t.Fatalf("error %q, want one naming %q without the password", err, tc.want)
			}
		})
	}
}

// TestRedisFlagBinary: the real binary refuses a bad -redis at start: exit
// status 1 and the reason on stderr.
func TestRedisFlagBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t, ".")
	cmd := exec.Command(bin, "-addr", proctest.FreeAddr(t), "-db", "memory", "-redis", "redis//127.0.0.1:6379")
	cmd.Env = append(os.Environ(), "ADMIN_TOKEN="+testAdmin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("bad -redis: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "projectkeys: -redis: redislimit: invalid Redis URL") {
		t.Fatalf("no clear message:\n%s", out)
	}
}

// TestRedisFlagOpens: with a reachable Redis the server starts with the
// Redis limiter, under a prefix naming the server and digesting -db.
func TestRedisFlagOpens(t *testing.T) {
	url := os.Getenv("APIKEY_TEST_REDIS_URL")
	if url == "" {
		t.Skip("APIKEY_TEST_REDIS_URL not set (e.g. redis://127.0.0.1:6379/0)")
	}
	prefixes := map[string]string{}
	for _, db := range []string{"memory", "sqlite:" + t.TempDir() + "/a.db"} {
		cfg := testConfig()
		cfg.Config.DB = db
		cfg.Redis = url
		a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if a.redis == nil || !strings.HasPrefix(a.redis.Prefix, "apikey:projectkeys:") {
			t.Fatalf("limiter %+v", a.redis)
		}
		prefixes[a.redis.Prefix] = db
		if err := a.shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(prefixes) != 2 {
		t.Fatalf("two -db specs share the prefix: %v", prefixes)
	}
}
