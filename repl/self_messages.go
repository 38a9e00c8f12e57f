package repl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gonode/gonode/proc"
	"github.com/gonode/gonode/repl/format"
)

// Send sends msg to a pid, a local registered name, or at(name, node), and
// returns msg, as Erlang's send does.
func (x *Proc) Send(to any, msg any) any {
	var err error
	switch t := to.(type) {
	case proc.Pid:
		err = x.proc().Send(x.rt.node.Resolve(t), msg)
	case string:
		err = x.proc().SendName(proc.Name{Name: t}, msg)
	case proc.Name:
		err = x.proc().SendName(t, msg)
	case Global:
		x.sendGlobal(t, msg)
	default:
		fail("send: the destination must be a pid, a registered name, at(name, node) or global(name), got %T", to)
	}
	x.check(err, "send")
	return msg
}

// Receive takes the next message, waiting at most the timeout if one is
// given (then it returns the atom :timeout, as receive ... after does).
func (x *Proc) Receive(timeout ...time.Duration) any {
	return x.receive("receive", nil, timeout)
}

// ReceiveMatch takes the first message, in mailbox order, for which match
// returns true, leaving the others queued (Erlang's selective receive);
// after the timeout, if one is given, it returns the atom :timeout.
func (x *Proc) ReceiveMatch(match func(msg any) bool, timeout ...time.Duration) any {
	if match == nil {
		fail("receiveMatch: the match function is nil")
	}
	return x.receive("receiveMatch", match, timeout)
}

func (x *Proc) receive(what string, match func(any) bool, timeout []time.Duration) any {
	ctx := x.ctx()
	if len(timeout) > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout[0])
		defer cancel()
	}
	p := x.proc()
	m, err := p.ReceiveMatch(ctx, match)
	if errors.Is(err, context.DeadlineExceeded) && len(timeout) > 0 {
		return proc.Atom("timeout")
	}
	if errors.Is(err, proc.ErrDead) {
		fail("%s: the process %v exited while waiting: %s", what, p.Pid(), proc.FormatReason(p.Reason()))
	}
	x.check(err, what)
	return m
}

// Flush prints the messages in the mailbox and empties it.
func (x *Proc) Flush() {
	for _, m := range x.proc().Flush() {
		fmt.Fprintln(x.rt.out, format.Value(m))
	}
}

// Register names a process.
func (x *Proc) Register(name string, pid proc.Pid) bool {
	x.check(x.rt.node.Register(name, x.rt.node.Resolve(pid)), "register")
	return true
}

// Unregister drops a name.
func (x *Proc) Unregister(name string) bool {
	x.check(x.rt.node.Unregister(name), "unregister")
	return true
}

// Whereis returns the pid registered under name, or nil.
func (x *Proc) Whereis(name string) any {
	if pid, ok := x.rt.node.Whereis(name); ok {
		return pid
	}
	return nil
}

// Registered lists the registered names.
func (x *Proc) Registered() []string { return x.rt.node.Registered() }
