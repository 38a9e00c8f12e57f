package pg

import (
	"sort"

	"github.com/gonode/gonode/proc"
)

// peerMsg handles a message from the scope on another node (see wire.go
// for the flow).
func (sv *server) peerMsg(pm peerMsg) {
	if pm.from.Node == sv.s.node.Name() {
		sv.s.logf("pg: scope %s: ignoring %s from %v, a process of this node", sv.s.name, pm.tag, pm.from)
		return
	}
	switch pm.tag {
	case tagDiscover:
		// The writer of the replica may read it without the lock.
		_ = sv.p.Send(pm.from, syncMsg(sv.p.Pid(), sv.s.v.local))
		sv.addPeer(pm.from)
	case tagSync:
		sv.sync(sv.addPeer(pm.from), pm.groups)
	case tagJoin:
		pr := sv.peers[pm.from]
		if pr == nil || len(pm.pids) == 0 {
			return // not synced yet: its sync will carry the join
		}
		pr.groups[pm.group] = append(pr.groups[pm.group], pm.pids...)
		sv.changed(pm.group, pm.pids, nil, false)
	case tagLeave:
		pr := sv.peers[pm.from]
		if pr == nil {
			return
		}
		rest, left := removeIn(pr.groups[pm.group], pm.pids) // left: what was there to leave
		if len(left) == 0 {
			return
		}
		if len(rest) == 0 {
			delete(pr.groups, pm.group)
		} else {
			pr.groups[pm.group] = rest
		}
		sv.changed(pm.group, nil, left, false)
	}
}

// addPeer returns the peer scope from, first monitoring it and announcing
// this scope to it if it is new.
func (sv *server) addPeer(from proc.Pid) *peer {
	if pr := sv.peers[from]; pr != nil {
		return pr
	}
	pr := &peer{ref: sv.p.Monitor(from), groups: make(map[string][]proc.Pid)}
	sv.peers[from] = pr
	_ = sv.p.Send(from, discoverMsg(sv.p.Pid()))
	return pr
}

// sync replaces what pr announced with groups, and applies the difference:
// per group, the members gone leave and the new ones join.
func (sv *server) sync(pr *peer, groups map[string][]proc.Pid) {
	old := pr.groups
	pr.groups = groups
	names := make([]string, 0, len(old)+len(groups))
	for g := range old {
		names = append(names, g)
	}
	for g := range groups {
		if _, ok := old[g]; !ok {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	for _, g := range names {
		left := without(old[g], groups[g])
		joined := without(groups[g], old[g])
		if len(left)+len(joined) > 0 {
			sv.changed(g, joined, left, false)
		}
	}
}
