package epmd

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
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

func localPort(c net.Conn) uint32 {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		return uint32(a.Port)
	}
	return 0
}
