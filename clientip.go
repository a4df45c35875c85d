package apikey

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies parses proxy addresses for ClientIP: CIDR prefixes
// ("10.0.0.0/8", "2001:db8::/32") or single addresses ("10.0.0.1"). An
// invalid entry gives an error wrapping ErrInvalid.
func ParseTrustedProxies(cidrs ...string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(cidrs))
	for _, s := range cidrs {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: trusted proxy %q is neither a CIDR prefix nor an IP address", ErrInvalid, s)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ClientIP returns the address of the client that sent r.
//
// With no trusted proxies it is the connection's address (the host of
// r.RemoteAddr) and X-Forwarded-For is ignored: any client can write that
// header. With trusted proxies, and only when the connection itself comes
// from one of them, it walks X-Forwarded-For from the right (the entries
// appended by the proxies nearest to this server) and returns the first
// address that is not a trusted proxy. If every entry is trusted, or an
// entry is not an IP address, it returns the last trusted address seen:
// nothing further left can be believed.
//
// The result is an IP address in text form, or r.RemoteAddr unchanged when
// that is not host:port (a Unix socket, a test request).
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := remoteHost(r.RemoteAddr)
	if len(trusted) == 0 {
		return peer
	}
	pa, err := netip.ParseAddr(peer)
	if err != nil || !isTrusted(pa, trusted) {
		return peer
	}
	last := peer
	values := r.Header["X-Forwarded-For"]
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var part string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				part, v = v[j+1:], v[:j]
			} else {
				part, v = v, ""
			}
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, text, ok := parseForwarded(part)
			if !ok {
				return last
			}
			if !isTrusted(a, trusted) {
				return text
			}
			last = text
		}
	}
	return last
}

// remoteHost returns the host part of a RemoteAddr, or the whole value when
// it is not host:port.
func remoteHost(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// parseForwarded parses one X-Forwarded-For entry: an address, possibly
// with a port ("1.2.3.4:80", "[2001:db8::1]:443"). It returns the address
// and its text (the entry itself when it is a bare address, so the common
// case does not allocate).
func parseForwarded(s string) (netip.Addr, string, bool) {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), s, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		a := ap.Addr().Unmap()
		return a, a.String(), true
	}
	return netip.Addr{}, "", false
}

// isTrusted reports whether a lies in one of the trusted prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
