package main

import (
	"encoding/base64"
	"strings"
	"testing"
)

// Tokens hidden behind an encoding are found: base64 (as in a Kubernetes
// Secret, standard or URL alphabet, padded or not), JSON \u escapes, and
// both nested up to maxDecodeDepth; deeper nesting is not decoded.
func TestFindTokensDecodes(t *testing.T) {
	tok := mintToken(t, "pgk")
	b64 := base64.StdEncoding.EncodeToString
	uesc := func(s string) string { return strings.ReplaceAll(s, "_", `\u005f`) }
	nest := func(s string, n int) string {
		for range n {
			s = b64([]byte("API_KEY=" + s + "\n"))
		}
		return s
	}
	tests := []struct {
		name, line string
		want       int
	}{
		{"plain", "key: " + tok, 1},
		{"kubernetes secret", "  API_KEY: " + b64([]byte(tok)), 1},
		{"base64 of an env file", "data: " + b64([]byte("A=1\nAPI_KEY="+tok+"\nB=2\n")), 1},
		{"base64url unpadded", "x=" + base64.RawURLEncoding.EncodeToString([]byte("\xfb\xff"+tok+"\xfb")), 1},
		{"json unicode escapes", `{"key":"` + uesc(tok) + `"}`, 1},
		{"json upper-case escape", `{"key":"` + strings.ReplaceAll(tok, "_", `\u005F`) + `"}`, 1},
		{"escapes inside base64", "v: " + b64([]byte(`{"k":"`+uesc(tok)+`"}`)), 1},
		{"base64 twice", "v: " + nest(tok, 2), 1},
		{"beyond the depth bound", "v: " + nest(tok, maxDecodeDepth+1), 0},
		{"plain and encoded", tok + " " + b64([]byte(tok)), 2},
		{"look-alike base64", "v: " + b64([]byte(corrupt(tok))), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findTokens(tt.line)
			if len(got) != tt.want {
				t.Fatalf("found %d tokens, want %d", len(got), tt.want)
			}
			for _, g := range got {
				if g != tok {
					t.Fatal("found something other than the token")
				}
			}
		})
	}
}

// Decoding is bounded: a long line of base64-looking text costs a bounded
// amount of work and finds nothing.
func TestFindTokensBoundedOnNoise(t *testing.T) {
	line := strings.Repeat("QUFB", 1<<16) // "AAA..." in base64, 256 KiB
	if got := findTokens(line); len(got) != 0 {
		t.Fatalf("found %d tokens in noise", len(got))
	}
}
