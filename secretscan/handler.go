package secretscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/apikit/apikey"
)

// Policy says what the Handler does with a reported key.
type Policy int

const (
	// Revoke revokes the key at once (and flags it).
	Revoke Policy = iota
	// Flag only reports it: EventLeaked and OnLeak; someone decides.
	Flag
)

// Leak is one reported token that is one of our keys.
type Leak struct {
	// Key is the key as stored after the policy ran (revoked with Revoke).
	Key *apikey.Key
	// Type, URL and Source are what the scanner said: the token type it
	// matched, where it found the token, and what kind of place that is
	// (such as "content", "commit", "npm").
	Type, URL, Source string
}

// Config configures a Handler.
type Config struct {
	// Manager identifies and revokes keys. Required.
	Manager *apikey.Manager
	// Keys are the scanner's public keys by identifier (see
	// ParseGitHubKeys). Required.
	Keys PublicKeys
	// Policy is Revoke (the default) or Flag.
	Policy Policy
	// OnLeak, if set, is called for every reported token that is one of
	// our keys, after the policy ran, on the request's goroutine.
	OnLeak func(context.Context, Leak)
	// Logger receives one line per report (default: the manager's).
	Logger *slog.Logger
}

// Limits of one report.
const (
	maxBody   = 1 << 20
	maxTokens = 1000
)

// Handler is the http.Handler of a secret scanning partner endpoint.
type Handler struct {
	cfg Config
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Manager == nil:
		return nil, fmt.Errorf("%w: secretscan: nil manager", apikey.ErrInvalid)
	case len(cfg.Keys) == 0:
		return nil, fmt.Errorf("%w: secretscan: no public keys", apikey.ErrInvalid)
	case cfg.Policy != Revoke && cfg.Policy != Flag:
		return nil, fmt.Errorf("%w: secretscan: unknown policy %d", apikey.ErrInvalid, cfg.Policy)
	}
	for id, k := range cfg.Keys {
		if k == nil {
			return nil, fmt.Errorf("%w: secretscan: nil public key %q", apikey.ErrInvalid, id)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = cfg.Manager.Logger()
	}
	return &Handler{cfg: cfg}, nil
}

// report is one entry of the scanner's body.
type report struct {
	Token  string `json:"token"`
	Type   string `json:"type"`
	URL    string `json:"url"`
	Source string `json:"source"`
}

// answer is one entry of the response.
type answer struct {
	TokenHash string `json:"token_hash"`
	TokenType string `json:"token_type"`
	Label     string `json:"label"`
}

// ServeHTTP handles one report: 405 for a method other than POST, 413 for
// a body over 1 MiB, 401 for a missing, unknown or wrong signature, 400
// for a body that is not a JSON list of at most 1000 reports, 503 when the
// store cannot answer (the scanner retries), else 200 with the labels.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST only")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(w, http.StatusRequestEntityTooLarge, "too_large", "report over 1 MiB")
			return
		}
		fail(w, http.StatusBadRequest, "bad_request", "could not read the report")
		return
	}
	if !h.signed(r, body) {
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "secretscan: report with a bad signature refused",
			slog.String("key_identifier", truncate(r.Header.Get(KeyIDHeader), 80)))
		fail(w, http.StatusUnauthorized, "unauthorized", "bad signature")
		return
	}
	var reports []report
	if err := json.Unmarshal(body, &reports); err != nil || len(reports) > maxTokens {
		fail(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("the body must be a JSON list of at most %d reports", maxTokens))
		return
	}
	out := make([]answer, 0, len(reports))
	for _, rep := range reports {
		label, err := h.handle(r.Context(), rep)
		if err != nil {
			h.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "secretscan: store unavailable", slog.String("error", err.Error()))
			fail(w, http.StatusServiceUnavailable, "unavailable", "the key store is temporarily unavailable")
			return
		}
		sum := sha256.Sum256([]byte(rep.Token))
		out = append(out, answer{TokenHash: hex.EncodeToString(sum[:]), TokenType: rep.Type, Label: label})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// signed checks the ECDSA signature of body with the named public key.
func (h *Handler) signed(r *http.Request, body []byte) bool {
	pub := h.cfg.Keys[r.Header.Get(KeyIDHeader)]
	if pub == nil {
		return false
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.Header.Get(SignatureHeader)))
	if err != nil || len(sig) == 0 {
		return false
	}
	digest := sha256.Sum256(body)
	return ecdsa.VerifyASN1(pub, digest[:], sig)
}

// handle labels one reported token and applies the policy to our keys.
// Strings that are not well-formed tokens never reach the store. Only
// store failures are returned.
func (h *Handler) handle(ctx context.Context, rep report) (string, error) {
	m := h.cfg.Manager
	if !apikey.ValidChecksum(rep.Token) {
		return FalsePositive, nil
	}
	k, err := m.Identify(ctx, rep.Token)
	switch {
	case errors.Is(err, apikey.ErrMalformed), errors.Is(err, apikey.ErrNotFound):
		return FalsePositive, nil
	case err != nil:
		return "", err
	}
	where := truncate("secret_scanning:"+rep.Source, 128)
	stored, err := m.ReportLeak(ctx, k.Tenant, k.ID, where, h.cfg.Policy == Revoke)
	if errors.Is(err, apikey.ErrNotFound) { // deleted meanwhile
		return TruePositive, nil
	}
	if err != nil {
		return "", err
	}
	h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "secretscan: leaked key reported",
		slog.String("key_id", stored.ID), slog.String("prefix", stored.Prefix), slog.String("tenant", stored.Tenant),
		slog.String("type", truncate(rep.Type, 80)), slog.String("source", truncate(rep.Source, 80)),
		slog.String("url", truncate(rep.URL, 300)), slog.Bool("revoked", !stored.RevokedAt.IsZero()))
	if h.cfg.OnLeak != nil {
		h.cfg.OnLeak(ctx, Leak{Key: stored, Type: rep.Type, URL: rep.URL, Source: rep.Source})
	}
	return TruePositive, nil
}

// fail writes a JSON error.
func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// truncate cuts s to at most n bytes and replaces invalid UTF-8, for logs
// of scanner-controlled text.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
