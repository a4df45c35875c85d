package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
	"github.com/apikit/apikey/secretscan"
)

// expiringPage is the answer of GET /v1/api-keys/expiring.
type expiringPage struct {
	Keys       []keyRecord `json:"keys"`
	NextCursor *string     `json:"next_cursor"`
}

// listExpiring handles GET /v1/api-keys/expiring?project_id=p1
// [&within_days=7][&limit=100][&cursor=...]: the project's working keys
// that expire within the given number of days (default 7, at most 3650),
// soonest first, a page at a time.
func (a *app) listExpiring(w http.ResponseWriter, r *http.Request) {
	p, _ := principalFrom(r.Context())
	q := r.URL.Query()
	pid := q.Get("project_id")
	if pid == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "project_id query parameter is required")
		return
	}
	if err := checkProjectID(pid); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	days, limit := 7, 100
	for _, f := range []struct {
		name     string
		dst      *int
		min, max int
	}{{"within_days", &days, 1, 3650}, {"limit", &limit, 1, 1000}} {
		if v := q.Get(f.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < f.min || n > f.max {
				writeError(w, http.StatusBadRequest, codeBadRequest, f.name+" must be an integer from "+strconv.Itoa(f.min)+" to "+strconv.Itoa(f.max))
				return
			}
			*f.dst = n
		}
	}
	if !p.canSeeProject(pid) {
		notFoundProject(w)
		return
	}
	page, err := a.m.ListExpiring(r.Context(), pid, a.m.Now().Add(time.Duration(days)*24*time.Hour), q.Get("cursor"), limit)
	if err != nil {
		writeLibError(w, a.log, err)
		return
	}
	out := expiringPage{Keys: make([]keyRecord, 0, len(page.Keys))}
	for _, k := range page.Keys {
		out.Keys = append(out.Keys, recordOf(k))
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	kit.WriteJSON(w, http.StatusOK, out)
}

// secretScanHandler builds the secret scanning endpoint of
// -secret-scanning-keys, or returns nil without it.
func secretScanHandler(cfg config, m *apikey.Manager, log *slog.Logger) (http.Handler, error) {
	if cfg.SecretScanKeys == "" {
		return nil, nil
	}
	data, err := os.ReadFile(cfg.SecretScanKeys)
	if err != nil {
		return nil, fmt.Errorf("-secret-scanning-keys: %w", err)
	}
	keys, err := secretscan.ParseGitHubKeys(data)
	if err != nil {
		return nil, fmt.Errorf("-secret-scanning-keys: %w", err)
	}
	policy := secretscan.Revoke
	if cfg.SecretScanFlag {
		policy = secretscan.Flag
	}
	return secretscan.New(secretscan.Config{Manager: m, Keys: keys, Policy: policy, Logger: log})
}
