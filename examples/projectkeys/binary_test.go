package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/apikit/apikey/examples/internal/proctest"
)

// TestBinary builds the server, runs it with ADMIN_TOKEN from the
// environment, checks it answers, and checks SIGTERM makes it exit 0.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := proctest.Build(t, ".")
	dir := t.TempDir()
	addr, maddr := proctest.FreeAddr(t), proctest.FreeAddr(t)
	p := proctest.Start(t, bin, proctest.Options{
		Args: []string{"-addr", addr, "-db", "sqlite:" + filepath.Join(dir, "pk.db"), "-rotation-check", "50ms", "-metrics-addr", maddr},
		Env:  []string{"ADMIN_TOKEN=" + testAdmin},
	})
	p.WaitHTTP(t, "http://"+addr+"/v1/whoami")

	req, _ := http.NewRequest("GET", "http://"+addr+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+testAdmin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var who map[string]any
	if err := json.NewDecoder(res.Body).Decode(&who); err != nil || res.StatusCode != 200 || who["admin"] != true {
		t.Fatalf("whoami %d %v %v", res.StatusCode, who, err)
	}
	res.Body.Close()
	res, err = http.Post("http://"+addr+"/dev/clock", "application/json", nil)
	if err != nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("/dev/clock without -dev: %v %v", res, err)
	}
	res.Body.Close()
	req, _ = http.NewRequest("GET", "http://"+addr+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer pk_live_0000")
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token: %v %v", res, err)
	}
	res.Body.Close()
	proctest.WantMetric(t, "http://"+maddr+"/metrics", `apikey_auth_refusals_total{apikey_reason="malformed"} 1`)

	if err := p.Stop(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Logs())
	}
}
