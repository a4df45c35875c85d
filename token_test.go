package apikey_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apikit/apikey"
)

// tokenParts splits an issued "pgk_<env>_" token into its head
// ("pgk_live_"), selector (17), secret (43) and checksum (6).
func tokenParts(t *testing.T, tok string) (head, selector, secret, sum string) {
	t.Helper()
	body := tok[len(tok)-66:]
	if len(body) != 66 {
		t.Fatalf("token body is %d characters, want 66", len(body))
	}
	return tok[:len(tok)-66], body[:17], body[17:60], body[60:]
}

// flip replaces the character of s at i with another base62 character.
// flip replaces the character at i with another one (A, or B where it was
// A): the result always differs from s.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

// typo returns tok with its last character (the end of the checksum)
// changed: never tok itself, whatever that character is. Tests that need a
// token with a bad checksum use it rather than appending or substituting a
// fixed character, which is a no-op one time in 62.
func typo(tok string) string { return flip(tok, len(tok)-1) }

// Every mutation the tests use to make a bad token changes it, whatever
// the character it replaces (a fixed replacement such as "x" is a no-op
// for a token that ends in x, which made TestErrorTable flaky).
func TestTypoAlwaysChangesToken(t *testing.T) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	for i := 0; i < len(alphabet); i++ {
		tok := "pgk_live_abcdef" + alphabet[i:i+1]
		if typo(tok) == tok {
			t.Errorf("typo(%q) left the token unchanged", tok)
		}
		for j := range tok {
			if flip(tok, j) == tok {
				t.Errorf("flip(%q, %d) left the token unchanged", tok, j)
			}
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	f := newFixture(t)
	tok := f.create(t, "acme", apikey.CreateParams{Scopes: []string{"jobs:read"}}).Token.Reveal()
	head, sel, sec, sum := tokenParts(t, tok)
	body := sel + sec

	tests := []struct {
		name string
		in   string
		// checksumOK is what ValidChecksum says: true for tokens that are
		// well formed but not this manager's (prefix, environment).
		checksumOK bool
	}{
		{"empty", "", false},
		{"prefix only", "pgk", false},
		{"prefix and underscore", "pgk_", false},
		{"prefix and env only", "pgk_live_", false},
		{"wrong prefix", sealed("abc_live_" + body), true},
		{"prefix uppercase", sealed("PGK_live_" + body), true},
		{"prefix longer than 16", sealed(strings.Repeat("p", 17) + "_live_" + body), false},
		{"empty prefix", sealed("_live_" + body), false},
		{"env not in manager's list", sealed("pgk_dev_" + body), true},
		{"env uppercase", sealed("pgk_LIVE_" + body), true},
		{"empty env", sealed("pgk__" + body), false},
		{"whole token uppercased", strings.ToUpper(tok), false},
		{"whole token lowercased", strings.ToLower(tok), false},
		{"missing first underscore", "pgklive_" + body + sum, false},
		{"missing both underscores", "pgklive" + body + sum, false},
		{"body too short by one", sealed(head + body[:len(body)-1]), false},
		{"body too long by one", sealed(head + body + "A"), false},
		{"non-base62 char", sealed(head + sel + "-" + sec[1:]), false},
		{"underscore in body", sealed(head + sel + "_" + sec[1:]), false},
		{"non-ASCII in body", sealed(head + sel + "é" + sec[2:]), false},
		{"non-ASCII in prefix", sealed("pgé_live_" + body), false},
		{"invalid UTF-8", sealed(head + sel + "\xff" + sec[1:]), false},
		{"NUL byte", sealed(head + sel + "\x00" + sec[1:]), false},
		{"flipped checksum char", tok[:len(tok)-1] + flip(sum, 5)[5:], false},
		{"flipped secret char", head + sel + flip(sec, 20) + sum, false},
		{"flipped selector char", head + flip(sel, 0) + sec + sum, false},
		{"checksum zzzzzz (> 2^32)", head + body + "zzzzzz", false},
		{"checksum + 2^32", head + body + base62Fixed(checksumValue(t, sum)+1<<32), false},
		{"10 KB of letters", strings.Repeat("A", 10<<10), false},
		{"token then 10 KB", tok + strings.Repeat("A", 10<<10), false},
		{"leading space", " " + tok, false},
		{"trailing space", tok + " ", false},
		{"trailing newline", tok + "\n", false},
		{"with Bearer scheme", "Bearer " + tok, false},
		{"token twice", tok + tok, false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.store.reset()
			k, err := f.m.Verify(ctx, tt.in)
			if !errors.Is(err, apikey.ErrMalformed) || k != nil {
				t.Errorf("Verify = %v, %v; want nil, ErrMalformed", k, err)
			}
			if n := f.store.total(); n != 0 {
				t.Errorf("a malformed token made %d store calls (%v), want 0", n, f.store.snapshot())
			}
			if got := apikey.ValidChecksum(tt.in); got != tt.checksumOK {
				t.Errorf("ValidChecksum = %v, want %v", got, tt.checksumOK)
			}
		})
	}
	// The control: the untouched token is fine.
	f.mustVerify(t, tok)
}

// checksumValue decodes a 6-character base62 checksum.
func checksumValue(t *testing.T, s string) uint64 {
	t.Helper()
	var v uint64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(b62, s[i])
		if d < 0 {
			t.Fatalf("bad checksum %q", s)
		}
		v = v*62 + uint64(d)
	}
	return v
}

func TestValidChecksumIssued(t *testing.T) {
	f := newFixture(t)
	for i := range 50 {
		env := []string{"live", "test"}[i%2]
		tok := f.create(t, "acme", apikey.CreateParams{Environment: env}).Token.Reveal()
		if !apikey.ValidChecksum(tok) {
			t.Fatalf("ValidChecksum(issued %s token) = false", env)
		}
		if !strings.HasPrefix(tok, "pgk_"+env+"_") || len(tok) != len("pgk_"+env+"_")+66 {
			t.Fatalf("issued token has the wrong shape: length %d", len(tok))
		}
	}
}

func TestTokenPattern(t *testing.T) {
	f := newFixture(t)
	tok := f.create(t, "acme", apikey.CreateParams{}).Token.Reveal()
	head, sel, sec, sum := tokenParts(t, tok)

	tests := []struct {
		name string
		in   string
		want string // the leftmost match, "" for none
	}{
		{"issued token", tok, tok},
		{"inside text", "Authorization: Bearer " + tok + ".", tok},
		{"in JSON", `{"token":"` + tok + `"}`, tok},
		{"other prefix and env", sealed("abc_dev_" + sel + sec), sealed("abc_dev_" + sel + sec)},
		{"body of 65 characters", head + sel + sec + sum[:5], ""},
		// The pattern has no word boundaries: a 67-character look-alike
		// matches with its first 66 body characters. ValidChecksum then
		// tells it is not a token.
		{"body of 67 characters", tok + "A", tok},
		{"no second underscore", "pgklive" + sel + sec + sum, ""},
		{"plain text", "nothing to see here", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apikey.TokenPattern.FindString(tt.in); got != tt.want {
				t.Errorf("FindString = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDisplayPrefix(t *testing.T) {
	f := newFixture(t)
	live := f.create(t, "acme", apikey.CreateParams{})
	test := f.create(t, "acme", apikey.CreateParams{Environment: "test"})
	lt, tt := live.Token.Reveal(), test.Token.Reveal()

	tests := []struct {
		name, in, want string
	}{
		{"live token", lt, lt[:len("pgk_live_")+4]},
		{"test token", tt, tt[:len("pgk_test_")+4]},
		{"foreign prefix", "abc_dev_" + lt[9:], "abc_dev_" + lt[9:13]},
		{"empty", "", ""},
		{"not a token", "hello", ""},
		{"leading space", " " + lt, ""},
		{"trailing text", lt + " x", ""},
		{"body of 67 characters", lt + "A", ""},
		{"body of 65 characters", lt[:len(lt)-1], ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := apikey.DisplayPrefix(tc.in); got != tc.want {
				t.Errorf("DisplayPrefix = %q, want %q", got, tc.want)
			}
		})
	}
	if live.Key.Prefix != apikey.DisplayPrefix(lt) || test.Key.Prefix != apikey.DisplayPrefix(tt) {
		t.Errorf("Key.Prefix %q/%q differs from DisplayPrefix", live.Key.Prefix, test.Key.Prefix)
	}
}

func TestRedact(t *testing.T) {
	f := newFixture(t)
	a := f.create(t, "acme", apikey.CreateParams{})
	b := f.create(t, "acme", apikey.CreateParams{Environment: "test"})
	ta, tb := a.Token.Reveal(), b.Token.Reveal()
	ma, mb := a.Key.Prefix+"****", b.Key.Prefix+"****"
	bad := ta[:len(ta)-1] + flip(ta, len(ta)-1)[len(ta)-1:] // token-shaped, wrong checksum

	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"no token", "GET /v1/jobs 200 12ms", "GET /v1/jobs 200 12ms"},
		{"underscores but no token", "snake_case_name x_y_z", "snake_case_name x_y_z"},
		{"token alone", ta, ma},
		{"token in a header", "Authorization: Bearer " + ta, "Authorization: Bearer " + ma},
		{"two tokens", ta + "," + tb, ma + "," + mb},
		{"in JSON", `{"a":"` + ta + `","b":"` + tb + `"}`, `{"a":"` + ma + `","b":"` + mb + `"}`},
		{"in a query string", "/x?key=" + ta + "&y=1", "/x?key=" + ma + "&y=1"},
		{"token-shaped with a bad checksum", "k=" + bad, "k=" + ma},
		{"multi-line", "line1\n" + ta + "\nline3", "line1\n" + ma + "\nline3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := apikey.Redact(tt.in)
			if got != tt.want {
				t.Errorf("Redact = %q, want %q", got, tt.want)
			}
			for _, tok := range []string{ta, tb} {
				if strings.Contains(got, tok[len(tok)-66+4:]) {
					t.Errorf("Redact left token material in %q", got)
				}
			}
		})
	}
}

func TestManagerTokenRegexp(t *testing.T) {
	f := newFixture(t)
	is := f.create(t, "acme", apikey.CreateParams{})
	re := f.m.TokenRegexp()
	tok := is.Token.Reveal()
	if got := re.FindString("key=" + tok + "; other"); got != tok {
		t.Fatalf("TokenRegexp found %q in text holding an issued token", got)
	}
	for _, s := range []string{
		"xyz_live_" + tok[len("pgk_live_"):], // other prefix
		"pgk_prod_" + tok[len("pgk_live_"):], // unknown environment
		tok + "A",                            // body one character too long
		tok[:len(tok)-1],                     // one too short
	} {
		if re.MatchString(s) {
			t.Errorf("TokenRegexp matched %q", apikey.Redact(s))
		}
	}
}
