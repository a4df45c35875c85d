// Package apikeytest helps the tests of code that uses apikey: a Manager
// on an in-memory store with a fixed test pepper, a manual clock and
// deterministic tokens (the same seed gives the same tokens and key IDs on
// every run), and Must helpers that fail the test instead of returning an
// error. It is for tests only: its pepper is public and its tokens are
// predictable (apikey.WithTestEntropy).
//
// A complete handler test:
//
//	func TestListJobs(t *testing.T) {
//		m := apikeytest.New(t)
//		h := m.MustAuthenticator(t).Require("jobs:read")(http.HandlerFunc(listJobs))
//
//		rec := httptest.NewRecorder()
//		h.ServeHTTP(rec, apikeytest.Request("GET", "/jobs", m.MustToken(t, "jobs:read")))
//		if rec.Code != http.StatusOK {
//			t.Fatalf("with jobs:read: %d %s", rec.Code, rec.Body)
//		}
//
//		rec = httptest.NewRecorder()
//		h.ServeHTTP(rec, apikeytest.Request("GET", "/jobs", m.MustToken(t, "jobs:write")))
//		if rec.Code != http.StatusForbidden {
//			t.Fatalf("without jobs:read: %d", rec.Code)
//		}
//	}
//
// Move time with m.Clock (m.Clock.Advance(25 * time.Hour) to pass an
// expiry); options given to New go after the package's defaults and so
// override them (apikey.WithPrefix, apikey.WithScopeCatalog, Seed...).
package apikeytest
