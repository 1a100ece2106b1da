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

	"code.dny.dev/ssrf"

	"github.com/switchyard/switchyard/core/domain"
)

// ErrBlockedTarget marks a delivery target refused by the SSRF guard.
var ErrBlockedTarget = errors.New("webhook target address is not allowed")

// Guard refuses webhook targets that are not on the public internet. It is
// an allow rule, not a deny list: an address passes only when it is global
// unicast and outside every special-purpose range IANA registers
// (code.dny.dev/ssrf, which is generated from those registries). So
// private, loopback, link-local, CGNAT (with Alibaba Cloud's metadata
// address 100.100.100.200), the metadata hosts, documentation, benchmarking,
// discard, site-local, Teredo, 6to4, NAT64 (both the well-known and the
// local-use prefix, which can map onto 10.0.0.0/8), IPv4-compatible and
// IPv4-mapped IPv6 addresses are all refused without being listed here.
//
// It is applied twice: CheckURL when an endpoint (or ipn_url) is saved, and
// Control on every connection the delivery client dials, so a name that
// resolved to a public address at save time and to 127.0.0.1 at send time
// (DNS rebinding) still fails.
type Guard struct {
	// AllowLoopback opens 127.0.0.0/8 and ::1, and nothing else
	// (webhooks.allow_private_targets, for development: a receiver on the
	// same machine). Private networks and metadata services stay refused.
	AllowLoopback bool
	// Lookup resolves a host name; nil means net.DefaultResolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	rule *ssrf.Guardian
}

// Loopback is what Guard.AllowLoopback opens.
var (
	loopbackV4 = netip.MustParsePrefix("127.0.0.0/8")
	loopbackV6 = netip.MustParsePrefix("::1/128")
)

// NewGuard builds a guard; allowLoopback is webhooks.allow_private_targets.
func NewGuard(allowLoopback bool) *Guard {
	return &Guard{AllowLoopback: allowLoopback, rule: newRule(allowLoopback)}
}

// newRule is the allow rule: any port (merchants' receivers listen where
// they like), TCP only.
func newRule(allowLoopback bool) *ssrf.Guardian {
	opts := []ssrf.Option{ssrf.WithAnyPort()}
	if allowLoopback {
		opts = append(opts, ssrf.WithAllowedV4Prefixes(loopbackV4), ssrf.WithAllowedV6Prefixes(loopbackV6))
	}
	return ssrf.New(opts...)
}

// allowRule is the guard's rule; a Guard literal (not from NewGuard) gets
// one built from its fields, so it is never more permissive than asked.
func (g *Guard) allowRule() *ssrf.Guardian {
	if g.rule != nil {
		return g.rule
	}
	return newRule(g.AllowLoopback)
}

// CheckAddr reports why ip may not be dialled, or nil.
func (g *Guard) CheckAddr(ip netip.Addr) error {
	if err := g.allowRule().SafeAddr(ip.WithZone("")); err != nil {
		return fmt.Errorf("%w: %w", ErrBlockedTarget, err)
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
// the concrete network (tcp4, tcp6) and address about to be connected, and
// refuses anything the allow rule does not admit.
func (g *Guard) Control(network, address string, c syscall.RawConn) error {
	if err := g.allowRule().Safe(network, address, c); err != nil {
		return fmt.Errorf("%w: %w", ErrBlockedTarget, err)
	}
	return nil
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
