package webhooks_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/webhooks"
)

// TestGuardAddresses: only global unicast addresses outside IANA's
// special-purpose ranges pass; the development switch opens loopback and
// nothing else.
func TestGuardAddresses(t *testing.T) {
	const (
		public   = iota // passes both guards
		loopback        // refused, passes with allow_private_targets
		refused         // refused by both
	)
	tests := []struct {
		ip   string
		want int
		why  string
	}{
		// The public internet.
		{"93.184.216.34", public, "example.com"},
		{"8.8.8.8", public, "public resolver"},
		{"1.1.1.1", public, "public resolver"},
		{"11.0.0.1", public, "just past 10/8"},
		{"100.63.255.254", public, "just below CGNAT"},
		{"100.128.0.1", public, "just past CGNAT"},
		{"172.15.255.254", public, "just below 172.16/12"},
		{"172.32.0.1", public, "just past 172.16/12"},
		{"192.167.255.254", public, "just below 192.168/16"},
		{"198.20.0.1", public, "just past the benchmarking range"},
		{"223.255.255.254", public, "last unicast /8"},
		{"2606:2800:220:1:248:1893:25c8:1946", public, "example.com over IPv6"},
		{"2606:4700:4700::1111", public, "public resolver over IPv6"},
		{"2a00:1450:4001:82a::200e", public, "global unicast"},
		{"2001:4860:4860::8888", public, "2001:4860::/32 is outside 2001::/23"},
		// Loopback: the only thing the development switch opens.
		{"127.0.0.1", loopback, "loopback"},
		{"127.8.9.10", loopback, "loopback /8"},
		{"::1", loopback, "IPv6 loopback"},
		// Private, shared and link-local ranges stay closed even with it.
		{"10.1.2.3", refused, "private"},
		{"172.16.0.1", refused, "private"},
		{"172.31.255.254", refused, "private"},
		{"192.168.1.1", refused, "private"},
		{"100.64.0.1", refused, "CGNAT"},
		{"100.100.100.200", refused, "Alibaba Cloud metadata (inside CGNAT)"},
		{"169.254.10.10", refused, "link-local"},
		{"169.254.169.254", refused, "AWS/GCP/Azure metadata"},
		{"fd00:ec2::254", refused, "AWS metadata over IPv6 (ULA)"},
		{"fc00::1", refused, "unique local"},
		{"fd12:3456::1", refused, "unique local"},
		{"fe80::1", refused, "link-local"},
		{"fe80::1%eth0", refused, "link-local with a zone"},
		{"fec0::1", refused, "site-local (deprecated)"},
		// Special purpose, never a webhook receiver.
		{"0.0.0.0", refused, "this network"},
		{"0.1.2.3", refused, "this network"},
		{"::", refused, "unspecified"},
		{"224.0.0.1", refused, "multicast"},
		{"239.255.255.250", refused, "multicast (SSDP)"},
		{"ff02::1", refused, "IPv6 multicast"},
		{"255.255.255.255", refused, "broadcast"},
		{"240.0.0.1", refused, "reserved"},
		{"192.0.0.1", refused, "IETF protocol assignments"},
		{"192.0.2.1", refused, "documentation TEST-NET-1"},
		{"198.51.100.1", refused, "documentation TEST-NET-2"},
		{"203.0.113.1", refused, "documentation TEST-NET-3"},
		{"198.18.0.1", refused, "benchmarking"},
		{"192.88.99.1", refused, "6to4 relay anycast"},
		{"192.31.196.1", refused, "AS112"},
		{"192.52.193.1", refused, "AMT"},
		{"2001:db8::1", refused, "IPv6 documentation"},
		{"3fff::1", refused, "IPv6 documentation (RFC 9637)"},
		{"100::1", refused, "discard-only"},
		{"2001:10::1", refused, "ORCHID, IETF protocol assignments"},
		{"2620:4f:8000::1", refused, "AS112 over IPv6"},
		// IPv6 forms that carry an IPv4 address a router would reach.
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", refused, "Teredo"},
		{"2002:7f00:1::1", refused, "6to4 of 127.0.0.1"},
		{"2002:5db8:d822::1", refused, "6to4 of a public address"},
		{"64:ff9b::7f00:1", refused, "NAT64 of 127.0.0.1"},
		{"64:ff9b::a00:1", refused, "NAT64 of 10.0.0.1"},
		{"64:ff9b:1::a00:1", refused, "local-use NAT64 of 10.0.0.1"},
		{"::a00:1", refused, "IPv4-compatible 10.0.0.1"},
		{"::7f00:1", refused, "IPv4-compatible 127.0.0.1"},
		{"::ffff:127.0.0.1", refused, "IPv4-mapped loopback (only the native forms open)"},
		{"::ffff:93.184.216.34", refused, "IPv4-mapped public"},
		{"::ffff:169.254.169.254", refused, "IPv4-mapped metadata"},
	}
	if len(tests) < 50 {
		t.Fatalf("the table has %d addresses; keep at least 50", len(tests))
	}
	strict, dev := webhooks.NewGuard(false), webhooks.NewGuard(true)
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			wantStrict, wantDev := tc.want != public, tc.want == refused
			for _, g := range []struct {
				name    string
				g       *webhooks.Guard
				blocked bool
			}{
				{"strict", strict, wantStrict},
				{"zero Guard", &webhooks.Guard{}, wantStrict},
				{"allow_private_targets", dev, wantDev},
				{"Guard literal with AllowLoopback", &webhooks.Guard{AllowLoopback: true}, wantDev},
			} {
				err := g.g.CheckAddr(ip)
				if (err != nil) != g.blocked {
					t.Errorf("%s (%s): blocked=%v, want %v (%v)", g.name, tc.why, err != nil, g.blocked, err)
				} else if err != nil && !errors.Is(err, webhooks.ErrBlockedTarget) {
					t.Errorf("%s: error %v is not ErrBlockedTarget", g.name, err)
				}
				// The dial-time hook judges the same way (Go dials IPv4 as
				// tcp4, everything else as tcp6).
				network := "tcp6"
				if ip.Is4() {
					network = "tcp4"
				}
				err = g.g.Control(network, netip.AddrPortFrom(ip, 443).String(), nil)
				if (err != nil) != g.blocked {
					t.Errorf("%s dial: blocked=%v, want %v (%v)", g.name, err != nil, g.blocked, err)
				} else if err != nil && !errors.Is(err, webhooks.ErrBlockedTarget) {
					t.Errorf("%s dial: error %v is not ErrBlockedTarget", g.name, err)
				}
			}
		})
	}
}

// TestGuardDialNetworks: only TCP is dialled, on any port.
func TestGuardDialNetworks(t *testing.T) {
	g := webhooks.NewGuard(false)
	for _, tc := range []struct {
		network, addr string
		ok            bool
	}{
		{"tcp4", "93.184.216.34:443", true},
		{"tcp4", "93.184.216.34:8443", true},
		{"tcp6", "[2606:4700:4700::1111]:9000", true},
		{"udp4", "93.184.216.34:53", false},
		{"tcp4", "not-an-address", false},
	} {
		if err := g.Control(tc.network, tc.addr, nil); (err == nil) != tc.ok {
			t.Errorf("%s %s: %v, want ok=%v", tc.network, tc.addr, err, tc.ok)
		}
	}
}

func fixedLookup(addrs ...string) func(context.Context, string) ([]netip.Addr, error) {
	return func(context.Context, string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

func TestGuardCheckURL(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		url    string
		lookup []string
		allow  bool
		code   string // "" = accepted
	}{
		{"public name", "https://hooks.example.com/x", []string{"93.184.216.34"}, false, ""},
		{"public literal", "http://93.184.216.34:8080/x", nil, false, ""},
		{"loopback literal", "http://127.0.0.1:9000/x", nil, false, "forbidden_url"},
		{"loopback literal allowed", "http://127.0.0.1:9000/x", nil, true, ""},
		{"bracketed v6 loopback", "http://[::1]/x", nil, false, "forbidden_url"},
		{"metadata even when allowed", "http://169.254.169.254/latest/meta-data", nil, true, "forbidden_url"},
		{"alibaba metadata even when allowed", "http://100.100.100.200/latest/meta-data", nil, true, "forbidden_url"},
		{"private name even when allowed", "https://intranet.example/x", []string{"10.0.0.7"}, true, "forbidden_url"},
		{"name resolving to loopback, allowed", "https://dev.example/x", []string{"127.0.0.1"}, true, ""},
		{"local-use NAT64 name", "https://nat.example/x", []string{"64:ff9b:1::a00:7"}, false, "forbidden_url"},
		{"teredo literal", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", nil, false, "forbidden_url"},
		{"documentation literal", "http://192.0.2.10/x", nil, false, "forbidden_url"},
		{"name with one private address among public", "https://mixed.example/x", []string{"93.184.216.34", "10.0.0.7"}, false, "forbidden_url"},
		{"name resolving to loopback", "https://evil.example/x", []string{"127.0.0.1"}, false, "forbidden_url"},
		{"ftp scheme", "ftp://hooks.example.com/x", nil, false, "invalid_url"},
		{"relative", "/hooks", nil, false, "invalid_url"},
		{"credentials", "https://u:p@hooks.example.com/", []string{"93.184.216.34"}, false, "invalid_url"},
		{"no host", "https:///x", nil, false, "invalid_url"},
		{"decimal ip trick", "http://2130706433/", []string{}, false, "unresolvable_url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := webhooks.NewGuard(tc.allow)
			g.Lookup = fixedLookup(tc.lookup...)
			err := g.CheckURL(ctx, tc.url)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			de, ok := domain.AsError(err)
			if !ok || de.Code != tc.code || !errors.Is(err, domain.ErrInvalid) {
				t.Fatalf("want %s, got %v", tc.code, err)
			}
		})
	}
}

// A real name that resolves to 127.0.0.1 (localhost, via /etc/hosts) is
// refused at save time by the real resolver.
func TestGuardLocalhostNameRefused(t *testing.T) {
	g := webhooks.NewGuard(false)
	err := g.CheckURL(context.Background(), "http://localhost:8080/hook")
	if de, ok := domain.AsError(err); !ok || de.Code != "forbidden_url" {
		t.Fatalf("localhost accepted or wrong error: %v", err)
	}
}

// DNS rebinding: the save-time lookup said "public", but the name resolves
// to loopback when the worker dials. The dial-time control hook refuses.
func TestGuardDialTimeRebinding(t *testing.T) {
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	target := "http://localhost:" + port + "/hook"

	g := webhooks.NewGuard(false)
	g.Lookup = fixedLookup("93.184.216.34") // what an attacker's DNS said at save time
	if err := g.CheckURL(context.Background(), target); err != nil {
		t.Fatalf("save-time check should pass with the public answer: %v", err)
	}
	client := g.NewHTTPClient(2 * time.Second)
	resp, err := client.Post(target, "application/json", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatal("dial to loopback succeeded")
	}
	if !errors.Is(err, webhooks.ErrBlockedTarget) {
		t.Fatalf("want ErrBlockedTarget, got %v", err)
	}
	if hits != 0 {
		t.Fatalf("receiver was hit %d times", hits)
	}

	// The development switch lets the same request through.
	resp, err = webhooks.NewGuard(true).NewHTTPClient(2*time.Second).Post(target, "application/json", nil)
	if err != nil {
		t.Fatalf("allow_private: %v", err)
	}
	resp.Body.Close()
	if hits != 1 {
		t.Fatalf("hits %d", hits)
	}
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	var followed bool
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed = true })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := webhooks.NewGuard(true).NewHTTPClient(2*time.Second).Post(srv.URL+"/hook", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed {
		t.Fatalf("status %d followed=%v", resp.StatusCode, followed)
	}
}
