package epmd

import (
	"cmp"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

const (
	// defaultRequestTimeout bounds how long a connection may take to send
	// its request and read the reply (epmd's packet_timeout is 60 s).
	defaultRequestTimeout = 10 * time.Second
	// defaultMaxConns bounds open connections, registered ones included.
	// At the cap a new connection takes the place of the oldest idle one
	// (see track), so held connections cannot keep requests out.
	defaultMaxConns = 4096
	// defaultIdleAfter is how long a connection may take to send its
	// request before it counts as idle and may be shed at the cap. A real
	// client sends its request at once (one request per connection).
	defaultIdleAfter = 250 * time.Millisecond
	// maxUnreg is how many unregistered names are remembered so that a
	// name registering again gets creation+1 (epmd's MAX_UNREG_COUNT).
	maxUnreg = 1000
)

// Server is an embedded port mapper answering ALIVE2, PORT_PLEASE2 and
// NAMES like epmd. It is safe for concurrent use: Serve may run on several
// listeners at once and Close may be called from any goroutine. Each
// connection has one goroutine, which does all of its reads and writes.
type Server struct {
	// OnKill, if set, makes the server accept a KILL_REQ while no name is
	// registered: it answers "OK" and calls OnKill, which should make the
	// owner Close the server (from another goroutine: OnKill runs on a
	// connection's, which Close waits for). Set it before Serve.
	OnKill func()

	logf           func(format string, args ...any)
	requestTimeout time.Duration
	maxConns       int
	idleAfter      time.Duration
	done           chan struct{} // closed by Close

	mu        sync.Mutex // guards the fields below
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	nodes     map[string]*regNode   // registered names
	unreg     map[string]unregEntry // recently unregistered names
	seq       uint64                // registration order, for NAMES

	pending map[net.Conn]time.Time // connections yet to send their request, by accept time
	shed    uint64                 // idle connections closed at the cap
	refused uint64                 // connections refused at the cap

	wg sync.WaitGroup // connection goroutines
}

type regNode struct {
	info    portInfo
	counter uint32 // creation counter; see creationFor
	conn    net.Conn
	seq     uint64
	gone    chan struct{} // closed when the name is unregistered
}

// takenWait is how long a registration of a taken name waits for its
// holder to go: a node that restarts under its name registers again a
// moment after the old one closed its socket, before this server has read
// that close.
const takenWait = 250 * time.Millisecond

type unregEntry struct {
	counter uint32
	seq     uint64
}

// NewServer returns a Server that logs bad requests and connection errors
// through logf (nil discards them). Start it with Serve.
func NewServer(logf func(format string, args ...any)) *Server {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Server{
		logf:           logf,
		requestTimeout: defaultRequestTimeout,
		maxConns:       defaultMaxConns,
		idleAfter:      defaultIdleAfter,
		done:           make(chan struct{}),
		listeners:      make(map[net.Listener]struct{}),
		conns:          make(map[net.Conn]struct{}),
		pending:        make(map[net.Conn]time.Time),
		nodes:          make(map[string]*regNode),
		unreg:          make(map[string]unregEntry),
	}
}

// Serve accepts connections on l until Close is called, then returns
// ErrServerClosed. It takes ownership of l. Other errors from Accept that
// are not temporary are returned as they are.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Probably out of file descriptors: back off as net/http does.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.logf("epmd: accept: %v; retrying in %v", err, delay)
			select {
			case <-time.After(delay):
			case <-s.done:
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		if !s.track(c) {
			c.Close()
			if s.isClosed() {
				return ErrServerClosed
			}
			continue
		}
		go s.handle(c)
	}
}

// Close stops every Serve, closes all connections (unregistering every
// name) and waits for the connection goroutines. It is idempotent.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.done)
		for l := range s.listeners {
			l.Close()
		}
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track records c and reserves its goroutine; false means c must be
// closed (server closed, or too many connections).
//
// At the cap of open connections, the oldest idle connection (one that
// has not sent its request within idleAfter) is closed to make room, so
// that connections held open by a broken or hostile client cannot keep
// real requests out: a real client sends its request at once and is
// answered long before it could count as idle. Registered nodes'
// connections are never shed. Only when no connection is idle is c
// refused. Both are logged on the 1st, 2nd, 4th, 8th, ... occurrence.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if len(s.conns) >= s.maxConns && !s.shedIdleLocked(time.Now()) {
		s.refused++
		if s.refused&(s.refused-1) == 0 {
			s.logf("epmd: %s: refused: %d connections open, none idle (%d refused so far)", c.RemoteAddr(), len(s.conns), s.refused)
		}
		return false
	}
	s.conns[c] = struct{}{}
	s.pending[c] = time.Now()
	s.wg.Add(1)
	return true
}

// shedIdleLocked closes the oldest connection that has been waiting for
// its request for idleAfter or longer; false if there is none.
func (s *Server) shedIdleLocked(now time.Time) bool {
	var oldest net.Conn
	var oldestAt time.Time
	for c, at := range s.pending {
		if now.Sub(at) >= s.idleAfter && (oldest == nil || at.Before(oldestAt)) {
			oldest, oldestAt = c, at
		}
	}
	if oldest == nil {
		return false
	}
	oldest.Close() // its goroutine finishes on its own
	delete(s.pending, oldest)
	delete(s.conns, oldest)
	s.shed++
	if s.shed&(s.shed-1) == 0 {
		s.logf("epmd: %s: closed: idle for %v at the cap of %d connections (%d closed so far)",
			oldest.RemoteAddr(), now.Sub(oldestAt).Round(time.Millisecond), s.maxConns, s.shed)
	}
	return true
}

// requestRead marks c as having sent its request: it is no longer idle.
func (s *Server) requestRead(c net.Conn) {
	s.mu.Lock()
	delete(s.pending, c)
	s.mu.Unlock()
}

func (s *Server) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		if r := recover(); r != nil {
			s.logf("epmd: %s: panic: %v\n%s", c.RemoteAddr(), r, debug.Stack())
		}
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		delete(s.pending, c)
		s.mu.Unlock()
	}()

	c.SetDeadline(time.Now().Add(s.requestTimeout))
	body, err := readRequest(c)
	s.requestRead(c)
	if err != nil {
		if err != io.EOF { // a plain close before any byte is not an error
			s.logf("epmd: %s: closing: %v", c.RemoteAddr(), err)
		}
		return
	}
	req, err := decodeRequest(body)
	if err != nil {
		s.logf("epmd: %s: closing: %v", c.RemoteAddr(), err)
		return
	}
	var reply []byte
	switch req := req.(type) {
	case aliveReq:
		s.serveAlive(c, req)
		return
	case portReq:
		reply = encodePort2Resp(s.lookup(req.Name))
	case namesReq:
		reply = encodeNamesResp(localPort(c), s.list())
	case killReq:
		// Only a standalone port mapper (gonode epmd) can be stopped, and,
		// as epmd without -relaxed_command_check, only with no name
		// registered; the one a node embeds never.
		reply = []byte("NO")
		if s.OnKill != nil && len(s.list()) == 0 {
			reply = []byte("OK")
			defer s.OnKill()
		}
	}
	if _, err := c.Write(reply); err != nil {
		s.logf("epmd: %s: writing reply: %v", c.RemoteAddr(), err)
	}
}

// serveAlive registers the name and keeps the socket open until the node
// closes it (or sends anything more), then unregisters it.
func (s *Server) serveAlive(c net.Conn, req aliveReq) {
	if !localPeer(c.RemoteAddr(), c.LocalAddr()) {
		s.logf("epmd: %s: closing: ALIVE2_REQ for %q from a non-local peer", c.RemoteAddr(), req.Name)
		return
	}
	creation, gone, ok := s.register(req, c)
	if !ok && gone != nil {
		t := time.NewTimer(takenWait)
		select {
		case <-gone:
			creation, _, ok = s.register(req, c)
		case <-t.C:
		}
		t.Stop()
	}
	result := uint8(0)
	if !ok {
		s.logf("epmd: %s: name %q already registered", c.RemoteAddr(), req.Name)
		result, creation = 1, 99
	}
	if _, err := c.Write(encodeAliveResp(req.High, result, creation)); err != nil {
		s.logf("epmd: %s: writing ALIVE2 reply: %v", c.RemoteAddr(), err)
		if ok {
			s.unregister(req.Name, c)
		}
		return
	}
	// Like epmd, keep the socket open even after a refusal: the node
	// learns it is gone when it closes.
	c.SetDeadline(time.Time{})
	var buf [1]byte
	if _, err := c.Read(buf[:]); err == nil {
		s.logf("epmd: %s: closing: data on the ALIVE2 socket of %q", c.RemoteAddr(), req.Name)
	}
	if ok {
		s.unregister(req.Name, c)
	}
}

// register stores req for conn c and returns the creation to reply with;
// false if the name is taken, with a channel closed when its holder goes.
func (s *Server) register(req aliveReq, c net.Conn) (uint32, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, nil, false
	}
	if holder, taken := s.nodes[req.Name]; taken {
		return 0, holder.gone, false
	}
	// Like epmd: a name seen before gets its old counter + 1, a new one a
	// random start; counters skip 0..3 (creations of old Hi=5 nodes).
	var counter uint32
	if u, seen := s.unreg[req.Name]; seen {
		delete(s.unreg, req.Name)
		counter = u.counter
	} else {
		counter = rand.Uint32()
	}
	counter++
	if counter < 4 {
		counter = 4
	}
	s.seq++
	s.nodes[req.Name] = &regNode{
		info: portInfo{
			Port: req.Port, NodeType: req.NodeType, Protocol: req.Protocol,
			High: req.High, Low: req.Low, Name: req.Name, Extra: req.Extra,
		},
		counter: counter,
		conn:    c,
		seq:     s.seq,
		gone:    make(chan struct{}),
	}
	return creationFor(counter, req.High), nil, true
}

// creationFor maps a counter to the creation an ALIVE2 reply carries:
// the counter itself for Hi >= 6, 1..3 for older nodes (as epmd does).
func creationFor(counter uint32, high uint16) uint32 {
	if high >= 6 {
		return counter
	}
	return counter%3 + 1
}

// unregister drops name if conn c still holds it.
func (s *Server) unregister(name string, c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nodes[name]
	if n == nil || n.conn != c {
		return
	}
	delete(s.nodes, name)
	close(n.gone)
	s.seq++
	s.unreg[name] = unregEntry{counter: n.counter, seq: s.seq}
	if len(s.unreg) > maxUnreg {
		oldest, oldestSeq := "", uint64(0)
		for k, u := range s.unreg {
			if oldest == "" || u.seq < oldestSeq {
				oldest, oldestSeq = k, u.seq
			}
		}
		delete(s.unreg, oldest)
	}
}

func (s *Server) lookup(name string) *portInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nodes[name]; n != nil {
		p := n.info
		return &p
	}
	return nil
}

// list returns the registered nodes, newest first as epmd lists them.
func (s *Server) list() []NodeEntry {
	s.mu.Lock()
	nodes := make([]*regNode, 0, len(s.nodes))
	for _, n := range s.nodes {
		nodes = append(nodes, n)
	}
	s.mu.Unlock()
	slices.SortFunc(nodes, func(a, b *regNode) int { return cmp.Compare(b.seq, a.seq) })
	out := make([]NodeEntry, len(nodes))
	for i, n := range nodes {
		out[i] = NodeEntry{Name: n.info.Name, Port: n.info.Port}
	}
	return out
}

// localPeer reports whether remote may register, as epmd decides: a
// loopback address, or the address the connection arrived on.
func localPeer(remote, local net.Addr) bool {
	r, ok := remote.(*net.TCPAddr)
	if !ok {
		return false
	}
	if r.IP.IsLoopback() {
		return true
	}
	l, ok := local.(*net.TCPAddr)
	return ok && !r.IP.IsUnspecified() && r.IP.Equal(l.IP)
}

func localPort(c net.Conn) uint32 {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return uint32(a.Port)
	}
	return 0
}
