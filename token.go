package apikey

import (
	"crypto/rand"
	"hash/crc32"
	"io"
	"regexp"
	"strings"

	"github.com/apikit/apikey/internal/bearer"
)

// Token layout. A token is <prefix>_<env>_<body>, where body is
//
//	selector (17 base62 chars: 12 random bytes, the non-secret lookup value)
//	secret   (43 base62 chars: 32 random bytes)
//	checksum ( 6 base62 chars: CRC-32/IEEE of everything before it)
//
// The selector lets a verify find the record with one store read whatever
// the number of registered hash versions (the "split token" pattern: look up
// by a non-secret value, then compare a keyed hash in constant time). The
// checksum lets a typo or a random string be refused without touching the
// store, and lets secret scanners validate a match offline.
const (
	selectorBytes = 12
	secretBytes   = 32
	selectorLen   = 17 // ceil(96 / log2(62))
	secretLen     = 43 // ceil(256 / log2(62))
	checksumLen   = 6  // 62^6 > 2^32
	bodyLen       = selectorLen + secretLen + checksumLen

	// displayBodyLen is how many body characters a display prefix shows.
	displayBodyLen = 4
	// maxTokenLen bounds what a parser will look at at all.
	maxTokenLen = bearer.MaxTokenLen
	// maxNameLen bounds the prefix and environment names.
	maxNameLen = 16
)

// TokenPattern matches anything shaped like a token of this library, whatever
// its prefix and environment. Redact uses it; a Manager's TokenRegexp is the
// stricter pattern for one prefix and its environments. A match is only a
// candidate: ValidChecksum tells a real token from a look-alike offline.
//
// # For secret-scanning services
//
// A token is
//
//	<prefix>_<env>_<selector:17><secret:43><checksum:6>
//
// prefix and env are 1 to 16 ASCII letters or digits; the 66-character body
// uses the base62 alphabet "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
// (digit values 0-61 in that order); the whole token is at most 256 bytes.
// For one issuer, match <prefix>_(?:live|test)_[0-9A-Za-z]{66} (with its
// environments) with no boundary before it (a \b there misses a token glued
// to an identifier, "API_KEY_pgk_live_...") and a non-alphanumeric character
// or the end after it, or this pattern for any issuer (see
// Manager.TokenRegexp). To validate a match offline:
//
//  1. take everything before the last 6 characters, prefix and underscores
//     included ("pgk_live_" + the first 60 body characters);
//  2. compute its CRC-32/IEEE (the zlib/PNG CRC: polynomial 0xEDB88320
//     reflected, initial value and final XOR 0xFFFFFFFF);
//  3. encode that 32-bit value in base62, most significant digit first,
//     left-padded with '0' to exactly 6 characters;
//  4. the match is a token only if this equals its last 6 characters.
//
// A random string passes with probability 2^-32. Test vector: for
// "pgk_live_" followed by sixty '0' characters the CRC-32 is 0x463F493D
// (1178552637) and the checksum is "1Hl5NV". The first four body characters
// are not secret: with the prefix and environment they form the display
// prefix ("pgk_live_abc1"), the only part a scanner should report.
var TokenPattern = regexp.MustCompile(`[0-9A-Za-z]+_[0-9A-Za-z]+_[0-9A-Za-z]{66}`)

// checksum is the CRC-32 (IEEE) of s, computed without copying s.
func checksum(s string) uint32 { return crc32.ChecksumIEEE(viewBytes(s)) }

// ValidChecksum reports whether s has the shape of a token of this library
// and its last six characters are the base62 CRC-32 of everything before
// them. It needs no key material, so secret scanners can run it offline.
func ValidChecksum(s string) bool {
	_, _, _, ok := splitToken(s)
	return ok
}

// splitToken checks the shape and checksum of s and returns its parts. It
// does not allocate.
func splitToken(s string) (prefix, env, selector string, ok bool) {
	if len(s) > maxTokenLen || len(s) < bodyLen+4 {
		return "", "", "", false
	}
	i := strings.IndexByte(s, '_')
	if i <= 0 || i > maxNameLen {
		return "", "", "", false
	}
	j := strings.IndexByte(s[i+1:], '_')
	if j <= 0 || j > maxNameLen {
		return "", "", "", false
	}
	j += i + 1
	prefix, env, body := s[:i], s[i+1:j], s[j+1:]
	if len(body) != bodyLen || !isAlnum(prefix) || !isAlnum(env) || !isBase62(body) {
		return "", "", "", false
	}
	sum, ok := decodeUint32(body[bodyLen-checksumLen:])
	if !ok || sum != checksum(s[:len(s)-checksumLen]) {
		return "", "", "", false
	}
	return prefix, env, body[:selectorLen], true
}

// isAlnum reports whether s is non-empty ASCII letters and digits.
func isAlnum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// newToken draws a fresh token for prefix and env from crypto/rand (or
// from src, when not nil: WithTestEntropy) and returns it with its selector.
func newToken(prefix, env string, src io.Reader) (token, selector string, err error) {
	var raw [selectorBytes + secretBytes]byte
	if src != nil {
		_, err = io.ReadFull(src, raw[:])
	} else {
		_, err = rand.Read(raw[:])
	}
	if err != nil {
		return "", "", err
	}
	b := make([]byte, 0, len(prefix)+len(env)+2+bodyLen)
	b = append(b, prefix...)
	b = append(b, '_')
	b = append(b, env...)
	b = append(b, '_')
	start := len(b)
	b = encodeBase62(b, raw[:selectorBytes], selectorLen)
	b = encodeBase62(b, raw[selectorBytes:], secretLen)
	b = encodeUint32(b, crc32.ChecksumIEEE(b))
	clear(raw[:])
	return string(b), string(b[start : start+selectorLen]), nil
}

// DisplayPrefix returns the part of a token that is safe to show in UIs and
// logs: its prefix, environment and first four body characters, such as
// "pgk_live_abc1". For a string that is not token-shaped it returns "".
func DisplayPrefix(token string) string {
	loc := TokenPattern.FindStringIndex(token)
	if loc == nil || loc[0] != 0 || loc[1] != len(token) {
		return ""
	}
	return displayOf(token)
}

// displayOf returns the display prefix of a token-shaped string.
func displayOf(token string) string {
	j := strings.LastIndexByte(token[:len(token)-bodyLen], '_')
	return token[:j+1+displayBodyLen]
}

// redactPattern is TokenPattern with the prefix optional: a token glued to
// text that itself ends like a token ("a_b_" and 63 characters, then
// "pgk_live_...") loses its prefix to the first match, and its "_live_<body>"
// rest must still be masked.
var redactPattern = regexp.MustCompile(`[0-9A-Za-z]*_[0-9A-Za-z]+_[0-9A-Za-z]{66}`)

// Redact returns s with every token-shaped substring masked down to its
// display prefix followed by "****". Use it on anything bound for a log.
func Redact(s string) string {
	return redactPattern.ReplaceAllStringFunc(s, func(t string) string {
		return displayOf(t) + "****"
	})
}
