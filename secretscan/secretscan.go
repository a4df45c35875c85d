// Package secretscan receives leaked-key reports from secret scanners, in
// the format of GitHub's secret scanning partner program: GitHub finds one
// of your tokens in a public repository, gist or package and POSTs
//
//	[{"token":"pgk_live_...","type":"acme_api_key","url":"https://github.com/...","source":"content"}]
//
// signed with ECDSA (P-256, SHA-256): the Github-Public-Key-Identifier
// header names one of GitHub's published public keys
// (https://api.github.com/meta/public_keys/secret_scanning, given to this
// package as configuration: it never fetches anything) and
// Github-Public-Key-Signature holds the base64 ASN.1 signature of the raw
// body.
//
// The Handler checks the signature before reading the body as JSON, drops
// strings that are not well-formed tokens of the manager (prefix,
// environment, length, checksum) before any store read, identifies the
// others (apikey.Manager.Identify: one store read, constant-time hash
// comparison), and applies its policy: revoke the key, or only flag it
// (EventLeaked through the manager's event hook, and OnLeak). It answers
// in the partner format, one entry per reported token:
//
//	[{"token_hash":"<hex SHA-256 of the token>","token_type":"acme_api_key","label":"true_positive"}]
//
// where true_positive means the token is (or was) one of our keys. Tokens
// are never logged, stored or echoed: logs and events name keys by ID and
// display prefix.
package secretscan

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// Headers of a GitHub secret scanning report.
const (
	KeyIDHeader     = "Github-Public-Key-Identifier"
	SignatureHeader = "Github-Public-Key-Signature"
)

// Labels of the answer.
const (
	TruePositive  = "true_positive"
	FalsePositive = "false_positive"
)

// PublicKeys maps a key identifier to the public key it names.
type PublicKeys map[string]*ecdsa.PublicKey

// ParseGitHubKeys reads GitHub's published secret scanning keys, the JSON
// of https://api.github.com/meta/public_keys/secret_scanning:
//
//	{"public_keys":[{"key_identifier":"...","key":"-----BEGIN PUBLIC KEY-----\n...","is_current":true}]}
//
// Every key must be a PEM "PUBLIC KEY" of an ECDSA key; non-current keys
// are kept (GitHub may still sign with them while it rotates).
func ParseGitHubKeys(data []byte) (PublicKeys, error) {
	var doc struct {
		PublicKeys []struct {
			KeyIdentifier string `json:"key_identifier"`
			Key           string `json:"key"`
		} `json:"public_keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("secretscan: public keys: %w", err)
	}
	if len(doc.PublicKeys) == 0 {
		return nil, errors.New("secretscan: public keys: none listed")
	}
	keys := PublicKeys{}
	for _, k := range doc.PublicKeys {
		pub, err := ParsePublicKey([]byte(k.Key))
		if err != nil {
			return nil, fmt.Errorf("secretscan: public key %q: %w", k.KeyIdentifier, err)
		}
		if k.KeyIdentifier == "" {
			return nil, errors.New("secretscan: public key without an identifier")
		}
		keys[k.KeyIdentifier] = pub
	}
	return keys, nil
}

// ParsePublicKey reads one PEM "PUBLIC KEY" block holding an ECDSA key.
func ParsePublicKey(pemData []byte) (*ecdsa.PublicKey, error) {
	b, _ := pem.Decode(pemData)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM PUBLIC KEY block")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an ECDSA key", k)
	}
	return pub, nil
}
