package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey/examples/internal/sqltest"
)

// GET /v1/api-keys/expiring lists a project's working keys expiring within
// the window, soonest first, page by page, and checks its parameters.
func TestListExpiring(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		boot := e.bootstrap(t, "p1")
		now := e.app.m.Now()
		in := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339) }
		k3 := e.create(t, boot, map[string]any{"project_id": "p1", "name": "3d", "scopes": []string{"jobs:read"}, "expires_at": in(72 * time.Hour)})
		k1 := e.create(t, boot, map[string]any{"project_id": "p1", "name": "1d", "scopes": []string{"jobs:read"}, "expires_at": in(24 * time.Hour)})
		e.create(t, boot, map[string]any{"project_id": "p1", "name": "30d", "scopes": []string{"jobs:read"}, "expires_at": in(30 * 24 * time.Hour)})
		revoked := e.create(t, boot, map[string]any{"project_id": "p1", "name": "gone", "scopes": []string{"jobs:read"}, "expires_at": in(48 * time.Hour)})
		e.do(t, "DELETE", "/v1/api-keys/"+revoked.ID, boot, nil).want(t, http.StatusNoContent)
		other := e.bootstrap(t, "p2")
		e.create(t, other, map[string]any{"project_id": "p2", "name": "p2", "scopes": []string{"jobs:read"}, "expires_at": in(time.Hour)})

		type page struct {
			Keys       []wireKey `json:"keys"`
			NextCursor *string   `json:"next_cursor"`
		}
		p := decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&limit=1", boot, nil).want(t, http.StatusOK))
		if len(p.Keys) != 1 || p.Keys[0].ID != k1.ID || p.NextCursor == nil {
			t.Fatalf("first page %+v", p)
		}
		p = decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&limit=1&cursor="+*p.NextCursor, boot, nil).want(t, http.StatusOK))
		if len(p.Keys) != 1 || p.Keys[0].ID != k3.ID || p.NextCursor != nil {
			t.Fatalf("second page %+v", p)
		}
		p = decode[page](t, e.do(t, "GET", "/v1/api-keys/expiring?project_id=p1&within_days=60", testAdmin, nil).want(t, http.StatusOK))
		if len(p.Keys) != 3 {
			t.Fatalf("within 60 days: %d keys, want 3", len(p.Keys))
		}
		for _, bad := range []string{"", "project_id=p1&within_days=0", "project_id=p1&limit=5000", "project_id=p1&cursor=nope"} {
			e.do(t, "GET", "/v1/api-keys/expiring?"+bad, boot, nil).wantError(t, http.StatusBadRequest, "bad_request")
		}
		e.do(t, "GET", "/v1/api-keys/expiring?project_id=p2", boot, nil).want(t, http.StatusNotFound)
	})
}

// POST /v1/secret-scanning/github takes a report signed with a key of
// -secret-scanning-keys and revokes the reported key; it does not exist
// without the flag.
func TestSecretScanningEndpoint(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	keys, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": "test-scanner", "is_current": true,
		"key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}}})
	path := filepath.Join(t.TempDir(), "scanner-keys.json")
	if err := os.WriteFile(path, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.SecretScanKeys = path
	e := newEnv(t, sqltest.SQLiteFile, &cfg)
	boot := e.bootstrap(t, "p1")
	k := e.create(t, boot, map[string]any{"project_id": "p1", "name": "leaky", "scopes": []string{"jobs:read"}})
	e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusOK)

	body, _ := json.Marshal([]map[string]string{{"token": k.Key, "type": "projectkeys_api_key", "url": "https://github.com/o/r/blob/1/.env", "source": "content"}})
	d := sha256.Sum256(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, d[:])
	r := e.do(t, "POST", "/v1/secret-scanning/github", "", body,
		"Github-Public-Key-Identifier", "test-scanner", "Github-Public-Key-Signature", base64.StdEncoding.EncodeToString(sig)).want(t, http.StatusOK)
	got := decode[[]map[string]string](t, r)
	if len(got) != 1 || got[0]["label"] != "true_positive" || got[0]["token_type"] != "projectkeys_api_key" || got[0]["token_hash"] == "" {
		t.Fatalf("answer %s", r.body)
	}
	if strings.Contains(string(r.body), k.Key) {
		t.Fatal("the answer echoes the token")
	}
	e.do(t, "GET", "/v1/whoami", k.Key, nil).want(t, http.StatusUnauthorized)
	e.do(t, "POST", "/v1/secret-scanning/github", "", body,
		"Github-Public-Key-Identifier", "test-scanner", "Github-Public-Key-Signature", "AAAA").want(t, http.StatusUnauthorized)

	plain := newEnv(t, sqltest.SQLiteFile, nil)
	plain.do(t, "POST", "/v1/secret-scanning/github", "", body).want(t, http.StatusNotFound)
}
