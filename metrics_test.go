package apikey_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/follow"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/rotation"
)

// recMetrics is a Metrics that keeps every report, for the tests. It also
// traces store reads.
type recMetrics struct {
	mu       sync.Mutex
	verifies []apikey.VerifyReport
	counts   map[apikey.Counter]int64
	reads    int // StartStoreRead calls
	readErrs []error
	openRead int // started and not ended
}

var (
	_ apikey.Metrics         = (*recMetrics)(nil)
	_ apikey.StoreReadTracer = (*recMetrics)(nil)
)

type readMark struct{}

func newRecMetrics() *recMetrics { return &recMetrics{counts: map[apikey.Counter]int64{}} }

func (r *recMetrics) Verified(_ context.Context, v apikey.VerifyReport) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verifies = append(r.verifies, v)
}

func (r *recMetrics) Count(_ context.Context, c apikey.Counter, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[c] += n
}

func (r *recMetrics) StartStoreRead(ctx context.Context) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	r.openRead++
	return context.WithValue(ctx, readMark{}, true)
}

func (r *recMetrics) EndStoreRead(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ctx.Value(readMark{}) == nil {
		panic("EndStoreRead without the context StartStoreRead returned")
	}
	r.openRead--
	r.readErrs = append(r.readErrs, err)
}

// last returns the last verify report and how many there were.
func (r *recMetrics) last() (apikey.VerifyReport, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.verifies) == 0 {
		return apikey.VerifyReport{}, 0
	}
	return r.verifies[len(r.verifies)-1], len(r.verifies)
}

func (r *recMetrics) count(c apikey.Counter) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[c]
}

func TestMetricsVerifyOutcomes(t *testing.T) {
	ctx := context.Background()
	for _, cached := range []bool{false, true} {
		mx := newRecMetrics()
		opts := []apikey.Option{apikey.WithMetrics(mx)}
		if cached {
			opts = append(opts, apikey.WithCache(apikey.CacheOptions{}))
		}
		f := newFixture(t, opts...)
		good := f.create(t, "acme", apikey.CreateParams{})
		revoked := f.create(t, "acme", apikey.CreateParams{})
		if _, err := f.m.Revoke(ctx, "acme", revoked.Key.ID); err != nil {
			t.Fatal(err)
		}
		expiring := f.create(t, "acme", apikey.CreateParams{ExpiresAt: t0.Add(time.Minute)})
		f.clock.Advance(2 * time.Minute)
		unknown := forgedToken("pgk", "live", "00000000000000000")
		miss := apikey.CacheUnused
		if cached {
			miss = apikey.CacheMiss
		}
		steps := []struct {
			name  string
			token string
			want  apikey.Outcome
			cache apikey.CacheResult
		}{
			{"valid", good.Token.Reveal(), apikey.OutcomeValid, miss},
			{"malformed", "pgk_live_nope", apikey.OutcomeMalformed, apikey.CacheUnused},
			{"unknown", unknown, apikey.OutcomeNotFound, miss},
			{"wrong secret", wrongSecret(good.Token.Reveal()), apikey.OutcomeMismatch, map[bool]apikey.CacheResult{false: apikey.CacheUnused, true: apikey.CacheHit}[cached]},
			{"revoked", revoked.Token.Reveal(), apikey.OutcomeRevoked, miss},
			{"expired", expiring.Token.Reveal(), apikey.OutcomeExpired, miss},
		}
		if cached {
			steps = append(steps,
				struct {
					name  string
					token string
					want  apikey.Outcome
					cache apikey.CacheResult
				}{"valid again (hit)", good.Token.Reveal(), apikey.OutcomeValid, apikey.CacheHit},
				struct {
					name  string
					token string
					want  apikey.Outcome
					cache apikey.CacheResult
				}{"unknown again (negative hit)", unknown, apikey.OutcomeNotFound, apikey.CacheHit})
		}
		for i, s := range steps {
			_, _ = f.m.Verify(ctx, s.token)
			got, n := mx.last()
			if n != i+1 {
				t.Fatalf("cache=%v %s: %d reports after %d verifies", cached, s.name, n, i+1)
			}
			if got.Outcome != s.want || got.Cache != s.cache {
				t.Errorf("cache=%v %s: outcome %v cache %v, want %v %v", cached, s.name, got.Outcome, got.Cache, s.want, s.cache)
			}
			if got.Duration < 0 || !got.Timed {
				t.Errorf("%s: duration %v timed %v, want a timed one", s.name, got.Duration, got.Timed)
			}
		}
		mx.mu.Lock()
		wantReads := 4 // valid, unknown, revoked, expired; the wrong secret reads or hits
		if !cached {
			wantReads = 5
		}
		if mx.reads != wantReads || mx.openRead != 0 {
			t.Errorf("cache=%v: %d traced store reads (%d open), want %d", cached, mx.reads, mx.openRead, wantReads)
		}
		if len(mx.readErrs) > 1 && !errors.Is(mx.readErrs[1], apikey.ErrNotFound) {
			t.Errorf("traced read of the unknown token ended with %v, want ErrNotFound", mx.readErrs[1])
		}
		mx.mu.Unlock()
	}
}

func TestMetricsStoreUnavailable(t *testing.T) {
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx))
	good := f.create(t, "acme", apikey.CreateParams{})
	f.store.setFail(errBroken)
	f.verifyErr(t, good.Token.Reveal(), apikey.ErrStoreUnavailable)
	if got, _ := mx.last(); got.Outcome != apikey.OutcomeStoreUnavailable {
		t.Errorf("outcome %v, want store_unavailable", got.Outcome)
	}
}

func TestMetricsRehashAndEviction(t *testing.T) {
	ctx := context.Background()
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx), apikey.WithCache(apikey.CacheOptions{MaxEntries: 1}))
	a := f.create(t, "acme", apikey.CreateParams{})
	b := f.create(t, "acme", apikey.CreateParams{})
	f.mustVerify(t, a.Token.Reveal())
	f.mustVerify(t, b.Token.Reveal()) // evicts a
	if n := mx.count(apikey.CounterCacheEvicted); n != 1 {
		t.Errorf("evictions %d, want 1", n)
	}

	m2, err := apikey.New(f.store, apikey.WithPrefix("pgk"), apikey.WithEnvironments("live", "test"),
		apikey.WithPepper("v1", pepperV1), apikey.WithPepper("v2", pepperV2),
		apikey.WithCurrentHashVersion("v2"), apikey.WithClock(f.clock), apikey.WithMetrics(mx))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Verify(ctx, a.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if n := mx.count(apikey.CounterRehashed); n != 1 {
		t.Errorf("rehashed %d, want 1", n)
	}
	f.store.setFailOnly("UpgradeHash", errBroken)
	if _, err := m2.Verify(ctx, b.Token.Reveal()); err != nil {
		t.Fatal(err)
	}
	if n := mx.count(apikey.CounterRehashFailed); n != 1 {
		t.Errorf("rehash failures %d, want 1", n)
	}
}

func TestMetricsAuthenticatorRefusals(t *testing.T) {
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx))
	good := f.create(t, "acme", apikey.CreateParams{Scopes: []string{"jobs:read"}})
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 1, Clock: f.clock})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(f.m, apikey.WithFailureThrottle(th))
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	h := auth.Middleware(auth.RequireAll("jobs:write")(ok))
	send := func(remote, authz string) int {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	steps := []struct {
		remote, authz string
		code          int
		counter       apikey.Counter
	}{
		{"192.0.2.1:1", "", 401, apikey.CounterRefusedNoCredentials},
		{"192.0.2.1:1", "Bearer a b", 401, apikey.CounterRefusedMalformed},
		{"192.0.2.2:1", "Bearer " + wrongSecret(good.Token.Reveal()), 401, apikey.CounterRefusedInvalid},
		{"192.0.2.3:1", "Bearer " + good.Token.Reveal(), 403, apikey.CounterRefusedScope},
		{"192.0.2.1:1", "Bearer " + good.Token.Reveal(), 429, apikey.CounterRefusedThrottled},
	}
	for i, s := range steps {
		if code := send(s.remote, s.authz); code != s.code {
			t.Fatalf("step %d: code %d, want %d", i, code, s.code)
		}
		if n := mx.count(s.counter); n != 1 {
			t.Errorf("step %d: %v = %d, want 1", i, s.counter, n)
		}
	}
}

func TestMetricsUsageTracker(t *testing.T) {
	ctx := context.Background()
	mx := newRecMetrics()
	store := newCountingStore()
	tr, err := apikey.NewUsageTracker(store, apikey.WithUsageMetrics(mx), apikey.WithUsageMaxPending(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		tr.Touch(id, t0, "192.0.2.1", "")
	}
	store.setFailOnly("RecordUsage", errBroken)
	if err := tr.Flush(ctx); err == nil {
		t.Fatal("flush on a broken store succeeded")
	}
	store.setFail(nil)
	if err := tr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for c, want := range map[apikey.Counter]int64{
		apikey.CounterUsageDropped: 1, apikey.CounterUsageFlushFailures: 1, apikey.CounterUsageRecords: 2,
	} {
		if n := mx.count(c); n != want {
			t.Errorf("%v = %d, want %d", c, n, want)
		}
	}
}

func TestMetricsFollower(t *testing.T) {
	ctx := context.Background()
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx), apikey.WithCache(apikey.CacheOptions{}))
	a := f.create(t, "acme", apikey.CreateParams{})
	fo, err := follow.New(f.m)
	if err != nil {
		t.Fatal(err)
	}
	if err := fo.Poll(ctx); err != nil { // positions
		t.Fatal(err)
	}
	if _, err := f.m.Revoke(ctx, "acme", a.Key.ID); err != nil {
		t.Fatal(err)
	}
	if err := fo.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	f.store.setFailOnly("Changes", errBroken)
	if err := fo.Poll(ctx); err == nil {
		t.Fatal("poll of a broken feed succeeded")
	}
	if n := mx.count(apikey.CounterFeedChanges); n != 1 {
		t.Errorf("feed changes %d, want 1", n)
	}
	if n := mx.count(apikey.CounterFeedFailures); n != 1 {
		t.Errorf("feed failures %d, want 1", n)
	}
}

func TestMetricsScheduler(t *testing.T) {
	ctx := context.Background()
	mx := newRecMetrics()
	f := newFixture(t, apikey.WithMetrics(mx))
	f.create(t, "acme", apikey.CreateParams{RotationInterval: time.Hour})
	f.create(t, "acme", apikey.CreateParams{RotationInterval: time.Hour})
	fail := true
	s, err := rotation.NewScheduler(f.m, rotation.WithDelivery(func(context.Context, rotation.Event, apikey.Secret) error {
		if fail {
			fail = false
			return errors.New("receiver down")
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	rep, err := s.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("results %+v", rep.Results)
	}
	if c, r := mx.count(apikey.CounterRotationCommitted), mx.count(apikey.CounterRotationFailed); c != 1 || r != 1 {
		t.Errorf("rotated %d failed %d, want 1 and 1", c, r)
	}
}

func TestOutcomeAndCounterNames(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range apikey.Outcomes() {
		s := o.String()
		if s == "" || seen[s] {
			t.Errorf("outcome %d: name %q empty or repeated", o, s)
		}
		seen[s] = true
	}
	if apikey.OutcomeNotFound.String() != apikey.Reason(apikey.ErrNotFound) ||
		apikey.OutcomeRevoked.String() != apikey.Reason(apikey.ErrRevoked) {
		t.Error("outcome names differ from Reason")
	}
	for _, c := range apikey.Counters() {
		s := c.String()
		if s == "" || seen[s] {
			t.Errorf("counter %d: name %q empty or repeated", c, s)
		}
		seen[s] = true
	}
}

// atomicMetrics is the smallest useful Metrics: counts by outcome.
type atomicMetrics struct {
	outcomes [16]atomic.Int64
	counts   atomic.Int64
}

func (a *atomicMetrics) Verified(_ context.Context, r apikey.VerifyReport) {
	a.outcomes[r.Outcome%16].Add(1)
}
func (a *atomicMetrics) Count(_ context.Context, _ apikey.Counter, n int64) { a.counts.Add(n) }

// sampledMetrics is a recMetrics that times 1 verify in oneIn.
type sampledMetrics struct {
	*recMetrics
	oneIn uint32
}

func (s sampledMetrics) TimeOneIn() uint32 { return s.oneIn }

// TestTimingSampler: a Metrics that samples timing gets every verify
// reported and a random 1 in n of them timed; 0 times none.
func TestTimingSampler(t *testing.T) {
	ctx := context.Background()
	const verifies = 2000
	for _, c := range []struct {
		oneIn    uint32
		min, max int // timed reports
	}{
		{0, 0, 0},
		{1, verifies, verifies},
		{4, 400, 600}, // Binomial(2000, 1/4): mean 500, standard deviation 19
	} {
		mx := sampledMetrics{newRecMetrics(), c.oneIn}
		m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", pepperV1), apikey.WithPrefix("pgk"),
			apikey.WithCache(apikey.CacheOptions{}), apikey.WithMetrics(mx))
		if err != nil {
			t.Fatal(err)
		}
		tok := createKey(t, m, "acme").Token.Reveal()
		for range verifies {
			if _, err := m.Verify(ctx, tok); err != nil {
				t.Fatal(err)
			}
		}
		timed := 0
		for _, r := range mx.verifies {
			if r.Timed {
				timed++
			} else if r.Duration != 0 {
				t.Errorf("1 in %d: an untimed report has duration %v", c.oneIn, r.Duration)
			}
		}
		if len(mx.verifies) != verifies || timed < c.min || timed > c.max {
			t.Errorf("1 in %d: %d reports, %d timed; want %d reports, %d to %d timed",
				c.oneIn, len(mx.verifies), timed, verifies, c.min, c.max)
		}
	}
}
