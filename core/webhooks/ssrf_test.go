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

func TestGuardAddresses(t *testing.T) {
	tests := []struct {
		ip           string
		blocked      bool // with AllowPrivate off
		blockedAllow bool // with AllowPrivate on
	}{
		{"93.184.216.34", false, false},
		{"2606:2800:220:1:248:1893:25c8:1946", false, false},
		{"127.0.0.1", true, false},
		{"127.8.9.10", true, false},
		{"::1", true, false},
		{"10.1.2.3", true, false},
		{"172.16.0.1", true, false},
		{"172.31.255.255", true, false},
		{"172.32.0.1", false, false},
		{"192.168.1.1", true, false},
		{"fd12:3456::1", true, false},
		{"100.64.0.1", true, false},
		{"100.127.255.254", true, false},
		{"100.128.0.1", false, false},
		{"169.254.10.10", true, false},
		{"fe80::1", true, false},
		{"169.254.169.254", true, true},
		{"fd00:ec2::254", true, true},
		{"0.0.0.0", true, true},
		{"::", true, true},
		{"224.0.0.1", true, true},
		{"239.255.255.250", true, true},
		{"ff02::1", true, true},
		{"255.255.255.255", true, true},
		{"::ffff:127.0.0.1", true, false},
		{"::ffff:93.184.216.34", true, false},
		{"::ffff:169.254.169.254", true, true},
		{"64:ff9b::a00:1", true, false},
		{"2002:7f00:1::1", true, false},
	}
	strict, dev := webhooks.NewGuard(false), webhooks.NewGuard(true)
	for _, tc := range tests {
		t.Run(tc.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tc.ip)
			if err := strict.CheckAddr(ip); (err != nil) != tc.blocked {
				t.Errorf("strict: blocked=%v want %v (%v)", err != nil, tc.blocked, err)
			} else if err != nil && !errors.Is(err, webhooks.ErrBlockedTarget) {
				t.Errorf("strict: error %v is not ErrBlockedTarget", err)
			}
			if err := dev.CheckAddr(ip); (err != nil) != tc.blockedAllow {
				t.Errorf("allow_private: blocked=%v want %v (%v)", err != nil, tc.blockedAllow, err)
			}
			if err := (&webhooks.Guard{}).CheckAddr(ip); (err != nil) != tc.blocked {
				t.Errorf("zero Guard must be as strict as NewGuard(false)")
			}
		})
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
