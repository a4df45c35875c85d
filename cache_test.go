package apikey_test

import (
	"context"
	"errors"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/stretchr/testify/require"
)

var cachePepper = []byte("cache-test-pepper-0123456789abcdef")

// lookupCounter counts lookups and can fail them or hold them at a gate.
type lookupCounter struct {
	*memstore.Store
	reads atomic.Int64
	fail  atomic.Bool
	gate  chan struct{} // when non-nil, lookups wait until it is closed
}

func newLookupCounter() *lookupCounter { return &lookupCounter{Store: memstore.New()} }

func (s *lookupCounter) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	s.reads.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	if s.fail.Load() {
		return nil, errors.New("database is down")
	}
	return s.Store.GetByLookup(ctx, lookup)
}

func cachedManager(t testing.TB, s apikey.Store, o apikey.CacheOptions, opts ...apikey.Option) *apikey.Manager {
	t.Helper()
	opts = append([]apikey.Option{apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper), apikey.WithCache(o)}, opts...)
	m, err := apikey.New(s, opts...)
	require.NoError(t, err)
	return m
}

func createKey(t testing.TB, m *apikey.Manager, tenant string) *apikey.Issued {
	t.Helper()
	is, err := m.Create(context.Background(), apikey.CreateParams{Tenant: tenant, Scopes: []string{"jobs:read"}})
	require.NoError(t, err)
	return is
}

// TestCacheNeverServesRevokedKey hammers a key from 8 goroutines while a
// ninth keeps emptying the cache (so store reads race the change), and
// checks that no verify that began after Revoke, RevokeAll or Rotate with no
// grace returned accepts the key.
func TestCacheNeverServesRevokedKey(t *testing.T) {
	ops := []struct {
		name string
		do   func(m *apikey.Manager, k *apikey.Key) error
	}{
		{"revoke", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Revoke(context.Background(), k.Tenant, k.ID)
			return err
		}},
		{"revoke all", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.RevokeAll(context.Background(), k.Tenant)
			return err
		}},
		{"rotate without grace", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Rotate(context.Background(), k.Tenant, k.ID, 0)
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			// Reads that take a while (as over a network) widen the window in
			// which a read that began before the change ends after it.
			m := cachedManager(t, &slowStore{memstore.New()}, apikey.CacheOptions{TTL: time.Hour})
			var total int64
			for round := range 5 {
				is := createKey(t, m, "acme"+strconv.Itoa(round))
				total += hammerAcrossChange(t, m, is.Token.Reveal(), func() error { return op.do(m, is.Key) })
			}
			require.GreaterOrEqual(t, total, int64(10_000))
		})
	}
}

// hammerAcrossChange verifies tok from 8 goroutines, about 1000 times
// before change and 2000 after it, while another goroutine keeps emptying
// the cache (as a change-feed follower would), so store reads race the
// change. It fails the test if a verify that began after change returned
// accepted tok, and returns the number of verifies.
func hammerAcrossChange(t *testing.T, m *apikey.Manager, tok string, change func() error) int64 {
	t.Helper()
	const workers, before, after = 8, 1_000, 2_000
	var (
		changing, changed, total, accepted atomic.Int64
		unexpected                         atomic.Value
		wg                                 sync.WaitGroup
	)
	stop := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				wasChanged := changed.Load() == 1
				_, err := m.Verify(context.Background(), tok)
				total.Add(1)
				switch {
				case wasChanged && err == nil:
					accepted.Add(1)
				case wasChanged && !errors.Is(err, apikey.ErrRevoked):
					unexpected.Store(err.Error())
				case !wasChanged && err != nil && changing.Load() == 0:
					unexpected.Store("refused before the change: " + err.Error())
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
				m.InvalidateAll()
			}
		}
	})
	waitFor(&total, before)
	changing.Store(1)
	require.NoError(t, change())
	changed.Store(1)
	waitFor(&total, before+after)
	close(stop)
	wg.Wait()
	require.Zero(t, accepted.Load(), "verifies accepted the key after the change returned")
	require.Nil(t, unexpected.Load())
	return total.Load()
}

// slowStore answers lookups after a short pause.
type slowStore struct{ *memstore.Store }

func (s *slowStore) GetByLookup(ctx context.Context, lookup string) (*apikey.Key, error) {
	k, err := s.Store.GetByLookup(ctx, lookup)
	time.Sleep(50 * time.Microsecond)
	return k, err
}

// waitFor yields until n reaches at least want.
func waitFor(n *atomic.Int64, want int64) {
	for n.Load() < want {
		time.Sleep(time.Millisecond)
	}
}

func TestCacheServesHitsAndExpiresAfterTTL(t *testing.T) {
	ctx := context.Background()
	clk := apikey.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, time.UTC))
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{TTL: time.Minute}, apikey.WithClock(clk))
	is := createKey(t, m, "acme")
	tok := is.Token.Reveal()

	for range 5 {
		_, err := m.Verify(ctx, tok)
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, s.reads.Load(), "hits must not read the store")

	// A change that bypasses the manager (another process) is seen after the TTL.
	_, err := s.Revoke(ctx, is.Key.ID, clk.Now())
	require.NoError(t, err)
	clk.Advance(time.Minute - time.Microsecond)
	_, err = m.Verify(ctx, tok)
	require.NoError(t, err, "within the TTL the entry is served: the documented staleness")
	clk.Advance(time.Microsecond)
	_, err = m.Verify(ctx, tok)
	require.ErrorIs(t, err, apikey.ErrRevoked)
	require.EqualValues(t, 2, s.reads.Load())
}

func TestInvalidateDropsEntries(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{TTL: time.Hour})
	a, b := createKey(t, m, "acme"), createKey(t, m, "acme")
	for _, is := range []*apikey.Issued{a, b} {
		_, err := m.Verify(ctx, is.Token.Reveal())
		require.NoError(t, err)
	}
	require.Equal(t, apikey.CacheStats{Entries: 2}, m.CacheStats())

	// Another process revokes a; its bus message reaches this one.
	_, err := s.Revoke(ctx, a.Key.ID, time.Now())
	require.NoError(t, err)
	m.Invalidate(a.Key.Lookup)
	_, err = m.Verify(ctx, a.Token.Reveal())
	require.ErrorIs(t, err, apikey.ErrRevoked)
	_, err = m.Verify(ctx, b.Token.Reveal())
	require.NoError(t, err)
	require.EqualValues(t, 3, s.reads.Load())

	m.InvalidateAll()
	require.Equal(t, apikey.CacheStats{}, m.CacheStats())
	_, err = m.Verify(ctx, b.Token.Reveal())
	require.NoError(t, err)
	require.EqualValues(t, 4, s.reads.Load())
}

func TestCacheNegativeEntries(t *testing.T) {
	ctx := context.Background()
	other, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper))
	require.NoError(t, err)
	unknown := createKey(t, other, "acme").Token.Reveal() // well-formed, not in s

	tests := []struct {
		name      string
		opts      apikey.CacheOptions
		advance   time.Duration
		wantReads int64
	}{
		{"within the negative TTL", apikey.CacheOptions{NegativeTTL: 5 * time.Second}, 4 * time.Second, 1},
		{"after the negative TTL", apikey.CacheOptions{NegativeTTL: 5 * time.Second}, 5 * time.Second, 2},
		{"negative entries off", apikey.CacheOptions{NegativeTTL: -1}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apikey.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			s := newLookupCounter()
			m := cachedManager(t, s, tt.opts, apikey.WithClock(clk))
			_, err := m.Verify(ctx, unknown)
			require.ErrorIs(t, err, apikey.ErrNotFound)
			clk.Advance(tt.advance)
			_, err = m.Verify(ctx, unknown)
			require.ErrorIs(t, err, apikey.ErrNotFound)
			require.Equal(t, tt.wantReads, s.reads.Load())
		})
	}
}

func TestCacheHonoursExpiryAndGraceOnHits(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		prepare func(t *testing.T, m *apikey.Manager) string // returns the token to check
		later   time.Duration
		want    error
	}{
		{"expiry", func(t *testing.T, m *apikey.Manager) string {
			is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme", ExpiresAt: start.Add(time.Minute)})
			require.NoError(t, err)
			return is.Token.Reveal()
		}, time.Minute, apikey.ErrExpired},
		{"grace end", func(t *testing.T, m *apikey.Manager) string {
			is := createKey(t, m, "acme")
			_, err := m.Rotate(ctx, "acme", is.Key.ID, 10*time.Minute)
			require.NoError(t, err)
			return is.Token.Reveal()
		}, 10 * time.Minute, apikey.ErrGraceEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := apikey.NewManualClock(start)
			s := newLookupCounter()
			m := cachedManager(t, s, apikey.CacheOptions{TTL: 24 * time.Hour}, apikey.WithClock(clk))
			tok := tt.prepare(t, m)
			_, err := m.Verify(ctx, tok)
			require.NoError(t, err)
			reads := s.reads.Load()
			clk.Advance(tt.later - time.Microsecond)
			_, err = m.Verify(ctx, tok)
			require.NoError(t, err)
			clk.Advance(time.Microsecond)
			_, err = m.Verify(ctx, tok)
			require.ErrorIs(t, err, tt.want)
			require.Equal(t, reads, s.reads.Load(), "the refusal came from the cached entry")
		})
	}
}

func TestCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{MaxEntries: 10, MaxNegative: 5})
	other, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", cachePepper))
	require.NoError(t, err)
	var known, unknown []string
	for range 40 {
		known = append(known, createKey(t, m, "acme").Token.Reveal())
		unknown = append(unknown, createKey(t, other, "acme").Token.Reveal())
	}
	for range 2 {
		for i := range known {
			_, err := m.Verify(ctx, known[i])
			require.NoError(t, err, "an evicted key still verifies")
			_, err = m.Verify(ctx, unknown[i])
			require.ErrorIs(t, err, apikey.ErrNotFound)
			st := m.CacheStats()
			require.LessOrEqual(t, st.Entries, 10)
			require.LessOrEqual(t, st.Negative, 5)
		}
	}
	require.Equal(t, apikey.CacheStats{Entries: 10, Negative: 5}, m.CacheStats())
}

func TestCacheSingleflight(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{})
	tok := createKey(t, m, "acme").Token.Reveal()
	s.gate = make(chan struct{})

	const n = 100
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		started.Add(1)
		done.Go(func() {
			started.Done()
			_, err := m.Verify(ctx, tok)
			errs <- err
		})
	}
	started.Wait()
	time.Sleep(20 * time.Millisecond) // let the burst pile up on the first read
	close(s.gate)
	done.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, s.reads.Load())
}

func TestCacheNeverCachesStoreErrors(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{})
	tok := createKey(t, m, "acme").Token.Reveal()
	s.fail.Store(true)
	for range 2 {
		_, err := m.Verify(ctx, tok)
		require.ErrorIs(t, err, apikey.ErrStoreUnavailable)
	}
	require.Equal(t, apikey.CacheStats{}, m.CacheStats())
	s.fail.Store(false)
	_, err := m.Verify(ctx, tok)
	require.NoError(t, err)
	require.EqualValues(t, 3, s.reads.Load())
}

func TestCacheHashUpgradeRefreshesEntry(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	old := cachedManager(t, s, apikey.CacheOptions{})
	tok := createKey(t, old, "acme").Token.Reveal()

	pepper2 := []byte("second-pepper-0123456789abcdef0123")
	var published [][]string
	m := cachedManager(t, s, apikey.CacheOptions{TTL: time.Hour},
		apikey.WithPepper("v2", pepper2), apikey.WithCurrentHashVersion("v2"),
		apikey.WithInvalidationPublisher(func(_ context.Context, l []string) { published = append(published, l) }))
	k, err := m.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, "v2", k.HashVersion)
	require.Len(t, published, 1, "the upgrade is broadcast")
	for range 3 {
		k, err = m.Verify(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, "v2", k.HashVersion)
	}
	require.EqualValues(t, 2, s.reads.Load(), "one read before the upgrade, one after")
}

func TestInvalidationPublisher(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		do   func(m *apikey.Manager, k *apikey.Key) error
	}{
		{"revoke", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Revoke(ctx, k.Tenant, k.ID)
			return err
		}},
		{"revoke all", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.RevokeAll(ctx, k.Tenant)
			return err
		}},
		{"rotate", func(m *apikey.Manager, k *apikey.Key) error {
			_, err := m.Rotate(ctx, k.Tenant, k.ID, time.Minute)
			return err
		}},
		{"update", func(m *apikey.Manager, k *apikey.Key) error {
			name := "renamed"
			_, err := m.Update(ctx, k.Tenant, k.ID, apikey.UpdateParams{Name: &name})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [][]string
			m := cachedManager(t, memstore.New(), apikey.CacheOptions{},
				apikey.WithInvalidationPublisher(func(_ context.Context, l []string) { got = append(got, l) }))
			is := createKey(t, m, "acme")
			_, err := m.Verify(ctx, is.Token.Reveal())
			require.NoError(t, err)
			m.Invalidate(is.Key.Lookup) // received from the bus: not echoed
			require.Empty(t, got)
			require.NoError(t, tt.do(m, is.Key))
			require.Equal(t, [][]string{{is.Key.Lookup}}, got)
		})
	}
}

func TestManagerChangesRefreshTheCache(t *testing.T) {
	ctx := context.Background()
	s := newLookupCounter()
	m := cachedManager(t, s, apikey.CacheOptions{TTL: time.Hour})
	is := createKey(t, m, "acme")
	tok := is.Token.Reveal()
	_, err := m.Verify(ctx, tok)
	require.NoError(t, err)
	scopes := []string{"jobs:write"}
	_, err = m.Update(ctx, "acme", is.Key.ID, apikey.UpdateParams{Scopes: &scopes})
	require.NoError(t, err)
	k, err := m.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, scopes, k.Scopes)

	r, err := m.Rotate(ctx, "acme", is.Key.ID, time.Hour)
	require.NoError(t, err)
	k, err = m.Verify(ctx, tok)
	require.NoError(t, err)
	require.Equal(t, r.Issued.Key.ID, k.ReplacedBy)
}

func TestWithCacheRefusesNegativeBounds(t *testing.T) {
	for _, o := range []apikey.CacheOptions{{MaxEntries: -1}, {TTL: -time.Second}, {MaxNegative: -1}} {
		_, err := apikey.New(memstore.New(), apikey.WithPepper("v1", cachePepper), apikey.WithCache(o))
		require.ErrorIs(t, err, apikey.ErrInvalid, "%+v", o)
	}
}

func TestInvalidateWithoutCacheIsHarmless(t *testing.T) {
	m, err := apikey.New(memstore.New(), apikey.WithPepper("v1", cachePepper))
	require.NoError(t, err)
	m.Invalidate("x")
	m.InvalidateAll()
	require.Equal(t, apikey.CacheStats{}, m.CacheStats())
}

// createSpy lets a test act just before the store receives a new key.
type createSpy struct {
	*memstore.Store
	beforeCreate func(k *apikey.Key)
}

func (s *createSpy) Create(ctx context.Context, k *apikey.Key) error {
	s.beforeCreate(k)
	return s.Store.Create(ctx, k)
}

// forgedToken returns a well-formed token (valid checksum) whose selector
// is lookup and whose secret is all zeros: it is looked up, never accepted.
func forgedToken(prefix, env, lookup string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	s := prefix + "_" + env + "_" + lookup + strings.Repeat("0", 43)
	var sum [6]byte
	for i, x := 5, uint64(crc32.ChecksumIEEE([]byte(s))); i >= 0; i-- {
		sum[i] = alphabet[x%62]
		x /= 62
	}
	return s + string(sum[:])
}

// TestCreateDropsNegativeEntry presents the new key's lookup value just
// before the store receives the key, so the cache holds a negative entry
// for it; the key must verify as soon as Create returns.
func TestCreateDropsNegativeEntry(t *testing.T) {
	ctx := context.Background()
	spy := &createSpy{Store: memstore.New()}
	m := cachedManager(t, spy, apikey.CacheOptions{NegativeTTL: time.Hour})
	spy.beforeCreate = func(k *apikey.Key) {
		tok := forgedToken("pgk", "live", k.Lookup)
		require.True(t, apikey.ValidChecksum(tok))
		_, err := m.Verify(ctx, tok)
		require.ErrorIs(t, err, apikey.ErrNotFound)
		require.Equal(t, 1, m.CacheStats().Negative)
	}
	is, err := m.Create(ctx, apikey.CreateParams{Tenant: "acme"})
	require.NoError(t, err)
	_, err = m.Verify(ctx, is.Token.Reveal())
	require.NoError(t, err)

	// The same for the successor of a rotation.
	r, err := m.Rotate(ctx, "acme", is.Key.ID, time.Minute)
	require.NoError(t, err)
	_, err = m.Verify(ctx, r.Token.Reveal())
	require.NoError(t, err)
}
