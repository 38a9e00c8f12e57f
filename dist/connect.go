package dist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"syscall"
	"time"

	"github.com/gonode/gonode/dist/epmd"
	"github.com/gonode/gonode/dist/wire"
	"github.com/gonode/gonode/proc"
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

// connectInBackground dials for the signals that queued for p, and
// remembers a failure for a moment (see failedConnects).
func (n *Node) connectInBackground(p *peer) {
	defer n.wg.Done()
	ctx, cancel := context.WithTimeout(n.ctx, setupTime)
	defer cancel()
	// A failure is not logged: the signals are dropped, as Erlang drops a
	// send to a node it cannot reach, and a node whose peer has left
	// (a cluster service pushing to it meanwhile) stays quiet. A refused
	// cookie is logged by the handshake itself.
	err := n.dial(ctx, p)
	n.failed.remember(p.name, err, time.Now())
}

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

// Nodes returns the names of the connected visible nodes, sorted (Node.list).
func (n *Node) Nodes() []string { return n.nodes(false) }

// HiddenNodes returns the names of the connected hidden nodes, sorted.
func (n *Node) HiddenNodes() []string { return n.nodes(true) }

func (n *Node) nodes(hidden bool) []string {
	n.mu.Lock()
	out := []string{}
	for name, p := range n.table.peers {
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
// target. A send, link, monitor or exit signal to a node not connected
// connects first (as Erlang connects on first use), in the background: the
// signal queues, with any that follow, and goes first once the connection
// is up; if it cannot be made, the sends are dropped and the links and
// monitors fire with noconnection, as in Erlang. Other signals to a node
// not connected are dropped. Ordinary sends wait while maxQueue of them
// are queued; nothing else waits.
func (n *Node) Forward(s proc.Signal) error {
	m := MessageFromSignal(s)
	node := s.To.Node
	data := s.Kind == proc.SigSend || s.Kind == proc.SigSendName
	connects := data || s.Kind == proc.SigLink || s.Kind == proc.SigMonitor || s.Kind == proc.SigExit2
	checked := false
	for {
		n.mu.Lock()
		p := n.table.peers[node]
		if p != nil && p.conn != nil {
			c := p.conn
			n.mu.Unlock()
			if err := c.send(m, data); err != nil && (!data || isUnsendable(err)) {
				return err
			}
			return nil // a send on a connection that went down under it is dropped, as in Erlang
		}
		if p != nil && p.tearing != nil {
			// A connection's teardown fires the links made over it: wait
			// for its end (it does no I/O), so that what is sent now
			// belongs to the next connection.
			torn := p.torn
			n.mu.Unlock()
			<-torn
			continue
		}
		if !checked {
			// It waits for the connection: its sender learns now whether
			// it can be sent at all.
			n.mu.Unlock()
			if err := n.checkEncodable(&m); err != nil {
				return err
			}
			checked = true
			continue
		}
		dial := false
		if p == nil {
			if !connects || n.table.closed {
				n.mu.Unlock()
				return fmt.Errorf("%w: %s", ErrNodeDown, node)
			}
			if err := n.failed.recent(node, time.Now()); err != nil {
				n.mu.Unlock()
				if data {
					return nil
				}
				return err
			}
		}
		if connects && !n.table.closed {
			// Dials unless an attempt is in progress (a record left with
			// none, after a dial refused nok whose winner never came, is
			// dialled again).
			p, dial = n.table.connect(node)
		}
		if !n.table.queue(p, m, data) {
			ready := p.ready
			n.mu.Unlock()
			select {
			case <-ready:
			case <-n.ctx.Done():
				return nil
			}
			continue
		}
		if dial {
			n.wg.Add(1)
		}
		n.mu.Unlock()
		if dial {
			go n.connectInBackground(p)
		}
		return nil
	}
}
