package storetest

import (
	"strings"
	"time"

	"github.com/apikit/apikey"
)

var roundTripCases = []testCase{
	{"Full", roundTrip(fullKey)},
	{"Minimal", roundTrip(minimalKey)},
	{"EmptyCollections", roundTrip(emptyCollectionsKey)},
	{"Limits", roundTrip(limitsKey)},
}

// fullKey sets every field.
func fullKey(k *apikey.Key) {
	k.Environment = "test"
	k.Name = "CI deploy key"
	k.HashVersion = "v2"
	k.Scopes = []string{"repo:read", "repo:write", "admin:*"}
	k.CreatedBy = "user_42"
	k.CreatedAt = at(-48 * time.Hour)
	k.ExpiresAt = at(90 * 24 * time.Hour)
	k.LastUsedAt = at(-time.Hour + time.Microsecond)
	k.LastUsedIP = "2001:db8::1"
	k.LastUsedClient = "github-actions"
	k.RevokedAt = at(time.Hour + 2*time.Microsecond)
	k.ReplacedBy = unusedID()
	k.GraceExpiresAt = at(2*time.Hour + 3*time.Microsecond)
	k.RotationInterval = 30*24*time.Hour + 1500*time.Millisecond + 7
	k.NextRotationAt = at(30*24*time.Hour + 4*time.Microsecond)
	k.RotationWebhookURL = "https://hooks.example.com/rotate?id=1&x=%20"
	k.WebhookSecret = randomBytes(60)
	k.Metadata = map[string]string{"team": "platform", "cost-center": "", "emoji": "🔑"}
	controlsKey(k)
	k.NotBefore = at(-24*time.Hour + 5*time.Microsecond)
	k.Owner = "user_42@idp.example"
}

// minimalKey leaves every optional field at its zero value.
func minimalKey(k *apikey.Key) {
	k.Name = ""
	k.Scopes = nil
	k.Metadata = nil
}

// emptyCollectionsKey has empty, non-nil collections.
func emptyCollectionsKey(k *apikey.Key) {
	k.Scopes = []string{}
	k.Metadata = map[string]string{}
	k.WebhookSecret = []byte{}
}

// limitsKey uses the longest values the Manager accepts, non-ASCII text,
// bytes of every value, and times before 1970 and after 2038.
func limitsKey(k *apikey.Key) {
	k.Tenant = strings.Repeat("ü", 63) + "t " // 128 bytes, trailing space
	k.Name = strings.Repeat("名", 85) + "x"    // 256 bytes
	scopes := make([]string, 50)
	for i := range scopes {
		scopes[i] = strings.Repeat("s", 120) + ":" + string(rune('a'+i%26)) + "-" + string(rune('A'+i/26))
	}
	k.Scopes = scopes
	hash := make([]byte, 256)
	for i := range hash {
		hash[i] = byte(i)
	}
	k.Hash = hash
	k.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 123456000, time.UTC)
	k.ExpiresAt = time.Date(2199, 12, 31, 23, 59, 59, 999999000, time.UTC)
	k.RotationInterval = 1<<62 + 1
	md := map[string]string{}
	for i := range 40 {
		md[strings.Repeat("k", i+1)] = strings.Repeat("välue ", 40)
	}
	k.Metadata = md
	k.NotBefore = time.Date(1901, 1, 1, 0, 0, 0, 1000, time.UTC)
	k.Owner = strings.Repeat("ö", 127) + "o " // 256 bytes, trailing space
}

// roundTrip checks that every field of a key survives Create and comes
// back the same from each read path.
func roundTrip(mod func(*apikey.Key)) func(f *fixture) {
	return func(f *fixture) {
		f.create("other") // a neighbour, so reads must select the right row
		want := f.create("acme", mod)
		f.create("other")
		f.wantKey("Get", want)
		got, err := f.s.GetByLookup(f.ctx, want.Lookup)
		noErr(f, "GetByLookup", err)
		checkKey(f, "GetByLookup", got, want)
		listed := f.list(want.Tenant, apikey.ListOptions{})
		if len(listed) != 1 {
			f.Fatalf("List(%q) returned %d keys, want 1", want.Tenant, len(listed))
		}
		checkKey(f, "List", listed[0], want)
	}
}
