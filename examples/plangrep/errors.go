package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// The "code" values of the error body {"error":{"code","message"}}.
const (
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeInvalidRequest   = "invalid_request"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "payload_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeUnavailable      = "unavailable"
	codeConflict         = "conflict"
	codeInternal         = "internal_error"
)

// errorBody is the error shape of every answer of this server.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError writes {"error":{"code","message"}} with status.
func writeError(w http.ResponseWriter, status int, code, message string) {
	kit.WriteJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

// writeBodyError answers a request body that kit.DecodeJSON refused.
func writeBodyError(w http.ResponseWriter, err error) {
	be, ok := errors.AsType[*kit.BodyError](err)
	if !ok {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "invalid request body")
		return
	}
	code := codeInvalidRequest
	switch be.Status {
	case http.StatusRequestEntityTooLarge:
		code = codeTooLarge
	case http.StatusUnsupportedMediaType:
		code = codeUnsupportedMedia
	}
	writeError(w, be.Status, code, be.Message)
}

// writeLibError answers an error of a Manager call: invalid arguments are
// the client's (400, with the library's message, which never holds a
// secret), a missing key is 404, a store failure is 503, anything else is
// logged and answered 500.
func (a *app) writeLibError(w http.ResponseWriter, r *http.Request, err error) {
	if le, ok := errors.AsType[*kit.KeyLimitError](err); ok {
		writeError(w, http.StatusConflict, codeConflict, le.Error())
		return
	}
	switch {
	case errors.Is(err, apikey.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), apikey.ErrInvalid.Error()+": ")
		writeError(w, http.StatusBadRequest, codeInvalidRequest, msg)
	case errors.Is(err, apikey.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, "no such key")
	case errors.Is(err, apikey.ErrStoreUnavailable):
		a.log.LogAttrs(r.Context(), slogWarn, "store unavailable", errAttr(err))
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the key store is temporarily unavailable")
	default:
		a.log.LogAttrs(r.Context(), slogError, "request failed", errAttr(err))
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error")
	}
}

// jsonMux serves requests with mux, except that the mux's own answers for
// an unknown path (404) or a wrong method (405, with its Allow header) are
// given in the JSON error shape instead of plain text.
func jsonMux(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// ServeHTTP, not h: it also sets the request's path values.
			mux.ServeHTTP(w, r)
			return
		}
		rec := &headerRecorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		switch rec.status {
		case http.StatusMethodNotAllowed:
			if allow := rec.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method "+r.Method+" is not allowed on this path")
		default:
			writeError(w, http.StatusNotFound, codeNotFound, "no such endpoint")
		}
	})
}

// headerRecorder captures the status and headers of the mux's internal
// error handlers and discards their plain-text body.
type headerRecorder struct {
	header http.Header
	status int
}

// Header returns the recorded headers.
func (h *headerRecorder) Header() http.Header { return h.header }

// Write discards b, recording an implicit 200.
func (h *headerRecorder) Write(b []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return len(b), nil
}

// WriteHeader records the first status.
func (h *headerRecorder) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}
