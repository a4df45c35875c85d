package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/apikit/apikey/examples/internal/kit"
)

// bareEnv, when set to the path of a JSON file of response bodies by URL
// path, makes this program serve them as the bare handler instead of
// running the load test.
const bareEnv = "APIKEY_LOADTEST_BARE_BODY"

// serveBare serves the bodies in file bodiesPath (a JSON object: URL path
// to body) on GET, with the headers the example servers' JSON answers
// carry, on 127.0.0.1 (a free port), behind the same http.Server settings
// as the example servers (kit.Serve) until SIGTERM. It logs
// "listening addr=..." like them.
func serveBare(bodiesPath string) error {
	raw, err := os.ReadFile(bodiesPath)
	if err != nil {
		return err
	}
	var bodies map[string][]byte
	if err := json.Unmarshal(raw, &bodies); err != nil {
		return fmt.Errorf("%s: %w", bodiesPath, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	return kit.Serve("127.0.0.1:0", bareHandler(bodies), log)
}

// writeBodies writes the bodies file serveBare reads.
func writeBodies(path string, bodies map[string][]byte) error {
	b, err := json.Marshal(bodies)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// bareHandler answers GET of a path in bodies with its body as JSON, 404
// for another path and 405 for another method; it does no authentication.
// Like the example servers' answers, the body is written in one piece and
// net/http adds its Content-Length.
func bareHandler(bodies map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, fmt.Sprintf("method %s not allowed", r.Method), http.StatusMethodNotAllowed)
			return
		}
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}
