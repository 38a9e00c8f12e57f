package epmd

import (
	"cmp"
	"math/rand/v2"
	"net"
	"slices"
	"time"
)

// The names registered with the server. As in epmd, a name is held by the
// ALIVE2 connection that registered it, for as long as that connection
// stays open.

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
