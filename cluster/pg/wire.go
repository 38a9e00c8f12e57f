package pg

import (
	"fmt"

	"github.com/gonode/gonode/proc"
)

// The scope protocol, between the processes of one scope on different
// nodes. Each message is a tuple ([]any) whose first element is an atom;
// the second is always the sending scope process, so that a reply and a
// monitor need no lookup. Version 1; tags are only ever added, never
// changed (a scope ignores, with a log line, what it does not know).
//
// Flow, as in Erlang's pg (the tags below are :pg_discover and so on,
// written without their prefix):
//
//	nodeup N           -> {Scope, N} ! [:discover, self]
//	[:discover, P]     -> P ! [:sync, self, all local members];
//	                      if P is new: monitor P, P ! [:discover, self]
//	[:sync, P, groups] -> P's members are replaced by groups (a new P is
//	                      monitored and sent [:discover, self], as above);
//	                      groups is [[group, [pids...]], ...]
//	[:join, P, g, pids]   and [:leave, P, g, pids] change P's members of g
//	{DOWN of P}        -> every member P announced leaves (its node went
//	                      down: reason noconnection, or its scope ended)
//
// Messages between two processes arrive in the order they were sent, so
// a peer's sync always comes before its joins and leaves: a join or leave
// from a scope not yet seen is dropped (its sync will carry it).
const (
	tagDiscover proc.Atom = "pg_discover"
	tagSync     proc.Atom = "pg_sync"
	tagJoin     proc.Atom = "pg_join"
	tagLeave    proc.Atom = "pg_leave"
)

// Wire messages are built here and read back by parse alone.

func discoverMsg(self proc.Pid) []any { return []any{tagDiscover, self} }

func joinMsg(self proc.Pid, group string, pids []proc.Pid) []any {
	return []any{tagJoin, self, group, pidList(pids)}
}

func leaveMsg(self proc.Pid, group string, pids []proc.Pid) []any {
	return []any{tagLeave, self, group, pidList(pids)}
}

// syncMsg carries every local member: [[group, [pids...]], ...].
func syncMsg(self proc.Pid, local map[string][]proc.Pid) []any {
	groups := make([]any, 0, len(local))
	for g, pids := range local {
		groups = append(groups, []any{g, pidList(pids)})
	}
	return []any{tagSync, self, groups}
}

func pidList(pids []proc.Pid) []any {
	out := make([]any, len(pids))
	for i, p := range pids {
		out[i] = p
	}
	return out
}

// peerMsg is a scope message from a peer, checked.
type peerMsg struct {
	tag    proc.Atom
	from   proc.Pid
	group  string                // join, leave
	pids   []proc.Pid            // join, leave
	groups map[string][]proc.Pid // sync
}

// parse reads a scope message from a peer. Every pid it carries must be of
// the sender's node, since only local processes join through a scope; a
// message that is not one of ours, or is malformed, is an error.
func parse(m any) (peerMsg, error) {
	t, ok := m.([]any)
	if !ok || len(t) < 2 {
		return peerMsg{}, errUnknown
	}
	tag, _ := t[0].(proc.Atom)
	from, ok := t[1].(proc.Pid)
	if !ok || from.IsZero() {
		return peerMsg{}, errUnknown
	}
	pm := peerMsg{tag: tag, from: from}
	switch {
	case tag == tagDiscover && len(t) == 2:
		return pm, nil
	case (tag == tagJoin || tag == tagLeave) && len(t) == 4:
		g, ok := t[2].(string)
		if !ok {
			return pm, fmt.Errorf("%s: group %T, want a string", tag, t[2])
		}
		pids, err := pidsOf(t[3], from.Node)
		if err != nil {
			return pm, fmt.Errorf("%s %q: %w", tag, g, err)
		}
		pm.group, pm.pids = g, pids
		return pm, nil
	case tag == tagSync && len(t) == 3:
		list, ok := t[2].([]any)
		if !ok {
			return pm, fmt.Errorf("sync: groups %T, want a list", t[2])
		}
		pm.groups = make(map[string][]proc.Pid, len(list))
		for _, e := range list {
			pair, ok := e.([]any)
			if !ok || len(pair) != 2 {
				return pm, fmt.Errorf("sync: entry %v, want [group, pids]", e)
			}
			g, ok := pair[0].(string)
			if !ok {
				return pm, fmt.Errorf("sync: group %T, want a string", pair[0])
			}
			pids, err := pidsOf(pair[1], from.Node)
			if err != nil {
				return pm, fmt.Errorf("sync %q: %w", g, err)
			}
			pm.groups[g] = append(pm.groups[g], pids...)
		}
		return pm, nil
	}
	return peerMsg{}, errUnknown
}

func pidsOf(v any, node string) ([]proc.Pid, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("pids %T, want a list", v)
	}
	pids := make([]proc.Pid, 0, len(list))
	for _, e := range list {
		p, ok := e.(proc.Pid)
		if !ok {
			return nil, fmt.Errorf("member %v (%T), want a pid", e, e)
		}
		if p.Node != node {
			return nil, fmt.Errorf("member %v is not of the sender's node %s", p, node)
		}
		pids = append(pids, p)
	}
	return pids, nil
}
