package ui

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// overTLS reports whether the browser reached the console over TLS: on
// this connection, or through a TLS-terminating proxy listed in
// Config.TrustedProxies that says so with X-Forwarded-Proto. Anybody else
// could send the header, so it counts only from those proxies.
func (c *Console) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if len(c.cfg.TrustedProxies) == 0 {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",") // the first proxy's view comes first
	if !strings.EqualFold(strings.TrimSpace(proto), "https") {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	return slices.ContainsFunc(c.cfg.TrustedProxies, func(p netip.Prefix) bool { return p.Contains(peer) })
}
