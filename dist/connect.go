package dist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
)

// setupTime bounds a whole connection set-up (lookup, TCP, handshake), as
// Erlang's net_setuptime does.
const setupTime = 7 * time.Second

// peer is the node's record of one peer: a connection up, or being set up
// by us (dialing), by it (accepting), or both at once.
type peer struct {
	name      string
	conn      *conn         // the connection once up
	dialing   bool          // our own attempt is in progress
	accepting bool          // its attempt is in its handshake
	ready     chan struct{} // closed when conn is set or every attempt failed
	err       error         // why the attempts failed
	down      chan struct{} // closed when conn's teardown (see connDown) is over
}

// A peer record with both conn and accepting set is a pending replacement:
// a new incarnation of the peer is in its handshake while the connection to
// the old one stays up. Only once the newcomer has proved the cookie does
// up retire the old connection, so a hello from someone without the cookie
// never disturbs a live connection.

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
	if n.connFor(name) != nil {
		return nil // already up: the common case, with no timer to set
	}
	ctx, cancel := context.WithTimeout(ctx, setupTime)
	defer cancel()
	for attempt := 0; ; attempt++ {
		n.mu.Lock()
		if n.closed {
			n.mu.Unlock()
			return ErrClosed
		}
		p := n.peers[name]
		if p != nil && p.conn != nil {
			n.mu.Unlock()
			return nil
		}
		if p != nil {
			ready := p.ready
			n.mu.Unlock()
			select {
			case <-ready:
			case <-ctx.Done():
				return fmt.Errorf("connect %s: %w", name, ctx.Err())
			}
			if attempt > 0 {
				if n.connFor(name) != nil {
					return nil
				}
				return fmt.Errorf("connect %s: %w", name, p.err)
			}
			continue
		}
		p = &peer{name: name, dialing: true, ready: make(chan struct{})}
		n.peers[name] = p
		n.mu.Unlock()
		return n.dial(ctx, p)
	}
}

func (n *Node) dial(ctx context.Context, p *peer) error {
	c, err := n.dialHandshake(ctx, p.name)
	var refused *wire.RefusedError
	if errors.As(err, &refused) && (refused.Status == wire.StatusNok || refused.Status == wire.StatusAlive) {
		// Nok: the peer is connecting to us at the same time and its
		// attempt wins. Alive: its attempt already made it. Either way the
		// connection arrives, or has arrived, through accept.
		n.mu.Lock()
		p.dialing = false
		if refused.Status == wire.StatusAlive && p.conn == nil && !p.accepting {
			n.mu.Unlock()
			n.attemptFailed(p, err, false)
			return fmt.Errorf("connect %s: the peer still holds an old connection from this node; it drops it within the tick time: %w", p.name, err)
		}
		ready := p.ready
		n.mu.Unlock()
		select {
		case <-ready:
			if n.connFor(p.name) != nil {
				return nil
			}
			return fmt.Errorf("connect %s: %w", p.name, p.err)
		case <-ctx.Done():
			n.attemptFailed(p, ctx.Err(), false)
			return fmt.Errorf("connect %s: %w", p.name, ctx.Err())
		}
	}
	if err != nil {
		n.attemptFailed(p, err, false)
		return fmt.Errorf("connect %s: %w", p.name, err)
	}
	return n.up(p, c)
}

// dialHandshake looks name up, dials it and runs the initiating handshake.
func (n *Node) dialHandshake(ctx context.Context, name string) (*conn, error) {
	alive, host, err := peerHostPort(name)
	if err != nil {
		return nil, err
	}
	port, err := epmd.LookupPort(ctx, n.epmdAddrFor(host), alive)
	if err != nil {
		return nil, fmt.Errorf("port mapper on %s: %w", host, err)
	}
	nc, err := n.cfg.Transport.Dial(ctx, net.JoinHostPort(host, fmt.Sprint(port)), name)
	if err != nil {
		return nil, err
	}
	deadline, _ := ctx.Deadline()
	_ = nc.SetDeadline(deadline)
	br := bufio.NewReaderSize(nc, 64<<10)
	info, err := n.cfg.Protocol.Handshake.Initiate(nc, br, n.handshakeConfig(), name)
	if err != nil {
		nc.Close()
		if errors.Is(err, wire.ErrBadCookie) {
			n.logf("dist: connection to %s refused: cookie mismatch", name)
		}
		return nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	return newConn(n, nc, br, info), nil
}

func (n *Node) handshakeConfig() wire.HandshakeConfig {
	return wire.HandshakeConfig{Name: n.cfg.Name, Creation: n.proc.Creation(), Cookie: n.cfg.Cookie, Hidden: n.cfg.Hidden}
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
	var p *peer
	info, err := n.cfg.Protocol.Handshake.Accept(nc, br, n.handshakeConfig(), func(peer wire.PeerInfo) wire.Status {
		var st wire.Status
		p, st = n.decide(peer)
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
	_ = n.up(p, newConn(n, nc, br, info))
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown peer"
	}
	return s
}

// decide answers a peer's hello: Erlang's rules for connections that are
// already up or being set up in both directions at once.
func (n *Node) decide(info wire.PeerInfo) (*peer, wire.Status) {
	name := info.Name
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, wire.StatusNotAllowed
	}
	p := n.peers[name]
	switch {
	case p == nil:
		p = &peer{name: name, ready: make(chan struct{})}
		n.peers[name] = p
	case p.accepting:
		return nil, wire.StatusNok // a second attempt while the first is in its handshake
	case p.conn != nil && p.conn.peer.Creation == info.Creation:
		// Already connected to this incarnation: the two nodes dialled each
		// other and the other attempt got through first. (A half-open old
		// connection is found by the ticks within the tick time.)
		return nil, wire.StatusAlive
	case p.conn != nil:
		// A new incarnation of the peer (it restarted under the same name)
		// while we still hold a connection to the old one. Anyone can claim
		// a name in a hello, so the old connection stays up: up replaces it
		// once the newcomer's digest has been checked, and a failed
		// handshake leaves it alone (a pending replacement, see peer).
	case p.dialing && wire.WinsSimultaneous(n.cfg.Name, name):
		return nil, wire.StatusNok
	}
	p.accepting = true
	return p, wire.StatusOK
}

// attemptFailed ends one attempt; when no attempt is left, waiters learn
// the error and the record goes.
func (n *Node) attemptFailed(p *peer, err error, accepting bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if accepting {
		p.accepting = false
	} else {
		p.dialing = false
	}
	if p.conn == nil && !p.dialing && !p.accepting && n.peers[p.name] == p {
		p.err = err
		delete(n.peers, p.name)
		close(p.ready)
	}
}

// up makes c the connection to its peer, starts its goroutines and tells
// whoever watches nodes.
//
// If p still holds a connection (a pending replacement: c is from a new
// incarnation that has just proved the cookie), the old one is closed and
// its teardown finished first: its links fire and its rpcs fail before c
// can carry anything, and watchers get its nodedown before c's nodeup.
func (n *Node) up(p *peer, c *conn) error {
	n.mu.Lock()
	for old := p.conn; old != nil && old != c && !n.closed && n.peers[p.name] == p; old = p.conn {
		down := p.down
		n.mu.Unlock()
		old.close(errReplaced)
		<-down // connDown(old) has run, and made p.conn nil
		n.mu.Lock()
	}
	if n.closed || n.peers[p.name] != p {
		n.mu.Unlock()
		c.nc.Close()
		return ErrClosed
	}
	p.conn, p.dialing, p.accepting = c, false, false
	p.down = make(chan struct{})
	close(p.ready)
	n.wg.Add(2)
	n.mu.Unlock()
	go c.writeLoop()
	go c.readLoop()
	n.notifyNodes(c.peer.Name, c.peer.Hidden || n.cfg.Hidden, true, nil)
	if !n.cfg.Hidden && !c.peer.Hidden {
		_ = c.send(Message{Kind: KindPeers, Payload: n.visiblePeers(c.peer.Name)}, false)
	}
	return nil
}

// errReplaced closes a connection whose peer came back as a new
// incarnation and proved the cookie.
var errReplaced = errors.New("replaced by a new connection from the peer")

// connDown is called once per connection by its reader when it ends. The
// teardown (links and monitors fire with noconnection, rpcs waiting on c
// fail, nodedown) runs only while the node's record still holds c, so it
// is keyed by connection: a connection that is no longer the peer's
// current one touches nothing made over its successor. A record with a
// pending replacement (see peer) is kept, empty, for the newcomer.
func (n *Node) connDown(c *conn, reason error) {
	n.mu.Lock()
	p := n.peers[c.peer.Name]
	if p == nil || p.conn != c {
		n.mu.Unlock()
		return
	}
	if p.accepting {
		p.conn, p.ready = nil, make(chan struct{})
	} else {
		delete(n.peers, c.peer.Name)
	}
	down := p.down
	n.mu.Unlock()
	n.proc.PeerDown(c.peer.Name)
	n.rpc.failConn(c, reason)
	n.notifyNodes(c.peer.Name, c.peer.Hidden || n.cfg.Hidden, false, reason)
	close(down)
}

// connFor returns the connection to name if it is up.
func (n *Node) connFor(name string) *conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if p := n.peers[name]; p != nil {
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

// Nodes returns the names of the connected visible nodes, sorted (Node.list).
func (n *Node) Nodes() []string { return n.nodes(false) }

// HiddenNodes returns the names of the connected hidden nodes, sorted.
func (n *Node) HiddenNodes() []string { return n.nodes(true) }

func (n *Node) nodes(hidden bool) []string {
	n.mu.Lock()
	out := []string{}
	for name, p := range n.peers {
		if p.conn != nil && (p.conn.peer.Hidden || n.cfg.Hidden) == hidden {
			out = append(out, name)
		}
	}
	n.mu.Unlock()
	sort.Strings(out)
	return out
}

func (n *Node) visiblePeers(except string) []any {
	var out []any
	for _, name := range n.Nodes() {
		if name != except {
			out = append(out, name)
		}
	}
	return out
}

// meshWith connects to the nodes a new peer told us about.
func (n *Node) meshWith(names []any) {
	if n.cfg.Hidden {
		return
	}
	for _, v := range names {
		name, ok := v.(string)
		if !ok || name == n.cfg.Name || n.connFor(name) != nil {
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.Connect(n.ctx, name); err != nil && n.ctx.Err() == nil {
				n.logf("dist: joining %s, told of by a peer: %v", name, err)
			}
		}()
	}
}

// Ping connects to name if needed and reports "pong" when it answers,
// "pang" otherwise, as net_adm:ping does.
func (n *Node) Ping(ctx context.Context, name string) string {
	if err := n.Connect(ctx, name); err != nil {
		return "pang"
	}
	return "pong"
}

// Forward implements proc.Forwarder: it carries a signal to the node of its
// target, connecting first for sends, links, monitors and exit signals
// (as Erlang connects on first use). A send to a node that cannot be
// reached is dropped, as in Erlang; a link or monitor gets an error, which
// proc turns into noconnection; an exit signal's error goes back to its
// sender.
func (n *Node) Forward(s proc.Signal) error {
	m := MessageFromSignal(s)
	node := s.To.Node
	c := n.connFor(node)
	switch s.Kind {
	case proc.SigSend, proc.SigSendName, proc.SigLink, proc.SigMonitor, proc.SigExit2:
		if c == nil {
			if err := n.autoConnect(node); err != nil {
				if s.Kind == proc.SigSend || s.Kind == proc.SigSendName {
					return nil
				}
				return err
			}
			c = n.connFor(node)
		}
	}
	if c == nil {
		return fmt.Errorf("%w: %s", ErrNodeDown, node)
	}
	wait := s.Kind == proc.SigSend || s.Kind == proc.SigSendName
	err := c.send(m, wait)
	if err != nil && wait {
		return nil // the connection went down under the send: dropped, as in Erlang
	}
	return err
}
