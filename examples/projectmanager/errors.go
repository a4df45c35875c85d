package main

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/examples/internal/kit"
)

// envelope is ProjectManager's answer shape, for successes and errors
// alike.
type envelope struct {
	Data       any       `json:"data"`
	Error      *apiError `json:"error"`
	Success    bool      `json:"success"`
	HasError   bool      `json:"hasError"`
	StatusCode string    `json:"statusCode"`
}

// apiError is the error part of the envelope. TechnicalError is a short
// machine-readable code (never internal text: no store error, no token);
// Message is for people; ValidationErrors maps a field to what is wrong
// with it.
type apiError struct {
	TechnicalError   string            `json:"technicalError"`
	AdditionalErrors []string          `json:"additionalErrors"`
	ValidationErrors map[string]string `json:"validationErrors"`
	Message          string            `json:"message"`
}

// statusName returns the PascalCase name of an HTTP status, as the
// envelope's statusCode: "Request Entity Too Large" -> "RequestEntityTooLarge".
func statusName(status int) string {
	text := http.StatusText(status)
	if text == "" {
		return "Unknown"
	}
	var b strings.Builder
	upper := true
	for _, r := range text {
		switch {
		case r == ' ' || r == '-':
			upper = true
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if upper {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			upper = false
		}
	}
	return b.String()
}

// writeData answers status with data.
func writeData(w http.ResponseWriter, status int, data any) {
	kit.WriteJSON(w, status, envelope{Data: data, Success: true, StatusCode: statusName(status)})
}

// writeError answers status with an error envelope. validation may be nil.
func writeError(w http.ResponseWriter, status int, code, message string, validation map[string]string) {
	if validation == nil {
		validation = map[string]string{}
	}
	kit.WriteJSON(w, status, envelope{
		Error: &apiError{
			TechnicalError:   code,
			AdditionalErrors: []string{},
			ValidationErrors: validation,
			Message:          message,
		},
		HasError:   true,
		StatusCode: statusName(status),
	})
}

// Technical error codes.
const (
	codeInvalidRequest   = "invalid_request"
	codeValidation       = "validation_failed"
	codeUnauthorized     = "unauthorized"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeRedirect         = "redirect"
	codeTooLarge         = "request_too_large"
	codeMediaType        = "unsupported_media_type"
	codeUnavailable      = "service_unavailable"
	codeTooManyRequests  = "too_many_requests"
	codeConflict         = "conflict"
	codeInternal         = "internal_error"
)

// writeValidation answers 400 naming the invalid fields.
func writeValidation(w http.ResponseWriter, fields map[string]string) {
	writeError(w, http.StatusBadRequest, codeValidation, "One or more validation errors occurred.", fields)
}

// writeBodyError answers a request body refused by kit.DecodeJSON.
func writeBodyError(w http.ResponseWriter, err error) {
	var be *kit.BodyError
	if !errors.As(err, &be) {
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "invalid request body", nil)
		return
	}
	code := codeInvalidRequest
	switch be.Status {
	case http.StatusRequestEntityTooLarge:
		code = codeTooLarge
	case http.StatusUnsupportedMediaType:
		code = codeMediaType
	}
	writeError(w, be.Status, code, be.Message, nil)
}

// authError renders the authenticator's refusals in the envelope, with the
// status and WWW-Authenticate challenge of apikey.Challenge. The message
// never says why a key was refused (unknown, revoked, expired...): the
// manager's logger has the reason.
func authError(w http.ResponseWriter, _ *http.Request, err error) {
	status, challenge := apikey.Challenge(err, realm)
	if challenge != "" {
		w.Header().Set("WWW-Authenticate", challenge)
	}
	switch {
	case status == http.StatusServiceUnavailable:
		writeError(w, status, codeUnavailable, "authentication is temporarily unavailable", nil)
	case status == http.StatusTooManyRequests:
		apikey.SetRetryAfter(w.Header(), err)
		writeError(w, status, codeTooManyRequests, "too many failed attempts; retry later", nil)
	case errors.Is(err, apikey.ErrNoCredentials):
		writeError(w, status, codeUnauthorized, "authentication required: send Authorization: Bearer <API key>", nil)
	default:
		writeError(w, status, codeUnauthorized, "invalid API key", nil)
	}
}

// managerError answers an error of a Manager call: not found is 404, a
// store failure 503; the error text itself goes only to the log.
func managerError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if le, ok := errors.AsType[*kit.KeyLimitError](err); ok {
		writeError(w, http.StatusConflict, codeConflict, le.Error(), nil)
		return
	}
	switch {
	case errors.Is(err, apikey.ErrNotFound):
		writeError(w, http.StatusNotFound, codeNotFound, "API key not found", nil)
	case errors.Is(err, apikey.ErrInvalid):
		writeError(w, http.StatusBadRequest, codeInvalidRequest, "invalid request", nil)
	case errors.Is(err, apikey.ErrStoreUnavailable):
		log.LogAttrs(r.Context(), slog.LevelError, "store unavailable", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, http.StatusServiceUnavailable, codeUnavailable, "the service is temporarily unavailable", nil)
	default:
		log.LogAttrs(r.Context(), slog.LevelError, "unexpected error", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		writeError(w, http.StatusInternalServerError, codeInternal, "internal error", nil)
	}
}
