package tmf637

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Listener callbacks are URLs clients choose, and the server posts to them:
// without a guard any client with the integrator role could make it reach
// the loopback interface or a cloud metadata service (169.254.169.254).
// Loopback, link-local, unspecified and multicast addresses are refused,
// and private ones (RFC 1918, RFC 4193, 100.64.0.0/10) when
// Options.DenyPrivateCallbacks is set, unless Options.AllowCallbacks holds
// the address. A literal address is checked when the listener registers;
// every address is checked again when an event is delivered, on the
// connection actually made, so a name that resolves elsewhere later gains
// nothing.

// cgnat is the shared address space of RFC 6598, private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// callbackGuard refuses callback addresses Options do not allow.
type callbackGuard struct {
	allow       []netip.Prefix
	denyPrivate bool
}

// check returns why events may not go to ip, or nil.
func (g callbackGuard) check(ip netip.Addr) error {
	ip = ip.Unmap()
	if slices.ContainsFunc(g.allow, func(p netip.Prefix) bool { return p.Contains(ip) }) {
		return nil
	}
	var kind string
	switch {
	case ip.IsLoopback():
		kind = "a loopback"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		kind = "a link-local"
	case ip.IsUnspecified():
		kind = "an unspecified"
	case ip.IsMulticast():
		kind = "a multicast"
	case g.denyPrivate && (ip.IsPrivate() || cgnat.Contains(ip)):
		kind = "a private"
	default:
		return nil
	}
	return fmt.Errorf("%s is %s address; events are sent there only when irego serve --callback-allow names it", ip, kind)
}

// checkURL checks a callback's host when it is an address (or localhost);
// names are checked when an event is delivered.
func (g callbackGuard) checkURL(host string) error {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return g.check(netip.MustParseAddr("127.0.0.1"))
	}
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return g.check(ip)
	}
	return nil
}

// client posts events, dialing only addresses the guard allows (also on
// redirects), never through a proxy.
func (g callbackGuard) client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		return g.check(ap.Addr())
	}}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext:         func(ctx context.Context, n, a string) (net.Conn, error) { return d.DialContext(ctx, n, a) },
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     time.Minute,
	}}
}
