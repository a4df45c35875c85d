package main

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"

	"github.com/apikit/apikey"
)

// maxDecodeDepth bounds how many encodings (base64, JSON \u escapes) are
// peeled off one inside another, as gitleaks' --max-decode-depth does:
// each level costs at most one more pass over a shorter text, so the work
// per line stays a small multiple of its length.
const maxDecodeDepth = 3

// minBase64Run is the shortest base64 run that can hold a token: the
// shortest token ("a_b_" and 66 body characters, 70 bytes) takes 94
// characters; a run starting mid-group loses up to 2 more.
const minBase64Run = 92

// base64Run matches a run of the standard or URL base64 alphabet, with
// optional padding.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{` + strconv.Itoa(minBase64Run) + `,}={0,2}`)

// unicodeEscape matches a JSON \u escape of an ASCII character.
var unicodeEscape = regexp.MustCompile(`\\u00[0-7][0-9A-Fa-f]`)

// findTokens returns the valid tokens in line: those in the text itself,
// then those behind JSON \u escapes and inside base64 runs, decoded up to
// maxDecodeDepth levels deep. A token is reported once per place it
// appears.
func findTokens(line string) []string { return findDecoded(line, 0) }

func findDecoded(text string, depth int) []string {
	toks := findPlain(text)
	if depth >= maxDecodeDepth {
		return toks
	}
	if strings.Contains(text, `\u`) {
		un := unicodeEscape.ReplaceAllStringFunc(text, func(esc string) string {
			n, _ := strconv.ParseUint(esc[2:], 16, 8)
			return string(rune(n))
		})
		if un != text {
			// Only what the unescaping revealed: tokens that were already
			// plain are not reported twice.
			toks = append(toks, subtract(findDecoded(un, depth+1), findPlain(text))...)
		}
	}
	for _, run := range base64Run.FindAllString(text, -1) {
		if b, ok := decodeBase64(run); ok {
			toks = append(toks, findDecoded(string(b), depth+1)...)
		}
	}
	return toks
}

// decodeBase64 decodes a run in whichever alphabet it uses, padded or not;
// ok is false for a run that mixes alphabets or does not decode.
func decodeBase64(run string) ([]byte, bool) {
	run = strings.TrimRight(run, "=")
	std, url := strings.ContainsAny(run, "+/"), strings.ContainsAny(run, "-_")
	if std && url {
		return nil, false
	}
	if len(run)%4 == 1 {
		run = run[:len(run)-1]
	}
	enc := base64.RawStdEncoding
	if url {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(run)
	return b, err == nil
}

// subtract returns a without one occurrence of each element of b.
func subtract(a, b []string) []string {
	out := a[:0:0]
	for _, s := range a {
		if i := indexOf(b, s); i >= 0 {
			b = append(b[:i:i], b[i+1:]...)
			continue
		}
		out = append(out, s)
	}
	return out
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// findPlain returns the valid tokens written out in text. A candidate
// glued to the text before it ("key=xpgk_live_...") fails its checksum as
// a whole, so the start of its prefix is trimmed one character at a time
// until the checksum holds or the prefix is used up. A candidate that
// never validates may have swallowed the prefix of a real token behind it
// ("a_b_" and 63 characters, then "pgk_live_..."), so the search goes on
// one character after its start rather than after its end.
func findPlain(line string) []string {
	var toks []string
	for off := 0; off < len(line); {
		loc := apikey.TokenPattern.FindStringIndex(line[off:])
		if loc == nil {
			break
		}
		c := line[off+loc[0] : off+loc[1]]
		found := false
		for i := 0; i < strings.IndexByte(c, '_'); i++ {
			if apikey.ValidChecksum(c[i:]) {
				toks = append(toks, c[i:])
				found = true
				break
			}
		}
		if found {
			off += loc[1]
		} else {
			off += loc[0] + 1
		}
	}
	return toks
}
