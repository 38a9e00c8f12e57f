package otp

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gonode/gonode/proc"
)

// sys:get_state for servers: a system message that the server loop
// answers itself, between two messages, without calling a handler.

// sysGetState is the request of the call GetState makes, as sys sends
// {system, From, get_state}.
type sysGetState struct{}

// ErrNotServer is GetState's error for a process that is not a server:
// sys:get_state would wait for its time-out; a Go caller learns at once.
var ErrNotServer = errors.New("otp: not a server (started by StartServer)")

var errStateNotLocal = errors.New("otp: GetState reads servers of the caller's node only; ask the server's node (an rpc)")

// running holds the pids of the running servers of every node in this
// program (proc.Pid, whose node and creation tell nodes apart), so that
// GetState tells a server from another process without a message that
// the other would take.
var running sync.Map

// GetState returns the state of the server pid, a process of p's node,
// as sys:get_state does: the server answers between two messages, in
// mailbox order. A process that is not a server gives ErrNotServer; a dead
// one a *proc.ExitError; no answer within timeout an error wrapping
// proc.ErrTimeout. The state is the server's own value: read it, do not
// change it.
func GetState(p *proc.Process, pid proc.Pid, timeout time.Duration) (any, error) {
	pid = p.Node().Resolve(pid)
	if !p.Node().IsLocal(pid) {
		return nil, fmt.Errorf("get state of %v: %w", pid, errStateNotLocal)
	}
	if _, ok := running.Load(pid); !ok {
		if !p.Node().Alive(pid) {
			return nil, fmt.Errorf("get state of %v: %w", pid, &proc.ExitError{Pid: pid, Reason: proc.NoProc})
		}
		return nil, fmt.Errorf("get state of %v: %w", pid, ErrNotServer)
	}
	return p.Call(pid, sysGetState{}, timeout)
}
