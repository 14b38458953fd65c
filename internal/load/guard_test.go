package load

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestCheckTargetAcceptsOnlyLoopback(t *testing.T) {
	for _, tc := range []struct {
		target string
		ok     bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.1", true},
		{"https://127.0.0.1:8443/", true},
		{"http://127.9.8.7:80", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://LOCALHOST.:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.10:8080", false},
		{"http://0.0.0.0:8080", false},
		{"http://[::]:8080", false},
		{"http://[::ffff:10.0.0.1]:8080", false},
		{"http://example.com", false},
		{"http://localhost.example.com:8080", false},
		{"http://127.0.0.1.nip.io:8080", false},
		{"http://2130706433:8080", false}, // 127.0.0.1 as a number: not an address Go's parser reads, so refused
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"http://user:pw@127.0.0.1:8080", false},
		{"http://", false},
		{"", false},
	} {
		_, err := CheckTarget(tc.target)
		if (err == nil) != tc.ok {
			t.Errorf("CheckTarget(%q) = %v, want ok=%v", tc.target, err, tc.ok)
		}
	}
}

func TestTheDialerRefusesNonLoopbackAddresses(t *testing.T) {
	// A listener on a non-loopback address of this machine, when there is
	// one, shows the refusal comes after the connection is made (so a name
	// resolving elsewhere is caught); otherwise an unroutable address shows
	// at least that nothing is sent.
	dial := loopbackDialer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	c, err := dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback refused: %v", err)
	}
	c.Close()

	var other net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			other = n.IP
			break
		}
	}
	if other == nil {
		t.Logf("no non-loopback IPv4 address on this machine; checking the refusal with an address that is not reachable")
		ctx, cancel := context.WithTimeout(context.Background(), 200_000_000)
		defer cancel()
		if _, err := dial(ctx, "tcp", "192.0.2.1:80"); err == nil {
			t.Fatal("dialled a non-loopback address")
		}
		return
	}
	ln2, err := net.Listen("tcp", net.JoinHostPort(other.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = dial(context.Background(), "tcp", ln2.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Fatalf("dial %s: %v, want a refusal", ln2.Addr(), err)
	}
}
