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

// jsonMux serves requests with mux, except that an unknown path (404) or
// a wrong method (405, with an Allow header) is answered in the JSON error
// shape instead of the mux's plain text. It registers a catch-all pattern
// so that a request is routed once: the methods a path allows are worked
// out only when a request missed every route.
func jsonMux(mux *http.ServeMux) http.Handler {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method "+r.Method+" is not allowed on this path")
			return
		}
		writeError(w, http.StatusNotFound, codeNotFound, "no such endpoint")
	})
	return mux
}

// probeMethods are the methods allowedMethods tries, in the order of the
// Allow header.
var probeMethods = []string{http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPost, http.MethodPut}

// allowedMethods returns the methods for which mux has a route (other than
// the catch-all) matching r's path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	probe := r.Clone(r.Context())
	for _, m := range probeMethods {
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}
