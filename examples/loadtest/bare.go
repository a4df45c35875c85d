package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/apikit/apikey/examples/internal/kit"
)

// bareEnv, when set to the path of a response body, makes this program
// serve that body as the bare handler instead of running the load test.
const bareEnv = "APIKEY_LOADTEST_BARE_BODY"

// serveBare serves the body in file bodyPath on every GET, with the headers
// plangrep's JSON answers carry, on 127.0.0.1 (a free port), behind the
// same http.Server settings as the example servers (kit.Serve) until
// SIGTERM. It logs "listening addr=..." like them.
func serveBare(bodyPath string) error {
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return kit.Serve("127.0.0.1:0", bareHandler(body), log)
}

// bareHandler answers GET with body as JSON and 405 otherwise; it does no
// authentication. Like plangrep's answers, the body is written in one
// piece and net/http adds its Content-Length.
func bareHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, fmt.Sprintf("method %s not allowed", r.Method), http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}
