package apikey_test

import (
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/apikit/apikey"
)

func TestClientIP(t *testing.T) {
	trusted, err := apikey.ParseTrustedProxies("10.0.0.0/8", "2001:db8::/32", "192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies, no header", "203.0.113.5:1234", nil, nil, "203.0.113.5"},
		{"no proxies, header ignored", "203.0.113.5:1234", []string{"1.1.1.1"}, nil, "203.0.113.5"},
		{"no proxies, ipv6", "[2001:db8::7]:443", []string{"1.1.1.1"}, nil, "2001:db8::7"},
		{"untrusted peer, header ignored", "203.0.113.5:1234", []string{"1.1.1.1"}, trusted, "203.0.113.5"},
		{"trusted peer, one hop", "10.1.2.3:80", []string{"198.51.100.4"}, trusted, "198.51.100.4"},
		{"spoofed left entries ignored", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.4, 10.9.9.9"}, trusted, "198.51.100.4"},
		{"several header lines", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.4", "10.9.9.9"}, trusted, "198.51.100.4"},
		{"single trusted address", "192.0.2.10:80", []string{"198.51.100.4"}, trusted, "198.51.100.4"},
		{"neighbour of single address not trusted", "192.0.2.11:80", []string{"198.51.100.4"}, trusted, "192.0.2.11"},
		{"all trusted", "10.1.2.3:80", []string{"10.0.0.1, 10.0.0.2"}, trusted, "10.0.0.1"},
		{"empty header", "10.1.2.3:80", []string{""}, trusted, "10.1.2.3"},
		{"garbage entry", "10.1.2.3:80", []string{"1.1.1.1, garbage, 10.0.0.2"}, trusted, "10.0.0.2"},
		{"entry with port", "10.1.2.3:80", []string{"198.51.100.4:5555"}, trusted, "198.51.100.4"},
		{"ipv6 entry with port", "10.1.2.3:80", []string{"[2600::1]:5555"}, trusted, "2600::1"},
		{"ipv6 proxy", "[2001:db8::1]:80", []string{"2600::1, 2001:db8::2"}, trusted, "2600::1"},
		{"extra spaces and empty items", "10.1.2.3:80", []string{" 198.51.100.4 ,, "}, trusted, "198.51.100.4"},
		{"v4-mapped peer", "[::ffff:10.1.2.3]:80", []string{"198.51.100.4"}, trusted, "198.51.100.4"},
		{"remote not host:port", "pipe", []string{"1.1.1.1"}, trusted, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := apikey.ClientIP(r, tt.trusted); got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := apikey.ParseTrustedProxies("10.1.2.3/8", " 192.0.2.1 ", "::1")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"), netip.MustParsePrefix("::1/128")}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "example.com", "10.0.0.1:80"} {
		if _, err := apikey.ParseTrustedProxies(bad); !errors.Is(err, apikey.ErrInvalid) {
			t.Errorf("%q: err = %v, want ErrInvalid", bad, err)
		}
	}
}
