package dist

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// acceptLoop accepts peers until the node closes. An Accept error (out of
// files, EMFILE or ENFILE, a connection aborted before it was taken, ...)
// does not stop it: it backs off as net/http's Server does, 5 ms doubling
// to 1 s, and tries again; the errors are logged rate-limited.
func (n *Node) acceptLoop() {
	defer n.wg.Done()
	guard := newAcceptGuard(n.logf, realClock{})
	var handshakes sync.WaitGroup
	var inflight handshaking
	defer func() {
		handshakes.Wait()
		guard.close()
	}()
	var delay time.Duration
	for {
		c, err := n.ln.Accept()
		if err != nil {
			if n.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				if n.ctx.Err() == nil {
					n.logf("dist: accept: %v; no longer accepting peers", err)
				}
				return
			}
			if outOfFiles(err) {
				// Out of files: the oldest connection still in its
				// handshake (likely one held open on purpose) makes room
				// for the next one in the queue.
				if old := inflight.oldest(); old != nil {
					guard.logs.log("shed", "dist: accept: %v; closed the oldest connection in its handshake (%s) to make room", err, old.RemoteAddr())
					old.Close()
					continue
				}
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			guard.logs.log("accept", "dist: accept: %v; retrying in %v", err, delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-n.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		if old := inflight.add(c); old != nil {
			guard.logs.log("shed", "dist: %d connections in their handshake; closed the oldest (%s)", maxHandshakes, old.RemoteAddr())
			old.Close()
		}
		n.wg.Add(1)
		handshakes.Add(1)
		go func() {
			defer n.wg.Done()
			defer handshakes.Done()
			defer inflight.done(c)
			n.accept(c, guard)
		}()
	}
}

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
		if errors.Is(err, io.EOF) && len(first) == 0 {
			// Closed before its first byte: a dial given up (the peer's
			// own connection won a simultaneous connect), a port probe.
			// Nothing was tried, so nothing is logged, as epmd and erl
			// log nothing.
			return
		}
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
