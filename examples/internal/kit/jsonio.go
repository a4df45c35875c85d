package kit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// MaxBody is the largest request body the servers read (1 MiB).
const MaxBody = 1 << 20

// BodyError is a request body the server refuses, with the HTTP status
// that fits (400, 413 or 415) and a message safe to show the client.
type BodyError struct {
	Status  int
	Message string
}

func (e *BodyError) Error() string { return e.Message }

// errMediaType refuses a body that is not declared as JSON.
var errMediaType = &BodyError{http.StatusUnsupportedMediaType, "Content-Type must be application/json"}

// DecodeJSON decodes the request body into dst strictly: at most MaxBody
// bytes (413 beyond), Content-Type application/json (415 for another type,
// and for a body sent without one: a body is never parsed as JSON on a
// guess), no unknown fields, exactly one JSON value, right types (400
// otherwise). An empty body decodes as {} when allowEmpty is set, with or
// without a Content-Type.
func DecodeJSON(w http.ResponseWriter, r *http.Request, dst any, allowEmpty bool) error {
	ct := r.Header.Get("Content-Type")
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errMediaType
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &BodyError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", MaxBody)}
		}
		return &BodyError{http.StatusBadRequest, "could not read the request body"}
	}
	if len(body) == 0 {
		if allowEmpty {
			return nil
		}
		return &BodyError{http.StatusBadRequest, "request body is required"}
	}
	if ct == "" {
		return errMediaType
	}
	return decodeStrict(body, dst)
}

func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return &BodyError{http.StatusBadRequest, "malformed JSON"}
		case errors.As(err, &te):
			return &BodyError{http.StatusBadRequest, fmt.Sprintf("field %q has the wrong type", te.Field)}
		default:
			// Unknown fields and other decoder complaints: the message names
			// the field and holds nothing secret.
			return &BodyError{http.StatusBadRequest, "invalid JSON: " + err.Error()}
		}
	}
	// Not dec.More: it reports false before a stray '}' or ']' ("{}}").
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &BodyError{http.StatusBadRequest, "request body must hold exactly one JSON value"}
	}
	return nil
}

// WriteEncodedJSON writes body, already encoded JSON, with status and the
// headers of WriteJSON.
func WriteEncodedJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
