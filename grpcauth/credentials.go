package grpcauth

import (
	"context"
	"fmt"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/internal/bearer"
	"google.golang.org/grpc/metadata"
)

// maxTokenLen bounds a presented token, as the HTTP middleware does.
const maxTokenLen = bearer.MaxTokenLen

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

// parseBearer parses an authorization value by the HTTP middleware's
// rules (package internal/bearer): bearer is false (and err nil) when the
// scheme is not Bearer; the token is checked.
func parseBearer(v string) (token string, isBearer bool, err error) {
	t, isBearer, p := bearer.Parse(v)
	if p == bearer.OK && isBearer {
		p = bearer.Check(t)
	}
	if err := problemErr(p); err != nil {
		return "", isBearer, err
	}
	return t, isBearer, nil
}

// checkToken checks RFC 6750's b64token syntax and the length bound.
func checkToken(t string) error { return problemErr(bearer.Check(t)) }

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
