package apikey_test

import (
	"crypto/subtle"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
)

// An operator token accepted beside API keys goes behind the same failure
// throttle: CheckThrottle first, then the operator token, then
// Authenticate, where a wrong operator token fails and counts.
func ExampleAuthenticator_CheckThrottle() {
	m, err := apikey.New(memstore.New(), apikey.WithPrefix("pgk"), apikey.WithPepper("v1", examplePepper))
	if err != nil {
		log.Fatal(err)
	}
	th, err := apikey.NewFailureThrottle(apikey.ThrottleOptions{Failures: 2, Per: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := apikey.NewAuthenticator(m, apikey.WithFailureThrottle(th))
	if err != nil {
		log.Fatal(err)
	}
	const operator = "operator-token-0123456789"
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.CheckThrottle(r); err != nil {
			apikey.WriteError(w, err, "api", apikey.ErrorCodes{})
			return
		}
		if tok, err := auth.Credentials(r); err == nil && subtle.ConstantTimeCompare([]byte(tok), []byte(operator)) == 1 {
			fmt.Fprintln(w, "operator")
			return
		}
		if _, err := auth.Authenticate(r); err != nil {
			apikey.WriteError(w, err, "api", apikey.ErrorCodes{})
			return
		}
		fmt.Fprintln(w, "key")
	})
	for _, tok := range []string{operator, "guess-1", "guess-2", operator} {
		r := httptest.NewRequest("GET", "/admin", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Println(rec.Code)
	}
	// Output:
	// 200
	// 401
	// 401
	// 429
}
