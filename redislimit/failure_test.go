package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/redislimit"
)

// proxy is a TCP proxy on 127.0.0.1 in front of Redis that a test stops
// (every connection cut, new ones refused) or hangs (connections accepted,
// nothing forwarded).
type proxy struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	conns    []net.Conn
	hung     bool
}

func startProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: upstream}
	go p.serve()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		hung := p.hung
		p.mu.Unlock()
		if hung {
			continue // hold the connection, answer nothing
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// stop closes the listener and every connection: Redis is gone.
func (p *proxy) stop() {
	_ = p.ln.Close()
	p.cutConns()
}

// hang cuts the live connections and makes new ones silent: Redis hangs.
func (p *proxy) hang() {
	p.mu.Lock()
	p.hung = true
	p.mu.Unlock()
	p.cutConns()
}

func (p *proxy) cutConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// proxiedLimiter returns a limiter whose Redis connection goes through a
// proxy the test controls.
func proxiedLimiter(t *testing.T, opts ...redislimit.Option) (*redislimit.Limiter, *proxy) {
	t.Helper()
	direct := testClient(t)
	prefix := testPrefix(t, direct)
	ropts, err := redislimit.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, ropts.Addr)
	ropts.Addr = p.ln.Addr().String()
	ropts.MaxRetries = -1 // one attempt: the test counts failures per call
	rdb := redis.NewClient(ropts)
	t.Cleanup(func() { _ = rdb.Close() })
	l, err := redislimit.New(rdb, append([]redislimit.Option{redislimit.WithPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return l, p
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRedisDown(t *testing.T) {
	limited := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: 1000, Window: time.Minute})
	for _, failOpen := range []bool{false, true} {
		name := map[bool]string{false: "fail closed (default)", true: "fail open"}[failOpen]
		for _, breakIt := range []string{"stopped", "hung"} {
			t.Run(name+"/"+breakIt, func(t *testing.T) {
				var logs syncBuffer
				opts := []redislimit.Option{
					redislimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
					redislimit.WithWarnInterval(time.Hour),
					redislimit.WithTimeout(200 * time.Millisecond),
				}
				if failOpen {
					opts = append(opts, redislimit.FailOpen())
				}
				l, p := proxiedLimiter(t, opts...)
				ctx := context.Background()
				if d, err := l.Allow(ctx, limited, 1); err != nil || !d.Allowed || d.Limit.Name != "l" {
					t.Fatalf("through the proxy: %+v %v", d, err)
				}
				if breakIt == "stopped" {
					p.stop()
				} else {
					p.hang()
				}
				const calls = 5
				for i := range calls {
					d, err := allowWithin(t, l, limited, 30*time.Second)
					if failOpen {
						if err != nil || !d.Allowed || d.Limit.Name != "" {
							t.Fatalf("call %d: fail open gave %+v %v, want allowed with no limit", i, d, err)
						}
					} else if !errors.Is(err, apikey.ErrLimiterUnavailable) || d.Allowed {
						t.Fatalf("call %d: fail closed gave %+v %v, want a refusal wrapping ErrLimiterUnavailable", i, d, err)
					}
				}
				st := l.Stats()
				wantOpen := uint64(0)
				if failOpen {
					wantOpen = calls
				}
				if st.Errors != calls || st.FailedOpen != wantOpen {
					t.Fatalf("stats %+v, want %d errors, %d failed open", st, calls, wantOpen)
				}
				if n := strings.Count(logs.String(), "redislimit: Redis unavailable"); n != 1 {
					t.Fatalf("%d warnings for %d failures within the interval, want 1:\n%s", n, calls, logs.String())
				}
				// A key without limits needs no Redis at all.
				if d, err := l.Allow(ctx, key("k2", "t1"), 1); err != nil || !d.Allowed {
					t.Fatalf("key without limits: %+v %v", d, err)
				}
			})
		}
	}
}

// allowWithin runs Allow on a context without deadline and fails the test
// if it does not come back within max: the limiter's own timeout bounds it.
func allowWithin(t *testing.T, l *redislimit.Limiter, k *apikey.Key, max time.Duration) (apikey.RateDecision, error) {
	t.Helper()
	type result struct {
		d   apikey.RateDecision
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := l.Allow(context.Background(), k, 1)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		return r.d, r.err
	case <-time.After(max):
		t.Fatalf("Allow still running after %s: a hung Redis holds requests", max)
		return apikey.RateDecision{}, nil
	}
}

// TestCallerGaveUp: a context that ends before Redis answers is the
// caller's doing: an error (never an admission, even failing open), not
// counted, not warned about.
func TestCallerGaveUp(t *testing.T) {
	var logs syncBuffer
	l, p := proxiedLimiter(t, redislimit.FailOpen(),
		redislimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	p.hang()
	k := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: 1, Window: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	d, err := l.Allow(ctx, k, 1)
	if d.Allowed || !errors.Is(err, apikey.ErrLimiterUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%+v %v", d, err)
	}
	if st := l.Stats(); st.Errors != 0 || st.FailedOpen != 0 || logs.String() != "" {
		t.Fatalf("stats %+v, logs %q: the caller's deadline counted as a Redis failure", st, logs.String())
	}
}

func TestWarnsAgainAfterInterval(t *testing.T) {
	var logs syncBuffer
	l, p := proxiedLimiter(t, redislimit.FailOpen(),
		redislimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		redislimit.WithWarnInterval(50*time.Millisecond))
	p.stop()
	k := key("k1", "t1", apikey.RateLimit{Name: "l", Limit: 1, Window: time.Minute})
	_, _ = l.Allow(context.Background(), k, 1)
	time.Sleep(60 * time.Millisecond)
	_, _ = l.Allow(context.Background(), k, 1)
	if n := strings.Count(logs.String(), "redislimit: Redis unavailable"); n != 2 {
		t.Fatalf("%d warnings, want 2 (one per interval)", n)
	}
	if !strings.Contains(logs.String(), "failing open") {
		t.Fatalf("the warning does not say it fails open:\n%s", logs.String())
	}
}

func TestNewRefuses(t *testing.T) {
	noCtx := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer noCtx.Close()
	withCtx := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer withCtx.Close()
	tests := []struct {
		name string
		rdb  redis.Scripter
		opts []redislimit.Option
		want string
	}{
		{"nil client", nil, nil, "nil Redis client"},
		{"client ignoring context deadlines", noCtx, nil, "ContextTimeoutEnabled"},
		{"empty prefix", withCtx, []redislimit.Option{redislimit.WithPrefix("")}, "prefix"},
		{"zero timeout", withCtx, []redislimit.Option{redislimit.WithTimeout(0)}, "timeout"},
		{"nil logger", withCtx, []redislimit.Option{redislimit.WithLogger(nil)}, "logger"},
		{"zero warn interval", withCtx, []redislimit.Option{redislimit.WithWarnInterval(0)}, "warn interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := redislimit.New(tc.rdb, tc.opts...)
			if err == nil || l != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want an error naming %q", l, err, tc.want)
			}
		})
	}
	if _, err := redislimit.New(withCtx); err != nil {
		t.Fatalf("valid client: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		wantErr string
	}{
		{"redis://127.0.0.1:6379/0", ""},
		{"rediss://user:pw@example.com:6380/2", ""},
		{"redis://127.0.0.1:6379/notadb", "invalid Redis URL"},
		{"http://127.0.0.1:6379/0", "scheme"},
		{"127.0.0.1:6379", "invalid Redis URL"},
		{"redis:///0", "no host"},
		{"redis://:s3cretpw@127.0.0.1:6379/x", "invalid Redis URL"},
		{"redis://a b", "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			opts, err := redislimit.ParseURL(tc.url)
			if tc.wantErr == "" {
				if err != nil || !opts.ContextTimeoutEnabled {
					t.Fatalf("%v %+v", err, opts)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want one naming %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}
