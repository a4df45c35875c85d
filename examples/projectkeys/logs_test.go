package main

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestLogsHoldNoSecret runs creation, use, refusals, rotation and a failed
// then successful scheduled rotation with debug logging, and checks that
// no token, webhook secret or operator token reaches the log.
func TestLogsHoldNoSecret(t *testing.T) {
	var buf proctest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := testConfig()
	cfg.Config.DB = "memory"
	s := kit.EphemeralSecrets()
	cfg.secrets = &s
	e := startApp(t, cfg, log)

	var secrets []string
	boot := e.bootstrap(t, "p1")
	k := e.create(t, boot, map[string]any{"project_id": "p1", "name": "a", "scopes": []string{"jobs:read"}})
	secrets = append(secrets, boot, k.Key, testAdmin)
	e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusOK)
	e.do(t, "GET", "/v1/whoami", k.Key+"x", nil).want(t, http.StatusUnauthorized)
	r := decode[wireRotated](t, e.do(t, "POST", "/v1/api-keys/"+k.ID+"/rotate", testAdmin, map[string]any{"grace_period_seconds": 0}).want(t, http.StatusOK))
	secrets = append(secrets, r.Key)
	e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusUnauthorized)

	var hook atomic.Value
	rc := newReceiver(t, e, func() string { s, _ := hook.Load().(string); return s })
	rc.status.Store(http.StatusBadGateway)
	sk := scheduledKey(t, e, rc, &hook)
	secrets = append(secrets, sk.Key, sk.RotationWebhookSecret)
	e.advance(t, "25h")
	rc.status.Store(http.StatusOK)
	e.advance(t, "2h")
	for _, d := range rc.deliveries() {
		secrets = append(secrets, d.event.Key.Reveal())
	}
	if len(rc.deliveries()) != 2 {
		t.Fatalf("%d deliveries, want 2", len(rc.deliveries()))
	}

	logs := buf.String()
	if !strings.Contains(logs, "scheduled rotation failed") || !strings.Contains(logs, "key rotated") {
		t.Fatalf("expected rotation logs, got:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Fatalf("log holds a secret (%.12s...)", s)
		}
	}
}
