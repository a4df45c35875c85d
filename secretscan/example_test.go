package secretscan_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/memstore"
	"github.com/apikit/apikey/secretscan"
)

// Mount the handler, then receive a signed report of a leaked key: the key
// is revoked and the scanner gets its label back.
func Example() {
	ctx := context.Background()
	m, _ := apikey.New(memstore.New(), apikey.WithPrefix("acme"), apikey.WithPepper("v1", []byte("example pepper: use 32 random bytes")))
	issued, _ := m.Create(ctx, apikey.CreateParams{Tenant: "t1"})

	// The scanner's key pair; in production the public half comes from
	// https://api.github.com/meta/public_keys/secret_scanning.
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	published, _ := json.Marshal(map[string]any{"public_keys": []map[string]any{{
		"key_identifier": "k1", "is_current": true,
		"key": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	}}})
	keys, err := secretscan.ParseGitHubKeys(published)
	if err != nil {
		panic(err)
	}
	h, err := secretscan.New(secretscan.Config{Manager: m, Keys: keys, Policy: secretscan.Revoke})
	if err != nil {
		panic(err)
	}
	// mux.Handle("POST /secret-scanning/github", h)

	body, _ := json.Marshal([]map[string]string{{"token": issued.Token.Reveal(), "type": "acme_api_key",
		"url": "https://github.com/octo/repo/blob/main/.env", "source": "content"}})
	digest := sha256.Sum256(body)
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	req := httptest.NewRequest("POST", "/secret-scanning/github", bytes.NewReader(body))
	req.Header.Set(secretscan.KeyIDHeader, "k1")
	req.Header.Set(secretscan.SignatureHeader, base64.StdEncoding.EncodeToString(sig))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)

	var answer []map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &answer)
	fmt.Println(w.Code, answer[0]["label"], answer[0]["token_type"])
	_, err = m.Verify(ctx, issued.Token.Reveal())
	fmt.Println("revoked:", errors.Is(err, apikey.ErrRevoked))
	// Output:
	// 200 true_positive acme_api_key
	// revoked: true
}
