package dist

import (
	"context"
	"net"
	"strconv"
)

// Transport is how a node listens for peers and reaches them: plain TCP by
// default (TCP), TLS on top of it, or an in-process network for tests.
// What it returns carries bytes only; the handshake and the codec run on
// top, the same over every transport.
type Transport interface {
	// Listen listens on host (an address or "" for all interfaces) at a
	// port of the system's choice.
	Listen(host string) (net.Listener, error)
	// Dial connects to a peer's listener at addr (host:port), for the
	// peer named name.
	Dial(ctx context.Context, addr, name string) (net.Conn, error)
}

// TCP is the default transport: plain TCP, as Erlang's inet_tcp_dist.
type TCP struct{}

// Listen implements Transport.
func (TCP) Listen(host string) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort(host, "0"))
}

// Dial implements Transport.
func (TCP) Dial(ctx context.Context, addr, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// listenerPort is the port a listener listens on, whatever its address type.
func listenerPort(ln net.Listener) int {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	_, p, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return 0
	}
	port, _ := strconv.Atoi(p)
	return port
}
