package redislimit

import (
	"errors"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// ParseURL parses a Redis URL (redis://[user:password@]host:port/db, or
// rediss:// for TLS, with go-redis's query options) into client options
// fit for a Limiter: ContextTimeoutEnabled is on, so the limiter's timeout
// bounds each call. Errors never repeat the URL, which may hold a password.
func ParseURL(s string) (*redis.Options, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("redislimit: invalid Redis URL: not a URL (want redis://HOST:PORT/DB)")
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, errors.New("redislimit: invalid Redis URL: scheme must be redis:// or rediss:// (want redis://HOST:PORT/DB)")
	}
	if u.Host == "" {
		return nil, errors.New("redislimit: invalid Redis URL: no host (want redis://HOST:PORT/DB)")
	}
	opts, err := redis.ParseURL(s)
	if err != nil {
		// go-redis's messages name the part that is wrong (db, a query
		// option); they carry no password, but strip the URL to be sure.
		msg := strings.ReplaceAll(err.Error(), s, "URL")
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "****")
		}
		return nil, errors.New("redislimit: invalid Redis URL: " + msg)
	}
	opts.ContextTimeoutEnabled = true
	return opts, nil
}
