package apikey

import (
	"fmt"
	"net/netip"
	"time"
)

// Bounds of the key controls, checked by Create and Update (ErrInvalid
// naming the field).
const (
	MaxRateLimits     = 16                   // rate limits per key
	MaxRateLimit      = 1_000_000_000        // Limit of one rate limit
	MinRateWindow     = time.Millisecond     // shortest Window
	MaxRateWindow     = 365 * 24 * time.Hour // longest Window (one year)
	MaxIPAllowlist    = 64                   // prefixes in an IP allowlist
	MinRefillInterval = time.Second          // shortest Credits.RefillInterval
	MaxRefillInterval = 365 * 24 * time.Hour // longest Credits.RefillInterval
	maxRateLimitName  = 64                   // bytes in a rate limit name
)

// CheckRateLimits reports the first invalid rate limit, if any: more than
// MaxRateLimits, a name that is empty, longer than 64 bytes or not made of
// letters, digits, '_', '-' and '.', a duplicate name, a Limit outside 1 to
// MaxRateLimit, or a Window outside MinRateWindow to MaxRateWindow. The
// error wraps ErrInvalid and names the field ("rateLimits[2].window").
func CheckRateLimits(limits []RateLimit) error {
	if len(limits) > MaxRateLimits {
		return fmt.Errorf("%w: rateLimits: at most %d limits per key", ErrInvalid, MaxRateLimits)
	}
	for i, l := range limits {
		if l.Name == "" || len(l.Name) > maxRateLimitName || !isLimitName(l.Name) {
			return fmt.Errorf("%w: rateLimits[%d].name must be 1-%d letters, digits, '_', '-' or '.'", ErrInvalid, i, maxRateLimitName)
		}
		for _, o := range limits[:i] {
			if o.Name == l.Name {
				return fmt.Errorf("%w: rateLimits[%d].name %q is a duplicate", ErrInvalid, i, l.Name)
			}
		}
		if l.Limit < 1 || l.Limit > MaxRateLimit {
			return fmt.Errorf("%w: rateLimits[%d].limit must be 1 to %d", ErrInvalid, i, MaxRateLimit)
		}
		if l.Window < MinRateWindow || l.Window > MaxRateWindow {
			return fmt.Errorf("%w: rateLimits[%d].window must be %v to %v", ErrInvalid, i, MinRateWindow, MaxRateWindow)
		}
	}
	return nil
}

func isLimitName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// CheckCredits reports whether c is invalid: Remaining or RefillAmount
// negative or over MaxCredits, or a RefillInterval that is neither zero nor
// MinRefillInterval to MaxRefillInterval. Nil is valid (unlimited).
func CheckCredits(c *Credits) error {
	switch {
	case c == nil:
		return nil
	case c.Remaining < 0 || c.Remaining > MaxCredits:
		return fmt.Errorf("%w: credits.remaining must be 0 to %d", ErrInvalid, MaxCredits)
	case c.RefillAmount < 0 || c.RefillAmount > MaxCredits:
		return fmt.Errorf("%w: credits.refillAmount must be 0 to %d", ErrInvalid, MaxCredits)
	case c.RefillInterval != 0 && (c.RefillInterval < MinRefillInterval || c.RefillInterval > MaxRefillInterval):
		return fmt.Errorf("%w: credits.refillInterval must be 0 (no refill) or %v to %v", ErrInvalid, MinRefillInterval, MaxRefillInterval)
	}
	return nil
}

// CheckIPAllowlist reports whether list is invalid: more than
// MaxIPAllowlist prefixes, or one that is not valid.
func CheckIPAllowlist(list []netip.Prefix) error {
	if len(list) > MaxIPAllowlist {
		return fmt.Errorf("%w: ipAllowlist: at most %d prefixes", ErrInvalid, MaxIPAllowlist)
	}
	for i, p := range list {
		if !p.IsValid() {
			return fmt.Errorf("%w: ipAllowlist[%d] is not a valid prefix", ErrInvalid, i)
		}
	}
	return nil
}

// ParseIPAllowlist parses CIDR prefixes or single addresses ("10.0.0.0/8",
// "2001:db8::1") into an allowlist: masked, IPv4-mapped IPv6 unmapped. It
// fails (ErrInvalid naming the entry) on a bad entry or more than
// MaxIPAllowlist entries.
func ParseIPAllowlist(cidrs ...string) ([]netip.Prefix, error) {
	if len(cidrs) > MaxIPAllowlist {
		return nil, fmt.Errorf("%w: ipAllowlist: at most %d prefixes", ErrInvalid, MaxIPAllowlist)
	}
	out := make([]netip.Prefix, 0, len(cidrs))
	for i, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%w: ipAllowlist[%d] %q is not a CIDR prefix or an address", ErrInvalid, i, s)
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, normPrefix(p))
	}
	return out, nil
}

// normPrefix masks p and unmaps an IPv4-mapped IPv6 prefix.
func normPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// checkControls validates the controls of a new or updated key and
// normalises them in place.
func checkControls(limits []RateLimit, c *Credits, ips []netip.Prefix) error {
	if err := CheckRateLimits(limits); err != nil {
		return err
	}
	if err := CheckCredits(c); err != nil {
		return err
	}
	if err := CheckIPAllowlist(ips); err != nil {
		return err
	}
	for i := range ips {
		ips[i] = normPrefix(ips[i])
	}
	return nil
}

// ipAllowed reports whether addr is inside one of the key's prefixes. An
// invalid addr (unknown client address) is never allowed.
func ipAllowed(list []netip.Prefix, addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	for _, p := range list {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
