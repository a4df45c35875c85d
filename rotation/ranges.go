package rotation

import "net/netip"

// specialRange is an entry of the IANA IPv4 or IPv6 Special-Purpose Address
// Registry (RFC 6890) whose addresses are not globally reachable, or that
// no webhook receiver can live at.
type specialRange struct {
	prefix netip.Prefix
	name   string // the registry's name, with the defining RFC
}

func special(p, name string) specialRange { return specialRange{netip.MustParsePrefix(p), name} }

// refused4 lists the IPv4 ranges a webhook may never target, from the IANA
// IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry,
// entries whose "Globally Reachable" is False), plus multicast (RFC 5771),
// which that registry does not list. Loopback (127.0.0.0/8) and the
// private ranges are handled before this table (WebhookPolicy options).
//
// Two globally reachable /32s inside 192.0.0.0/24 (192.0.0.9 PCP anycast,
// RFC 7723; 192.0.0.10 TURN anycast, RFC 8155) are refused with the block:
// no webhook receiver lives at an anycast protocol address. 192.88.99.0/24
// (6to4 relay anycast, deprecated by RFC 7526) is refused whole too.
var refused4 = []specialRange{
	special("0.0.0.0/8", `"This network", RFC 791 section 3.2 / RFC 1122`),
	special("169.254.0.0/16", "Link Local, RFC 3927"),
	special("192.0.0.0/24", "IETF Protocol Assignments, RFC 6890 (incl. 192.0.0.0/29 RFC 7335, 192.0.0.8 RFC 7600, 192.0.0.170-171 RFC 8880)"),
	special("192.0.2.0/24", "Documentation (TEST-NET-1), RFC 5737"),
	special("192.88.99.0/24", "Deprecated 6to4 Relay Anycast, RFC 7526"),
	special("198.18.0.0/15", "Benchmarking, RFC 2544"),
	special("198.51.100.0/24", "Documentation (TEST-NET-2), RFC 5737"),
	special("203.0.113.0/24", "Documentation (TEST-NET-3), RFC 5737"),
	special("224.0.0.0/4", "Multicast, RFC 5771"),
	special("240.0.0.0/4", "Reserved, RFC 1112 section 4"),
	special("255.255.255.255/32", "Limited Broadcast, RFC 919 / RFC 8190"),
}

// private4 are the IPv4 ranges WebhookPolicy.AllowPrivate opens.
var private4 = []specialRange{
	special("10.0.0.0/8", "Private-Use, RFC 1918"),
	special("100.64.0.0/10", "Shared Address Space, RFC 6598"),
	special("172.16.0.0/12", "Private-Use, RFC 1918"),
	special("192.168.0.0/16", "Private-Use, RFC 1918"),
}

// globalUnicast6 is where IANA assigns IPv6 unicast space (RFC 4291,
// iana-ipv6-unicast-address-assignments). Everything outside it is refused
// except what is decoded to IPv4 first (IPv4-mapped, IPv4-compatible,
// NAT64 64:ff9b::/96), loopback (AllowLoopback) and unique-local
// (AllowPrivate); that covers, from the IANA IPv6 Special-Purpose Address
// Registry, ::/128 (RFC 4291), 64:ff9b:1::/48 (local-use translation, RFC
// 8215), 100::/64 (discard-only, RFC 6666), 100:0:0:1::/64 (dummy prefix,
// RFC 9780), 5f00::/16 (SRv6 SIDs, RFC 9602), fe80::/10 (link-local, RFC
// 4291), and besides the registry fec0::/10 (site-local, RFC 3879) and
// ff00::/8 (multicast, RFC 4291).
var globalUnicast6 = netip.MustParsePrefix("2000::/3")

// refused6 lists the ranges inside 2000::/3 that the IANA IPv6
// Special-Purpose Address Registry marks not globally reachable. The
// globally reachable entries inside 2001::/23 (2001:1::1-3 anycast, RFC
// 7723 / 8155 / 9665; 2001:3::/32 AMT, RFC 7450; 2001:4:112::/48 AS112-v6,
// RFC 7535; 2001:20::/28 ORCHIDv2, RFC 7343; 2001:30::/28 DETs, RFC 9374)
// stay allowed; Teredo (2001::/32) and 6to4 (2002::/16) are decoded to
// their IPv4 addresses instead.
var refused6 = []specialRange{
	special("2001:2::/48", "Benchmarking, RFC 5180"),
	special("2001:10::/28", "Deprecated (previously ORCHID), RFC 4843"),
	special("2001:db8::/32", "Documentation, RFC 3849"),
	special("3fff::/20", "Documentation, RFC 9637"),
}

// ietfAssignments6 is 2001::/23 (IETF Protocol Assignments, RFC 2928: not
// globally reachable), and globalIn6 its globally reachable entries.
var (
	ietfAssignments6 = netip.MustParsePrefix("2001::/23")
	globalIn6        = []specialRange{
		special("2001:1::1/128", "Port Control Protocol Anycast, RFC 7723"),
		special("2001:1::2/128", "TURN Anycast, RFC 8155"),
		special("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast, RFC 9665"),
		special("2001:3::/32", "AMT, RFC 7450"),
		special("2001:4:112::/48", "AS112-v6, RFC 7535"),
		special("2001:20::/28", "ORCHIDv2, RFC 7343"),
		special("2001:30::/28", "Drone Remote ID Protocol Entity Tags, RFC 9374"),
	}
)

// Prefixes whose addresses embed an IPv4 address.
var (
	ipv4Compatible = netip.MustParsePrefix("::/96")        // deprecated, RFC 4291 section 2.5.5.1
	nat64          = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052
	sixToFour      = netip.MustParsePrefix("2002::/16")    // RFC 3056
	teredo         = netip.MustParsePrefix("2001::/32")    // RFC 4380
	uniqueLocal6   = netip.MustParsePrefix("fc00::/7")     // RFC 4193
)

// embeddedIPv4 returns the IPv4 addresses a connection to the IPv6 address
// a may reach: the one an IPv4-compatible, NAT64 or 6to4 address embeds,
// or a Teredo address's server and (de-obfuscated) client. ok is false for
// an address that embeds none.
func embeddedIPv4(a netip.Addr) (v4 []netip.Addr, ok bool) {
	b := a.As16()
	at := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{b[i], b[i+1], b[i+2], b[i+3]}) }
	switch {
	case ipv4Compatible.Contains(a):
		return []netip.Addr{at(12)}, true
	case nat64.Contains(a):
		return []netip.Addr{at(12)}, true
	case sixToFour.Contains(a):
		return []netip.Addr{at(2)}, true
	case teredo.Contains(a):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{at(4), netip.AddrFrom4(client)}, true
	}
	return nil, false
}

// lookup returns the range of rs holding a, if any.
func lookup(rs []specialRange, a netip.Addr) (specialRange, bool) {
	for _, s := range rs {
		if s.prefix.Contains(a) {
			return s, true
		}
	}
	return specialRange{}, false
}
