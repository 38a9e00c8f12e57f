package dist

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gonode/gonode/proc"
)

// nodeStats are a node's own figures: goroutines, heap in use after a
// garbage collection, and processes.
type nodeStats struct {
	Goroutines, Heap, Procs int
}

func (s nodeStats) String() string {
	return fmt.Sprintf("%d goroutines, %.1f MiB heap, %d processes", s.Goroutines, float64(s.Heap)/(1<<20), s.Procs)
}

func statsOf(n *Node) nodeStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return nodeStats{Goroutines: runtime.NumGoroutine(), Heap: int(ms.HeapInuse), Procs: n.Proc().Count()}
}

// peerStats asks a peer process for its figures.
func peerStats(t testing.TB, from *Node, peer string) nodeStats {
	t.Helper()
	v, err := from.RPC(ctx(t), peer, "peer.Stats")
	if err != nil {
		t.Fatalf("peer.Stats on %s: %v", peer, err)
	}
	l, ok := v.([]any)
	if !ok || len(l) != 3 {
		t.Fatalf("peer.Stats on %s: %#v", peer, v)
	}
	return nodeStats{Goroutines: asInt(l[0]), Heap: asInt(l[1]), Procs: asInt(l[2])}
}

// nodeEvents is what a peer's "watch_nodes" process saw: one entry
// []any{"up" or "down", node, reason, unix nanoseconds} per event.
var nodeEvents struct {
	mu      sync.Mutex
	started bool
	list    []any
}

// registerFaultFuncs adds to a peer's functions those of the fault suite.
func registerFaultFuncs(f *Funcs, node func() *Node) {
	// peer.Stats: the peer's own figures, []any{goroutines, heap, processes}.
	must(f.Register("peer.Stats", func() []any {
		s := statsOf(node())
		return []any{s.Goroutines, s.Heap, s.Procs}
	}))
	must(f.Register("seq_sink", func(ctx context.Context) error {
		p, _, _ := ProcessFrom(ctx)
		return seqSinkLoop(ctx, p)
	}))
	must(f.Register("seq_source", func(ctx context.Context, to proc.Pid, batch, pauseMicros int) error {
		p, _, _ := ProcessFrom(ctx)
		return seqSourceLoop(p, to, batch, time.Duration(pauseMicros)*time.Microsecond, nil)
	}))
	must(f.Register("disconnect", func(name string) bool { return node().Disconnect(name) }))
	// watch_nodes starts recording the node's nodeups and nodedowns, with
	// the time each was seen, for node_events to return.
	must(f.Register("watch_nodes", func() error {
		nodeEvents.mu.Lock()
		defer nodeEvents.mu.Unlock()
		if nodeEvents.started {
			return nil
		}
		n := node()
		pid, err := n.Proc().Spawn(func(p *proc.Process) {
			for {
				m, err := p.Receive(nil)
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
				var e []any
				switch m := m.(type) {
				case NodeUp:
					e = []any{"up", m.Node, "", now}
				case NodeDown:
					e = []any{"down", m.Node, m.Reason, now}
				default:
					continue
				}
				nodeEvents.mu.Lock()
				nodeEvents.list = append(nodeEvents.list, e)
				nodeEvents.mu.Unlock()
			}
		})
		if err != nil {
			return err
		}
		n.MonitorNodes(pid, true, true)
		nodeEvents.started = true
		return nil
	}))
	must(f.Register("node_events", func() []any {
		nodeEvents.mu.Lock()
		defer nodeEvents.mu.Unlock()
		return append([]any(nil), nodeEvents.list...)
	}))
}

// nodeEvent is one entry of node_events.
type nodeEvent struct {
	Kind, Node, Reason string
	At                 time.Time
}

// peerNodeEvents asks a peer for the node events it recorded.
func peerNodeEvents(t testing.TB, from *Node, peer string) []nodeEvent {
	t.Helper()
	v, err := from.RPC(ctx(t), peer, "node_events")
	if err != nil {
		t.Fatalf("node_events on %s: %v", peer, err)
	}
	l, _ := v.([]any)
	var out []nodeEvent
	for _, e := range l {
		f, ok := e.([]any)
		if !ok || len(f) != 4 {
			t.Fatalf("node_events on %s: %#v", peer, e)
		}
		kind, _ := f[0].(string)
		node, _ := f[1].(string)
		reason, _ := f[2].(string)
		ns, _ := f[3].(int)
		out = append(out, nodeEvent{kind, node, reason, time.Unix(0, int64(ns))})
	}
	return out
}

// waitPeerNodeEvent waits until peer has recorded an event of kind about
// node after since, and returns it.
func waitPeerNodeEvent(t testing.TB, from *Node, peer, kind, node string, since time.Time) nodeEvent {
	t.Helper()
	var found nodeEvent
	eventually(t, fmt.Sprintf("%s to see %s %s", peer, node, kind), func() bool {
		for _, e := range peerNodeEvents(t, from, peer) {
			if e.Kind == kind && e.Node == node && e.At.After(since) {
				found = e
				return true
			}
		}
		return false
	})
	return found
}
