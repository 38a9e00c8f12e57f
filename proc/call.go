package proc

import (
	"fmt"
	"time"
)

// Call sends request to the process to and waits for its reply, as
// Erlang's gen:call does: it monitors the callee for the duration, so a
// callee that is dead, or dies before answering, gives an *ExitError at
// once rather than a timeout. A timeout gives ErrTimeout; a reply that
// arrives later is dropped, never reaching the mailbox (see deliver). A
// call to the calling process itself fails at once with ErrCallingSelf.
// The callee receives a CallRequest and answers with Reply.
func (p *Process) Call(to Pid, request any, timeout time.Duration) (any, error) {
	if err := p.checkAlive(); err != nil {
		return nil, err
	}
	if p.node.Resolve(to) == p.pid {
		return nil, fmt.Errorf("call to %v: %w", to, ErrCallingSelf)
	}
	return p.call(p.Monitor(to), to, Name{}, request, timeout)
}

// CallName is Call addressed to a registered name. A name of this node
// (Node "" or this node's name) is looked up first and the call made to
// its process, as gen:call does: a name not registered gives at once an
// *ExitError with reason NoProc (errors.Is(err, ErrNoProc)), and the
// caller's own name gives ErrCallingSelf. A name on another node is
// monitored there: not registered, it gives the same NoProc ExitError
// when the other node says so.
func (p *Process) CallName(to Name, request any, timeout time.Duration) (any, error) {
	if err := p.checkAlive(); err != nil {
		return nil, err
	}
	if to.Node == "" || to.Node == p.node.name {
		q := p.node.whereisProc(to.Name)
		switch q {
		case nil:
			return nil, fmt.Errorf("call to %v: %w", to, &ExitError{Reason: NoProc})
		case p:
			return nil, fmt.Errorf("call to %v: %w", to, ErrCallingSelf)
		}
		return p.call(p.Monitor(q.pid), q.pid, to, request, timeout)
	}
	return p.call(p.MonitorName(to), Pid{}, to, request, timeout)
}

// call sends the request to the pid to, or when to is zero to the
// registered name (name, when set, also names the callee in errors), and
// waits for the reply or the DOWN of the monitor ref.
func (p *Process) call(ref Ref, to Pid, name Name, request any, timeout time.Duration) (any, error) {
	req := CallRequest{From: p.pid, Ref: ref, Request: request}
	p.traceSend(to, name, req)
	var err error
	if to.IsZero() {
		err = p.node.sendName(p.pid, name, req)
	} else {
		err = p.node.send(p.pid, to, req)
	}
	if err != nil {
		p.Demonitor(ref, true)
		return nil, err
	}
	match := func(m any) bool {
		switch m := m.(type) {
		case CallReply:
			return m.Ref == ref
		case DownMsg:
			return m.Ref == ref
		}
		return false
	}
	m, err := p.ReceiveMatchTimeout(timeout, match)
	if err == ErrTimeout {
		// As gen:call: drop the monitor, after which deliver lets no reply
		// in, then take a reply that came in between, if any.
		p.Demonitor(ref, true)
		m, err = p.ReceiveMatchTimeout(0, func(m any) bool {
			r, ok := m.(CallReply)
			return ok && r.Ref == ref
		})
		if err == ErrTimeout {
			return nil, fmt.Errorf("call to %v: %w after %v", callee(to, name), ErrTimeout, timeout)
		}
	}
	if err != nil {
		p.Demonitor(ref, true)
		return nil, err
	}
	switch m := m.(type) {
	case CallReply:
		p.Demonitor(ref, true)
		return m.Reply, nil
	default:
		d := m.(DownMsg) // the monitor is gone with it
		ee := &ExitError{Pid: d.Pid, Reason: d.Reason}
		if to.IsZero() {
			return nil, fmt.Errorf("call to %v: %w", name, ee) // the pid of a remote name may be unknown
		}
		return nil, ee
	}
}

func callee(to Pid, name Name) any {
	if name.Name != "" {
		return name
	}
	return to
}

// Reply answers a CallRequest. The reply is dropped if the caller no
// longer waits for it (its Call timed out).
func (p *Process) Reply(req CallRequest, reply any) error {
	m := CallReply{Ref: req.Ref, Reply: reply}
	p.traceSend(req.From, Name{}, m)
	return p.node.send(p.pid, req.From, m)
}
