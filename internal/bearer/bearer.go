// Package bearer reads RFC 6750 bearer credentials by one set of rules for
// the HTTP middleware of package apikey and the gRPC interceptors of
// package grpcauth: the Authorization scheme, then exactly one space and a
// b64token of at most MaxTokenLen bytes. It reports problems as values;
// each caller turns them into its own errors.
package bearer

import "strings"

// MaxTokenLen bounds a presented token, in bytes: a longer value is
// refused before it is scanned.
const MaxTokenLen = 256

// Problem is what is wrong with a presented credential.
type Problem uint8

// The problems Parse and Check report.
const (
	OK       Problem = iota // well-formed
	Empty                   // no token after the scheme, or an empty value
	TooLong                 // longer than MaxTokenLen
	BadChars                // outside the b64token syntax (spaces, two tokens, non-ASCII...)
)

// Parse parses an Authorization value. isBearer is false (and the problem
// OK) when the scheme is not Bearer (case-insensitive), such as Basic or
// "Bearerish". It looks at no more than the scheme before deciding. The
// token it returns is the text after "Bearer ", not yet checked: pass it
// to Check (or to a stricter parser first).
func Parse(v string) (token string, isBearer bool, p Problem) {
	const scheme = "Bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false, OK
	}
	if len(v) > len(scheme) && IsTchar(v[len(scheme)]) {
		return "", false, OK // a longer scheme name, such as "Bearerish"
	}
	rest := v[len(scheme):]
	if rest == "" || rest == " " {
		return "", true, Empty
	}
	if rest[0] != ' ' {
		return "", true, BadChars
	}
	return rest[1:], true, OK
}

// Check checks a presented token against RFC 6750's b64token syntax
// (1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=") and the
// length bound, refusing an oversize value before scanning it.
func Check(t string) Problem {
	switch {
	case t == "":
		return Empty
	case len(t) > MaxTokenLen:
		return TooLong
	}
	i := 0
	for ; i < len(t); i++ {
		c := t[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return BadChars
	}
	for ; i < len(t); i++ {
		if t[i] != '=' {
			return BadChars
		}
	}
	return OK
}

// IsTchar reports whether c may appear in an HTTP token (RFC 9110 5.6.2).
func IsTchar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
