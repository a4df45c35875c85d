package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey/rotation"
)

// delivery is one webhook the receiver got.
type delivery struct {
	event rotation.Event
	// verifyErr is VerifyWebhook's verdict on the signature and age.
	verifyErr error
	// whoami is the status of GET /v1/whoami with the delivered key, made
	// while the delivery was in flight.
	whoami int
}

// receiver is a loopback webhook endpoint that verifies every delivery
// with rotation.VerifyWebhook at the server's (dev) clock, tries the
// delivered key, and answers with the status it is told.
type receiver struct {
	srv    *httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	got    []delivery
}

func newReceiver(t *testing.T, e *env, secret func() string) *receiver {
	rc := &receiver{}
	rc.status.Store(http.StatusOK)
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The event is stamped with the server's dev clock, which the
		// tests move ahead of the wall clock: check its age against it.
		ev, err := rotation.VerifyWebhook(secret(), body, r.Header.Get(rotation.SignatureHeader), 0, e.app.m.Now())
		d := delivery{event: ev, verifyErr: err}
		if err == nil {
			d.whoami = e.whoamiStatus(t, ev.Key.Reveal())
		}
		rc.mu.Lock()
		rc.got = append(rc.got, d)
		rc.mu.Unlock()
		w.WriteHeader(int(rc.status.Load()))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// deliveries returns what the receiver got so far.
func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

// last returns the last delivery, checking there are n in all.
func (rc *receiver) last(t *testing.T, n int) delivery {
	t.Helper()
	got := rc.deliveries()
	if len(got) != n {
		t.Fatalf("receiver got %d deliveries, want %d", len(got), n)
	}
	d := got[n-1]
	if d.verifyErr != nil {
		t.Fatalf("delivery %d does not verify: %v", n, d.verifyErr)
	}
	return d
}

// scheduledKey creates a key of p1 rotated daily to rc.
func scheduledKey(t *testing.T, e *env, rc *receiver, secret *atomic.Value) wireKey {
	t.Helper()
	k := e.create(t, testAdmin, map[string]any{
		"project_id": "p1", "name": "deploy", "scopes": []string{"jobs:read"}, "environment_id": "env_1",
		"rotation_interval_days": 1, "rotation_webhook_url": rc.srv.URL + "/hook",
	})
	if k.RotationWebhookSecret == "" || *k.RotationWebhookURL != rc.srv.URL+"/hook" {
		t.Fatalf("created %+v", k)
	}
	secret.Store(k.RotationWebhookSecret)
	return k
}

// TestScheduledRotation: a due key is rotated on the next check, the
// successor is delivered signed and works at once, and the old key keeps
// working for 24 h.
func TestScheduledRotation(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		var secret atomic.Value
		rc := newReceiver(t, e, func() string { s, _ := secret.Load().(string); return s })
		k := scheduledKey(t, e, rc, &secret)

		// Not due yet: a check does nothing.
		e.advance(t, "23h")
		if n := len(rc.deliveries()); n != 0 {
			t.Fatalf("%d deliveries before the key is due", n)
		}
		// Due: the check that /dev/clock runs rotates it.
		now := e.advance(t, "2h")
		d := rc.last(t, 1)
		ev := d.event
		if ev.Type != rotation.EventType || ev.OldKeyID != k.ID || ev.NewKeyID == k.ID || ev.Tenant != "p1" {
			t.Fatalf("event %+v", ev)
		}
		if d.whoami != http.StatusOK {
			t.Fatalf("successor answered %d while being delivered", d.whoami)
		}
		if ev.RotatedAt.After(now.Add(time.Second)) || now.Sub(ev.RotatedAt) > time.Minute {
			t.Fatalf("rotated_at %v, clock %v", ev.RotatedAt, now)
		}
		keys := e.list(t, "p1")
		old, succ := find(t, keys, k.ID), find(t, keys, ev.NewKeyID)
		if *old.ReplacedByKeyID != ev.NewKeyID || old.RevokedAt != nil ||
			!old.GraceExpiresAt.Equal(ev.RotatedAt.Truncate(time.Second).Add(24*time.Hour)) {
			t.Fatalf("old key after scheduled rotation %+v (rotated at %v)", old, ev.RotatedAt)
		}
		if succ.KeyPrefix != ev.KeyPrefix || *succ.RotationIntervalDays != 1 || *succ.RotationWebhookURL != rc.srv.URL+"/hook" ||
			*succ.EnvironmentID != "env_1" || !succ.NextRotationAt.Equal(succ.CreatedAt.Add(24*time.Hour)) {
			t.Fatalf("successor %+v", succ)
		}
		who := decode[map[string]any](t, e.do(t, "GET", "/v1/whoami", ev.Key.Reveal(), nil).want(t, http.StatusOK))
		if who["key_id"] != ev.NewKeyID || who["environment_id"] != "env_1" {
			t.Fatalf("successor whoami %v", who)
		}

		// Old key: accepted during the 24 h grace, refused after it.
		e.advance(t, "23h")
		if e.whoamiStatus(t, k.Key) != http.StatusOK {
			t.Fatal("old key refused during its grace")
		}
		e.advance(t, "2h")
		if e.whoamiStatus(t, k.Key) != http.StatusUnauthorized {
			t.Fatal("old key accepted after its grace")
		}
		// The successor's own schedule came due meanwhile: it rotated too,
		// with the same webhook secret.
		d2 := rc.last(t, 2)
		if d2.event.OldKeyID != ev.NewKeyID || d2.whoami != http.StatusOK {
			t.Fatalf("second rotation %+v", d2)
		}
	})
}

// TestScheduledRotationFailedDelivery: a receiver answering 500 leaves the
// old key untouched and the delivered successor revoked; no retry before
// the backoff; once the receiver recovers, a later check commits.
func TestScheduledRotationFailedDelivery(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		var secret atomic.Value
		rc := newReceiver(t, e, func() string { s, _ := secret.Load().(string); return s })
		rc.status.Store(http.StatusInternalServerError)
		k := scheduledKey(t, e, rc, &secret)

		e.advance(t, "25h")
		failed := rc.last(t, 1).event
		if e.whoamiStatus(t, failed.Key.Reveal()) != http.StatusUnauthorized {
			t.Fatal("undelivered successor still accepted")
		}
		if e.whoamiStatus(t, k.Key) != http.StatusOK {
			t.Fatal("old key refused after a failed delivery")
		}
		keys := e.list(t, "p1")
		old, undelivered := find(t, keys, k.ID), find(t, keys, failed.NewKeyID)
		if old.ReplacedByKeyID != nil || old.GraceExpiresAt != nil || old.RevokedAt != nil {
			t.Fatalf("old key changed by a failed delivery: %+v", old)
		}
		if undelivered.RevokedAt == nil {
			t.Fatalf("undelivered successor not revoked: %+v", undelivered)
		}

		// The next check comes too soon for a retry (backoff = check
		// interval, 1 h in tests).
		if _, err := e.app.scheduler.RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(rc.deliveries()); n != 1 {
			t.Fatalf("%d deliveries, want no retry before the backoff", n)
		}

		// The receiver recovers; a later check commits.
		rc.status.Store(http.StatusNoContent)
		e.advance(t, "2h")
		ok := rc.last(t, 2)
		if ok.event.OldKeyID != k.ID || ok.event.NewKeyID == failed.NewKeyID || ok.whoami != http.StatusOK {
			t.Fatalf("retry %+v", ok)
		}
		old = find(t, e.list(t, "p1"), k.ID)
		if old.ReplacedByKeyID == nil || *old.ReplacedByKeyID != ok.event.NewKeyID || old.GraceExpiresAt == nil {
			t.Fatalf("old key after the committed retry %+v", old)
		}
		if e.whoamiStatus(t, k.Key) != http.StatusOK || e.whoamiStatus(t, ok.event.Key.Reveal()) != http.StatusOK {
			t.Fatal("old key (in grace) or successor refused")
		}
		if e.whoamiStatus(t, failed.Key.Reveal()) != http.StatusUnauthorized {
			t.Fatal("the revoked successor came back")
		}
	})
}

// TestWebhookURLPolicy: without -dev, loopback and plain-http webhook URLs
// are refused; https to a public host is accepted.
func TestWebhookURLPolicy(t *testing.T) {
	cfg := testConfig()
	cfg.Dev = false
	e := newEnv(t, "sqlite_file", &cfg)
	for _, u := range []string{"http://127.0.0.1:9000/hook", "https://127.0.0.1/hook", "https://localhost/hook",
		"http://example.com/hook", "https://10.0.0.1/hook", "https://169.254.169.254/", "ftp://example.com/", "not a url"} {
		e.do(t, "POST", "/v1/api-keys", testAdmin, map[string]any{"project_id": "p1", "name": "w",
			"rotation_interval_days": 1, "rotation_webhook_url": u}).wantError(t, http.StatusBadRequest, "bad_request")
	}
	k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "w",
		"rotation_interval_days": 7, "rotation_webhook_url": "https://hooks.example.com/rotate"})
	if k.RotationWebhookSecret == "" {
		t.Fatal("no webhook secret returned")
	}
}

// TestScheduleWithoutWebhook: a key with rotation_interval_days and no
// webhook has nowhere to deliver a successor, so when it comes due it is
// taken off the schedule (next_rotation_at null) and keeps working.
func TestScheduleWithoutWebhook(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		k := e.create(t, testAdmin, map[string]any{"project_id": "p1", "name": "manual", "rotation_interval_days": 1})
		if k.NextRotationAt == nil || k.RotationWebhookSecret != "" {
			t.Fatalf("created %+v", k)
		}
		e.advance(t, "25h")
		keys := e.list(t, "p1")
		if len(keys) != 1 || keys[0].NextRotationAt != nil || keys[0].ReplacedByKeyID != nil {
			t.Fatalf("after due date %+v", keys)
		}
		if e.whoamiStatus(t, k.Key) != http.StatusOK {
			t.Fatal("unscheduled key refused")
		}
	})
}
