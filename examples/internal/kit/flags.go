package kit

import (
	"flag"
	"time"
)

// Config is what every example server takes from its command line.
type Config struct {
	// Addr is the listen address (-addr).
	Addr string
	// DB names the store (-db): "memory", "sqlite:PATH", "postgres://...",
	// or "mysql:<go-sql-driver DSN>".
	DB string
	// Dev enables the /dev endpoints (-dev).
	Dev bool
	// UsageInterval is how often last-used data is written (-usage-interval).
	UsageInterval time.Duration
	// MaxAuthFailures is how many failed key verifications a client address
	// may make per minute before it gets 429 (-max-auth-failures); 0 turns
	// the throttle off. See AuthThrottle.
	MaxAuthFailures int
	// MetricsAddr, when set, serves Prometheus metrics at /metrics on
	// that address (-metrics-addr); empty (the default) serves none. See
	// StartMetrics.
	MetricsAddr string
	// MaxKeys is how many active keys one tenant may hold (-max-keys); 0
	// means no limit. See CheckKeyLimit.
	MaxKeys int
}

// RegisterFlags registers the common flags on fs with defaults for the
// server called name (the default database is sqlite:<name>.db).
func RegisterFlags(fs *flag.FlagSet, name string) *Config {
	c := &Config{}
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&c.DB, "db", "sqlite:"+name+".db", `store: "memory", "sqlite:PATH", "postgres://...", or "mysql:<DSN>"`)
	fs.BoolVar(&c.Dev, "dev", false, "enable POST /dev/clock and POST /dev/bootstrap (never in production)")
	fs.DurationVar(&c.UsageInterval, "usage-interval", time.Second, "how often last-used data is flushed to the store")
	fs.IntVar(&c.MaxAuthFailures, "max-auth-failures", 0, "failed API key verifications allowed per client address per minute before 429 (0: no throttle)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at /metrics on this address, such as 127.0.0.1:9090 (default: off)")
	fs.IntVar(&c.MaxKeys, "max-keys", DefaultMaxKeys, "most active keys one tenant may hold; creating more is refused 409 (0: no limit)")
	return c
}
