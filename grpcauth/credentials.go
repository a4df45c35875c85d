package grpcauth

import (
	"context"
	"fmt"
	"strings"

	"github.com/apikit/apikey"
	"google.golang.org/grpc/metadata"
)

// maxTokenLen bounds a presented token, as the HTTP middleware does.
const maxTokenLen = 256

// Errors for credentials that are present but cannot be a token. They wrap
// apikey.ErrMalformed and are answered like any bad token.
var (
	errEmptyToken    = fmt.Errorf("%w: empty token", apikey.ErrMalformed)
	errLongToken     = fmt.Errorf("%w: token longer than %d bytes", apikey.ErrMalformed, maxTokenLen)
	errTokenChars    = fmt.Errorf("%w: token has characters outside the b64token set (spaces, two tokens, non-ASCII)", apikey.ErrMalformed)
	errManyValues    = fmt.Errorf("%w: credential metadata repeated", apikey.ErrMalformed)
	errManyLocations = fmt.Errorf("%w: credentials sent in more than one place", apikey.ErrMalformed)
)

// credentials returns the token of the call's metadata, with the HTTP
// middleware's rules (apikey.Authenticator.Credentials): "authorization"
// with the Bearer scheme (case-insensitive, one space, one b64token of at
// most 256 bytes), then the WithMetadataKey key with a bare token; a value
// repeated or credentials in both places wrap apikey.ErrMalformed; another
// scheme counts as no credentials (apikey.ErrNoCredentials).
func (a *Authenticator) credentials(ctx context.Context) (string, error) {
	var tok string
	found := false
	// ValueFromIncomingContext copies one key's values, not the whole
	// metadata as FromIncomingContext does.
	if vs := metadata.ValueFromIncomingContext(ctx, "authorization"); vs != nil {
		if len(vs) != 1 {
			return "", errManyValues
		}
		t, bearer, err := parseBearer(vs[0])
		if err != nil {
			return "", err
		}
		tok, found = t, bearer
	}
	if a.mdKey != "" {
		if vs := metadata.ValueFromIncomingContext(ctx, a.mdKey); vs != nil {
			switch {
			case found:
				return "", errManyLocations
			case len(vs) != 1:
				return "", errManyValues
			}
			if err := checkToken(vs[0]); err != nil {
				return "", err
			}
			tok, found = vs[0], true
		}
	}
	if !found {
		return "", apikey.ErrNoCredentials
	}
	return tok, nil
}

// parseBearer parses an authorization value. bearer is false (and err nil)
// when the scheme is not Bearer.
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
	if err := checkToken(rest[1:]); err != nil {
		return "", true, err
	}
	return rest[1:], true, nil
}

// checkToken checks RFC 6750's b64token syntax and the length bound.
func checkToken(t string) error {
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

// isTchar reports whether c may appear in an HTTP token (RFC 9110 5.6.2).
func isTchar(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
