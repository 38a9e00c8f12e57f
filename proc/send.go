package proc

import "fmt"

// Messages are plain Go values passed without copying: after sending a
// value (a slice, a map, a pointer), the sender must not change it, since
// the receiver may be reading it. Values sent to other nodes are encoded
// and so are copies.

// Send puts msg in the mailbox of the process to (Erlang's send/2). It never
// blocks. A message to a dead or unknown local pid is dropped silently, as
// in Erlang. For a pid of another node the message goes to the forwarder;
// without one Send returns ErrNoDistribution.
func (n *Node) Send(to Pid, msg any) error { return n.send(Pid{}, to, msg) }

// SendName sends msg to a registered name on this node (Node "" or this
// node's name) or another. An unknown bare name (Node "") is an error the
// caller sees, ErrNotRegistered, as Erlang raises badarg for Name ! Msg.
// A message to {Name, Node} for a name not registered there is dropped
// silently, on this node as on another: Erlang's {Name, node()} ! Msg
// raises nothing.
func (n *Node) SendName(to Name, msg any) error { return n.sendName(Pid{}, to, msg) }

// Send sends msg to to from this process.
func (p *Process) Send(to Pid, msg any) error {
	if p.flags.Load() != 0 {
		return p.sendFlagged(to, Name{}, msg)
	}
	return p.node.send(p.pid, to, msg)
}

// SendName sends msg from this process to a registered name.
func (p *Process) SendName(to Name, msg any) error {
	if p.flags.Load() != 0 {
		return p.sendFlagged(Pid{}, to, msg)
	}
	return p.node.sendName(p.pid, to, msg)
}

// sendFlagged is Send and SendName for a process that is dying (it
// unwinds, or gets ErrDead) or traced (the send is reported first). Kept
// apart so that the common send tests one word and nothing more.
//
//go:noinline
func (p *Process) sendFlagged(to Pid, name Name, msg any) error {
	if err := p.checkAlive(); err != nil {
		return err
	}
	p.traceSend(to, name, msg)
	if name.Name != "" {
		return p.node.sendName(p.pid, name, msg)
	}
	return p.node.send(p.pid, to, msg)
}

func (n *Node) send(from, to Pid, msg any) error {
	if to.Node != n.name {
		if to.IsZero() {
			return fmt.Errorf("proc: send to the undefined pid: %w", ErrNoProc)
		}
		return n.forward(Signal{Kind: SigSend, From: from, To: to, Msg: msg})
	}
	if q := n.lookup(to); q != nil {
		q.deliver(msg)
	}
	return nil
}

func (n *Node) sendName(from Pid, to Name, msg any) error {
	if to.Node != "" && to.Node != n.name {
		return n.forward(Signal{Kind: SigSendName, From: from, To: Pid{Node: to.Node}, ToName: to.Name, Msg: msg})
	}
	q := n.whereisProc(to.Name)
	if q == nil {
		if to.Node != "" {
			return nil
		}
		return fmt.Errorf("send to %q: %w", to.Name, ErrNotRegistered)
	}
	q.deliver(msg)
	return nil
}
