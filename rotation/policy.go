package rotation

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/apikit/apikey"
)

// maxWebhookURLLen bounds a rotation webhook URL.
const maxWebhookURLLen = 2048

// WebhookPolicy says which rotation webhook URLs Create accepts (through
// Webhooks) and which
// addresses the default HTTP delivery connects to. The zero value is the
// safe default: https only, to public addresses only. Loopback, private,
// link-local (such as the cloud metadata address 169.254.169.254),
// unspecified, multicast, and every other special-purpose range the IANA
// registries mark not globally reachable (benchmarking, documentation,
// reserved, ...) are refused, also when embedded in an IPv6 address
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo), and so is the host
// name "localhost": a webhook URL is chosen by whoever creates a key, and must not
// let them make the server POST to its own network (SSRF).
//
// Since a host name can resolve anywhere, the default delivery checks the
// address it actually connects to against the same policy.
type WebhookPolicy struct {
	// AllowLoopback accepts loopback targets (127.0.0.0/8, ::1, localhost),
	// over http as well as https. For development and tests only.
	AllowLoopback bool
	// AllowPrivate accepts private targets (10.0.0.0/8, 172.16.0.0/12,
	// 192.168.0.0/16, 100.64.0.0/10, fc00::/7) over https, for receivers
	// inside your own network. Anyone who can create a key can then reach
	// those addresses with a POST.
	AllowPrivate bool
}

// CheckURL reports whether raw is an acceptable webhook URL under p: an
// absolute https URL (http only for loopback targets when AllowLoopback is
// set) with a host, no user information, and no host that is a refused IP
// literal or "localhost". Host names are not resolved here; the default
// delivery checks the address it connects to.
func (p WebhookPolicy) CheckURL(raw string) error {
	if len(raw) > maxWebhookURLLen {
		return fmt.Errorf("%w: webhook URL longer than %d bytes", apikey.ErrInvalid, maxWebhookURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: webhook URL does not parse", apikey.ErrInvalid)
	}
	host := u.Hostname()
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("%w: webhook URL must be https", apikey.ErrInvalid)
	case host == "" || u.Opaque != "":
		return fmt.Errorf("%w: webhook URL needs a host", apikey.ErrInvalid)
	case u.User != nil:
		return fmt.Errorf("%w: webhook URL must not hold user information", apikey.ErrInvalid)
	}
	loopback := false
	if isLocalhostName(host) {
		loopback = true
	} else if addr, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckAddr(addr); err != nil {
			return err
		}
		loopback = reachesLoopback(addr)
	}
	if loopback && !p.AllowLoopback {
		return fmt.Errorf("%w: webhook URL must not name a loopback host", apikey.ErrInvalid)
	}
	if u.Scheme == "http" && !loopback {
		return fmt.Errorf("%w: webhook URL must be https", apikey.ErrInvalid)
	}
	return nil
}

// reachesLoopback reports whether a connection to addr reaches this host's
// loopback: a loopback address, IPv4-mapped or not, or one embedded in an
// IPv6 address (such as the IPv4-compatible ::127.0.0.1).
func reachesLoopback(addr netip.Addr) bool {
	a := addr.WithZone("").Unmap()
	if a.IsLoopback() {
		return true
	}
	if a.Is6() {
		if v4s, ok := embeddedIPv4(a); ok {
			for _, v4 := range v4s {
				if v4.IsLoopback() {
					return true
				}
			}
		}
	}
	return false
}

// isLocalhostName reports whether host is "localhost" or a name under it
// (RFC 6761 reserves both for loopback).
func isLocalhostName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// CheckAddr reports whether p allows connecting to addr. It refuses every
// special-purpose range of the IANA IPv4 and IPv6 registries that is not
// globally reachable (see ranges.go for the list, with the RFCs),
// multicast, and any IPv6 address outside 2000::/3; an IPv6 address that
// embeds an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4,
// Teredo) is judged by the IPv4 address it reaches. Loopback and private
// ranges are allowed only by AllowLoopback and AllowPrivate.
func (p WebhookPolicy) CheckAddr(addr netip.Addr) error {
	a := addr.WithZone("").Unmap()
	if !a.IsValid() {
		return fmt.Errorf("%w: invalid webhook address", apikey.ErrInvalid)
	}
	if a.Is6() && !a.IsLoopback() && !a.IsUnspecified() {
		if v4s, ok := embeddedIPv4(a); ok {
			for _, v4 := range v4s {
				if err := p.check4(v4); err != nil {
					return fmt.Errorf("%w (embedded in %s)", err, a)
				}
			}
			return nil
		}
		return p.check6(a)
	}
	if a.Is4() {
		return p.check4(a)
	}
	return p.check6(a)
}

// check4 judges an IPv4 address.
func (p WebhookPolicy) check4(a netip.Addr) error {
	if a.IsLoopback() {
		return p.loopback(a)
	}
	if s, ok := lookup(private4, a); ok {
		if p.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%w: webhook address %s is private (%s)", apikey.ErrInvalid, a, s.name)
	}
	if s, ok := lookup(refused4, a); ok {
		return fmt.Errorf("%w: webhook address %s is not globally reachable (%s)", apikey.ErrInvalid, a, s.name)
	}
	return nil
}

// check6 judges an IPv6 address that embeds no IPv4 address.
func (p WebhookPolicy) check6(a netip.Addr) error {
	switch {
	case a.IsLoopback():
		return p.loopback(a)
	case uniqueLocal6.Contains(a):
		if p.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%w: webhook address %s is private (Unique-Local, RFC 4193)", apikey.ErrInvalid, a)
	case !globalUnicast6.Contains(a):
		return fmt.Errorf("%w: webhook address %s is not global unicast (outside 2000::/3)", apikey.ErrInvalid, a)
	}
	if s, ok := lookup(refused6, a); ok {
		return fmt.Errorf("%w: webhook address %s is not globally reachable (%s)", apikey.ErrInvalid, a, s.name)
	}
	if ietfAssignments6.Contains(a) {
		if _, ok := lookup(globalIn6, a); !ok {
			return fmt.Errorf("%w: webhook address %s is not globally reachable (IETF Protocol Assignments, RFC 2928)", apikey.ErrInvalid, a)
		}
	}
	return nil
}

// loopback judges a loopback address.
func (p WebhookPolicy) loopback(a netip.Addr) error {
	if p.AllowLoopback {
		return nil
	}
	return fmt.Errorf("%w: webhook address %s is loopback", apikey.ErrInvalid, a)
}

// dialControl is a net.Dialer Control function that refuses connections to
// addresses p does not allow, after DNS resolution.
func (p WebhookPolicy) dialControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: webhook address %q", apikey.ErrInvalid, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: webhook address %q is not an IP address", apikey.ErrInvalid, host)
	}
	return p.CheckAddr(addr.WithZone(""))
}
