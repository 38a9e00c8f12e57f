package pg

import (
	"fmt"
	"slices"

	"github.com/gonode/gonode/proc"
)

// JoinMsg tells a subscriber (see Scope.Monitor) that Pids joined Group:
// pg's {Ref, join, Group, Pids}. A process joined twice at once is listed
// twice.
type JoinMsg struct {
	Ref   proc.Ref
	Group string
	Pids  []proc.Pid
}

func (m JoinMsg) String() string { return fmt.Sprintf("{%v, :join, %q, %v}", m.Ref, m.Group, m.Pids) }

// LeaveMsg tells a subscriber that Pids left Group, by Leave, by dying, or
// because their node or its scope went away: pg's {Ref, leave, Group,
// Pids}.
type LeaveMsg struct {
	Ref   proc.Ref
	Group string
	Pids  []proc.Pid
}

func (m LeaveMsg) String() string { return fmt.Sprintf("{%v, :leave, %q, %v}", m.Ref, m.Group, m.Pids) }

// subscriptions are the monitors of groups and of the scope, held by local
// processes, which the scope monitors in turn to drop them when they die.
type subscriptions struct {
	byRef   map[proc.Ref]subscription
	groups  map[string]map[proc.Ref]proc.Pid // by group: ref -> subscriber
	scope   map[proc.Ref]proc.Pid            // whole-scope subscriptions
	watched map[proc.Pid]*watch              // by subscriber
}

type subscription struct {
	sub   proc.Pid
	group string
	scope bool
}

// watch is the scope's monitor of one subscriber, and its subscriptions.
type watch struct {
	ref  proc.Ref
	refs map[proc.Ref]bool
}

func (ss *subscriptions) init() {
	ss.byRef = make(map[proc.Ref]subscription)
	ss.groups = make(map[string]map[proc.Ref]proc.Pid)
	ss.scope = make(map[proc.Ref]proc.Pid)
	ss.watched = make(map[proc.Pid]*watch)
}

func (ss *subscriptions) add(p *proc.Process, sub proc.Pid, group string, scope bool) proc.Ref {
	ref := p.Node().MakeRef()
	w := ss.watched[sub]
	if w == nil {
		w = &watch{ref: p.Monitor(sub), refs: make(map[proc.Ref]bool)}
		ss.watched[sub] = w
	}
	w.refs[ref] = true
	ss.byRef[ref] = subscription{sub: sub, group: group, scope: scope}
	if scope {
		ss.scope[ref] = sub
		return ref
	}
	if ss.groups[group] == nil {
		ss.groups[group] = make(map[proc.Ref]proc.Pid)
	}
	ss.groups[group][ref] = sub
	return ref
}

func (ss *subscriptions) remove(p *proc.Process, ref proc.Ref) bool {
	s, ok := ss.byRef[ref]
	if !ok {
		return false
	}
	delete(ss.byRef, ref)
	if s.scope {
		delete(ss.scope, ref)
	} else if m := ss.groups[s.group]; m != nil {
		delete(m, ref)
		if len(m) == 0 {
			delete(ss.groups, s.group)
		}
	}
	if w := ss.watched[s.sub]; w != nil {
		delete(w.refs, ref)
		if len(w.refs) == 0 {
			p.Demonitor(w.ref, true)
			delete(ss.watched, s.sub)
		}
	}
	return true
}

// down drops the subscriptions of a subscriber that died.
func (ss *subscriptions) down(d proc.DownMsg) {
	w := ss.watched[d.Pid]
	if w == nil || w.ref != d.Ref {
		return // a monitor dropped already: its DOWN was on its way
	}
	for ref := range w.refs {
		s := ss.byRef[ref]
		delete(ss.byRef, ref)
		delete(ss.scope, ref)
		if m := ss.groups[s.group]; m != nil {
			delete(m, ref)
			if len(m) == 0 {
				delete(ss.groups, s.group)
			}
		}
	}
	delete(ss.watched, d.Pid)
}

// notify sends the subscribers of group its change: the leave first, then
// the join, as the replica applied them.
func (ss *subscriptions) notify(p *proc.Process, group string, joined, left []proc.Pid) {
	send := func(ref proc.Ref, sub proc.Pid) {
		if len(left) > 0 {
			_ = p.Send(sub, LeaveMsg{Ref: ref, Group: group, Pids: slices.Clone(left)})
		}
		if len(joined) > 0 {
			_ = p.Send(sub, JoinMsg{Ref: ref, Group: group, Pids: slices.Clone(joined)})
		}
	}
	for ref, sub := range ss.groups[group] {
		send(ref, sub)
	}
	for ref, sub := range ss.scope {
		send(ref, sub)
	}
}
