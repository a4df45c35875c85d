package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// The import paths go build compiles.
const (
	plangrepPkg    = "github.com/apikit/apikey/examples/plangrep"
	projectkeysPkg = "github.com/apikit/apikey/examples/projectkeys"
)

// The endpoints under load: plangrep's jobs list and projectkeys' whoami.
const (
	jobsPath   = "/api/open/v1/jobs"
	whoamiPath = "/v1/whoami"
)

// usageStatsMsg is the message of plangrep's shutdown line with the usage
// tracker's counters (examples/plangrep/stats.go).
const usageStatsMsg = "usage tracker stats"

// build compiles the example server pkg into dir and returns the binary's
// path.
func build(ctx context.Context, dir, pkg string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s (run loadtest from the repository): %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// randomSecret returns a fresh base64 server secret for APIKEY_SECRET.
func randomSecret() (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(secret), nil
}

// startPlangrep starts the plangrep binary with -dev on a free loopback
// port, its store db, and a random server secret.
func startPlangrep(ctx context.Context, cfg config, bin, dir string) (*process, error) {
	secret, err := randomSecret()
	if err != nil {
		return nil, err
	}
	db := cfg.DB
	if db == "" {
		db = "sqlite:" + filepath.Join(dir, "plangrep.db")
	}
	args := []string{"-dev", "-addr", "127.0.0.1:0", "-db", db, "-usage-interval", cfg.UsageInterval.String()}
	env := []string{
		"APIKEY_SECRET=" + secret,
		"GOMAXPROCS=" + strconv.Itoa(cfg.ServerProcs),
	}
	return startProcess(ctx, "plangrep", bin, args, env, dir, usageStatsMsg)
}

// startBare writes the bodies (by URL path) to dir and starts this program
// as the bare handler serving them.
func startBare(ctx context.Context, cfg config, bodies map[string][]byte, dir string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "bodies.json")
	if err := writeBodies(path, bodies); err != nil {
		return nil, err
	}
	env := []string{bareEnv + "=" + path, "GOMAXPROCS=" + strconv.Itoa(cfg.ServerProcs)}
	return startProcess(ctx, "bare handler", self, nil, env, dir)
}

// fixture is what the load needs from plangrep: the tokens (never printed)
// and the body GET /api/open/v1/jobs answers with them.
type fixture struct {
	tokens []string
	body   []byte
}

// prepare opens a session on plangrep at base, creates keys jobs:read keys
// and jobs jobs in one workspace, and reads the jobs list once.
func prepare(ctx context.Context, base string, keys, jobs int) (*fixture, error) {
	c := &setupClient{base: base}
	var boot struct {
		Session string `json:"session"`
	}
	if err := c.call(ctx, "POST", "/dev/bootstrap", "", "",
		map[string]string{"workspaceId": "ws_load", "userId": "usr_load"}, http.StatusOK, &boot); err != nil {
		return nil, err
	}
	newKey := func(label string, scope string) (string, error) {
		var out struct {
			PlaintextKey string `json:"plaintextKey"`
		}
		err := c.call(ctx, "POST", "/api/open-api/keys", boot.Session, "",
			map[string]any{"label": label, "scopes": []string{scope}}, http.StatusCreated, &out)
		return out.PlaintextKey, err
	}
	f := &fixture{tokens: make([]string, keys)}
	for i := range f.tokens {
		tok, err := newKey("load "+strconv.Itoa(i), "jobs:read")
		if err != nil {
			return nil, err
		}
		f.tokens[i] = tok
	}
	if jobs > 0 {
		writer, err := newKey("load writer", "jobs:write")
		if err != nil {
			return nil, err
		}
		for i := range jobs {
			if err := c.call(ctx, "POST", jobsPath, "", writer,
				map[string]string{"name": "load job " + strconv.Itoa(i)}, http.StatusCreated, nil); err != nil {
				return nil, err
			}
		}
	}
	var err error
	if f.body, err = c.body(ctx, jobsPath, f.tokens[0]); err != nil {
		return nil, err
	}
	return f, nil
}

// setupClient makes the set-up calls to plangrep.
type setupClient struct {
	base     string
	lastBody []byte
}

// body GETs path with a bearer token and returns the answer (200, JSON)
// byte for byte, for the bare handler to serve.
func (c *setupClient) body(ctx context.Context, path, bearer string) ([]byte, error) {
	var raw json.RawMessage
	if err := c.call(ctx, "GET", path, "", bearer, nil, http.StatusOK, &raw); err != nil {
		return nil, err
	}
	return c.lastBody, nil
}

// call sends a JSON request with a session cookie or a bearer token (when
// not empty), checks the status and decodes the answer into out (if not
// nil).
func (c *setupClient) call(ctx context.Context, method, path, session, bearer string, in any, want int, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "plangrep_session", Value: session})
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	c.lastBody = b
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
