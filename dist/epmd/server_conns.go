package epmd

import (
	"net"
	"time"
)

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
