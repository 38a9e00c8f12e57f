package proc

import (
	"fmt"
	"time"
)

// Call sends request to the process to and waits for its reply, as
// Erlang's gen:call does: it monitors the callee for the duration, so a
// callee that is dead, or dies before answering, gives an *ExitError at
// once rather than a timeout. A timeout gives ErrTimeout; a reply that
// arrives later is dropped with the monitor. The callee receives a
// CallRequest and answers with Reply.
func (p *Process) Call(to Pid, request any, timeout time.Duration) (any, error) {
	if err := p.checkAlive(); err != nil {
		return nil, err
	}
	return p.call(p.Monitor(to), to, Name{}, request, timeout)
}

// CallName is Call addressed to a registered name.
func (p *Process) CallName(to Name, request any, timeout time.Duration) (any, error) {
	if err := p.checkAlive(); err != nil {
		return nil, err
	}
	return p.call(p.MonitorName(to), Pid{}, to, request, timeout)
}

func (p *Process) call(ref Ref, to Pid, name Name, request any, timeout time.Duration) (any, error) {
	defer p.Demonitor(ref, true)
	req := CallRequest{From: p.pid, Ref: ref, Request: request}
	var err error
	if name.Name != "" {
		err = p.node.sendName(p.pid, name, req)
	} else {
		err = p.node.send(p.pid, to, req)
	}
	if err != nil {
		return nil, err
	}
	m, err := p.ReceiveMatchTimeout(timeout, func(m any) bool {
		switch m := m.(type) {
		case CallReply:
			return m.Ref == ref
		case DownMsg:
			return m.Ref == ref
		}
		return false
	})
	if err != nil {
		if err == ErrTimeout {
			return nil, fmt.Errorf("call to %v: %w after %v", callee(to, name), ErrTimeout, timeout)
		}
		return nil, err
	}
	switch m := m.(type) {
	case CallReply:
		return m.Reply, nil
	default:
		d := m.(DownMsg)
		return nil, &ExitError{Pid: d.Pid, Reason: d.Reason}
	}
}

func callee(to Pid, name Name) any {
	if name.Name != "" {
		return name
	}
	return to
}

// Reply answers a CallRequest.
func (p *Process) Reply(req CallRequest, reply any) error {
	return p.node.send(p.pid, req.From, CallReply{Ref: req.Ref, Reply: reply})
}
