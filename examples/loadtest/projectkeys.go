package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
)

// loadLimit is the rate limit the controlled keys carry: high enough never
// to refuse under this load (a few thousand requests per second per key at
// most), so that every request runs the limiter and is answered 200.
var loadLimit = map[string]any{"name": "per_minute", "limit": 100_000_000, "duration_ms": 60_000}

// startProjectkeys starts the projectkeys binary with -dev on a free
// loopback port over a fresh SQLite file named after name, a random server
// secret and, when redisURL is set, -redis.
func startProjectkeys(ctx context.Context, cfg config, bin, dir, name, redisURL string) (*process, error) {
	secret, err := randomSecret()
	if err != nil {
		return nil, err
	}
	args := []string{"-dev", "-addr", "127.0.0.1:0", "-db", "sqlite:" + filepath.Join(dir, name+".db"),
		"-usage-interval", cfg.UsageInterval.String()}
	if redisURL != "" {
		args = append(args, "-redis", redisURL)
	}
	env := []string{"APIKEY_SECRET=" + secret, "GOMAXPROCS=" + strconv.Itoa(cfg.ServerProcs)}
	return startProcess(ctx, name, bin, args, env, dir)
}

// pkFixture is what the load needs from one projectkeys process: keys
// without controls, keys under loadLimit, and the body of GET /v1/whoami.
type pkFixture struct {
	plain, limited []string
	body           []byte
}

// prepareProjectkeys bootstraps a project on projectkeys at base (a
// manager key from POST /dev/bootstrap) and creates keys keys without
// controls and keys keys under loadLimit, each with the scope jobs:read.
func prepareProjectkeys(ctx context.Context, base string, keys int) (*pkFixture, error) {
	c := &setupClient{base: base}
	const project = "p_load"
	var boot struct {
		Key string `json:"key"`
	}
	if err := c.call(ctx, "POST", "/dev/bootstrap", "", "", map[string]string{"project_id": project},
		http.StatusCreated, &boot); err != nil {
		return nil, err
	}
	newKey := func(name string, limited bool) (string, error) {
		req := map[string]any{"project_id": project, "name": name, "scopes": []string{"jobs:read"}}
		if limited {
			req["ratelimits"] = []any{loadLimit}
		}
		var out struct {
			Key string `json:"key"`
		}
		err := c.call(ctx, "POST", "/v1/api-keys", "", boot.Key, req, http.StatusCreated, &out)
		return out.Key, err
	}
	f := &pkFixture{plain: make([]string, keys), limited: make([]string, keys)}
	for i := range keys {
		var err error
		if f.plain[i], err = newKey("load "+strconv.Itoa(i), false); err != nil {
			return nil, err
		}
		if f.limited[i], err = newKey("load limited "+strconv.Itoa(i), true); err != nil {
			return nil, err
		}
	}
	var err error
	if f.body, err = c.body(ctx, whoamiPath, f.limited[0]); err != nil {
		return nil, err
	}
	return f, nil
}
