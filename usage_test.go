package apikey_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apikit/apikey"
)

func newTracker(t testing.TB, s apikey.Store, opts ...apikey.UsageOption) *apikey.UsageTracker {
	t.Helper()
	tr, err := apikey.NewUsageTracker(s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func (f *mwFixture) stored(t testing.TB, name string) *apikey.Key {
	t.Helper()
	k, err := f.m.Get(context.Background(), "ws_a", f.key[name].ID)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestUsageCoalesced: N requests on one key within an interval make exactly
// one usage write, carrying the last use.
func TestUsageCoalesced(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageInterval(time.Hour))
	a := f.auth(t, apikey.WithUsageTracker(tr),
		apikey.WithClientName(func(r *http.Request) string { return r.Header.Get("X-Integration-Name") }))
	h := a.Middleware(whoami)
	const n = 100
	var last time.Time
	for i := range n {
		last = f.clock.Advance(time.Second)
		r := bearer(f.tok["read"])
		r.RemoteAddr = fmt.Sprintf("198.51.100.%d:4000", i%250)
		r.Header.Set("X-Integration-Name", fmt.Sprintf("zapier-%d", i))
		if rec := serve(h, r); rec.Code != 200 {
			t.Fatalf("request %d: %d", i, rec.Code)
		}
	}
	if calls, _ := f.store.usageWrites(); calls != 0 {
		t.Fatalf("%d usage writes before any flush", calls)
	}
	if st := tr.Stats(); st.Pending != 1 {
		t.Fatalf("pending = %d, want 1", st.Pending)
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls, records := f.store.usageWrites()
	if calls != 1 || records != 1 {
		t.Fatalf("usage writes = %d calls / %d records, want 1 / 1", calls, records)
	}
	k := f.stored(t, "read")
	if !k.LastUsedAt.Equal(last) || k.LastUsedIP != "198.51.100.99" || k.LastUsedClient != "zapier-99" {
		t.Errorf("stored last use = %v %q %q, want %v 198.51.100.99 zapier-99", k.LastUsedAt, k.LastUsedIP, k.LastUsedClient, last)
	}
	if st := tr.Stats(); st != (apikey.UsageStats{Writes: 1, Records: 1}) {
		t.Errorf("stats = %+v", st)
	}
	// Nothing pending: another flush writes nothing.
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls, _ := f.store.usageWrites(); calls != 1 {
		t.Errorf("empty flush wrote: %d calls", calls)
	}
	// Failed authentications record nothing.
	serve(h, bearer(f.tok["revoked"]))
	if st := tr.Stats(); st.Pending != 0 {
		t.Errorf("a refused request was recorded: %+v", st)
	}
}

// TestUsageBatches: many keys are written in batches of the batch size.
func TestUsageBatches(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageBatchSize(3))
	for i := range 7 {
		tr.Touch(fmt.Sprintf("key-%d", i), mwT0, "", "")
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls, records := f.store.usageWrites(); calls != 3 || records != 7 {
		t.Errorf("writes = %d calls / %d records, want 3 / 7", calls, records)
	}
}

// TestUsageForwardOnly: an older use never replaces a newer one, in memory
// or in the store.
func TestUsageForwardOnly(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store)
	id := f.key["read"].ID
	t2 := mwT0.Add(3 * time.Hour)
	tr.Touch(id, t2, "192.0.2.2", "new")
	tr.Touch(id, t2.Add(-time.Minute), "192.0.2.1", "old")
	tr.Touch(id, t2, "192.0.2.3", "same instant")
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	k := f.stored(t, "read")
	if !k.LastUsedAt.Equal(t2) || k.LastUsedIP != "192.0.2.2" || k.LastUsedClient != "new" {
		t.Fatalf("stored = %v %q %q, want the newest use", k.LastUsedAt, k.LastUsedIP, k.LastUsedClient)
	}
	tr.Touch(id, t2.Add(-time.Hour), "192.0.2.9", "late straggler")
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := f.stored(t, "read"); !k.LastUsedAt.Equal(t2) || k.LastUsedIP != "192.0.2.2" {
		t.Errorf("an older flush moved the record back: %v %q", k.LastUsedAt, k.LastUsedIP)
	}
}

// TestUsageBounded: beyond the maximum pending keys, uses are dropped and
// counted; an already-pending key is still updated.
func TestUsageBounded(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageMaxPending(2))
	for i := range 5 {
		tr.Touch(fmt.Sprintf("key-%d", i), mwT0, "", "")
	}
	tr.Touch("key-0", mwT0.Add(time.Second), "", "")
	if st := tr.Stats(); st.Pending != 2 || st.Dropped != 3 {
		t.Fatalf("stats = %+v, want 2 pending, 3 dropped", st)
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	tr.Touch("key-4", mwT0, "", "")
	if st := tr.Stats(); st.Pending != 1 || st.Dropped != 3 || st.Records != 2 {
		t.Errorf("after flush: %+v", st)
	}
}

// TestUsageRetry: a failing store keeps the records (forward-only merged
// with newer uses) and a later flush writes them; requests never wait.
func TestUsageRetry(t *testing.T) {
	f := newMWFixture(t)
	var logBuf bytes.Buffer
	tr := newTracker(t, f.store, apikey.WithUsageLogger(slog.New(slog.NewTextHandler(&logBuf, nil))))
	a := f.auth(t, apikey.WithUsageTracker(tr))
	h := a.Middleware(whoami)
	serve(h, bearer(f.tok["read"]))
	first := f.m.Now()
	tr.Touch("", first, "", "") // no key: ignored
	serve(h, bearer(f.tok["rw"]))

	f.store.usageDown.Store(true)
	if err := tr.Flush(context.Background()); err == nil {
		t.Fatal("flush to a failing store succeeded")
	}
	if st := tr.Stats(); st.Pending != 2 || st.Failures != 1 || st.Writes != 0 {
		t.Fatalf("after failure: %+v", st)
	}
	if !strings.Contains(logBuf.String(), "usage flush failed") {
		t.Errorf("failure not logged: %q", logBuf.String())
	}
	// Requests keep being served while the store is down.
	later := f.clock.Advance(time.Minute)
	if rec := serve(h, bearer(f.tok["read"])); rec.Code != 200 {
		t.Fatalf("request while usage store down: %d", rec.Code)
	}

	f.store.usageDown.Store(false)
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := f.stored(t, "read"); !k.LastUsedAt.Equal(later) {
		t.Errorf("read: LastUsedAt = %v, want the newer use %v", k.LastUsedAt, later)
	}
	if k := f.stored(t, "rw"); !k.LastUsedAt.Equal(first) {
		t.Errorf("rw: LastUsedAt = %v, want the retried use %v", k.LastUsedAt, first)
	}
	if st := tr.Stats(); st.Pending != 0 || st.Records != 2 {
		t.Errorf("after recovery: %+v", st)
	}
}

// TestUsageCloseFlushes: Close stops the flusher and writes what is left.
func TestUsageCloseFlushes(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageInterval(time.Hour))
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	at := f.m.Now()
	tr.Touch(f.key["read"].ID, at, "192.0.2.7", "")
	if err := tr.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := f.stored(t, "read"); !k.LastUsedAt.Equal(at) || k.LastUsedIP != "192.0.2.7" {
		t.Errorf("after Close: %v %q", k.LastUsedAt, k.LastUsedIP)
	}
	if err := tr.Start(context.Background()); err == nil {
		t.Error("Start after Close succeeded")
	}
	// Close without Start flushes too, and a failing flush is reported.
	tr2 := newTracker(t, f.store)
	tr2.Touch(f.key["rw"].ID, at, "", "")
	f.store.usageDown.Store(true)
	if err := tr2.Close(context.Background()); err == nil {
		t.Error("Close hid a flush failure")
	}
	f.store.usageDown.Store(false)
	if err := tr2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k := f.stored(t, "rw"); !k.LastUsedAt.Equal(at) {
		t.Errorf("second Close did not flush: %v", k.LastUsedAt)
	}
}

// TestUsageFlusherRuns: the started flusher writes without an explicit
// Flush.
func TestUsageFlusherRuns(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageInterval(5*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := tr.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer tr.Close(context.Background())
	tr.Touch(f.key["read"].ID, f.m.Now(), "", "")
	for deadline := time.Now().Add(10 * time.Second); tr.Stats().Writes == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the flusher never wrote")
		}
	}
}

// TestUsageConcurrent exercises Touch, Flush and Stats together under -race.
func TestUsageConcurrent(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store, apikey.WithUsageMaxPending(50))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				tr.Touch(fmt.Sprintf("key-%d", (g*7+i)%80), mwT0.Add(time.Duration(i)*time.Second), "192.0.2.1", "c")
				if i%100 == 0 {
					_ = tr.Flush(context.Background())
					_ = tr.Stats()
				}
			}
		})
	}
	wg.Wait()
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := tr.Stats(); st.Pending != 0 || st.Records == 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestUsageCleansText: client-controlled values are bounded and valid
// UTF-8 before they reach memory or the store.
func TestUsageCleansText(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store)
	long := strings.Repeat("é", 200) // 400 bytes
	tr.Touch(f.key["read"].ID, f.m.Now(), "192.0.2.1", long)
	tr.Touch(f.key["rw"].ID, f.m.Now(), "192.0.2.1", "bad\xffname")
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := f.stored(t, "read").LastUsedClient
	if len(c) > 128 || !utf8.ValidString(c) || !strings.HasPrefix(long, c) || len(c) < 120 {
		t.Errorf("long client stored as %d bytes %q", len(c), c)
	}
	if c := f.stored(t, "rw").LastUsedClient; c != "bad\uFFFDname" {
		t.Errorf("invalid UTF-8 stored as %q", c)
	}
}

// TestUsageOptions: bad options are refused.
func TestUsageOptions(t *testing.T) {
	f := newMWFixture(t)
	for name, o := range map[string]apikey.UsageOption{
		"WithUsageInterval":   apikey.WithUsageInterval(0),
		"WithUsageMaxPending": apikey.WithUsageMaxPending(0),
		"WithUsageBatchSize":  apikey.WithUsageBatchSize(-1),
	} {
		// The error names the option, as New's and the subpackages' do.
		if _, err := apikey.NewUsageTracker(f.store, o); !errors.Is(err, apikey.ErrInvalid) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := apikey.NewUsageTracker(nil); !errors.Is(err, apikey.ErrInvalid) {
		t.Errorf("nil store: err = %v", err)
	}
}

// TestUsageClientIP: the recorded IP is the connection's unless trusted
// proxies are configured.
func TestUsageClientIP(t *testing.T) {
	tests := []struct {
		name string
		opts []apikey.MiddlewareOption
		want string
	}{
		{"no trusted proxies", nil, "10.0.0.5"},
		{"trusted proxy", []apikey.MiddlewareOption{apikey.WithTrustedProxies("10.0.0.0/8")}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newMWFixture(t)
			tr := newTracker(t, f.store)
			a := f.auth(t, append(tt.opts, apikey.WithUsageTracker(tr))...)
			r := bearer(f.tok["read"])
			r.RemoteAddr = "10.0.0.5:31337"
			r.Header.Set("X-Forwarded-For", "1.2.3.4, 203.0.113.9")
			serve(a.Middleware(whoami), r)
			if err := tr.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := f.stored(t, "read").LastUsedIP; got != tt.want {
				t.Errorf("LastUsedIP = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestUsageTouchNoAlloc: recording another use of a pending key, from the
// same client, does not allocate.
func TestUsageTouchNoAlloc(t *testing.T) {
	f := newMWFixture(t)
	tr := newTracker(t, f.store)
	id := f.key["read"].ID
	at := mwT0
	tr.Touch(id, at, "192.0.2.1", "zapier")
	allocs := testing.AllocsPerRun(100, func() {
		at = at.Add(time.Millisecond)
		tr.Touch(id, at, "192.0.2.1", "zapier")
	})
	if allocs != 0 {
		t.Errorf("Touch of a pending key allocates %v times", allocs)
	}
}
