package dist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/dist/wire"
)

// setupTime bounds a whole connection set-up (lookup, TCP, handshake), as
// Erlang's net_setuptime does.
const setupTime = 7 * time.Second

// Connect connects to the node name (Erlang's net_kernel:connect_node): it
// returns at once if already connected, and otherwise looks the node up in
// its host's port mapper and runs the handshake. Unless this node is
// hidden, the peer then tells it about the other nodes it knows, and this
// node connects to them too (a full mesh).
func (n *Node) Connect(ctx context.Context, name string) error {
	if name == n.cfg.Name {
		return nil
	}
	if _, _, err := peerHostPort(name); err != nil {
		return err
	}
	if n.isUp(name) {
		return nil // already up: the common case, with no timer to set
	}
	ctx, cancel := context.WithTimeout(ctx, setupTime)
	defer cancel()
	n.mu.Lock()
	if n.table.closed {
		n.mu.Unlock()
		return ErrClosed
	}
	p, dial := n.table.connect(name)
	n.mu.Unlock()
	if dial {
		return n.dial(ctx, p)
	}
	return n.waitReady(ctx, p)
}

// waitReady waits until the attempts in progress for p end.
func (n *Node) waitReady(ctx context.Context, p *peer) error {
	n.mu.Lock()
	ready := p.ready
	n.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return fmt.Errorf("connect %s: %w", p.name, ctx.Err())
	}
	if n.connFor(p.name) != nil {
		return nil
	}
	n.mu.Lock()
	err := p.err
	n.mu.Unlock()
	if err == nil {
		err = errConnectionLost
	}
	return fmt.Errorf("connect %s: %w", p.name, err)
}

func (n *Node) handshakeConfig() wire.HandshakeConfig {
	return wire.HandshakeConfig{
		Name: n.cfg.Name, Creation: n.proc.Creation(), Cookie: n.cfg.Cookie, Hidden: n.cfg.Hidden,
		AliveAsked: func(peer string) bool {
			n.mu.Lock()
			defer n.mu.Unlock()
			return n.table.aliveAsked(peer)
		},
	}
}

// attemptFailed ends one attempt without a connection.
func (n *Node) attemptFailed(p *peer, err error, accepting bool) {
	n.run(n.step(func() []action { return n.table.failed(p, err, accepting) }))
}

// connDown is called once per connection by its reader when it ends; see
// peerTable.down for why it is keyed by connection.
func (n *Node) connDown(c *conn, reason error) {
	n.run(n.step(func() []action { return n.table.down(c, reason) }))
}

// errReplaced closes a connection whose peer came back (a new incarnation,
// or a dialer that found this one half-open) and proved the cookie.
var errReplaced = errors.New("replaced by a new connection from the peer")

// step feeds one event to the peer table under the node's lock. A
// connection the table starts is counted in the node's WaitGroup before
// the lock is released, so that a Close that follows finds it in the
// table, drains it and waits for its goroutines.
func (n *Node) step(event func() []action) []action {
	n.mu.Lock()
	defer n.mu.Unlock()
	acts := event()
	for _, a := range acts {
		if a.kind == actStart {
			n.wg.Add(2)
		}
	}
	return acts
}

// run takes the actions the peer table asked for, in order.
func (n *Node) run(acts []action) {
	for len(acts) > 0 {
		a := acts[0]
		acts = acts[1:]
		switch a.kind {
		case actStart:
			n.start(a.c)
			close(a.ready)
		case actClose:
			a.c.close(a.reason)
		case actTeardown:
			// Links and monitors made over c fire, calls waiting on it
			// fail, watchers get nodedown; only then may a successor start.
			n.proc.PeerDown(a.name)
			n.rpc.failConn(a.c, a.reason)
			n.notifyNodes(a.name, a.c.peer.Hidden || n.cfg.Hidden, false, a.reason)
			acts = append(n.step(func() []action { return n.table.tornDown(a.c) }), acts...)
		case actFailed:
			if len(a.pending) > 0 {
				// Links and monitors made while connecting fire with
				// noconnection; sends are dropped, as in Erlang.
				n.proc.PeerDown(a.name)
			}
		}
	}
}

// start starts c's reader and writer (counted by step) and tells the
// watchers that its peer is up. Watchers hear of it before the reader can
// report c's end.
func (n *Node) start(c *conn) {
	n.notifyNodes(c.peer.Name, c.peer.Hidden || n.cfg.Hidden, true, nil)
	go c.writeLoop()
	go c.readLoop()
	if c.peer.Flags&wire.FlagTickTime != 0 {
		_ = c.send(Message{Kind: KindTickTime, Payload: n.cfg.TickTime.Milliseconds()}, false)
	}
	if !n.cfg.Hidden && !c.peer.Hidden {
		_ = c.send(Message{Kind: KindPeers, Payload: n.visiblePeers(c.peer.Name)}, false)
	}
}

// isUp reports whether the connection to name is up and its watchers have
// heard nodeup (a connection being started is not up yet for Connect).
func (n *Node) isUp(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.table.peers[name]
	if p == nil || p.conn == nil {
		return false
	}
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// connFor returns the connection to name if it is up.
func (n *Node) connFor(name string) *conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.table.peers[name]; p != nil {
		return p.conn
	}
	return nil
}

// Disconnect closes the connection to name (erlang:disconnect_node); its
// links and monitors fire with noconnection. It reports whether there was one.
func (n *Node) Disconnect(name string) bool {
	c := n.connFor(name)
	if c == nil {
		return false
	}
	c.close(errDisconnected)
	return true
}

var errDisconnected = errors.New("disconnected")

// Ping connects to name if needed and reports "pong" when it answers,
// "pang" otherwise, as net_adm:ping does.
func (n *Node) Ping(ctx context.Context, name string) string {
	if err := n.Connect(ctx, name); err != nil {
		return "pang"
	}
	return "pong"
}
