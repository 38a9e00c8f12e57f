package otp

import (
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
)

// normalExit reports whether reason is an orderly stop: normal, shutdown
// or {shutdown, _}. A transient child that exits so stays down, and a
// server that stops so is not reported (GenServer does not log it).
func normalExit(reason any) bool {
	switch r := reason.(type) {
	case proc.Atom:
		return r == proc.Normal || r == proc.Shutdown
	case ShutdownReason:
		return true
	}
	return false
}

// ShutdownReason is Erlang's {shutdown, Detail}: an orderly stop that a
// transient child's supervisor does not restart, and that no crash report
// is printed for.
type ShutdownReason struct{ Detail any }

func (r ShutdownReason) String() string {
	return fmt.Sprintf("{:shutdown, %s}", proc.FormatReason(r.Detail))
}

// childExited applies the restart policy to a child that exited.
func (s *supervisor) childExited(c *child, reason any) {
	delete(s.byPid, c.pid)
	old := c.pid
	c.pid = proc.Pid{}
	lost := reason == proc.NoConnection
	if lost {
		s.orphans[old.Node] = appendCapped(s.orphans[old.Node], old, maxOrphans)
	}
	switch {
	case c.spec.Restart == Temporary:
		s.remove(c)
		if !normalExit(reason) {
			s.report(Event{Child: c.spec.ID, Pid: old, Reason: reason, Action: ActionNotRestarted})
		}
		return
	case c.spec.Restart == Transient && normalExit(reason):
		return
	}
	if !s.countRestart(old.Node, lost) {
		s.report(Event{Child: c.spec.ID, Pid: old, Reason: reason, Action: ActionGaveUp})
		s.stop(proc.Shutdown)
	}
	if lost {
		s.lostNodes[old.Node] = time.Now()
	}
	s.restart(c, &Event{Child: c.spec.ID, Pid: old, Reason: reason})
}

// countRestart adds a restart to the intensity count and reports whether
// the supervisor may go on. A lost node counts once per period however
// many children it took.
func (s *supervisor) countRestart(node string, lost bool) bool {
	now := time.Now()
	period := s.o.period()
	if lost {
		if t, ok := s.lostNodes[node]; ok && now.Sub(t) < period {
			return true
		}
	}
	// Oldest first: only a head of expired restarts can go.
	i := 0
	for i < len(s.restarts) && now.Sub(s.restarts[i]) >= period {
		i++
	}
	s.restarts = append(s.restarts[i:], now)
	return len(s.restarts) <= s.o.maxRestarts()
}

// restart restarts c by the strategy; exited describes the exit that
// caused it (nil for a retry).
func (s *supervisor) restart(c *child, exited *Event) {
	var group []*child
	switch s.o.Strategy {
	case OneForAll:
		group = s.terminateFrom(0, c)
	case RestForOne:
		group = s.terminateFrom(s.index(c), c)
	default:
		group = []*child{c}
	}
	for i, g := range group {
		var ev *Event
		if g == c {
			ev = exited
		}
		if !s.restartOne(g, ev) {
			// The others of the group wait for c's retry, as OTP restarts
			// what is left of the group after a failed start.
			for _, rest := range group[i+1:] {
				rest.restarting = true
			}
			return
		}
	}
}

// terminateFrom stops, in reverse order, the children from index i on,
// except c (already dead), and returns those to restart, in order.
// Temporary children are stopped and forgotten, as OTP does.
func (s *supervisor) terminateFrom(i int, c *child) []*child {
	tail := append([]*child(nil), s.children[i:]...)
	for j := len(tail) - 1; j >= 0; j-- {
		if tail[j] != c {
			s.terminate(tail[j])
		}
	}
	group := tail[:0]
	for _, g := range tail {
		if g.spec.Restart == Temporary && g != c {
			s.remove(g)
			continue
		}
		group = append(group, g)
	}
	return group
}

// restartOne starts c again and reports it; on failure it queues a retry
// (counted toward the intensity when it runs) and reports false.
func (s *supervisor) restartOne(c *child, exited *Event) bool {
	prevNode := c.node
	err := s.start(c, true)
	ev := Event{Child: c.spec.ID, NewPid: c.pid}
	if exited != nil {
		ev.Pid, ev.Reason = exited.Pid, exited.Reason
	}
	switch {
	case err != nil:
		ev.Action, ev.Reason = ActionStartFailed, err
		c.restarting = true
		s.report(ev)
		if !s.countRestart("", false) {
			s.report(Event{Child: c.spec.ID, Reason: err, Action: ActionGaveUp})
			s.stop(proc.Shutdown)
		}
		_ = s.p.Send(s.p.Pid(), tryAgain{})
		return false
	case exited == nil && prevNode == c.node && !c.restarting:
		return true // restarted as part of a group: reported with the child that caused it
	case prevNode != "" && prevNode != c.node:
		ev.Action = ActionMoved
	default:
		ev.Action = ActionRestarted
	}
	c.restarting = false
	s.report(ev)
	return true
}

// retry starts again, in order, the children whose restart failed and
// those of their group waiting behind them; it stops at the first that
// fails again (which queues the next retry).
func (s *supervisor) retry() {
	for _, c := range append([]*child(nil), s.children...) {
		if c.restarting && !s.restartOne(c, nil) {
			return
		}
	}
}

func (s *supervisor) index(c *child) int {
	for i, x := range s.children {
		if x == c {
			return i
		}
	}
	return len(s.children)
}

func (s *supervisor) remove(c *child) {
	if i := s.index(c); i < len(s.children) {
		s.children = append(s.children[:i], s.children[i+1:]...)
	}
}
