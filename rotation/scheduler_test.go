package rotation_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

const day = 24 * time.Hour

func runOnce(t *testing.T, s *rotation.Scheduler) rotation.Report {
	t.Helper()
	rep, err := s.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSchedulerDueDetection(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	ctx := context.Background()
	due := r.create(t, 30*day, rc.srv.URL)
	r.create(t, 0, "") // never scheduled
	later := r.create(t, 60*day, rc.srv.URL)
	s := newScheduler(t, r.m)

	steps := []struct {
		advance time.Duration
		want    []string
	}{
		{0, nil},
		{30*day - time.Second, nil},
		{time.Second, []string{due.Key.ID}}, // exactly at NextRotationAt
		{29 * day, nil},                     // the successor is due at 60 days
		{day, []string{later.Key.ID, ""}},   // "" stands for due's successor
	}
	for i, st := range steps {
		r.clock.Advance(st.advance)
		rep := runOnce(t, s)
		if len(rep.Results) != len(st.want) {
			t.Fatalf("step %d: %d results, want %d: %+v", i, len(rep.Results), len(st.want), rep.Results)
		}
		for j, id := range st.want {
			if id != "" && rep.Results[j].KeyID != id {
				t.Errorf("step %d: result %d is key %s, want %s", i, j, rep.Results[j].KeyID, id)
			}
			if rep.Results[j].Status != rotation.Committed {
				t.Errorf("step %d: status %s (%v)", i, rep.Results[j].Status, rep.Results[j].Err)
			}
		}
	}
	if _, err := r.m.Verify(ctx, due.Token.Reveal()); !errors.Is(err, apikey.ErrGraceEnded) {
		t.Errorf("old key 30 days after its rotation: %v, want ErrGraceEnded", err)
	}
}

func TestSchedulerRotationCommits(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	ctx := context.Background()
	is := r.create(t, 7*day, rc.srv.URL+"/hooks/rotate")
	s := newScheduler(t, r.m)

	now := r.clock.Advance(7 * day)
	rep := runOnce(t, s)
	if rep.Count(rotation.Committed) != 1 {
		t.Fatalf("report %+v", rep.Results)
	}
	d := rc.last(t)
	if d.ct != "application/json" {
		t.Errorf("Content-Type %q", d.ct)
	}
	ev, err := rotation.VerifyWebhook(is.WebhookSecret.Reveal(), d.body, d.sig, time.Minute, r.clock.Now())
	if err != nil {
		t.Fatalf("VerifyWebhook: %v", err)
	}
	if ev.OldKeyID != is.Key.ID || ev.NewKeyID != rep.Results[0].SuccessorID || ev.Tenant != "p1" ||
		!ev.RotatedAt.Equal(now) || ev.Timestamp != now.Unix() || !ev.GraceExpiresAt.Equal(now.Add(day)) {
		t.Errorf("event %+v", ev)
	}

	succ, err := r.m.Verify(ctx, ev.Key.Reveal())
	if err != nil {
		t.Fatalf("successor does not verify: %v", err)
	}
	if succ.ID != ev.NewKeyID || ev.KeyPrefix != succ.Prefix || !succ.NextRotationAt.Equal(now.Add(7*day)) ||
		succ.RotationInterval != 7*day || succ.Tenant != "p1" || len(succ.Scopes) != 1 {
		t.Errorf("successor %+v next %v", succ, succ.NextRotationAt)
	}
	old := r.get(t, is.Key.ID)
	if old.ReplacedBy != succ.ID || !old.GraceExpiresAt.Equal(now.Add(day)) || !old.NextRotationAt.IsZero() {
		t.Errorf("old key after commit: replacedBy %q grace %v next %v", old.ReplacedBy, old.GraceExpiresAt, old.NextRotationAt)
	}
	if _, err := r.m.Verify(ctx, is.Token.Reveal()); err != nil {
		t.Errorf("old key in grace: %v", err)
	}
	r.clock.Advance(day)
	if _, err := r.m.Verify(ctx, is.Token.Reveal()); !errors.Is(err, apikey.ErrGraceEnded) {
		t.Errorf("old key after grace: %v, want ErrGraceEnded", err)
	}
	if n := r.count(apikey.EventRotated); n != 1 {
		t.Errorf("%d rotated events", n)
	}

	// The successor rotates in turn, signed with the same webhook secret.
	r.clock.Set(now.Add(7 * day))
	if rep := runOnce(t, s); rep.Count(rotation.Committed) != 1 {
		t.Fatalf("second rotation %+v", rep.Results)
	}
	d2 := rc.last(t)
	ev2, err := rotation.VerifyWebhook(is.WebhookSecret.Reveal(), d2.body, d2.sig, time.Minute, r.clock.Now())
	if err != nil || ev2.OldKeyID != succ.ID {
		t.Fatalf("second delivery: %v, %+v", err, ev2)
	}
	r.assertNoSecrets(t, is.Token.Reveal(), is.WebhookSecret.Reveal(), ev.Key.Reveal(), ev2.Key.Reveal())
}

func TestSchedulerGraceRules(t *testing.T) {
	cases := []struct {
		name      string
		grace     time.Duration
		expiresIn time.Duration
		want      time.Duration // grace end after the rotation
		revoked   bool
	}{
		{"default 24h", -1, 0, day, false},
		{"custom", 2 * time.Hour, 0, 2 * time.Hour, false},
		{"zero revokes now", 0, 0, 0, true},
		{"capped by expiry", 48 * time.Hour, 10*day + time.Hour, time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			rc := newReceiver(t)
			ctx := context.Background()
			p := apikey.CreateParams{Tenant: "p1", RotationInterval: 10 * day, RotationWebhookURL: rc.srv.URL}
			if c.expiresIn > 0 {
				p.ExpiresAt = t0.Add(c.expiresIn)
			}
			is, err := r.m.Create(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			var opts []rotation.Option
			if c.grace >= 0 {
				opts = append(opts, rotation.WithGrace(c.grace))
			}
			now := r.clock.Advance(10 * day)
			if rep := runOnce(t, newScheduler(t, r.m, opts...)); rep.Count(rotation.Committed) != 1 {
				t.Fatalf("%+v", rep.Results)
			}
			old := r.get(t, is.Key.ID)
			if !old.GraceExpiresAt.Equal(now.Add(c.want)) || old.RevokedAt.IsZero() != !c.revoked {
				t.Errorf("grace end %v revoked %v", old.GraceExpiresAt, old.RevokedAt)
			}
			succ := r.get(t, old.ReplacedBy)
			if !succ.ExpiresAt.Equal(old.ExpiresAt) {
				t.Errorf("successor expiry %v, old %v", succ.ExpiresAt, old.ExpiresAt)
			}
			_, err = r.m.Verify(ctx, is.Token.Reveal())
			if c.revoked != errors.Is(err, apikey.ErrRevoked) {
				t.Errorf("verify old: %v", err)
			}
		})
	}
}

// closedURL returns the URL of a loopback port nothing listens on, and the
// address to listen on later.
func closedURL(t *testing.T) (string, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr, addr
}

func TestSchedulerFailedDeliveryKeepsOldKey(t *testing.T) {
	cases := []struct {
		name  string
		setup func(rc *receiver)
	}{
		{"500", func(rc *receiver) { rc.answer(http.StatusInternalServerError, false) }},
		{"redirect", func(rc *receiver) { rc.answer(http.StatusFound, false) }},
		{"timeout", func(rc *receiver) { rc.answer(0, true) }},
		{"connection refused", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t)
			ctx := context.Background()
			var url, addr string
			var rc *receiver
			if c.setup != nil {
				rc = newReceiver(t)
				c.setup(rc)
				url = rc.srv.URL
			} else {
				url, addr = closedURL(t)
			}
			is := r.create(t, day, url)
			s := newScheduler(t, r.m, rotation.WithDeliveryTimeout(100*time.Millisecond))

			now := r.clock.Advance(day)
			rep := runOnce(t, s)
			if len(rep.Results) != 1 || rep.Results[0].Status != rotation.Failed || rep.Results[0].Err == nil {
				t.Fatalf("report %+v", rep.Results)
			}
			succID := rep.Results[0].SuccessorID
			if succ := r.get(t, succID); succ.RevokedAt.IsZero() {
				t.Errorf("successor not revoked")
			}
			// The successor's revocation is checked above by ID; when the
			// receiver got the request (not always so when the client timed
			// out first on a loaded machine), its token must be refused too.
			if rc != nil && rc.await(2*time.Second) {
				ev, err := rotation.VerifyWebhook(is.WebhookSecret.Reveal(), rc.last(t).body, rc.last(t).sig, time.Minute, now)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.m.Verify(ctx, ev.Key.Reveal()); !errors.Is(err, apikey.ErrRevoked) {
					t.Errorf("undelivered successor verify: %v, want ErrRevoked", err)
				}
				r.assertNoSecrets(t, ev.Key.Reveal())
			}
			old := r.get(t, is.Key.ID)
			if old.ReplacedBy != "" || !old.GraceExpiresAt.IsZero() {
				t.Errorf("old key touched: %+v", old)
			}
			if _, err := r.m.Verify(ctx, is.Token.Reveal()); err != nil {
				t.Errorf("old key after failed delivery: %v", err)
			}
			if !old.NextRotationAt.Equal(now.Add(rotation.DefaultCheckInterval)) {
				t.Errorf("next attempt at %v, want the next check %v", old.NextRotationAt, now.Add(rotation.DefaultCheckInterval))
			}
			if r.count(apikey.EventRotated) != 0 {
				t.Error("rotated event on failure")
			}

			// Not yet due again before the retry time; retried after it.
			if rep := runOnce(t, s); len(rep.Results) != 0 {
				t.Errorf("retried before the backoff: %+v", rep.Results)
			}
			if rc != nil {
				rc.answer(http.StatusNoContent, false)
			} else {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					t.Skipf("cannot listen on %s again: %v", addr, err)
				}
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
				srv.Listener.Close()
				srv.Listener = l
				srv.Start()
				defer srv.Close()
			}
			r.clock.Advance(rotation.DefaultCheckInterval)
			// The retry runs with a generous timeout: the 100 ms that makes
			// the failing attempts quick is not always enough for a
			// successful delivery on a loaded machine (seen flaky under
			// -count=20).
			rep = runOnce(t, newScheduler(t, r.m, rotation.WithDeliveryTimeout(10*time.Second)))
			if rep.Count(rotation.Committed) != 1 {
				t.Fatalf("retry: %+v", rep.Results)
			}
			if old := r.get(t, is.Key.ID); old.ReplacedBy != rep.Results[0].SuccessorID || old.ReplacedBy == succID {
				t.Errorf("replaced by %q after retry", old.ReplacedBy)
			}
			r.assertNoSecrets(t, is.Token.Reveal(), is.WebhookSecret.Reveal())
		})
	}
}

func TestSchedulerBackoffGrowsAndCaps(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	rc.answer(http.StatusServiceUnavailable, false)
	is := r.create(t, day, rc.srv.URL)
	s := newScheduler(t, r.m, rotation.WithRetryDelay(time.Minute, 5*time.Minute))
	r.clock.Advance(day)
	for i, want := range []time.Duration{1, 2, 4, 5, 5} {
		rep := runOnce(t, s)
		if rep.Count(rotation.Failed) != 1 {
			t.Fatalf("attempt %d: %+v", i, rep.Results)
		}
		next := r.get(t, is.Key.ID).NextRotationAt
		if got := next.Sub(r.clock.Now()); got != want*time.Minute {
			t.Errorf("attempt %d: retry in %v, want %v", i, got, want*time.Minute)
		}
		r.clock.Set(next)
	}
}

func TestSchedulersRotateEachKeyOnce(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	const n = 12
	for range n {
		r.create(t, day, rc.srv.URL)
	}
	r.clock.Advance(day)
	scheds := []*rotation.Scheduler{newScheduler(t, r.m), newScheduler(t, r.m), newScheduler(t, r.m)}
	reps := make([]rotation.Report, len(scheds))
	var wg sync.WaitGroup
	for i, s := range scheds {
		wg.Go(func() { reps[i] = runOnce(t, s) })
	}
	wg.Wait()
	committed := map[string]int{}
	for _, rep := range reps {
		for _, res := range rep.Results {
			switch res.Status {
			case rotation.Committed:
				committed[res.KeyID]++
			case rotation.ClaimedElsewhere:
			default:
				t.Errorf("unexpected %s: %v", res.Status, res.Err)
			}
		}
	}
	if len(committed) != n {
		t.Errorf("%d keys rotated, want %d", len(committed), n)
	}
	for id, c := range committed {
		if c != 1 {
			t.Errorf("key %s rotated %d times", id, c)
		}
	}
	if got := len(rc.deliveries()); got != n {
		t.Errorf("%d deliveries, want %d", got, n)
	}
	page, err := r.m.List(context.Background(), "p1", apikey.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Keys) != 2*n {
		t.Errorf("%d keys in the store, want %d (no stray successors)", len(page.Keys), 2*n)
	}
}

func TestSchedulerUnschedulesWhatCannotRotate(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	ctx := context.Background()
	expiring, err := r.m.Create(ctx, apikey.CreateParams{Tenant: "p1", RotationInterval: 2 * day,
		RotationWebhookURL: rc.srv.URL, ExpiresAt: t0.Add(day)})
	if err != nil {
		t.Fatal(err)
	}
	noHook := r.create(t, 2*day, "")
	r.clock.Advance(2 * day)
	rep := runOnce(t, newScheduler(t, r.m))
	if rep.Count(rotation.Unscheduled) != 2 {
		t.Fatalf("%+v", rep.Results)
	}
	for _, id := range []string{expiring.Key.ID, noHook.Key.ID} {
		if k := r.get(t, id); !k.NextRotationAt.IsZero() || k.ReplacedBy != "" {
			t.Errorf("key %s: next %v replaced %q", id, k.NextRotationAt, k.ReplacedBy)
		}
	}
	if len(rc.deliveries()) != 0 {
		t.Error("delivered a rotation of an unrotatable key")
	}
}

func TestSchedulerCustomDelivery(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	is := r.create(t, day, "") // no webhook: a custom delivery does not need one
	var got []rotation.Event
	s := newScheduler(t, r.m, rotation.WithDelivery(func(_ context.Context, e rotation.Event, secret apikey.Secret) error {
		if !secret.IsZero() {
			t.Error("secret for a key without webhook")
		}
		got = append(got, e)
		return nil
	}))
	r.clock.Advance(day)
	if rep := runOnce(t, s); rep.Count(rotation.Committed) != 1 {
		t.Fatalf("%+v", rep.Results)
	}
	if len(got) != 1 || got[0].OldKeyID != is.Key.ID {
		t.Fatalf("events %+v", got)
	}
	if _, err := r.m.Verify(ctx, got[0].Key.Reveal()); err != nil {
		t.Errorf("successor: %v", err)
	}
}

func TestSchedulerStartStop(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	is := r.create(t, day, "")
	r.clock.Advance(day)
	delivered := make(chan string, 1)
	s := newScheduler(t, r.m, rotation.WithDelivery(func(_ context.Context, e rotation.Event, _ apikey.Secret) error {
		select {
		case delivered <- e.OldKeyID:
		default:
		}
		return nil
	}))
	s.Stop() // not started: nothing to do
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); !errors.Is(err, apikey.ErrConflict) {
		t.Errorf("second Start: %v", err)
	}
	if id := <-delivered; id != is.Key.ID {
		t.Errorf("delivered %s", id)
	}
	s.Stop()
	if r.get(t, is.Key.ID).ReplacedBy == "" {
		t.Error("Stop returned before the check committed")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	s.Stop()
}

func TestSchedulerWrongWebhookKeyFailsWithoutSuccessor(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	is := r.create(t, day, rc.srv.URL)
	other, err := apikey.New(r.store, apikey.WithPrefix("prk"), apikey.WithPepper("v1", testPepper),
		apikey.WithClock(r.clock), webhooks(t, []byte("another-webhook-key-0123456789ab"), rotation.WebhookPolicy{AllowLoopback: true}))
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(day)
	rep := runOnce(t, newScheduler(t, other))
	if rep.Count(rotation.Failed) != 1 || rep.Results[0].SuccessorID != "" {
		t.Fatalf("%+v", rep.Results)
	}
	if len(rc.deliveries()) != 0 {
		t.Error("delivered without the right secret")
	}
	if _, err := r.m.Verify(context.Background(), is.Token.Reveal()); err != nil {
		t.Error(err)
	}
}

func TestManualRotationKeepsWebhookSecret(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	ctx := context.Background()
	is := r.create(t, day, rc.srv.URL)
	rot, err := r.m.Rotate(ctx, "p1", is.Key.ID, r.m.DefaultGrace())
	if err != nil {
		t.Fatal(err)
	}
	if !rot.WebhookSecret.IsZero() {
		t.Error("a rotation handed out the webhook secret again")
	}
	if !rot.Key.NextRotationAt.Equal(t0.Add(day)) || rot.Key.RotationWebhookURL != rc.srv.URL {
		t.Errorf("successor schedule %v %q", rot.Key.NextRotationAt, rot.Key.RotationWebhookURL)
	}
	r.clock.Advance(day)
	if rep := runOnce(t, newScheduler(t, r.m)); rep.Count(rotation.Committed) != 1 || rep.Results[0].KeyID != rot.Key.ID {
		t.Fatalf("%+v", rep.Results)
	}
	d := rc.last(t)
	if _, err := rotation.VerifyWebhook(is.WebhookSecret.Reveal(), d.body, d.sig, 0, r.clock.Now()); err != nil {
		t.Errorf("delivery for the manual successor: %v", err)
	}
}

func TestSchedulerLeaseOutlastsDelivery(t *testing.T) {
	r := newRig(t)
	rc := newReceiver(t)
	rc.answer(http.StatusBadGateway, false)
	is := r.create(t, day, rc.srv.URL)
	s := newScheduler(t, r.m, rotation.WithCheckInterval(time.Second), rotation.WithDeliveryTimeout(30*time.Second))
	now := r.clock.Advance(day)
	if rep := runOnce(t, s); rep.Count(rotation.Failed) != 1 {
		t.Fatalf("%+v", rep.Results)
	}
	if got := r.get(t, is.Key.ID).NextRotationAt.Sub(now); got != 30*time.Second {
		t.Errorf("lease %v, want the 30s delivery timeout", got)
	}
}

// TestNewSchedulerRefusesInvalidOptions checks that every invalid option
// is an ErrInvalid naming the option, as apikey.New does for its own.
func TestNewSchedulerRefusesInvalidOptions(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		name string
		opt  rotation.Option
	}{
		{"WithCheckInterval", rotation.WithCheckInterval(0)},
		{"WithCheckInterval", rotation.WithCheckInterval(-time.Second)},
		{"WithGrace", rotation.WithGrace(-time.Second)},
		{"WithRetryDelay", rotation.WithRetryDelay(0, time.Minute)},
		{"WithRetryDelay", rotation.WithRetryDelay(time.Hour, time.Minute)},
		{"WithDelivery", rotation.WithDelivery(nil)},
		{"WithDeliveryTimeout", rotation.WithDeliveryTimeout(0)},
		{"WithBatchSize", rotation.WithBatchSize(0)},
	}
	for _, c := range cases {
		s, err := rotation.NewScheduler(r.m, c.opt)
		if s != nil || !errors.Is(err, apikey.ErrInvalid) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: scheduler %v, err %v; want ErrInvalid naming the option", c.name, s, err)
		}
	}
	if _, err := rotation.NewScheduler(nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("nil manager: %v", err)
	}
}
