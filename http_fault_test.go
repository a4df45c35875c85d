package apikey_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/storetest/faultstore"
)

const clientA = "198.51.100.7:4242"

// While the store is down the middleware answers 503 (not 401, not 200)
// for every well-formed credential, lets nothing through, and recovers
// without a restart once the store is back.
func TestMiddlewareStoreDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(*faultstore.Store)
	}{
		{"failing store", func(s *faultstore.Store) { s.Fail(errConnRefused) }},
		{"failing lookups", func(s *faultstore.Store) { s.Fail(errConnRefused, faultstore.GetByLookup) }},
		{"hung store, request deadline", func(s *faultstore.Store) { s.Hang() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newHTTPRig(t)
			tc.inject(r.fs)
			for _, tok := range []string{r.valid.Token.Reveal(), r.revoked.Token.Reveal(), r.wrong, r.unknown} {
				req := httptest.NewRequest(http.MethodGet, "/jobs", nil)
				ctx, cancel := context.WithTimeout(req.Context(), 20*time.Millisecond)
				req = req.WithContext(ctx)
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				r.h.ServeHTTP(rec, req)
				cancel()
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("%s: status %d, want 503", apikey.Redact(tok), rec.Code)
				}
				if rec.Header().Get("WWW-Authenticate") != "" {
					t.Fatal("a 503 must not challenge the client: its key may be fine")
				}
				if strings.Contains(rec.Body.String(), tok) {
					t.Fatal("the answer echoes the token")
				}
			}
			if n := r.passed.Load(); n != 0 {
				t.Fatalf("%d requests passed without a verified key", n)
			}
			r.fs.Clear()
			if rec := r.do(clientA, "Bearer "+r.valid.Token.Reveal()); rec.Code != http.StatusOK || rec.Body.String() != r.valid.Key.ID {
				t.Fatalf("after recovery: %d %q", rec.Code, rec.Body.String())
			}
			for _, tok := range []string{r.revoked.Token.Reveal(), r.wrong, r.unknown} {
				if rec := r.do(clientA, "Bearer "+tok); rec.Code != http.StatusUnauthorized {
					t.Fatalf("after recovery, %s: %d, want 401", apikey.Redact(tok), rec.Code)
				}
			}
		})
	}
}

// Garbage from the store never lets a request through: 401, never 200.
func TestMiddlewareGarbageRecords(t *testing.T) {
	r := newHTTPRig(t)
	for _, c := range []faultstore.Corruption{
		faultstore.WrongHash, faultstore.EmptyHash, faultstore.TruncatedHash,
		faultstore.UnknownHashVersion, faultstore.Substitute(r.other.Key),
	} {
		r.fs.Corrupt(c, faultstore.GetByLookup)
		if rec := r.do(clientA, "Bearer "+r.valid.Token.Reveal()); rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", rec.Code)
		}
	}
	if r.passed.Load() != 0 {
		t.Fatal("a request passed on a garbage record")
	}
}

// Usage writes lost to a failing store are kept for the next flush (the
// pending set stays bounded, drops are counted) and land once it is back.
func TestUsageFlushRetriedAfterStoreFailure(t *testing.T) {
	r := newFaultRig(t)
	ctx := t.Context()
	tr, err := apikey.NewUsageTracker(r.fs, apikey.WithUsageMaxPending(2))
	if err != nil {
		t.Fatal(err)
	}
	at := r.clock.Now()
	tr.Touch(r.valid.Key.ID, at, "192.0.2.1", "")
	tr.Touch(r.other.Key.ID, at, "192.0.2.2", "")

	r.fs.Fail(errConnRefused, faultstore.RecordUsage)
	for range 3 {
		if err := tr.Flush(ctx); err == nil {
			t.Fatal("Flush reported success on a failing store")
		}
	}
	tr.Touch(r.revoked.Key.ID, at, "192.0.2.3", "") // over the bound: dropped
	tr.Touch(r.valid.Key.ID, at.Add(time.Second), "192.0.2.9", "")
	st := tr.Stats()
	if st.Pending != 2 || st.Failures != 3 || st.Dropped != 1 || st.Records != 0 {
		t.Fatalf("Stats while failing = %+v; want 2 pending, 3 failures, 1 dropped", st)
	}

	r.fs.Clear()
	if err := tr.Flush(ctx); err != nil {
		t.Fatalf("Flush after recovery: %v", err)
	}
	if st := tr.Stats(); st.Pending != 0 || st.Records != 2 {
		t.Fatalf("Stats after recovery = %+v", st)
	}
	k, err := r.m.Get(ctx, "acme", r.valid.Key.ID)
	if err != nil || !k.LastUsedAt.Equal(at.Add(time.Second)) || k.LastUsedIP != "192.0.2.9" {
		t.Fatalf("last use after recovery: %v %q, %v", k.LastUsedAt, k.LastUsedIP, err)
	}
}
