package dist

// Tracing a node's traffic to a peer (the shell's traceNode): every
// message this node hands to a connection's writer, and every message a
// connection's reader hands to the node, goes to the TrafficTracer if one
// is installed. Unset, it costs one atomic load per message.

// TrafficTracer sees a node's messages to and from its peers: sent is true
// for a message to peer, false for one from it. It is called on the
// sender's goroutine or the connection's reader, sometimes with the
// connection's queue locked: it must return quickly and must not send to
// peer itself.
type TrafficTracer func(peer string, sent bool, m Message)

type trafficBox struct{ f TrafficTracer }

// SetTrafficTracer installs f (nil removes it).
func (n *Node) SetTrafficTracer(f TrafficTracer) {
	if f == nil {
		n.traffic.Store(nil)
		return
	}
	n.traffic.Store(&trafficBox{f})
}

// traceTraffic reports m if a traffic tracer is installed.
func (n *Node) traceTraffic(peer string, sent bool, m *Message) {
	if b := n.traffic.Load(); b != nil {
		b.f(peer, sent, *m)
	}
}
