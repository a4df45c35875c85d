package apikey

import (
	"fmt"
	"log/slog"
)

// Secret holds a plaintext credential (a token, or a webhook signing secret)
// at the one moment the library hands it out. Every way of printing it
// (fmt verbs, String, GoString, JSON, text, slog) shows "[redacted]"; only
// Reveal returns the plaintext, so it can reach a response body exactly
// where the caller writes it on purpose.
type Secret struct{ s string }

// NewSecret wraps a plaintext value. Applications rarely need it; it exists
// for stores and tests that handle secrets on the library's behalf.
func NewSecret(plaintext string) Secret { return Secret{plaintext} }

const redacted = "[redacted]"

// Reveal returns the plaintext. Call it only to hand the value to its owner.
func (s Secret) Reveal() string { return s.s }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.s == "" }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns a redacted Go representation, so %#v does not leak.
func (s Secret) GoString() string { return "apikey.Secret{" + redacted + "}" }

// Format implements fmt.Formatter: every verb prints "[redacted]".
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// MarshalJSON encodes the secret as the string "[redacted]". To put the
// plaintext in a response, encode Reveal() instead.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText encodes the secret as "[redacted]".
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
