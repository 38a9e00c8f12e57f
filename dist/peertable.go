package dist

import (
	"errors"

	"github.com/gonode/gonode/dist/wire"
)

// peerTable is the node's record of its peers, kept as a state machine
// that does no I/O, as etcd's raft keeps its core: each event (a connect
// asked for, a hello received, a handshake finished or failed, a
// connection gone, its teardown over) updates the table and returns the
// actions the node must take, in order. The node runs the actions outside
// its lock; the table's rules are tested deterministically with scripted
// event sequences (peertable_test.go). Every method is called with the
// node's mutex held.
//
// A record goes through these states:
//
//	connecting     no connection; our dial (dialing) and/or the peer's
//	               (accepting) is in its handshake; signals sent meanwhile
//	               queue in pending
//	up             conn carries the signals
//	replacing      conn is up and a newcomer (a new incarnation of the
//	               peer, or the dialer of a half-open connection) is in its
//	               handshake (accepting); once it proves the cookie it waits
//	               in next while conn is closed and torn down
//	tearing down   conn has gone; its links and monitors fire and its calls
//	               fail (tearing); next, if any, starts only after that
//
// Cleanup is keyed by connection, never by name alone: a connection that is
// no longer the record's current one changes nothing, so the end of an old
// connection cannot fire links made over its successor, and watchers see
// its nodedown before the successor's nodeup.
type peerTable struct {
	self   string
	closed bool
	peers  map[string]*peer
}

func newPeerTable(self string) peerTable {
	return peerTable{self: self, peers: make(map[string]*peer)}
}

// peer is the record of one peer in the table.
type peer struct {
	name      string
	conn      *conn         // up: the connection signals go on
	next      *conn         // authenticated, waiting for the old connection's teardown
	tearing   *conn         // gone; its teardown is running
	torn      chan struct{} // closed when the teardown of tearing is over
	dialing   bool          // our attempt is in its handshake
	accepting bool          // the peer's attempt is in its handshake
	ready     chan struct{} // closed when conn is set, or every attempt failed
	err       error         // why every attempt failed
	// pending holds the signals sent while connecting, in order; they go
	// first on the connection when it is up. pendingData counts the
	// ordinary sends among them, which are bounded by maxQueue.
	pending     []Message
	pendingData int
}

// actionKind is what the node must do after an event.
type actionKind int

const (
	// actStart: c is the peer's connection now (its pending signals are
	// queued on it): start its reader and writer and tell the watchers.
	actStart actionKind = iota + 1
	// actClose: close c, a connection being replaced, with reason.
	actClose
	// actTeardown: c has gone: fire the links and monitors made over it
	// with noconnection, fail its calls, tell the watchers (nodedown),
	// then report tornDown(c).
	actTeardown
	// actFailed: every attempt to connect to the peer failed: the signals
	// that waited for it (pending) are dropped, and links and monitors
	// made meanwhile fire with noconnection.
	actFailed
)

type action struct {
	kind    actionKind
	c       *conn
	name    string
	reason  error
	pending []Message     // actFailed: what was waiting
	ready   chan struct{} // actStart: to close once the watchers know
}

// connect is a connect asked for (Node.Connect, or a signal to a node not
// connected). It returns the record, and whether the caller must dial
// because no attempt of ours is in progress. A record that is up or about
// to be is returned as it is.
func (t *peerTable) connect(name string) (p *peer, dial bool) {
	p = t.peers[name]
	switch {
	case p == nil:
		p = &peer{name: name, ready: make(chan struct{})}
		t.peers[name] = p
	case p.conn != nil || p.next != nil || p.dialing || p.accepting:
		return p, false
	}
	// New, or tearing down with no attempt in progress.
	p.dialing = true
	return p, true
}

// hello answers a peer's hello with Erlang's rules for connections that
// are already up or being set up in both directions at once. The hello is
// not authenticated: the record may be reserved (accepting), but nothing
// that is up is touched. A non-nil peer is returned when the handshake
// goes on (StatusOK, or StatusAlive to a dialer that will be asked whether
// its old connection lives: see wire.FlagAliveAsk).
func (t *peerTable) hello(info wire.PeerInfo) (*peer, wire.Status) {
	if t.closed {
		return nil, wire.StatusNotAllowed
	}
	p := t.peers[info.Name]
	switch {
	case p == nil:
		p = &peer{name: info.Name, ready: make(chan struct{})}
		t.peers[info.Name] = p
	case p.accepting || p.next != nil:
		return nil, wire.StatusNok // another attempt of the peer is ahead of this one
	case p.conn != nil && p.conn.peer.Creation == info.Creation:
		// Already connected to this incarnation: either both nodes dialled
		// and the other attempt got through first, or the connection is
		// half-open (the peer saw it die and dials again). A dialer that
		// can be asked says which; if it says its side is gone, the
		// handshake goes on as a replacement.
		if info.Flags&wire.FlagAliveAsk == 0 {
			return nil, wire.StatusAlive
		}
		p.accepting = true
		return p, wire.StatusAlive
	case p.conn != nil:
		// A new incarnation (the peer restarted under the same name): the
		// old connection stays up until the newcomer has proved the cookie.
	case p.dialing && wire.WinsSimultaneous(t.self, info.Name):
		return nil, wire.StatusNok
	}
	p.accepting = true
	return p, wire.StatusOK
}

// aliveAsked answers a peer that said, to our dial, that it still holds a
// connection from us: true (it is dead, replace it) unless a connection
// is up here, or being accepted.
func (t *peerTable) aliveAsked(name string) bool {
	p := t.peers[name]
	return p == nil || (p.conn == nil && p.next == nil && !p.accepting)
}

// handshook is a handshake that finished: c has proved the cookie. It
// becomes the connection at once, or after the teardown of the one it
// replaces.
func (t *peerTable) handshook(p *peer, c *conn, accepting bool) []action {
	if accepting {
		p.accepting = false
	} else {
		p.dialing = false
	}
	switch {
	case t.closed || t.peers[p.name] != p || p.next != nil:
		return []action{{kind: actClose, c: c, reason: ErrClosed}}
	case p.conn != nil:
		p.next = c
		return []action{{kind: actClose, c: p.conn, reason: errReplaced}}
	case p.tearing != nil:
		p.next = c
		return nil
	}
	return t.promote(p, c)
}

// promote makes c the record's connection, with what waited for it queued
// first, before any sender can see c.
func (t *peerTable) promote(p *peer, c *conn) []action {
	c.enqueueFirst(p.pending)
	p.conn, p.next, p.err = c, nil, nil
	p.pending, p.pendingData = nil, 0
	// ready is closed by the node once the watchers have heard nodeup, so
	// that a connect that waited never returns before its nodeup notice.
	return []action{{kind: actStart, c: c, name: p.name, ready: p.ready}}
}

// failed ends one attempt without a connection. When none is left and
// nothing is up, the record goes: its waiters learn err and what waited
// is dropped.
func (t *peerTable) failed(p *peer, err error, accepting bool) []action {
	if accepting {
		p.accepting = false
	} else {
		p.dialing = false
	}
	if p.conn != nil || p.next != nil || p.tearing != nil || p.dialing || p.accepting || t.peers[p.name] != p {
		return nil
	}
	return t.drop(p, err)
}

func (t *peerTable) drop(p *peer, err error) []action {
	delete(t.peers, p.name)
	p.err = err
	close(p.ready)
	pending := p.pending
	p.pending, p.pendingData = nil, 0
	return []action{{kind: actFailed, name: p.name, reason: err, pending: pending}}
}

// down is a connection that has ended (its reader saw the end). Only the
// record's current connection is torn down; the end of any other (already
// replaced, or never started) changes nothing.
func (t *peerTable) down(c *conn, reason error) []action {
	p := t.peers[c.peer.Name]
	if p == nil || p.conn != c {
		return nil
	}
	p.conn, p.tearing = nil, c
	p.torn = make(chan struct{})
	p.ready = make(chan struct{})
	return []action{{kind: actTeardown, c: c, name: p.name, reason: reason}}
}

// tornDown is the end of c's teardown: a newcomer that waited starts now;
// otherwise the record stays while an attempt is in progress, and goes
// if none is.
func (t *peerTable) tornDown(c *conn) []action {
	p := t.peers[c.peer.Name]
	if p == nil || p.tearing != c {
		return nil
	}
	p.tearing = nil
	close(p.torn)
	switch {
	case p.next != nil && !t.closed:
		return t.promote(p, p.next)
	case p.next != nil:
		next := p.next
		p.next = nil
		return append(t.drop(p, ErrClosed), action{kind: actClose, c: next, reason: ErrClosed})
	case p.dialing || p.accepting:
		return nil
	}
	return t.drop(p, errConnectionLost)
}

// errConnectionLost is what waiters for a connection that went down learn.
var errConnectionLost = errors.New("connection lost")

// queue adds a signal for a peer that is connecting. It reports false,
// queueing nothing, when an ordinary send would pass maxQueue: the
// sender waits for the record's ready and tries again.
func (t *peerTable) queue(p *peer, m Message, data bool) bool {
	if data && p.pendingData >= maxQueue {
		return false
	}
	p.pending = append(p.pending, m)
	if data {
		p.pendingData++
	}
	return true
}

// shutdown closes the table: no hello is answered and no connection
// started from now on. It returns the connections that are up, and those
// that waited to be, for the node to close.
func (t *peerTable) shutdown() (up, waiting []*conn) {
	t.closed = true
	for _, p := range t.peers {
		if p.conn != nil {
			up = append(up, p.conn)
		}
		if p.next != nil {
			waiting = append(waiting, p.next)
		}
	}
	return up, waiting
}
