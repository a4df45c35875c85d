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
// unspecified and multicast addresses are refused, and so is the host name
// "localhost": a webhook URL is chosen by whoever creates a key, and must not
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
		loopback = addr.Unmap().IsLoopback()
	}
	if loopback && !p.AllowLoopback {
		return fmt.Errorf("%w: webhook URL must not name a loopback host", apikey.ErrInvalid)
	}
	if u.Scheme == "http" && !loopback {
		return fmt.Errorf("%w: webhook URL must be https", apikey.ErrInvalid)
	}
	return nil
}

// isLocalhostName reports whether host is "localhost" or a name under it
// (RFC 6761 reserves both for loopback).
func isLocalhostName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// private100 is the shared address space (RFC 6598), private in practice.
var private100 = netip.MustParsePrefix("100.64.0.0/10")

// CheckAddr reports whether p allows connecting to addr.
func (p WebhookPolicy) CheckAddr(addr netip.Addr) error {
	a := addr.Unmap()
	switch {
	case !a.IsValid():
		return fmt.Errorf("%w: invalid webhook address", apikey.ErrInvalid)
	case a.IsLoopback():
		if p.AllowLoopback {
			return nil
		}
		return fmt.Errorf("%w: webhook address %s is loopback", apikey.ErrInvalid, a)
	case a.IsUnspecified(), a.IsMulticast(), a.IsInterfaceLocalMulticast(),
		a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return fmt.Errorf("%w: webhook address %s is not a unicast public address", apikey.ErrInvalid, a)
	case a.IsPrivate() || private100.Contains(a):
		if p.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%w: webhook address %s is private", apikey.ErrInvalid, a)
	case a.Is4() && a.As4()[0] == 0:
		return fmt.Errorf("%w: webhook address %s is not routable", apikey.ErrInvalid, a)
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%w: webhook address %s is broadcast", apikey.ErrInvalid, a)
	}
	return nil
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
