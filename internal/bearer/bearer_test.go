package bearer

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in       string
		token    string
		isBearer bool
		p        Problem
	}{
		{"Bearer abc", "abc", true, OK},
		{"bearer abc", "abc", true, OK},
		{"BEARER abc", "abc", true, OK},
		{"Basic abc", "", false, OK},
		{"Bearerish abc", "", false, OK},
		{"Bear", "", false, OK},
		{"Bearer", "", true, Empty},
		{"Bearer ", "", true, Empty},
		{"Bearer\tabc", "", true, BadChars},
		{"Bearer  abc", " abc", true, OK}, // Check refuses the leading space
	}
	for _, tc := range tests {
		tok, isBearer, p := Parse(tc.in)
		if tok != tc.token || isBearer != tc.isBearer || p != tc.p {
			t.Errorf("Parse(%q) = %q, %v, %v; want %q, %v, %v", tc.in, tok, isBearer, p, tc.token, tc.isBearer, tc.p)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		in string
		p  Problem
	}{
		{"abc", OK},
		{"a-._~+/9Z", OK},
		{"abc==", OK},
		{"", Empty},
		{"=abc", BadChars},
		{"ab=c", BadChars},
		{" abc", BadChars},
		{"ab c", BadChars},
		{"abcé", BadChars},
		{strings.Repeat("a", MaxTokenLen), OK},
		{strings.Repeat("a", MaxTokenLen+1), TooLong},
		{strings.Repeat(" ", MaxTokenLen+1), TooLong}, // refused before any scan
	}
	for _, tc := range tests {
		if p := Check(tc.in); p != tc.p {
			t.Errorf("Check(%q) = %v, want %v", tc.in, p, tc.p)
		}
	}
}
