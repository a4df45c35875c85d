package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// summary is one target's figures over all rounds.
type summary struct {
	name        string
	requests    int
	failures    int
	elapsed     time.Duration
	rps         float64 // requests / elapsed
	bestRPS     float64 // of the fastest round
	p50, p99    time.Duration
	maxLatency  time.Duration
	serverCPU   time.Duration // total over the rounds where it was measured
	cpuRequests int           // requests of those rounds
	clientCPU   time.Duration
}

// summarize merges the rounds of one target.
func summarize(name string, rounds []round) summary {
	s := summary{name: name}
	var lat []time.Duration
	for _, r := range rounds {
		s.requests += r.requests
		s.failures += r.failures
		s.elapsed += r.elapsed
		lat = append(lat, r.latencies...)
		s.clientCPU += r.clientCPU
		if r.cpuKnown {
			s.serverCPU += r.serverCPU
			s.cpuRequests += r.requests
		}
		if r.elapsed > 0 {
			s.bestRPS = max(s.bestRPS, float64(r.requests)/r.elapsed.Seconds())
		}
	}
	if s.elapsed > 0 {
		s.rps = float64(s.requests) / s.elapsed.Seconds()
	}
	slices.Sort(lat)
	s.p50 = percentile(lat, 50)
	s.p99 = percentile(lat, 99)
	if len(lat) > 0 {
		s.maxLatency = lat[len(lat)-1]
	}
	return s
}

// cpuPerRequest is the server's CPU time per answered request, or 0.
func (s summary) cpuPerRequest() time.Duration {
	if s.cpuRequests == 0 {
		return 0
	}
	return s.serverCPU / time.Duration(s.cpuRequests)
}

// load returns how many CPUs a CPU time kept busy over the rounds.
func (s summary) load(cpu time.Duration) float64 {
	if s.elapsed == 0 {
		return 0
	}
	return cpu.Seconds() / s.elapsed.Seconds()
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value with at least p% of the values at or below
// it. It returns 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// usage is what plangrep's usage tracker wrote during the run.
type usage struct {
	keys     int           // keys used (the readers and the jobs writer)
	interval time.Duration // plangrep's -usage-interval
	lived    time.Duration // plangrep's lifetime
	requests int           // requests plangrep answered with a key
	writes   uint64        // RecordUsage calls (batches)
	records  uint64        // usage records written
	dropped  uint64
	failures uint64
}

// parseUsage reads the fields of plangrep's "usage tracker stats" line.
func parseUsage(f map[string]string) (usage, error) {
	var u usage
	for _, v := range []struct {
		name string
		dst  *uint64
	}{{"writes", &u.writes}, {"records", &u.records}, {"dropped", &u.dropped}, {"failures", &u.failures}} {
		n, err := strconv.ParseUint(f[v.name], 10, 64)
		if err != nil {
			return usage{}, fmt.Errorf("usage stats line: field %q: %w", v.name, err)
		}
		*v.dst = n
	}
	return u, nil
}

// flushes is the most flushes the tracker can have made: one per interval
// of the process's life, plus the one at shutdown.
func (u usage) flushes() uint64 {
	if u.interval <= 0 {
		return 1
	}
	return uint64(u.lived/u.interval) + 1
}

// maxRecords is the bound coalescing guarantees: one record per key per
// flush.
func (u usage) maxRecords() uint64 { return uint64(u.keys) * u.flushes() }

// report is the outcome of a load test.
type report struct {
	cfg         config
	cpus        int
	body        int // response bytes
	bare        summary
	plangrep    summary
	usage       usage
	all         []summary    // every target, in order
	comparisons []comparison // every target with a base, plangrep / bare first
}

// comparison is one target's throughput against its base's.
type comparison struct {
	name, base string
	ratio      float64 // over all rounds
	best       float64 // fastest round against fastest round
	median     float64 // median of the rounds' ratios (round i against round i)
}

// compare compares the rounds of name with those of base.
func compare(name, base string, subject, baseline []round) comparison {
	s, b := summarize(name, subject), summarize(base, baseline)
	c := comparison{name: name, base: base}
	if b.rps > 0 {
		c.ratio = s.rps / b.rps
	}
	if b.bestRPS > 0 {
		c.best = s.bestRPS / b.bestRPS
	}
	var per []float64
	for i := range min(len(subject), len(baseline)) {
		if rs, rb := subject[i].rps(), baseline[i].rps(); rb > 0 {
			per = append(per, rs/rb)
		}
	}
	c.median = median(per)
	return c
}

// median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// comparisonLabels describe the targets compared, for the report.
var comparisonLabels = map[string]string{
	"plangrep": "plangrep",
	"pk":       "projectkeys, keys without controls",
	"pk+limit": "projectkeys, keys with a rate limit (in-process)",
	"pk+redis": "projectkeys, keys with a rate limit (Redis, -redis)",
}

// ratio is plangrep's throughput as a fraction of the bare handler's.
func (r report) ratio() float64 {
	if r.bare.rps == 0 {
		return 0
	}
	return r.plangrep.rps / r.bare.rps
}

// bestRatio compares the fastest rounds of each.
func (r report) bestRatio() float64 {
	if r.bare.bestRPS == 0 {
		return 0
	}
	return r.plangrep.bestRPS / r.bare.bestRPS
}

// cpuRatio is the bare handler's server CPU per request as a fraction of
// plangrep's: the throughput ratio the two would show if each had a CPU to
// itself. It is steadier than the throughput ratio on a shared machine.
func (r report) cpuRatio() float64 {
	if r.plangrep.cpuPerRequest() == 0 {
		return 0
	}
	return float64(r.bare.cpuPerRequest()) / float64(r.plangrep.cpuPerRequest())
}

// problems lists what makes the run fail: failed requests, usage records
// beyond the coalescing bound, usage flushes that failed.
func (r report) problems() []string {
	var out []string
	for _, s := range []summary{r.bare, r.plangrep} {
		if s.failures > 0 {
			out = append(out, fmt.Sprintf("%s: %d requests failed", s.name, s.failures))
		}
	}
	if r.usage.records > r.usage.maxRecords() {
		out = append(out, fmt.Sprintf("usage: %d records written, more than %d keys x %d flushes",
			r.usage.records, r.usage.keys, r.usage.flushes()))
	}
	if r.usage.failures > 0 {
		out = append(out, fmt.Sprintf("usage: %d flushes failed", r.usage.failures))
	}
	return out
}

// write prints the report.
func (r report) write(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "\n%d workers, %d keys, %d rounds of %v per server (+%v warm-up), response %d bytes\n",
		c.Concurrency, c.Keys, c.Rounds, c.Duration/time.Duration(max(c.Rounds, 1)), c.Warmup, r.body)
	fmt.Fprintf(w, "CPUs %d; GOMAXPROCS: each server %d, load generator %d\n\n", r.cpus, c.ServerProcs, c.ClientProcs)
	fmt.Fprintf(w, "%-12s %9s %8s %8s %8s %8s %8s %11s %11s %8s\n",
		"server", "requests", "req/s", "p50", "p99", "max", "failures", "server CPUs", "client CPUs", "CPU/req")
	all := r.all
	if len(all) == 0 {
		all = []summary{r.bare, r.plangrep}
	}
	for _, s := range all {
		fmt.Fprintf(w, "%-12s %9d %8.0f %8s %8s %8s %8d %11.2f %11.2f %8s\n", s.name, s.requests, s.rps,
			fmtDur(s.p50), fmtDur(s.p99), fmtDur(s.maxLatency), s.failures,
			s.load(s.serverCPU), s.load(s.clientCPU), fmtDur(s.cpuPerRequest()))
	}
	fmt.Fprintln(w)
	for _, c := range r.comparisons {
		label := comparisonLabels[c.name]
		if label == "" {
			label = c.name
		}
		fmt.Fprintf(w, "%s / %s throughput: median of rounds %.1f%%, all rounds %.1f%%, fastest rounds %.1f%%\n",
			label, c.base, 100*c.median, 100*c.ratio, 100*c.best)
	}
	if len(r.comparisons) == 0 {
		fmt.Fprintf(w, "plangrep / bare throughput: all rounds %.1f%%, fastest rounds %.1f%%\n", 100*r.ratio(), 100*r.bestRatio())
	}
	if r.cpuRatio() > 0 {
		fmt.Fprintf(w, "server CPU per request: bare %s, plangrep %s: bare / plangrep %.1f%%\n",
			fmtDur(r.bare.cpuPerRequest()), fmtDur(r.plangrep.cpuPerRequest()), 100*r.cpuRatio())
	}
	u := r.usage
	perRecord := 0.0
	if u.records > 0 {
		perRecord = float64(u.requests) / float64(u.records)
	}
	fmt.Fprintf(w, "store writes for usage: %d RecordUsage batches, %d records (%d keys, %v interval, plangrep lived %v: at most %d flushes, bound %d records); %d requests, %.0f requests per record; dropped %d, failed %d\n",
		u.writes, u.records, u.keys, u.interval, u.lived.Round(100*time.Millisecond), u.flushes(), u.maxRecords(),
		u.requests, perRecord, u.dropped, u.failures)
}

// fmtDur prints a latency in microseconds or milliseconds.
func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + "us"
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}
