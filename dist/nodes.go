package dist

import (
	"errors"
	"sort"

	"github.com/gonode/gonode/proc"
)

// NodeUp is the message a process subscribed with MonitorNodes gets when a
// connection comes up (Erlang's {nodeup, Node}).
type NodeUp struct {
	Node   string
	Hidden bool
}

func (e NodeUp) String() string { return "{:nodeup, :" + quoteAtom(e.Node) + "}" }

// NodeDown is the message a subscribed process gets when a connection goes
// away, with the reason: "connection_closed", "net_tick_timeout",
// "write_timeout" (the peer took nothing for the tick time), "disconnect"
// or the error text.
type NodeDown struct {
	Node   string
	Hidden bool
	Reason string
}

func (e NodeDown) String() string {
	return "{:nodedown, :" + quoteAtom(e.Node) + ", " + e.Reason + "}"
}

func quoteAtom(s string) string { return `"` + s + `"` }

// MonitorNodes subscribes (on) or unsubscribes the process pid to NodeUp
// and NodeDown messages, as net_kernel:monitor_nodes does; with hidden,
// events about hidden nodes are included.
func (n *Node) MonitorNodes(pid proc.Pid, on, hidden bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if on {
		n.watchers[pid] = hidden
	} else {
		delete(n.watchers, pid)
	}
}

func (n *Node) notifyNodes(node string, hidden, up bool, reason error) {
	var msg any = NodeUp{Node: node, Hidden: hidden}
	if !up {
		msg = NodeDown{Node: node, Hidden: hidden, Reason: downReason(reason)}
	}
	n.mu.Lock()
	var to []proc.Pid
	for pid, wantHidden := range n.watchers {
		if !hidden || wantHidden {
			to = append(to, pid)
		}
	}
	n.mu.Unlock()
	for _, pid := range to {
		if !n.proc.Alive(pid) {
			n.MonitorNodes(pid, false, false)
			continue
		}
		_ = n.proc.Send(pid, msg)
	}
}

func downReason(err error) string {
	switch {
	case err == nil:
		return "connection_closed"
	case errors.Is(err, errTickTimeout):
		return "net_tick_timeout"
	case errors.Is(err, errWriteTimeout):
		return "write_timeout"
	case errors.Is(err, errDisconnected):
		return "disconnect"
	}
	return "connection_closed"
}

// Nodes returns the names of the connected visible nodes, sorted (Node.list).
func (n *Node) Nodes() []string { return n.nodes(false) }

// HiddenNodes returns the names of the connected hidden nodes, sorted.
func (n *Node) HiddenNodes() []string { return n.nodes(true) }

func (n *Node) nodes(hidden bool) []string {
	n.mu.Lock()
	out := []string{}
	for name, p := range n.table.peers {
		if p.conn != nil && (p.conn.peer.Hidden || n.cfg.Hidden) == hidden {
			out = append(out, name)
		}
	}
	n.mu.Unlock()
	sort.Strings(out)
	return out
}

func (n *Node) visiblePeers(except string) []any {
	var out []any
	for _, name := range n.Nodes() {
		if name != except {
			out = append(out, name)
		}
	}
	return out
}

// meshWith connects to the nodes a new peer told us about.
func (n *Node) meshWith(names []any) {
	if n.cfg.Hidden {
		return
	}
	for _, v := range names {
		name, ok := v.(string)
		if !ok || name == n.cfg.Name || n.connFor(name) != nil {
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.Connect(n.ctx, name); err != nil && n.ctx.Err() == nil {
				n.logf("dist: joining %s, told of by a peer: %v", name, err)
			}
		}()
	}
}
