package pg

import (
	"errors"
	"fmt"
	"sort"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// request is what the API hands the scope process. It is a local value
// with a reply channel: no peer can send one, since nothing decodes into
// it.
type request struct {
	op    opKind
	group string
	pids  []proc.Pid
	ref   proc.Ref
	reply chan reply
}

type opKind uint8

const (
	opJoin opKind = iota + 1
	opLeave
	opMonitor
	opMonitorScope
	opDemonitor
	opStop
)

type reply struct {
	err     error
	ref     proc.Ref
	ok      bool
	members []proc.Pid
	groups  map[string][]proc.Pid
}

var errUnknown = errors.New("not a pg scope message")

// server is the scope process's state, touched only by its goroutine.
type server struct {
	s     *Scope
	p     *proc.Process
	local map[proc.Pid]*member // processes of this node joined through the scope
	peers map[proc.Pid]*peer   // the scope's processes on other nodes
	subs  subscriptions
}

// member is a local process joined to one or more groups.
type member struct {
	ref    proc.Ref // the scope's monitor of it
	groups []string // one entry per join, repeats kept
}

// peer is the scope's process on another node, and the members it
// announced.
type peer struct {
	ref    proc.Ref // the scope's monitor of it
	groups map[string][]proc.Pid
}

// run is the scope process's body.
func (s *Scope) run(p *proc.Process) {
	sv := &server{s: s, p: p, local: make(map[proc.Pid]*member), peers: make(map[proc.Pid]*peer)}
	sv.subs.init()
	defer func() {
		s.node.MonitorNodes(p.Pid(), false, false)
		s.v.clear()
		close(s.done)
	}()
	// Subscribe before listing, so that no node is missed; a node in both
	// is discovered twice, which is harmless.
	s.node.MonitorNodes(p.Pid(), true, false)
	for _, n := range s.node.Nodes() {
		sv.discover(n)
	}
	for {
		m, err := p.Receive(p.Context())
		if err != nil {
			return // killed, or the node is stopping
		}
		if r, ok := m.(*request); ok && r != nil && r.op == opStop {
			return // Close waits on done, not on a reply
		}
		sv.handleSafely(m)
	}
}

// handleSafely handles one message; a panic (a bug, or input no check
// foresaw) is logged and the scope goes on, since losing the scope would
// drop every membership of the node.
func (sv *server) handleSafely(m any) {
	defer func() {
		if v := recover(); v != nil {
			sv.s.logf("pg: scope %s: panic handling %s: %v\n%s", sv.s.name, brief(m), v, proc.NewPanicReason(v).StackText())
			if r, ok := m.(*request); ok && r != nil && r.reply != nil && len(r.reply) == 0 {
				r.reply <- reply{err: fmt.Errorf("pg: scope %s: panic: %v", sv.s.name, v)} // the caller waits
			}
		}
	}()
	sv.handle(m)
}

func (sv *server) handle(m any) {
	switch m := m.(type) {
	case *request:
		if m == nil || m.reply == nil {
			sv.s.logf("pg: scope %s: ignoring a request without a reply channel", sv.s.name)
			return
		}
		m.reply <- sv.request(m) // buffered: never blocks
	case proc.DownMsg:
		sv.down(m)
	case dist.NodeUp:
		sv.discover(m.Node)
	case dist.NodeDown:
		// Nothing to do: the monitor of the peer's scope fires as well.
	default:
		pm, err := parse(m)
		if err != nil {
			sv.s.logf("pg: scope %s: ignoring a message: %v: %s", sv.s.name, err, brief(m))
			return
		}
		sv.peerMsg(pm)
	}
}

// brief prints a message for a log line, cut short.
func brief(m any) string {
	s := fmt.Sprintf("%v", m)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func (sv *server) discover(node string) {
	_ = sv.p.SendName(proc.Name{Name: sv.s.name, Node: node}, discoverMsg(sv.p.Pid()))
}

func (sv *server) request(r *request) reply {
	switch r.op {
	case opJoin:
		return reply{err: sv.join(r.group, r.pids)}
	case opLeave:
		return reply{err: sv.leave(r.group, r.pids)}
	case opMonitor:
		ref := sv.subs.add(sv.p, r.pids[0], r.group, false)
		return reply{ref: ref, members: sv.s.Members(r.group)}
	case opMonitorScope:
		ref := sv.subs.add(sv.p, r.pids[0], "", true)
		return reply{ref: ref, groups: sv.snapshot()}
	case opDemonitor:
		return reply{ok: sv.subs.remove(sv.p, r.ref)}
	}
	return reply{err: fmt.Errorf("pg: unknown request %d", r.op)}
}

func (sv *server) snapshot() map[string][]proc.Pid {
	out := make(map[string][]proc.Pid)
	for _, g := range sv.s.Groups() {
		out[g] = sv.s.Members(g)
	}
	return out
}

func (sv *server) join(group string, pids []proc.Pid) error {
	if len(pids) == 0 {
		return nil
	}
	for _, pid := range pids {
		if !sv.s.node.Proc().Alive(pid) {
			return fmt.Errorf("pg: join %q: %v: %w", group, pid, proc.ErrNoProc)
		}
	}
	for _, pid := range pids {
		m := sv.local[pid]
		if m == nil {
			m = &member{ref: sv.p.Monitor(pid)}
			sv.local[pid] = m
		}
		m.groups = append(m.groups, group)
	}
	sv.changed(group, pids, nil, true)
	return nil
}

func (sv *server) leave(group string, pids []proc.Pid) error {
	var left []proc.Pid
	for _, pid := range pids {
		m := sv.local[pid]
		if m == nil {
			continue
		}
		i := indexOf(m.groups, group)
		if i < 0 {
			continue
		}
		m.groups = append(m.groups[:i:i], m.groups[i+1:]...)
		if len(m.groups) == 0 {
			sv.p.Demonitor(m.ref, true)
			delete(sv.local, pid)
		}
		left = append(left, pid)
	}
	if len(left) == 0 {
		return fmt.Errorf("%w %q", ErrNotJoined, group)
	}
	sv.changed(group, nil, left, true)
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// changed applies a change to group to the replica, tells the peers (for a
// local change) and the subscribers. A send to a peer whose connection
// has its queue full waits for room (dist bounds the queue and drops a
// peer that takes nothing), as a BEAM process waits on a busy
// distribution port: joins slow down rather than pile up.
func (sv *server) changed(group string, joined, left []proc.Pid, local bool) {
	sv.s.v.update(group, joined, left, local)
	self := sv.p.Pid()
	if local {
		for to := range sv.peers {
			if len(left) > 0 {
				_ = sv.p.Send(to, leaveMsg(self, group, left))
			}
			if len(joined) > 0 {
				_ = sv.p.Send(to, joinMsg(self, group, joined))
			}
		}
	}
	sv.subs.notify(sv.p, group, joined, left)
}

func (sv *server) down(d proc.DownMsg) {
	if m := sv.local[d.Pid]; m != nil && m.ref == d.Ref {
		delete(sv.local, d.Pid)
		for _, g := range countGroups(m.groups) {
			sv.changed(g.group, nil, repeat(d.Pid, g.n), true)
		}
		return
	}
	if pr := sv.peers[d.Pid]; pr != nil && pr.ref == d.Ref {
		delete(sv.peers, d.Pid)
		for _, g := range sortedKeys(pr.groups) {
			sv.changed(g, nil, pr.groups[g], false)
		}
		return
	}
	sv.subs.down(d)
}

type groupCount struct {
	group string
	n     int
}

// countGroups counts the joins per group, in the order of the first join.
func countGroups(groups []string) []groupCount {
	var out []groupCount
	for _, g := range groups {
		i := 0
		for i < len(out) && out[i].group != g {
			i++
		}
		if i == len(out) {
			out = append(out, groupCount{group: g})
		}
		out[i].n++
	}
	return out
}

func repeat(p proc.Pid, n int) []proc.Pid {
	out := make([]proc.Pid, n)
	for i := range out {
		out[i] = p
	}
	return out
}

func sortedKeys(m map[string][]proc.Pid) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
