package dist

import (
	"bufio"
	"errors"
	"net"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// accept runs the accepting handshake on a new connection. Failures are
// logged rate-limited, and a connection from an address that recently
// failed the cookie check waits its turn first (see acceptGuard).
func (n *Node) accept(nc net.Conn, guard *acceptGuard) {
	if !guard.admit(n.ctx, nc) {
		return
	}
	_ = nc.SetDeadline(time.Now().Add(setupTime))
	br := bufio.NewReaderSize(nc, 64<<10)
	proto, first, err := sniff(br, n.accepts)
	if proto == nil {
		nc.Close()
		if err == nil {
			guard.logs.log("protocol", "dist: connection from %s refused: not a protocol this node speaks (first bytes %q)", nc.RemoteAddr(), first)
		} else {
			guard.logs.log("handshake", "dist: handshake with an unknown peer (%s) failed: %v", nc.RemoteAddr(), err)
		}
		return
	}
	var p *peer
	info, err := proto.Handshake.Accept(nc, br, n.handshakeConfig(), func(peer wire.PeerInfo) wire.Status {
		var st wire.Status
		n.mu.Lock()
		p, st = n.table.hello(peer)
		n.mu.Unlock()
		return st
	})
	if err != nil {
		nc.Close()
		guard.failed(nc.RemoteAddr(), err)
		switch {
		case errors.Is(err, wire.ErrBadCookie):
			guard.logs.log("cookie", "dist: connection from %s (%s) refused: cookie mismatch", info.Name, nc.RemoteAddr())
		case errors.Is(err, wire.ErrRefused):
			// simultaneous connect or already up: nothing to report
		default:
			guard.logs.log("handshake", "dist: handshake with %s (%s) failed: %v", orUnknown(info.Name), nc.RemoteAddr(), err)
		}
		if p != nil {
			n.attemptFailed(p, err, true)
		}
		return
	}
	_ = nc.SetDeadline(time.Time{})
	c := newConn(n, nc, br, info, proto.NewConn(info))
	n.run(n.step(func() []action { return n.table.handshook(p, c, true) }))
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown peer"
	}
	return s
}
