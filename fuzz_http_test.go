package apikey_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzAuthorizationHeader sends arbitrary Authorization values through the
// middleware: it never panics, never answers 500 (or anything but 200, 401
// and 503), and answers 200 only when the header is "Bearer " (any case)
// followed by exactly an issued, active token. With mode&1 the input is
// spliced into "Bearer <valid token>" to reach the verify path.
func FuzzAuthorizationHeader(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "bearer x", "BEARER  x", "Basic dXNlcjpwYXNz", "Bearer a b",
		"Bearer pgk_live_" + strings.Repeat("0", 60) + "1Hl5NV", "Bearer \x00", "Bearer é", "Token abc",
		"Bearer " + strings.Repeat("A", 300), "Bearer abc=", "Bearer a,Bearer b",
	} {
		f.Add(s, byte(0), byte(0))
		f.Add(s, byte(1), byte(7))
	}
	r := newHTTPRig(f)
	valid, other := r.valid.Token.Reveal(), r.other.Token.Reveal()
	f.Fuzz(func(t *testing.T, authz string, mode, at byte) {
		if mode&1 == 1 {
			full := "Bearer " + valid
			i := int(at) % (len(full) + 1)
			authz = full[:i] + authz + full[min(i+len(authz), len(full)):]
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = clientA
		req.Header["Authorization"] = []string{authz}
		rec := httptest.NewRecorder()
		r.h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			scheme, tok := authz[:min(7, len(authz))], authz[min(7, len(authz)):]
			if !strings.EqualFold(scheme, "Bearer ") || (tok != valid && tok != other) {
				t.Fatalf("200 for Authorization %q", authz)
			}
		case http.StatusUnauthorized:
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatalf("401 without a challenge for %q", authz)
			}
		default:
			t.Fatalf("status %d for Authorization %q", rec.Code, authz)
		}
	})
}
