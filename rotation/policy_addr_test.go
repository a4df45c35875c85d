package rotation_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/apikit/apikey"
	"github.com/apikit/apikey/rotation"
)

// Every special-purpose range of the IANA IPv4 and IPv6 registries that is
// not globally reachable is refused, and so is any public-looking IPv6
// address that embeds a refused IPv4 address (IPv4-mapped, IPv4-compatible,
// NAT64, 6to4, Teredo).
func TestWebhookPolicyRefusesSpecialPurpose(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		// Public.
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"2606:4700::1111", true}, {"2a00:1450:4001::200e", true},
		{"192.31.196.1", true},                         // AS112-v4, globally reachable
		{"2001:4:112::1", true},                        // AS112-v6, globally reachable
		{"64:ff9b::8.8.8.8", true},                     // NAT64 of a public address
		{"2002:0808:0808::1", true},                    // 6to4 of 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", true}, // Teredo, client 8.8.8.8 (obfuscated)
		// IPv4 registry.
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"10.1.2.3", false}, {"100.64.0.1", false},
		{"127.0.0.2", false}, {"169.254.169.254", false}, {"172.16.0.1", false}, {"192.0.0.1", false},
		{"192.0.0.8", false}, {"192.0.0.170", false}, {"192.0.2.1", false}, {"192.88.99.1", false},
		{"192.168.1.1", false}, {"198.18.0.1", false}, {"198.19.255.254", false}, {"198.51.100.1", false},
		{"203.0.113.1", false}, {"240.0.0.1", false}, {"250.1.2.3", false}, {"255.255.255.255", false},
		{"224.0.0.1", false}, {"239.255.255.250", false},
		// IPv6 registry.
		{"::", false}, {"::1", false}, {"64:ff9b:1::1", false}, {"100::1", false}, {"2001::1", false},
		{"2001:2::1", false}, {"2001:10::1", false}, {"2001:db8::1", false}, {"3fff::1", false},
		{"5f00::1", false}, {"fc00::1", false}, {"fd12:3456::1", false}, {"fe80::1", false},
		{"fec0::1", false}, {"ff02::1", false}, {"ff0e::1", false}, {"4000::1", false},
		// Embedded IPv4.
		{"::ffff:10.0.0.1", false}, {"::ffff:127.0.0.1", false},
		{"::127.0.0.1", false}, {"::10.0.0.1", false}, {"::169.254.169.254", false},
		{"64:ff9b::127.0.0.1", false}, {"64:ff9b::10.0.0.1", false}, {"64:ff9b::169.254.169.254", false},
		{"2002:7f00:0001::1", false}, {"2002:0a00:0001::1", false}, {"2002:a9fe:a9fe::1", false},
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false}, // Teredo, client 127.0.0.1
		{"2001:0:0a00:0001:8000:63bf:f7f7:f7f7", false}, // Teredo, server 10.0.0.1
	}
	for _, c := range cases {
		err := rotation.WebhookPolicy{}.CheckAddr(netip.MustParseAddr(c.addr))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.addr, err, c.ok)
		}
		if err != nil && !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%s: %v does not wrap ErrInvalid", c.addr, err)
		}
	}
	// AllowPrivate lets private ranges through, embedded or not, and
	// nothing else; AllowLoopback lets loopback through.
	for _, c := range []struct {
		p    rotation.WebhookPolicy
		addr string
		ok   bool
	}{
		{rotation.WebhookPolicy{AllowPrivate: true}, "10.0.0.1", true},
		{rotation.WebhookPolicy{AllowPrivate: true}, "::ffff:10.0.0.1", true},
		{rotation.WebhookPolicy{AllowPrivate: true}, "fd00::1", true},
		{rotation.WebhookPolicy{AllowPrivate: true}, "198.18.0.1", false},
		{rotation.WebhookPolicy{AllowPrivate: true}, "::127.0.0.1", false},
		{rotation.WebhookPolicy{AllowLoopback: true}, "127.0.0.1", true},
		{rotation.WebhookPolicy{AllowLoopback: true}, "::1", true},
		{rotation.WebhookPolicy{AllowLoopback: true}, "169.254.169.254", false},
	} {
		if err := c.p.CheckAddr(netip.MustParseAddr(c.addr)); (err == nil) != c.ok {
			t.Errorf("%+v %s: %v, want ok=%v", c.p, c.addr, err, c.ok)
		}
	}
}

// At connect time (DNS rebinding, or a URL that skipped CheckURL), the
// default delivery refuses every spelling of a loopback receiver, the
// IPv4-compatible [::127.0.0.1] included, and never reaches it.
func TestWebhookClientRefusesEmbeddedIPv4AtConnect(t *testing.T) {
	rc := newReceiver(t) // listens on 127.0.0.1
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rc.srv.URL, "http://"))
	deliver := rotation.HTTPDelivery(rotation.NewWebhookClient(rotation.WebhookPolicy{}, time.Second))
	for _, host := range []string{"127.0.0.1", "[::127.0.0.1]", "[::ffff:127.0.0.1]", "[64:ff9b::127.0.0.1]", "[2002:7f00:1::1]"} {
		for _, scheme := range []string{"https", "http"} {
			url := scheme + "://" + host + ":" + port + "/hook"
			ev := rotation.Event{Type: rotation.EventType, Key: apikey.NewSecret("prk_live_x"), Timestamp: 1, URL: url}
			err := deliver(context.Background(), ev, apikey.NewSecret("whsec_x"))
			if !errors.Is(err, apikey.ErrInvalid) {
				t.Errorf("%s: %v, want a refusal wrapping ErrInvalid", url, err)
			}
			if err := (rotation.WebhookPolicy{}).CheckURL(url); err == nil {
				t.Errorf("CheckURL(%s) accepted it", url)
			}
		}
	}
	if n := len(rc.deliveries()); n != 0 {
		t.Fatalf("%d requests reached the loopback receiver", n)
	}
}
