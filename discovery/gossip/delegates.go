package gossip

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/memberlist"

	"github.com/gonode/gonode/discovery"
)

// meta is the memberlist.Delegate that hands out the node name as this
// member's metadata; it carries no messages or state of its own.
type meta string

func (d meta) NodeMeta(limit int) []byte {
	if len(d) > limit {
		return nil // checked in Start: cannot happen
	}
	return []byte(d)
}
func (meta) NotifyMsg([]byte)                           {}
func (meta) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (meta) LocalState(join bool) []byte                { return nil }
func (meta) MergeRemoteState(buf []byte, join bool)     {}

// members is the memberlist.EventDelegate that keeps the node name of
// each live member, and wakes Run on every change. memberlist calls it
// with its locks held, and the nodes it hands over are its own, written
// under those locks: the name is copied here, never read later
// (Memberlist.Members returns those same nodes, which race with
// memberlist's writes), and nothing calls back into memberlist.
type members struct {
	mu      sync.Mutex
	byName  map[string]string // guarded by mu: member name -> node name
	changed chan struct{}     // 1-buffered: membership changed
}

func (e *members) init() {
	e.byName = make(map[string]string)
	e.changed = make(chan struct{}, 1)
}

func (e *members) NotifyJoin(n *memberlist.Node)   { e.set(n.Name, string(n.Meta)) }
func (e *members) NotifyUpdate(n *memberlist.Node) { e.set(n.Name, string(n.Meta)) }
func (e *members) NotifyLeave(n *memberlist.Node) {
	e.mu.Lock()
	delete(e.byName, n.Name)
	e.mu.Unlock()
	e.signal()
}

func (e *members) set(member, node string) {
	e.mu.Lock()
	e.byName[member] = node
	e.mu.Unlock()
	e.signal()
}

func (e *members) signal() {
	select {
	case e.changed <- struct{}{}:
	default: // a signal is pending: Run reads the members once for both
	}
}

// names returns the node names of the live members, sorted.
func (e *members) names() []string {
	e.mu.Lock()
	names := make([]string, 0, len(e.byName))
	for _, n := range e.byName {
		names = append(names, n)
	}
	e.mu.Unlock()
	return discovery.Normalize(names) // drops metadata that is no node name
}

// aliveCheck refuses members whose metadata is not a node name: they are
// someone else's memberlist cluster, or broken.
type aliveCheck struct{}

func (aliveCheck) NotifyAlive(n *memberlist.Node) error {
	if !discovery.ValidName(string(n.Meta)) {
		return fmt.Errorf("gossip: member %q carries no node name", n.Name)
	}
	return nil
}

// logWriter passes memberlist's warnings and errors to Logf and drops its
// debug and info lines (every probe, every join).
type logWriter struct {
	logf   func(format string, args ...any)
	closed *atomic.Bool
}

func (w logWriter) Write(b []byte) (int, error) {
	if w.logf != nil && !w.closed.Load() && (bytes.Contains(b, []byte("[WARN]")) || bytes.Contains(b, []byte("[ERR]"))) {
		w.logf("gossip: %s", bytes.TrimSpace(b))
	}
	return len(b), nil
}
