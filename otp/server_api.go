package otp

import (
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/gonode/gonode/proc"
)

// ServerCastMsg is the message ServerCast puts in a server's mailbox, so
// that the server tells casts (HandleCast) from other messages
// (HandleInfo), as gen_server tags them {'$gen_cast', Msg}.
type ServerCastMsg struct {
	Msg any
}

// ServerSender sends messages: *proc.Process and *proc.Node are both
// ServerSenders, so that a cast can be made from a process or from outside
// any process.
type ServerSender interface {
	Send(to proc.Pid, msg any) error
	SendName(to proc.Name, msg any) error
}

// serverStopMsg asks a server to stop (ServerStop); it is the system
// message sys:terminate sends.
type serverStopMsg struct {
	reason any
}

// ServerCall sends req to the server to and waits at most timeout for the
// reply (GenServer.call). to is a proc.Pid, a proc.Name, or a string naming
// a server registered on p's node. p is the calling process; from outside
// any process, attach one (proc.Node.Attach).
//
// Where GenServer.call exits the caller, ServerCall returns an error: one
// wrapping proc.ErrTimeout on timeout (a late reply is dropped), a
// *proc.ExitError when the server is dead or dies before answering (reason
// proc.NoProc for no such process), proc.ErrCallingSelf for a server
// calling itself, which would deadlock.
func ServerCall(p *proc.Process, to any, req any, timeout time.Duration) (any, error) {
	switch to := to.(type) {
	case proc.Pid:
		return p.Call(to, req, timeout)
	case proc.Name:
		return p.CallName(to, req, timeout)
	case string:
		return p.CallName(proc.Name{Name: to}, req, timeout)
	}
	return nil, serverBadTarget(to)
}

// ServerCast sends msg to the server to without waiting (GenServer.cast):
// it reaches HandleCast. from is the sending process or, from outside any
// process, the node. GenServer.cast returns :ok even for a name that is not
// registered; ServerCast returns that error (proc.ErrNotRegistered), as
// proc's SendName does, since a Go caller can use it. A dead pid is not an
// error: the message is dropped, as any send to it is.
//
// To a server of another node, the cast arrives as the distribution layer
// carries a ServerCastMsg: dist's native codec turns structs of other
// packages into maps, which reach HandleInfo there. ServerCall crosses
// nodes intact (proc.CallRequest is one of the codec's own types).
func ServerCast(from ServerSender, to any, msg any) error {
	m := ServerCastMsg{Msg: msg}
	switch to := to.(type) {
	case proc.Pid:
		return from.Send(to, m)
	case proc.Name:
		return from.SendName(to, m)
	case string:
		return from.SendName(proc.Name{Name: to}, m)
	}
	return serverBadTarget(to)
}

// ServerReply answers a call that HandleCall left waiting with
// ServerNoReply (GenServer.reply). Any process may send it, from the
// server's or another's goroutine.
func ServerReply(p *proc.Process, from proc.CallRequest, reply any) error {
	return p.Reply(from, reply)
}

// ServerStop stops the server to with reason and waits at most timeout
// until it has exited (GenServer.stop): the server runs Terminate, in turn
// after the messages already in its mailbox, and exits with reason. An
// abnormal reason is reported as a crash, as GenServer logs it. It returns
// nil once the server has exited with reason; a *proc.ExitError if it
// exited otherwise (Terminate panicked, or it died meanwhile) or was not
// running (reason proc.NoProc, errors.Is(err, proc.ErrNoProc)); an error
// wrapping proc.ErrTimeout if it is still running after timeout (the stop
// request stays in its mailbox, where GenServer.stop exits the caller).
//
// Only servers of p's node can be stopped: the request is a Go value that
// the distribution layer would not deliver as such. Stop a server of
// another node from there (an rpc), or give it a call that stops it.
func ServerStop(p *proc.Process, to any, reason any, timeout time.Duration) error {
	var pid proc.Pid
	switch to := to.(type) {
	case proc.Pid:
		pid = p.Node().Resolve(to)
	case proc.Name, string:
		name, ok := to.(proc.Name)
		if !ok {
			name = proc.Name{Name: to.(string)}
		}
		if name.Node != "" && name.Node != p.Node().Name() {
			return fmt.Errorf("stop %v: %w", name, errServerNotLocal)
		}
		if pid, ok = p.Node().Whereis(name.Name); !ok {
			return fmt.Errorf("stop %v: %w", name, &proc.ExitError{Reason: proc.NoProc})
		}
	default:
		return serverBadTarget(to)
	}
	switch {
	case !p.Node().IsLocal(pid):
		return fmt.Errorf("stop %v: %w", pid, errServerNotLocal)
	case pid == p.Pid():
		return fmt.Errorf("stop %v: %w", pid, proc.ErrCallingSelf)
	}
	ref := p.Monitor(pid)
	if err := p.Send(pid, serverStopMsg{reason: reason}); err != nil {
		p.Demonitor(ref, true)
		return err
	}
	m, err := p.ReceiveMatchTimeout(timeout, func(m any) bool {
		d, ok := m.(proc.DownMsg)
		return ok && d.Ref == ref
	})
	if err != nil {
		p.Demonitor(ref, true)
		if err == proc.ErrTimeout {
			return fmt.Errorf("stop %v: %w after %v", to, proc.ErrTimeout, timeout)
		}
		return err
	}
	d := m.(proc.DownMsg)
	if serverSameReason(d.Reason, reason) {
		return nil
	}
	return &proc.ExitError{Pid: d.Pid, Reason: d.Reason}
}

// serverSameReason compares exit reasons, which may be of types == panics
// on.
func serverSameReason(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

var errServerNotLocal = errors.New("otp: ServerStop stops servers of the caller's node only")

func serverBadTarget(to any) error {
	return fmt.Errorf("otp: a server is a proc.Pid, a proc.Name or a registered name, not %T", to)
}
