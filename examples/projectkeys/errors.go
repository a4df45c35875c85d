package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// Error codes of the {"error":{"code","message"}} body. The authentication
// codes ("unauthorized", "forbidden", "unavailable") are the library's
// defaults, written by apikey.WriteError.
const (
	codeBadRequest       = "bad_request"
	codeNotFound         = "not_found"
	codeConflict         = "conflict"
	codeForbidden        = "forbidden"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "payload_too_large"
	codeUnsupportedType  = "unsupported_media_type"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// realm is the WWW-Authenticate realm of every 401 and 403.
const realm = "projectkeys"

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes {"error":{"code":code,"message":msg}} with status.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	kit.WriteJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// writeAuthError answers a refused credential or a missing scope the
// library's way (RFC 6750 status, challenge and generic message).
func writeAuthError(w http.ResponseWriter, err error) {
	apikey.WriteError(w, err, realm, apikey.ErrorCodes{})
}

// writeBodyError answers a request body kit.DecodeJSON refused.
func writeBodyError(w http.ResponseWriter, err error) {
	var be *kit.BodyError
	if !errors.As(err, &be) {
		writeError(w, http.StatusBadRequest, codeBadRequest, "invalid request body")
		return
	}
	code := codeBadRequest
	switch be.Status {
	case http.StatusRequestEntityTooLarge:
		code = codeTooLarge
	case http.StatusUnsupportedMediaType:
		code = codeUnsupportedType
	}
	writeError(w, be.Status, code, be.Message)
}

// writeLibError answers an error of a Manager call. Messages come from
// the library's sentinels and hold no secret; unexpected errors are
// logged and answered 500 with a generic message.
func writeLibError(w http.ResponseWriter, log *slog.Logger, err error) {
	if le, ok := errors.AsType[*kit.KeyLimitError](err); ok {
		writeError(w, http.StatusConflict, codeConflict, le.Error())
		return
	}
	switch {
	case errors.Is(err, apikey.ErrInvalid):
		writeError(w, http.StatusBadRequest, codeBadRequest, libMessage(err, apikey.ErrInvalid))
	case errors.Is(err, apikey.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, "API key not found")
	case errors.Is(err, apikey.ErrConflict):
		writeError(w, http.StatusConflict, codeConflict, libMessage(err, apikey.ErrConflict))
	case errors.Is(err, apikey.ErrStoreUnavailable):
		log.Error("store unavailable", "error", err.Error())
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the key store is temporarily unavailable")
	default:
		log.Error("unexpected error", "error", err.Error())
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

// libMessage strips the sentinel's own text ("apikey: conflict: ") from a
// wrapped library error, leaving the detail.
func libMessage(err, sentinel error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, sentinel.Error()+": "); ok && rest != "" {
		return rest
	}
	return strings.TrimPrefix(msg, "apikey: ")
}

// jsonErrors wraps the mux so that its own 404 and 405 answers (plain
// text from http.Error) come out in the example's JSON error shape. Any
// answer a handler writes with Content-Type application/json passes
// through untouched.
func jsonErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&muxErrorWriter{ResponseWriter: w}, r)
	})
}

// muxErrorWriter replaces a plain-text 404 or 405 with the JSON shape and
// drops the plain-text body that follows.
type muxErrorWriter struct {
	http.ResponseWriter
	swallow bool
}

func (m *muxErrorWriter) WriteHeader(status int) {
	if (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) &&
		!strings.HasPrefix(m.Header().Get("Content-Type"), "application/json") {
		m.swallow = true
		m.Header().Del("X-Content-Type-Options")
		if status == http.StatusNotFound {
			writeError(m.ResponseWriter, status, codeNotFound, "no such route")
		} else {
			writeError(m.ResponseWriter, status, codeMethodNotAllowed, "method not allowed on this route")
		}
		return
	}
	m.ResponseWriter.WriteHeader(status)
}

func (m *muxErrorWriter) Write(b []byte) (int, error) {
	if m.swallow {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (m *muxErrorWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }
