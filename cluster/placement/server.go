package placement

import (
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/dist"
	"github.com/gonode/gonode/proc"
)

// run is the load process's body: sample and push every interval, take
// the peers' pushes, drop the records of nodes that go. Its goroutine is
// owned by the proc runtime; Close ends it with an exit signal and waits
// on done.
func (s *Service) run(p *proc.Process, ready chan<- struct{}) {
	defer func() {
		s.node.MonitorNodes(p.Pid(), false, false)
		s.mu.Lock()
		s.closed = true
		clear(s.records)
		s.mu.Unlock()
		close(s.done)
	}()
	// Subscribe before the first push, so that no node that comes up is
	// missed; a node pushed to twice is harmless.
	s.node.MonitorNodes(p.Pid(), true, false)
	s.sampleSafely(p)
	close(ready)
	next := time.Now().Add(s.o.Interval)
	for {
		// The clock is checked before every receive, not only when one
		// times out: a steady stream of pushes from many peers would
		// otherwise keep the timeout from ever firing. A late tick (a
		// long GC, a busy machine) starts the next interval from now,
		// rather than sampling several times in a row to catch up.
		if !time.Now().Before(next) {
			s.sampleSafely(p)
			next = time.Now().Add(s.o.Interval)
		}
		m, err := p.ReceiveTimeout(time.Until(next))
		switch {
		case errors.Is(err, proc.ErrTimeout):
			continue
		case err != nil:
			return // killed, or the node is stopping
		}
		s.handleSafely(p, m)
	}
}

// sampleSafely samples the node and pushes the record to every connected
// node. A sampler that panics (an injected one, say) is logged, and the
// node's last record stays until the next interval tries again.
func (s *Service) sampleSafely(p *proc.Process) {
	defer func() {
		if v := recover(); v != nil {
			s.o.Logf("placement: %s: sampler panicked: %v\n%s", s.node.Name(), v, proc.NewPanicReason(v).StackText())
		}
	}()
	s.push(p, s.sample(), s.node.Nodes())
}

func (s *Service) localLoad() Load {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records[s.node.Name()].load
}

// push sends l to the load process on each of nodes. A send to a node
// without one is dropped by that node, as any send to an unregistered
// name; a send to a node whose connection queue is full waits for room,
// as every send over dist does.
func (s *Service) push(p *proc.Process, l Load, nodes []string) {
	msg := loadMsg(p.Pid(), l)
	for _, n := range nodes {
		_ = p.SendName(proc.Name{Name: ServerName, Node: n}, msg)
	}
}

// handleSafely handles one message; a panic (a bug, or input no check
// foresaw) is logged and the process goes on, since losing it would
// leave the node's peers with a record going stale.
func (s *Service) handleSafely(p *proc.Process, m any) {
	defer func() {
		if v := recover(); v != nil {
			s.o.Logf("placement: panic handling %s: %v\n%s", brief(m), v, proc.NewPanicReason(v).StackText())
		}
	}()
	switch m := m.(type) {
	case dist.NodeUp:
		s.push(p, s.localLoad(), []string{m.Node})
	case dist.NodeDown:
		s.forget(p, m.Node, proc.Ref{})
	case proc.DownMsg:
		s.forget(p, m.Pid.Node, m.Ref)
	default:
		from, l, err := parseLoad(m)
		if err == nil && from.Node == s.node.Name() {
			err = fmt.Errorf("a record from %v, a process of this node", from)
		}
		if err != nil {
			s.o.Logf("placement: %s: ignoring a message: %v: %s", s.node.Name(), err, brief(m))
			return
		}
		s.store(p, from, l)
	}
}

// store keeps l, the record the load process from pushed, in place of the
// node's last one; a sender new here is monitored, so that its record goes
// with it.
func (s *Service) store(p *proc.Process, from proc.Pid, l Load) {
	s.mu.Lock()
	e := s.records[l.Node]
	var old proc.Ref
	if e != nil && e.from != from {
		old, e = e.ref, nil // a new load process on that node
	}
	if e == nil {
		e = &entry{from: from}
		s.records[l.Node] = e
	}
	needRef := e.ref.IsZero()
	e.load, e.received, e.placed = l, time.Now(), 0
	s.mu.Unlock()
	if !old.IsZero() {
		p.Demonitor(old, true)
	}
	if needRef {
		ref := p.Monitor(from) // outside the lock: a monitor of a remote pid sends
		s.mu.Lock()
		if cur := s.records[l.Node]; cur == e {
			e.ref = ref
		}
		s.mu.Unlock()
	}
}

// forget drops node's record: on NodeDown (ref zero), or on the DOWN of
// the monitor ref of the process that sent it.
func (s *Service) forget(p *proc.Process, node string, ref proc.Ref) {
	if node == s.node.Name() {
		return
	}
	s.mu.Lock()
	e := s.records[node]
	if e != nil && (ref.IsZero() || e.ref == ref) {
		delete(s.records, node)
	} else {
		e = nil
	}
	s.mu.Unlock()
	if e != nil && ref.IsZero() && !e.ref.IsZero() {
		p.Demonitor(e.ref, true)
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
