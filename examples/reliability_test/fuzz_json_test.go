package reliability_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/kit"
)

// createKeyBody has the shape of the example servers' key-creation bodies.
type createKeyBody struct {
	Label     string            `json:"label"`
	Scopes    []string          `json:"scopes"`
	ExpiresAt *time.Time        `json:"expiresAt"`
	Metadata  map[string]string `json:"metadata"`
	Grace     *int64            `json:"grace_period_seconds"`
}

// FuzzDecodeJSON sends arbitrary bodies and Content-Types through the
// example servers' strict decoder: it never panics; a refusal is always a
// *kit.BodyError with 400, 413 or 415 and a message; an accepted non-empty body is valid JSON whose decoded value
// survives a round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"label":"ci","scopes":["jobs:read"]}`,
		`{"label":"ci","expiresAt":"2030-01-01T00:00:00Z"}`,
		`{"label":"ci","extra":1}`,
		`{"LABEL":"ci"}`,
		`{"label":"a","label":"b"}`,
		`{"label":"ci"} {"label":"again"}`,
		`{"label":"ci"`,
		`{"scopes":"jobs:read"}`,
		`{"grace_period_seconds":1e400}`,
		`{"metadata":{"k":"\u0000"}}`,
		`[]`, `null`, ``, "\xff", `{"expiresAt":"yesterday"}`,
	} {
		f.Add(s, byte(0))
		f.Add(s, byte(3))
	}
	types := []string{"", "application/json", "application/json; charset=utf-8", "text/plain", "application/json; x=\"unterminated"}
	f.Fuzz(func(t *testing.T, body string, mode byte) {
		req := httptest.NewRequest(http.MethodPost, "/keys", strings.NewReader(body))
		if ct := types[int(mode)%len(types)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		var dst createKeyBody
		err := kit.DecodeJSON(httptest.NewRecorder(), req, &dst, mode&0x80 != 0)
		if err != nil {
			var be *kit.BodyError
			if !errors.As(err, &be) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if be.Status != http.StatusBadRequest && be.Status != http.StatusRequestEntityTooLarge && be.Status != http.StatusUnsupportedMediaType {
				t.Fatalf("status %d for a bad body", be.Status)
			}
			if be.Message == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		if body == "" {
			return
		}
		if ct := types[int(mode)%len(types)]; !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("accepted a body sent with Content-Type %q", ct)
		}
		if !json.Valid([]byte(strings.TrimSpace(body))) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		again, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("re-encoding an accepted body: %v", err)
		}
		var back createKeyBody
		if err := json.Unmarshal(again, &back); err != nil || !reflect.DeepEqual(normalise(back), normalise(dst)) {
			t.Fatalf("round trip changed %+v into %+v (%v)", dst, back, err)
		}
	})
}

// normalise makes equal times compare equal under DeepEqual.
func normalise(b createKeyBody) createKeyBody {
	if b.ExpiresAt != nil {
		u := b.ExpiresAt.UTC()
		b.ExpiresAt = &u
	}
	return b
}
