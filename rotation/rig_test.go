package rotation_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/rotation"
)

var testWebhookKey = []byte("webhook-key-0123456789abcdef0123")

// Test values the root package's tests share.
var (
	testPepper = []byte("0123456789abcdef0123456789abcdef")
	t0         = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// webhooks returns the option that installs rotation.NewWebhooks(key, p).
func webhooks(t testing.TB, key []byte, p rotation.WebhookPolicy) apikey.Option {
	t.Helper()
	w, err := rotation.NewWebhooks(key, p)
	if err != nil {
		t.Fatal(err)
	}
	return apikey.WithWebhooks(w)
}

// newScheduler is rotation.NewScheduler for options that must be valid.
func newScheduler(t testing.TB, m *apikey.Manager, opts ...rotation.Option) *rotation.Scheduler {
	t.Helper()
	s, err := rotation.NewScheduler(m, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rig is a manager on a memstore with a manual clock, a debug log buffer
// and an event recorder.
type rig struct {
	m      *apikey.Manager
	store  *memstore.Store
	clock  *apikey.ManualClock
	logs   *lockedBuffer
	mu     sync.Mutex
	events []apikey.Event
}

func newRig(t *testing.T, opts ...apikey.Option) *rig {
	t.Helper()
	r := &rig{store: memstore.New(), clock: apikey.NewManualClock(t0), logs: &lockedBuffer{}}
	base := []apikey.Option{
		apikey.WithPrefix("prk"),
		apikey.WithPepper("v1", testPepper),
		apikey.WithClock(r.clock),
		webhooks(t, testWebhookKey, rotation.WebhookPolicy{AllowLoopback: true}),
		apikey.WithLogger(slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		apikey.WithEventHook(func(_ context.Context, e apikey.Event) {
			r.mu.Lock()
			r.events = append(r.events, e)
			r.mu.Unlock()
		}),
	}
	m, err := apikey.New(r.store, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	return r
}

func (r *rig) count(kind apikey.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// create issues a key of tenant p1 rotating every interval to url.
func (r *rig) create(t *testing.T, interval time.Duration, url string) *apikey.Issued {
	t.Helper()
	is, err := r.m.Create(context.Background(), apikey.CreateParams{
		Tenant: "p1", Name: "ci", Scopes: []string{"jobs:read"},
		RotationInterval: interval, RotationWebhookURL: url,
	})
	if err != nil {
		t.Fatal(err)
	}
	return is
}

func (r *rig) get(t *testing.T, id string) *apikey.Key {
	t.Helper()
	k, err := r.m.Get(context.Background(), "p1", id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// assertNoSecrets fails if the logs hold any of the given secrets.
func (r *rig) assertNoSecrets(t *testing.T, secrets ...string) {
	t.Helper()
	logs := r.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("logs hold a secret (%.12s...)", s)
		}
	}
}

// delivered is one request a receiver got.
type delivered struct {
	body []byte
	sig  string
	ct   string
}

// receiver is a webhook endpoint on loopback whose answer tests choose.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	status int
	hang   bool
	got    []delivered
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{status: http.StatusOK}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	rc.mu.Lock()
	rc.got = append(rc.got, delivered{body: body, sig: req.Header.Get(rotation.SignatureHeader), ct: req.Header.Get("Content-Type")})
	status, hang := rc.status, rc.hang
	rc.mu.Unlock()
	if hang {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(status)
}

func (rc *receiver) answer(status int, hang bool) {
	rc.mu.Lock()
	rc.status, rc.hang = status, hang
	rc.mu.Unlock()
}

func (rc *receiver) deliveries() []delivered {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivered(nil), rc.got...)
}

// await waits up to d for the receiver to have recorded a request, and
// reports whether it has. A request the client gave up on (a delivery
// timeout) may be recorded after the client returned, or, on a loaded
// machine, never.
func (rc *receiver) await(d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(5 * time.Millisecond) {
		if len(rc.deliveries()) > 0 {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

func (rc *receiver) last(t *testing.T) delivered {
	t.Helper()
	d := rc.deliveries()
	if len(d) == 0 {
		t.Fatal("receiver got nothing")
	}
	return d[len(d)-1]
}
