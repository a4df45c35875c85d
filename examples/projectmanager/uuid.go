package main

import (
	"encoding/hex"

	"github.com/oklog/ulid/v2"
)

// The library's key IDs are ULIDs (16 bytes); ProjectManager's API shows
// IDs as UUIDs. The same 16 bytes are written in UUID form
// (8-4-4-4-12 hex digits) and parsed back, so no mapping is stored.

// uuidOf returns the UUID form of the ULID id, or "" if id is not a ULID.
func uuidOf(id string) string {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return ""
	}
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// ulidOfUUID parses s, a UUID in its 36-character hyphenated form (hex
// digits of either case), and returns the ULID with the same bytes.
func ulidOfUUID(s string) (string, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return "", false
	}
	var u ulid.ULID
	for _, g := range [...]struct{ from, to, at int }{{0, 8, 0}, {9, 13, 4}, {14, 18, 6}, {19, 23, 8}, {24, 36, 10}} {
		if _, err := hex.Decode(u[g.at:], []byte(s[g.from:g.to])); err != nil {
			return "", false
		}
	}
	return u.String(), true
}
