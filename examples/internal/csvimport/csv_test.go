package csvimport

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/apikit/apikey"
)

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestRead(t *testing.T) {
	id := ulid.Make().String()
	h := sha256Hex("x")
	tests := []struct {
		name    string
		csv     string
		wantErr string
		check   func(t *testing.T, p apikey.ImportParams)
	}{
		{name: "ULID kept as ID", csv: "id,tenant,scopes,sha256\n" + strings.ToLower(id) + ",t,a:b c:d," + h,
			check: func(t *testing.T, p apikey.ImportParams) {
				if p.ID != id || p.Metadata != nil || strings.Join(p.Scopes, " ") != "a:b c:d" {
					t.Fatalf("got ID %q metadata %v scopes %v", p.ID, p.Metadata, p.Scopes)
				}
			}},
		{name: "other ID kept in metadata", csv: "ID, Tenant, Scopes, SHA256, expires_at\nkey_1, t, , " + h + ", 2030-01-02T03:04:05Z",
			check: func(t *testing.T, p apikey.ImportParams) {
				if p.ID != "" || p.Metadata[legacyIDKey] != "key_1" || len(p.Scopes) != 0 || p.ExpiresAt.Year() != 2030 {
					t.Fatalf("got ID %q metadata %v scopes %v expiry %v", p.ID, p.Metadata, p.Scopes, p.ExpiresAt)
				}
			}},
		{name: "missing column", csv: "id,tenant,sha256\nk,t," + h, wantErr: `no "scopes" column`},
		{name: "bad time", csv: "id,tenant,scopes,sha256,created_at\nk,t,," + h + ",yesterday", wantErr: "line 2: created_at"},
		{name: "bad digest", csv: "id,tenant,scopes,sha256\nk,t,,abc", wantErr: "line 2: sha256"},
		{name: "bad scope", csv: "id,tenant,scopes,sha256\nk,t,jobs," + h, wantErr: "line 2: scopes"},
		{name: "ragged row", csv: "id,tenant,scopes,sha256\nk,t\n", wantErr: "wrong number of fields"},
		{name: "empty input", csv: "", wantErr: "reading the header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := Read(strings.NewReader(tt.csv), "sha256")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(rows) != 1 {
				t.Fatalf("rows %v, err %v", rows, err)
			}
			tt.check(t, rows[0].Params)
		})
	}
}
