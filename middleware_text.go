package apikey

import "strings"

// isTchar reports whether c may appear in an HTTP token (RFC 9110 5.6.2).
func isTchar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isHeaderName reports whether s is an HTTP token.
func isHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return s != ""
}

// printableASCII reports whether s is printable ASCII (space included).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseBearer parses an Authorization value. bearer is false (and err nil)
// when the scheme is not Bearer. It looks at no more than the scheme before
// deciding, and at no more than 256 token bytes after.
func parseBearer(v string) (token string, bearer bool, err error) {
	const scheme = "Bearer"
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false, nil
	}
	if len(v) > len(scheme) && isTchar(v[len(scheme)]) {
		return "", false, nil // a longer scheme name, such as "Bearerish"
	}
	rest := v[len(scheme):]
	if rest == "" || rest == " " {
		return "", true, errEmptyToken
	}
	if rest[0] != ' ' {
		return "", true, errTokenChars
	}
	return rest[1:], true, nil // the caller checks the token's syntax
}

// syntaxCheck checks a presented token against RFC 6750's b64token syntax
// (1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=") and the
// token length bound, rejecting oversize values before scanning them.
func syntaxCheck(t string) error {
	switch {
	case t == "":
		return errEmptyToken
	case len(t) > maxTokenLen:
		return errLongToken
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
		return errTokenChars
	}
	for ; i < len(t); i++ {
		if t[i] != '=' {
			return errTokenChars
		}
	}
	return nil
}
