package load

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CheckTarget refuses any target but a GridHall on this machine: an http(s)
// URL whose host is "localhost", an address in 127.0.0.0/8 or ::1. The load
// generator is a test tool; pointed at someone else's server it would be a
// denial-of-service weapon, so other host names are refused without being
// resolved (a name could resolve anywhere, and differently later).
func CheckTarget(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("target %q: %v", target, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: want an http:// or https:// URL", target)
	}
	if u.User != nil || u.Host == "" {
		return nil, fmt.Errorf("target %q: want http://127.0.0.1:PORT", target)
	}
	if !loopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("target %q is not this machine: the load generator only runs against loopback (127.0.0.0/8, ::1, localhost)", target)
	}
	return u, nil
}

func loopbackHost(h string) bool {
	if strings.EqualFold(strings.TrimSuffix(h, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loopbackDialer dials only loopback addresses: the second half of the
// guard, which holds even if a name such as localhost is made to resolve
// elsewhere. It checks the address actually connected to.
func loopbackDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if ta, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
			c.Close()
			return nil, fmt.Errorf("load: refused to talk to %s: not a loopback address", c.RemoteAddr())
		}
		return c, nil
	}
}

// newClient is an HTTP client for conns connections to the target that never
// leaves loopback and never follows redirects (a page that redirects is
// measured as it answered, and a redirect cannot lead the load elsewhere).
func newClient(conns int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		DialContext:         loopbackDialer(),
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
