package dist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/wire"
)

// dial runs our attempt for p, for which table.connect said to dial.
func (n *Node) dial(ctx context.Context, p *peer) error {
	c, err := n.dialHandshake(ctx, p.name)
	var refused *wire.RefusedError
	if errors.As(err, &refused) && (refused.Status == wire.StatusNok || refused.Status == wire.StatusAlive) {
		// Nok: the peer is connecting to us at the same time and its
		// attempt wins. Alive: it holds a connection from us, and we told
		// it that one is up (or being accepted) here too. Either way the
		// connection arrives, or has arrived, through accept.
		n.mu.Lock()
		p.dialing = false
		if refused.Status == wire.StatusAlive && p.conn == nil && p.next == nil && !p.accepting {
			n.mu.Unlock()
			n.attemptFailed(p, err, false)
			return fmt.Errorf("connect %s: the peer still holds an old connection from this node; it drops it within the tick time: %w", p.name, err)
		}
		n.mu.Unlock()
		return n.waitReady(ctx, p)
	}
	if err != nil {
		n.attemptFailed(p, err, false)
		return fmt.Errorf("connect %s: %w", p.name, err)
	}
	n.run(n.step(func() []action { return n.table.handshook(p, c, false) }))
	return n.waitReady(ctx, p)
}

// dialHandshake looks name up, dials it and runs the initiating handshake.
func (n *Node) dialHandshake(ctx context.Context, name string) (*conn, error) {
	alive, host, err := peerHostPort(name)
	if err != nil {
		return nil, err
	}
	entry, err := lookupEntry(ctx, n.epmdAddrFor(host), alive, nil)
	if err != nil {
		return nil, fmt.Errorf("port mapper on %s: %w", host, err)
	}
	nc, err := n.cfg.Transport.Dial(ctx, net.JoinHostPort(host, fmt.Sprint(entry.Port)), name)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	br := bufio.NewReaderSize(nc, 64<<10)
	proto := n.dialProtocol(entry)
	info, err := proto.Handshake.Initiate(nc, br, n.handshakeConfig(), name)
	if err != nil {
		nc.Close()
		if errors.Is(err, wire.ErrBadCookie) {
			n.logf("dist: connection to %s refused: cookie mismatch", name)
		}
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return newConn(n, nc, br, info, proto.NewConn(info)), nil
}

// takeoverWait is how long a lookup retries a port mapper that refuses
// connections. On a host of gonode nodes that is a takeover: the port
// mapper's process died, and the first node to notice starts another and
// every node registers again, within milliseconds. Elsewhere (a host with
// no port mapper at all) it delays the error by this much.
const takeoverWait = time.Second

// lookupPort asks the port mapper at addr for alive's port, retrying while
// it refuses connections (see takeoverWait), 10 ms doubling. retried, if
// not nil, is called before each retry (tests).
func lookupPort(ctx context.Context, addr, alive string, retried func()) (uint16, error) {
	e, err := lookupEntry(ctx, addr, alive, retried)
	return e.Port, err
}

// lookupEntry is lookupPort returning the whole entry, whose Extra tells
// gonode nodes from BEAM nodes (see dialProtocol).
func lookupEntry(ctx context.Context, addr, alive string, retried func()) (epmd.Entry, error) {
	delay := 10 * time.Millisecond
	deadline := time.Now().Add(takeoverWait)
	for {
		e, err := epmd.Lookup(ctx, addr, alive)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().Add(delay).After(deadline) {
			return e, err
		}
		if retried != nil {
			retried()
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return epmd.Entry{}, err
		}
		delay *= 2
	}
}

// dialProtocol chooses the protocol to dial a peer with from its port
// mapper entry: gonode nodes register epmd.GonodeExtra and are dialled
// with Protocol (native); a node without it is a BEAM node, dialled with
// Config.Foreign when one is set.
func (n *Node) dialProtocol(e epmd.Entry) *Protocol {
	if !e.IsGonode() && n.cfg.Foreign.valid() {
		return &n.cfg.Foreign
	}
	return &n.cfg.Protocol
}

// epmdAddrFor is the port mapper address of the host of a peer: the same
// port as ours, on that host.
func (n *Node) epmdAddrFor(host string) string {
	_, port, err := net.SplitHostPort(n.cfg.EPMDAddr)
	if err != nil {
		port = strconv.Itoa(4369)
	}
	return net.JoinHostPort(host, port)
}
