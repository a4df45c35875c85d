package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// target is one server endpoint under load, with the keys it is sent.
type target struct {
	name   string
	base   string // the target it is compared with; "" for none
	url    string // of the endpoint
	pid    int    // of the server process
	tokens []string
	client *http.Client
}

// newTarget returns a target whose client keeps one idle keep-alive
// connection per worker (and opens no more than that).
func newTarget(name, base, url string, pid, workers int, tokens []string) *target {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        workers,
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &target{name: name, base: base, url: url, pid: pid, tokens: tokens, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// round is the outcome of driving one target for a while.
type round struct {
	requests  int             // answered 200
	failures  int             // errors and other statuses
	elapsed   time.Duration   // from the start until the last worker stopped
	latencies []time.Duration // of the 200 answers
	serverCPU time.Duration   // CPU time the server used meanwhile
	cpuKnown  bool            // serverCPU was measured (Linux /proc)
	clientCPU time.Duration   // CPU time the load generator used meanwhile
}

// rps is the round's throughput: answered requests per second.
func (r round) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// drive sends GET requests to t from workers goroutines until d has passed
// (or ctx ends), each worker cycling through the tokens from its own
// offset; a worker sends its next request when the previous answer has
// been read.
func drive(ctx context.Context, t *target, workers int, d time.Duration) round {
	results := make([]round, workers)
	cpu0, known0 := processCPU(t.pid)
	self0 := selfCPU()
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { results[w] = work(ctx, t, t.tokens, w, deadline) })
	}
	wg.Wait()
	out := round{elapsed: time.Since(start), clientCPU: selfCPU() - self0}
	if cpu1, known1 := processCPU(t.pid); known0 && known1 {
		out.serverCPU, out.cpuKnown = cpu1-cpu0, true
	}
	for _, r := range results {
		out.requests += r.requests
		out.failures += r.failures
		out.latencies = append(out.latencies, r.latencies...)
	}
	return out
}

// work is one worker's loop. Its requests are built once, one per token.
func work(ctx context.Context, t *target, tokens []string, offset int, deadline time.Time) round {
	reqs := make([]*http.Request, len(tokens))
	for i, tok := range tokens {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
		if err != nil {
			return round{failures: 1}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		reqs[i] = req
	}
	r := round{latencies: make([]time.Duration, 0, 4096)}
	for i := offset; ctx.Err() == nil; i++ {
		begin := time.Now()
		if !begin.Before(deadline) {
			break
		}
		resp, err := t.client.Do(reqs[i%len(reqs)])
		if err != nil {
			r.failures++
			continue
		}
		_, err = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			r.failures++
			continue
		}
		r.latencies = append(r.latencies, time.Since(begin))
		r.requests++
	}
	return r
}
