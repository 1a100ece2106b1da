package payproprovider

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ipGuard decides whether an IPN comes from PayPro by its source address.
type ipGuard struct {
	off     bool
	allow   []netip.Prefix
	trusted []netip.Prefix
}

func parseGuard(allowRaw, trustedRaw string) (ipGuard, error) {
	var g ipGuard
	var err error
	if g.trusted, err = parsePrefixes(SettingTrustedProxies, trustedRaw); err != nil {
		return ipGuard{}, err
	}
	switch strings.ToLower(strings.TrimSpace(allowRaw)) {
	case AllowlistOff:
		g.off = true
		return g, nil
	case "":
		allowRaw = strings.Join(DefaultIPAllowlist(), ",")
	}
	if g.allow, err = parsePrefixes(SettingIPAllowlist, allowRaw); err != nil {
		return ipGuard{}, err
	}
	return g, nil
}

var errNoClientAddr = errors.New("no usable client address")

// clientAddr is the address that sent the request: the connection's peer,
// unless that peer is a trusted proxy, in which case X-Forwarded-For is
// walked from the right (the hop our proxy appended) past every trusted
// hop; the first untrusted hop is the client. Hops further left were
// written by the client itself and are never believed.
func (g ipGuard) clientAddr(remoteAddr string, h http.Header) (netip.Addr, error) {
	peer, err := parseHostAddr(remoteAddr)
	if err != nil {
		return netip.Addr{}, errNoClientAddr
	}
	if !contains(g.trusted, peer) {
		return peer, nil
	}
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				hops = append(hops, hop)
			}
		}
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := parseHostAddr(hops[i])
		if err != nil {
			return netip.Addr{}, errNoClientAddr
		}
		client = a
		if !contains(g.trusted, a) {
			return a, nil
		}
	}
	return client, nil
}

// permits reports whether addr may send IPNs.
func (g ipGuard) permits(addr netip.Addr) bool { return g.off || contains(g.allow, addr) }

func parseHostAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return a.Unmap().WithZone(""), nil
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
