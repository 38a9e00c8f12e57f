package global

import (
	"errors"
	"runtime/debug"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// state is a name server's state, owned by its process's goroutine:
// nothing here is touched by any other goroutine, except the replica
// (Server.names), which this goroutine writes under Server.mu.
type state struct {
	s    *Server
	p    *proc.Process
	self string // this node's name

	names    map[string]entry        // the replica, with the monitors on the holders
	monitors map[proc.Ref]string     // monitor of a holder -> its name
	peers    map[string]peer         // participants: nodes whose server's sync arrived
	reserved map[string]reservation  // names claimed by a coordinator, by name
	ops      map[proc.Ref]*operation // the operations this server coordinates

	tombs     map[string]tomb // registrations removed on purpose (tombstones.go)
	nextSweep time.Time       // when tombs are next swept; zero: none
}

// peer is a participating node's server, monitored.
type peer struct {
	server proc.Pid
	mon    proc.Ref
}

// reservation is a claim this server agreed to, until commit or abort.
type reservation struct {
	ref     proc.Ref
	node    string // the coordinator's
	expires time.Time
}

// reservationTTL bounds how long a participant holds a reservation for a
// coordinator that says nothing more (it commits or aborts by its
// deadline, or its node goes down and takes the reservation with it).
// Should a commit come later still, the conflict rule settles it.
const reservationTTL = 10 * time.Second

func newState(s *Server, p *proc.Process) *state {
	return &state{
		s: s, p: p, self: s.node.Name(),
		names: make(map[string]entry), monitors: make(map[proc.Ref]string),
		peers:    make(map[string]peer),
		reserved: make(map[string]reservation), ops: make(map[proc.Ref]*operation),
		tombs: make(map[string]tomb),
	}
}

// run is the server's loop: one message at a time, timers as receive
// timeouts. It returns when the process is killed (Close, node stop).
func (st *state) run(started chan<- struct{}) {
	st.s.node.MonitorNodes(st.p.Pid(), true, false)
	defer st.s.node.MonitorNodes(st.p.Pid(), false, false)
	// A server that ends takes its replica with it: Whereis then finds
	// nothing rather than names nobody keeps up to date.
	defer func() {
		st.s.mu.Lock()
		clear(st.s.names)
		st.s.mu.Unlock()
	}()
	for _, n := range st.s.node.Nodes() {
		st.sendSync(n)
	}
	close(started)
	for {
		var m any
		var err error
		if wake, ok := st.nextWake(); ok {
			m, err = st.p.ReceiveTimeout(time.Until(wake))
		} else {
			m, err = st.p.Receive(nil)
		}
		switch {
		case errors.Is(err, proc.ErrTimeout):
			st.expire(time.Now())
			continue
		case err != nil:
			return
		}
		st.handle(m)
	}
}

// handle dispatches one message. Anything not understood is logged and
// dropped: a peer (or anyone) can send anything to ServerName.
func (st *state) handle(m any) {
	switch m := m.(type) {
	case *request:
		st.start(m)
	case cancel:
		st.cancel(m)
	case dist.NodeUp:
		st.s.rc.found(m.Node)
		st.sendSync(m.Node)
	case dist.NodeDown:
		st.peerGone(m.Node)
		if m.Reason != "disconnect" { // an explicit Disconnect is not reconnected
			st.s.rc.lost(m.Node)
		}
	case proc.DownMsg:
		st.down(m)
	case proc.ExitMsg:
		// Trapped exits (a linked process, a stray exit signal): the
		// server lives on; Close kills it with Kill.
	default:
		st.peerInput(m)
	}
}

// peerInput checks and applies a message from outside. A panic while doing
// so (a bug that this input found) is logged with its stack and the
// message dropped, so that one bad message cannot take the node's names
// with it. (A kill unwinds with runtime.Goexit, which recover lets pass.)
func (st *state) peerInput(m any) {
	defer func() {
		if r := recover(); r != nil {
			st.s.opts.Logf("global: %s: dropped a message that made the name server panic (%v): %.200v\n%s", st.self, r, m, debug.Stack())
		}
	}()
	pm, err := decode(m)
	if err != nil {
		st.s.opts.Logf("global: %s: ignoring a message that is not the name servers' protocol (%v): %.200v", st.self, err, m)
		return
	}
	st.peerMessage(pm)
}

func (st *state) peerMessage(m msg) {
	switch m.tag {
	case tagSync:
		st.sync(m)
	case tagClaim:
		st.claim(m)
	case tagCommit:
		st.put(m.name, entry{pid: m.pid, at: m.at, resolve: m.resolve})
		if r, ok := st.reserved[m.name]; ok && r.ref == m.ref {
			delete(st.reserved, m.name)
		}
		st.send(m.ref.Node, []any{tagCommitted, m.ref, st.self})
	case tagAbort:
		if r, ok := st.reserved[m.name]; ok && r.ref == m.ref {
			delete(st.reserved, m.name)
		}
	case tagUnreg:
		if e, ok := st.names[m.name]; ok && e.pid == m.pid {
			st.remove(m.name)
			st.bury(m.name, e)
		}
		if !m.ref.IsZero() {
			st.send(m.ref.Node, []any{tagUnregd, m.ref, st.self})
		}
	case tagClaimed, tagCommitted, tagUnregd:
		st.answer(m)
	}
}

// send sends to the server of node. The sender's connection keeps order
// per pair; a node not connected is connected to by dist (or the message
// is dropped), as any send.
func (st *state) send(node string, m []any) {
	if node == st.self {
		return
	}
	if p, ok := st.peers[node]; ok {
		_ = st.p.Send(p.server, m)
		return
	}
	_ = st.p.SendName(proc.Name{Name: ServerName, Node: node}, m)
}

func (st *state) sendSync(node string) {
	st.send(node, syncMsg(st.self, st.p.Pid(), st.names))
}

// sync merges a peer's names and makes it a participant. A peer new to
// us (or a new incarnation of its server) gets our names back: what we
// sent at its NodeUp may have arrived before its server ran.
func (st *state) sync(m msg) {
	if m.node == st.self || m.from.Node != m.node {
		st.s.opts.Logf("global: %s: ignoring a sync from %v claiming to be %s", st.self, m.from, m.node)
		return
	}
	old, known := st.peers[m.node]
	if !known || old.server != m.from {
		if known {
			st.p.Demonitor(old.mon, true)
		}
		st.peers[m.node] = peer{server: m.from, mon: st.p.Monitor(m.from)}
		st.s.npeers.Store(int64(len(st.peers)))
		st.sendSync(m.node)
	}
	for name, e := range m.entries {
		if st.buried(name, e) {
			st.send(m.node, []any{tagUnreg, proc.Ref{}, name, e.pid})
			continue
		}
		st.put(name, e)
	}
}

// put stores a name, resolving a conflict with the holder it has here.
func (st *state) put(name string, e entry) {
	cur, ok := st.names[name]
	if ok && cur.pid == e.pid {
		return
	}
	if !ok {
		st.store(name, e)
		return
	}
	winner, loser := cur, e
	if e.beats(cur) {
		winner, loser = e, cur
		st.remove(name)
		st.store(name, e)
	}
	st.s.opts.Logf("global: %s: name conflict over %q: %v keeps it, %v loses it", st.self, name, winner.pid, loser.pid)
	st.bury(name, loser)
	st.tellLoser(name, winner, loser)
}

// tellLoser is done by the loser's own node only, so that it is told
// once: exit or message, then the loser's name is dropped everywhere
// (a stale replica cannot bring it back through a later sync).
func (st *state) tellLoser(name string, winner, loser entry) {
	if loser.pid.Node != st.self {
		return
	}
	if loser.resolve == ResolveNotify {
		_ = st.p.Send(loser.pid, Conflict{Name: name, Winner: winner.pid})
	} else {
		_ = st.p.SendExit(loser.pid, []any{atomConflict, name})
	}
	for n := range st.peers {
		st.send(n, []any{tagUnreg, proc.Ref{}, name, loser.pid})
	}
}

// store adds a name held by e.pid and monitors the holder: its death, or
// its node's going away, drops the name (down).
func (st *state) store(name string, e entry) {
	e.mon = st.p.Monitor(e.pid)
	st.monitors[e.mon] = name
	st.names[name] = e
	st.s.mu.Lock()
	st.s.names[name] = e.pid
	st.s.mu.Unlock()
}

func (st *state) remove(name string) {
	e, ok := st.names[name]
	if !ok {
		return
	}
	st.p.Demonitor(e.mon, true)
	delete(st.monitors, e.mon)
	delete(st.names, name)
	st.s.mu.Lock()
	delete(st.s.names, name)
	st.s.mu.Unlock()
}

func (st *state) down(d proc.DownMsg) {
	if name, ok := st.monitors[d.Ref]; ok {
		if e := st.names[name]; e.mon == d.Ref {
			st.remove(name)
		}
		delete(st.monitors, d.Ref)
		return
	}
	for node, p := range st.peers {
		if p.mon == d.Ref {
			st.peerGone(node)
			return
		}
	}
}

// peerGone takes node out of the participants: its reservations go, and
// operations stop waiting for it.
func (st *state) peerGone(node string) {
	if p, ok := st.peers[node]; ok {
		st.p.Demonitor(p.mon, true)
		delete(st.peers, node)
		st.s.npeers.Store(int64(len(st.peers)))
	}
	for name, r := range st.reserved {
		if r.node == node {
			delete(st.reserved, name)
		}
	}
	for _, op := range st.ops {
		if op.waiting[node] {
			delete(op.waiting, node)
			st.progress(op)
		}
	}
}
