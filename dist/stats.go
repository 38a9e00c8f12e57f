package dist

import (
	"sort"
	"sync/atomic"
	"time"
)

// Counters for monitoring (the metrics package reads them at scrape
// time). Only what nothing else can tell is counted: the frames of each
// connection and the peers' requests served. Each count is one atomic add
// by the goroutine already doing the work (the connection's reader, a
// sender holding the queue's lock, a call's goroutine).

// connStats counts one connection's traffic since it came up. Ticks are
// not counted; bytes include each frame's 4-byte length.
type connStats struct {
	msgsIn, msgsOut   atomic.Uint64
	bytesIn, bytesOut atomic.Uint64
}

// PeerStats is one connection's traffic, as Peers reports it. A
// connection that goes and comes back starts again from zero.
type PeerStats struct {
	Name   string
	Hidden bool      // a hidden connection: not in Nodes()
	Since  time.Time // when the connection came up
	// Messages and bytes in each direction: frames read from the peer and
	// queued for it (sent, or about to be), ticks left out.
	MessagesIn, MessagesOut uint64
	BytesIn, BytesOut       uint64
}

// Peers reports the traffic of every connection that is up, sorted by
// name.
func (n *Node) Peers() []PeerStats {
	n.mu.Lock()
	out := make([]PeerStats, 0, len(n.table.peers))
	for name, p := range n.table.peers {
		c := p.conn
		if c == nil {
			continue
		}
		out = append(out, PeerStats{
			Name: name, Hidden: c.peer.Hidden || n.cfg.Hidden, Since: c.since,
			MessagesIn: c.stats.msgsIn.Load(), MessagesOut: c.stats.msgsOut.Load(),
			BytesIn: c.stats.bytesIn.Load(), BytesOut: c.stats.bytesOut.Load(),
		})
	}
	n.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// rpcStats counts the calls and casts peers asked of this node.
type rpcStats struct {
	served atomic.Uint64 // answered (a call) or run (a cast), refusals included
	failed atomic.Uint64 // of those, the ones that did not succeed
}

// RPCStats is what RPCServed reports.
type RPCStats struct {
	// Served counts the calls and casts of peers this node has dealt
	// with: run to their end, or refused (--rpc-allow, the peer's cap of
	// calls running at once).
	Served uint64
	// Failed counts those of them that did not succeed: refused, not
	// found, or ended with an error or a panic.
	Failed uint64
}

// RPCServed reports the peers' calls and casts this node has dealt with
// since it started.
func (n *Node) RPCServed() RPCStats {
	return RPCStats{Served: n.rpc.stats.served.Load(), Failed: n.rpc.stats.failed.Load()}
}

// served counts one request dealt with; ok says it succeeded.
func (r *rpcState) served(ok bool) {
	r.stats.served.Add(1)
	if !ok {
		r.stats.failed.Add(1)
	}
}
