package apikey

import "github.com/apikit/apikey/internal/bearer"

// isHeaderName reports whether s is an HTTP token.
func isHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		if !bearer.IsTchar(s[i]) {
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

// parseBearer parses an Authorization value (bearer.Parse with this
// package's errors). The token is checked by the caller.
func parseBearer(v string) (token string, isBearer bool, err error) {
	t, isBearer, p := bearer.Parse(v)
	return t, isBearer, problemErr(p)
}

// syntaxCheck checks a presented token's b64token syntax and length
// (bearer.Check with this package's errors).
func syntaxCheck(t string) error { return problemErr(bearer.Check(t)) }

// problemErr maps a bearer.Problem to its error (nil for bearer.OK).
func problemErr(p bearer.Problem) error {
	switch p {
	case bearer.Empty:
		return errEmptyToken
	case bearer.TooLong:
		return errLongToken
	case bearer.BadChars:
		return errTokenChars
	}
	return nil
}
