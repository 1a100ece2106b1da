package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/core/domain"
)

// ErrBlockedTarget marks a delivery target refused by the SSRF guard.
var ErrBlockedTarget = errors.New("webhook target address is not allowed")

// blockedPrefix is a range no webhook may reach, with the reason shown to
// the operator. private ranges become reachable with AllowPrivate; the
// others never do (nothing legitimate listens there, or it is the cloud
// metadata service).
type blockedPrefix struct {
	prefix  netip.Prefix
	reason  string
	private bool
}

func blockedPrefixes() []blockedPrefix {
	p := func(s, reason string, private bool) blockedPrefix {
		return blockedPrefix{netip.MustParsePrefix(s), reason, private}
	}
	// Order matters: the metadata hosts sit inside link-local and ULA
	// ranges and must match first so AllowPrivate does not open them.
	return []blockedPrefix{
		p("169.254.169.254/32", "cloud metadata", false),
		p("fd00:ec2::254/128", "cloud metadata", false),
		p("0.0.0.0/8", "unspecified", false),
		p("::/128", "unspecified", false),
		p("224.0.0.0/4", "multicast", false),
		p("ff00::/8", "multicast", false),
		p("255.255.255.255/32", "broadcast", false),
		p("240.0.0.0/4", "reserved", false),
		p("127.0.0.0/8", "loopback", true),
		p("::1/128", "loopback", true),
		p("10.0.0.0/8", "private", true),
		p("172.16.0.0/12", "private", true),
		p("192.168.0.0/16", "private", true),
		p("fc00::/7", "private", true),
		p("100.64.0.0/10", "carrier-grade NAT", true),
		p("169.254.0.0/16", "link-local", true),
		p("fe80::/10", "link-local", true),
		p("192.0.0.0/24", "IETF protocol assignments", true),
		p("198.18.0.0/15", "benchmarking", true),
		// IPv6 forms that embed an IPv4 address a router would reach.
		p("::ffff:0:0/96", "IPv4-mapped IPv6", true),
		p("64:ff9b::/96", "NAT64", true),
		p("2002::/16", "6to4", true),
	}
}

// Guard refuses webhook targets that resolve to internal addresses. It is
// applied twice: CheckURL when an endpoint (or ipn_url) is saved, and
// Control on every connection the delivery client dials, so a name that
// resolved to a public address at save time and to 127.0.0.1 at send time
// (DNS rebinding) still fails.
type Guard struct {
	// AllowPrivate opens loopback, private, link-local and CGNAT ranges
	// (webhooks.allow_private_targets, for development). Metadata,
	// multicast and unspecified addresses stay refused.
	AllowPrivate bool
	// Lookup resolves a host name; nil means net.DefaultResolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	prefixes []blockedPrefix
}

// NewGuard builds a guard.
func NewGuard(allowPrivate bool) *Guard {
	return &Guard{AllowPrivate: allowPrivate, prefixes: blockedPrefixes()}
}

// CheckAddr reports why ip may not be dialled, or nil.
func (g *Guard) CheckAddr(ip netip.Addr) error {
	ip = ip.WithZone("")
	prefixes := g.prefixes
	if prefixes == nil { // a Guard literal, not from NewGuard: still safe
		prefixes = blockedPrefixes()
	}
	for _, b := range prefixes {
		if !b.prefix.Contains(ip) {
			continue
		}
		if b.private && g.AllowPrivate {
			if ip.Is4In6() {
				// Judge the embedded IPv4 address on its own.
				return g.CheckAddr(ip.Unmap())
			}
			return nil
		}
		return fmt.Errorf("%w: %s is %s", ErrBlockedTarget, ip, b.reason)
	}
	return nil
}

// CheckURL validates a target URL at save time: absolute http(s), no
// credentials, and every address the host resolves to allowed.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return domain.Invalid("invalid_url", "url", "url must be an absolute http or https URL")
	}
	if u.User != nil {
		return domain.Invalid("invalid_url", "url", "url must not contain credentials")
	}
	if u.Fragment != "" {
		return domain.Invalid("invalid_url", "url", "url must not contain a fragment")
	}
	host := u.Hostname()
	addrs, err := g.resolve(ctx, host)
	if err != nil {
		return domain.Invalid("unresolvable_url", "url", "url host %q does not resolve", host)
	}
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			return domain.Invalid("forbidden_url", "url", "url host %q resolves to a forbidden address: %v", host, strings.TrimPrefix(err.Error(), ErrBlockedTarget.Error()+": "))
		}
	}
	return nil
}

func (g *Guard) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	lookup := g.Lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("no addresses for %s", host)
	}
	return addrs, err
}

// Control is a net.Dialer Control hook: it runs after name resolution with
// the concrete address about to be connected, and refuses blocked ones.
func (g *Guard) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q", ErrBlockedTarget, address)
	}
	return g.CheckAddr(ap.Addr())
}

// NewHTTPClient returns the delivery client: every dial goes through the
// guard, no proxy from the environment (a proxy would dial for us,
// bypassing the guard), redirects are never followed (the 3xx is the
// answer), and timeout bounds the whole exchange.
func (g *Guard) NewHTTPClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: g.Control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
